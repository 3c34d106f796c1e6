// The shared benchmark result format (one row per measure), used by every bench and by `pnpm bench` to print one
// Markdown table. A bench writes `<app>/bench/results/<bench-name>.json`:
//   { "bench": "<name>", "at": "<ISO time>", "rows": [Row, …] }
// Row: { measure, project, baseline, unit, projectValue: {median,min,max}, baselineValue: {…} | null,
//        ratio: {median,min,max} | null, goal: "≥ 0.5" | "< 30 ms" | null, met: boolean | null, rounds, load }
// Ratios are per round (project and baseline of the same round, interleaved A B A B …), then summarised.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

/** Median (upper median for even counts, like the older benches), min and max. */
export function stats(values) {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { median: xs[Math.floor(xs.length / 2)], min: xs[0], max: xs[xs.length - 1] };
}

/** The 1-minute load average now. Take one at the start and pass it to {@link loadSpan} at the end. */
export function loadNow() {
  return loadavg()[0] ?? 0;
}

/** "1.9–2.4": the 1-minute load average at the start and now. */
export function loadSpan(startLoad) {
  return `${startLoad.toFixed(1)}–${loadNow().toFixed(1)}`;
}

/**
 * One row from per-round values. `ratioOf(project, baseline)` gives a round's ratio (default project / baseline:
 * throughputs); the goal is judged on the ratio's median, or on the project's median when there is no baseline.
 * `meets(x)` says whether that median meets the goal.
 */
export function row(o) {
  const n = o.projectRounds.length;
  const ratioOf = o.ratioOf ?? ((p, b) => p / b);
  const ratios = o.baselineRounds ? o.projectRounds.map((p, i) => ratioOf(p, o.baselineRounds[i])) : null;
  const projectValue = stats(o.projectRounds);
  const ratio = ratios ? stats(ratios) : null;
  const judged = o.judge === 'project' || !ratio ? projectValue.median : ratio.median;
  return {
    measure: o.measure,
    project: o.project,
    baseline: o.baseline ?? null,
    unit: o.unit,
    projectValue,
    baselineValue: o.baselineRounds ? stats(o.baselineRounds) : null,
    ratio,
    goal: o.goal ?? null,
    met: o.meets ? Boolean(o.meets(judged)) : null,
    rounds: n,
    load: o.load,
    ...(o.note ? { note: o.note } : {}),
  };
}

/** Writes `<dir>/<bench>.json` in the shared format and returns its path. */
export function writeRows(dir, bench, rows, extra = {}) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${bench}.json`);
  writeFileSync(file, `${JSON.stringify({ bench, at: new Date().toISOString(), rows, ...extra }, null, 2)}\n`);
  console.log(`rows: ${file}`);
  return file;
}

const num = (x) => {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
};
const triple = (s, unit = '') => `${num(s.median)}${unit} (${num(s.min)}–${num(s.max)}${unit})`;
const cell = (s) => String(s ?? '').replace(/\|/g, '\\|');

/**
 * The one Markdown table: measure, project, baseline, ratio median (min–max), goal, met, rounds, load. A row without
 * a baseline shows the project's own value (with its unit) in the ratio column.
 */
export function markdownTable(rows) {
  const lines = [
    '| measure | project | baseline | ratio median (min–max) | goal | met | rounds | load |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const value = r.ratio ? triple(r.ratio) : r.projectValue ? triple(r.projectValue, ` ${r.unit}`) : '–';
    const project = r.ratio && r.projectValue ? `${r.project}: ${triple(r.projectValue, ` ${r.unit}`)}` : r.project;
    const baseline =
      r.baselineValue && r.baseline ? `${r.baseline}: ${triple(r.baselineValue, ` ${r.unit}`)}` : (r.baseline ?? '–');
    const met = r.met === true ? 'yes' : r.met === false ? '**no**' : '–';
    lines.push(
      `| ${[r.measure, project, baseline, value, r.goal ?? '–', met, r.rounds, r.load].map(cell).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

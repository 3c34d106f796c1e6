// Types of bench-rows.mjs, for the TypeScript benches that import it.
export interface Stat {
  median: number;
  min: number;
  max: number;
}
export interface BenchRow {
  measure: string;
  project: string;
  baseline: string | null;
  unit: string;
  projectValue: Stat;
  baselineValue: Stat | null;
  ratio: Stat | null;
  goal: string | null;
  met: boolean | null;
  rounds: number;
  load: string;
  note?: string;
}
export interface RowInput {
  measure: string;
  project: string;
  baseline?: string;
  unit: string;
  projectRounds: number[];
  baselineRounds?: number[] | null;
  /** A round's ratio; default project / baseline. */
  ratioOf?: (project: number, baseline: number) => number;
  goal?: string;
  /** Judge the goal on the project's median instead of the ratio's. */
  judge?: 'ratio' | 'project';
  meets?: (median: number) => boolean;
  load: string;
  note?: string;
}
export function stats(values: number[]): Stat;
export function loadNow(): number;
export function loadSpan(startLoad: number): string;
export function row(o: RowInput): BenchRow;
export function writeRows(dir: string, bench: string, rows: BenchRow[], extra?: Record<string, unknown>): string;
export function markdownTable(rows: BenchRow[]): string;

// The README's "Using it from your app" is the demo app's code: every code block of that section must appear, line
// for line (indentation aside), in one of the demo's source files, so the README cannot drift from code that runs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.slice(
  readme.indexOf('## Using it from your app'),
  readme.indexOf('\n## ', readme.indexOf('## Using it from your app') + 3),
);
const blocks = [...section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}
const sources = sourceFiles(join(root, 'apps', 'demo-upstream', 'src')).map((file) => ({
  file,
  lines: readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim()),
}));

/** Whether `wanted` (trimmed lines) appears as consecutive lines of `lines`. */
function containsRun(lines: string[], wanted: string[]): boolean {
  for (let i = 0; i + wanted.length <= lines.length; i++) {
    if (wanted.every((line, j) => lines[i + j] === line)) return true;
  }
  return false;
}

describe('README "Using it from your app"', () => {
  it('has code blocks, every one of them taken from the demo app', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    for (const block of blocks) {
      const wanted = block
        .trimEnd()
        .split('\n')
        .map((l) => l.trim());
      const found = sources.find((s) => containsRun(s.lines, wanted));
      expect(found, `not in apps/demo-upstream/src:\n${block}`).toBeDefined();
    }
  });
});

/**
 * vitest globalSetup: make dist/ current before any test runs. Several tests
 * spawn the built CLI (dist/bin/birch.js: test/cli, test/crash/sigkill,
 * test/lbs/lock, test/package), so after a change to src/ or bench/ a plain
 * `npx vitest` would otherwise test the old build without a word.
 *
 * dist/ is rebuilt (`npm run build`, several seconds) only when a build input
 * is newer than the oldest compiled file: every build rewrites all of dist/,
 * so that file dates the last complete build. Checking the dates takes a few
 * milliseconds, so an up-to-date tree (CI right after `npm ci`) pays nothing.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Newest (or oldest) mtime of the files under `dir` whose name matches `keep`. */
function mtimes(dir: string, keep: (name: string) => boolean, pick: (a: number, b: number) => number, start: number): number {
  let acc = start;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return acc;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) acc = mtimes(p, keep, pick, acc);
    else if (e.isFile() && keep(e.name)) acc = pick(acc, statSync(p).mtimeMs);
  }
  return acc;
}

/** Why dist/ needs a build, or undefined if it is current. */
export function staleness(root = ROOT): string | undefined {
  const ts = (n: string): boolean => n.endsWith('.ts');
  const inputs = Math.max(
    mtimes(join(root, 'src'), ts, Math.max, 0),
    mtimes(join(root, 'bench'), ts, Math.max, 0),
    ...['package.json', 'tsconfig.json', 'bench/tsconfig.json'].map((f) => statSync(join(root, f)).mtimeMs),
  );
  const built = mtimes(join(root, 'dist'), (n) => n.endsWith('.js'), Math.min, Infinity);
  if (built === Infinity) return 'dist/ is missing';
  if (inputs > built) return 'sources changed since dist/ was built';
  return undefined;
}

export default function setup(): void {
  const why = staleness();
  if (why === undefined) return;
  process.stderr.write(`globalSetup: ${why}: npm run build\n`);
  const t0 = performance.now();
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`npm run build failed (${r.error?.message ?? `exit ${r.status}`}); the tests that run dist/ cannot run:\n${r.stdout}${r.stderr}`);
  }
  process.stderr.write(`globalSetup: built dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

/**
 * The built `birch` command loads bench/ only when `birch bench` runs: the
 * other commands work from a copy of dist/ that has no dist/bench at all,
 * and the help of both levels still describes bench.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'birch-bin-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function birch(binJs: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [binJs, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('birch bench is loaded lazily', () => {
  const built = join(ROOT, 'dist/bin/birch.js');

  it('birch --help lists bench', () => {
    const r = birch(built, '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}bench \[workloads\.\.\.\] +run kivaloo's benchmark workloads/m);
    expect(r.out).toMatch(/^ {2}check /m);
  });

  it("birch bench --help shows bench's own options and workloads", () => {
    const r = birch(built, 'bench', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: birch bench [options] [workloads...]');
    for (const o of ['--pairs <n>', '--seconds <s>', '--engine <list>', '--json', '--no-sync']) expect(r.out).toContain(o);
    expect(r.out).toContain('hotspot-read');
  });

  it('passes options and workloads through, in order, with their checks', () => {
    const bad = birch(built, 'bench', 'tokyo', '--pairs', '-3');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("option '--pairs <n>' argument '-3' is invalid");
    const r = birch(built, 'bench', 'tokyo', '--pairs', '500', 'random-read', '--seconds', '0.2', '--windows', '2', '--engine', 'birch', '--json');
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as { config: { pairs: number; workloads: string[] } };
    expect(report.config.pairs).toBe(500);
    expect(report.config.workloads).toEqual(['tokyo', 'random-read']); // as given
  });

  it('check and stats work without dist/bench; bench says what is missing', async () => {
    // A copy of the package without its bench: dist/ less dist/bench, beside
    // package.json, resolving commander and the rest from the repository.
    const pkg = join(scratch, 'pkg');
    cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true, filter: (src) => !src.startsWith(join(ROOT, 'dist/bench')) });
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const store = join(scratch, 'store');
    const db = open(store);
    await db.put('k', 'v');
    await db.close();

    const bin = join(pkg, 'dist/bin/birch.js');
    const check = birch(bin, 'check', store);
    expect(check.code, check.err).toBe(0);
    expect(check.out).toContain('OK (1 keys');
    const stats = birch(bin, 'stats', store);
    expect(stats.code, stats.err).toBe(0);
    expect(stats.out).toMatch(/keys\s+1/);
    const help = birch(bin, '--help');
    expect(help.out).toContain('bench [workloads...]');
    const bench = birch(bin, 'bench', 'tokyo');
    expect(bench.code).toBe(1);
    expect(bench.err).toContain('birch bench could not be loaded');
  });
});

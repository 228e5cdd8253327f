/**
 * What `npm pack` puts in the tarball, read from the tarball itself without
 * installing it (scripts/package-check.sh installs and uses it, in CI):
 * the compiled package and the CLI's bench, no tests, no sources, no
 * benchmarks of internals, and a manifest whose only dependencies are the
 * four runtime ones.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Entry {
  mode: number;
  data: Buffer;
}

/** The regular files of a (ustar/pax) tar archive, by path. */
function untar(tar: Buffer): Map<string, Entry> {
  const files = new Map<string, Entry>();
  let paxPath: string | undefined;
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const field = (from: number, to: number): string => h.toString('utf8', from, to).replace(/\0[\s\S]*$/, '');
    const size = parseInt(field(124, 136).trim() || '0', 8);
    const type = field(156, 157) || '0';
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
      continue;
    }
    if (type === 'g') continue;
    const prefix = field(345, 500);
    const path = paxPath ?? (prefix !== '' ? `${prefix}/${field(0, 100)}` : field(0, 100));
    paxPath = undefined;
    if (type === '0') files.set(path, { mode: parseInt(field(100, 108).trim() || '0', 8), data });
  }
  return files;
}

const scratch = mkdtempSync(join(tmpdir(), 'birch-pack-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let files: Map<string, Entry>;
let paths: string[];
let manifest: Record<string, unknown> & { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };

beforeAll(() => {
  // dist/ is current (the globalSetup rebuilt it if needed), so skip the
  // prepare script's second build.
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  const [info] = JSON.parse(r.stdout) as { filename: string }[];
  files = untar(gunzipSync(readFileSync(join(scratch, info!.filename))));
  paths = [...files.keys()].map((p) => p.replace(/^package\//, '')).sort();
  manifest = JSON.parse(files.get('package/package.json')!.data.toString('utf8')) as typeof manifest;
});

describe('npm pack', () => {
  it('holds the compiled package, its types and the birch command', () => {
    for (const p of ['dist/index.js', 'dist/index.d.ts', 'dist/bin/birch.js', 'dist/api/store.d.ts', 'README.md', 'package.json']) {
      expect(paths).toContain(p);
    }
    expect(files.get('package/dist/bin/birch.js')!.mode & 0o111, 'dist/bin/birch.js is executable').not.toBe(0);
    expect(files.get('package/dist/bin/birch.js')!.data.toString('utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it("holds the CLI's bench, which 'birch bench' loads", () => {
    for (const p of ['dist/bench/cli.js', 'dist/bench/run.js', 'dist/bench/child.js', 'dist/bench/engines/lmdb.js', 'dist/bench/workloads/tokyo.js']) {
      expect(paths).toContain(p);
    }
  });

  it('holds no tests, no TypeScript sources and no benchmarks of internals', () => {
    expect(paths.filter((p) => /(^|\/)test\/|\.test\.|vitest/.test(p))).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((p) => /bench\/internal|bench\/micro|lbs-append/.test(p))).toEqual([]);
    expect(paths.filter((p) => /^(src|bench|scripts|\.ci)\//.test(p))).toEqual([]);
    // Everything is under dist/ or docs/, or one of the top-level files.
    expect(paths.filter((p) => !/^(dist|docs)\//.test(p))).toEqual(['README.md', 'package.json']);
  });

  it('depends on the four runtime packages only; the peers are devDependencies', () => {
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(['@msgpack/msgpack', 'commander', 'crc-32', 'fs-ext']);
    expect(manifest.optionalDependencies).toBeUndefined();
    expect(manifest.peerDependencies).toBeUndefined();
    expect(manifest.bundleDependencies ?? manifest.bundledDependencies).toBeUndefined();
    expect(Object.keys(manifest.devDependencies ?? {})).toEqual(expect.arrayContaining(['lmdb', 'classic-level']));
    expect(manifest.bin).toEqual({ birch: './dist/bin/birch.js' });
    expect(manifest.exports).toMatchObject({
      '.': { types: './dist/index.d.ts', import: './dist/index.js' },
      './server': { types: './dist/server/index.d.ts', import: './dist/server/index.js' },
    });
  });
});

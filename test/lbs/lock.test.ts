/**
 * The store's exclusive lock: a second open in this process or from another
 * process fails with BIRCH_LOCKED; a holder that dies (SIGKILL) leaves no
 * stale lock. The child processes run the BUILT block store (dist/, made by
 * `npm run build`, which `npm install` runs as `prepare`).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BlockStore } from '../../src/lbs/index.js';
import { expectCode } from '../helpers/lbs.js';
import { useTmpDirs } from '../helpers/tmp.js';
import { exited, spawnScript } from '../helpers/child.js';

const tmp = useTmpDirs('birch-lbs-lock-');
const DIST = fileURLToPath(new URL('../../dist/lbs/index.js', import.meta.url));

// argv: <dist index.js> <store dir> <mode: try | hold>
const CHILD = `
const [, , lbs, dir, mode] = process.argv;
const { BlockStore } = await import(lbs);
let s;
try {
  s = BlockStore.open(dir);
} catch (err) {
  process.stdout.write(JSON.stringify({ code: err.code ?? 'none' }) + '\\n');
  process.exit(0);
}
if (mode === 'try') {
  await s.close();
  process.stdout.write(JSON.stringify({ code: 'opened' }) + '\\n');
  process.exit(0);
}
await s.append([Buffer.from('from the child')]);
process.stdout.write(JSON.stringify({ code: 'holding' }) + '\\n');
setInterval(() => {}, 1000); // hold the store until killed
`;

function child(dir: string, mode: 'try' | 'hold'): { proc: ChildProcess; line: Promise<string> } {
  const script = path.join(tmp(), 'child.mjs');
  fs.writeFileSync(script, CHILD);
  const { proc, line } = spawnScript(script, [pathToFileURL(DIST).href, dir, mode]);
  return { proc, line: line.then((l) => (JSON.parse(l) as { code: string }).code) };
}

describe('lock', () => {
  it('a second open in the same process fails with BIRCH_LOCKED until the first closes', async () => {
    const dir = tmp();
    const s = BlockStore.open(dir, { blockSize: 512 });
    expectCode(() => BlockStore.open(dir), 'BIRCH_LOCKED');
    expectCode(() => BlockStore.open(path.join(dir, '.', '')), 'BIRCH_LOCKED');
    await s.append([Buffer.from('a')]);
    await s.close();
    const t = BlockStore.open(dir);
    expect(t.read(0).toString()).toBe('a');
    await t.close();
  });

  it('the built package is there for the child processes', () => {
    expect(fs.existsSync(DIST), `${DIST} missing: run npm run build`).toBe(true);
  });

  it('another process gets BIRCH_LOCKED while this one holds the store, and opens it after', async () => {
    const dir = tmp();
    const s = BlockStore.open(dir, { blockSize: 512 });
    const a = child(dir, 'try');
    expect(await a.line).toBe('BIRCH_LOCKED');
    await exited(a.proc);
    await s.close();
    const b = child(dir, 'try');
    expect(await b.line).toBe('opened');
    await exited(b.proc);
  });

  it('a holder killed with SIGKILL leaves no stale lock', async () => {
    const dir = tmp();
    const c = child(dir, 'hold');
    try {
      expect(await c.line).toBe('holding');
      expectCode(() => BlockStore.open(dir), 'BIRCH_LOCKED');
    } finally {
      c.proc.kill('SIGKILL');
      await exited(c.proc);
    }
    expect(c.proc.signalCode).toBe('SIGKILL');
    const s = BlockStore.open(dir);
    expect(s.blockSize).toBe(4096);
    expect(s.read(0).toString()).toBe('from the child');
    await s.close();
  });
});

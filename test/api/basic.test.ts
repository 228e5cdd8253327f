import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, type Store } from '../../src/index.js';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'birch-api-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function expectCheck(db: Store): void {
  const r = db.check();
  expect(r.problems).toEqual([]);
  expect(r.ok).toBe(true);
}

describe('store basics', () => {
  it('puts, gets, deletes, reopens', async () => {
    const dir = tmp();
    let db = open(dir);
    expect(db.get('a')).toBeUndefined();
    await db.put('a', '1');
    expect(db.get('a')?.toString()).toBe('1');
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 5000; i++) ps.push(db.put(`k${String(i).padStart(5, '0')}`, `v${i}`));
    await Promise.all(ps);
    expect(db.stats().keys).toBe(5001);
    expect(db.stats().commits).toBeLessThan(20);
    expect(await db.delete('a')).toBe(true);
    expect(await db.delete('a')).toBe(false);
    expectCheck(db);
    await db.close();
    db = open(dir);
    expect(db.get('a')).toBeUndefined();
    expect(db.get('k01234')?.toString()).toBe('v1234');
    expect(db.stats().keys).toBe(5000);
    const all = [...db.range()];
    expect(all.length).toBe(5000);
    const rev = [...db.range({ reverse: true, limit: 3 })].map(([k]) => k.toString());
    expect(rev).toEqual(['k04999', 'k04998', 'k04997']);
    const pre = [...db.keys({ prefix: 'k0499' })].map((k) => k.toString());
    expect(pre.length).toBe(10);
    expectCheck(db);
    await db.close();
  });
});

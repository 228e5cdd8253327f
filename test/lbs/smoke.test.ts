import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlockStore } from '../../src/lbs/index.js';

describe('lbs smoke', () => {
  it('appends, reads, reopens', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'birch-'));
    const s = BlockStore.open(dir, { blockSize: 512, segmentSize: 4096 });
    for (let i = 0; i < 20; i++) {
      const first = await s.append([Buffer.from(`a${i}`), Buffer.from(`b${i}`), Buffer.from(`c${i}`)]);
      expect(first).toBe(i * 3);
    }
    expect(s.read(31).toString()).toBe('b10');
    await s.close();
    const t = BlockStore.open(dir);
    expect(t.blockSize).toBe(512);
    expect(t.nextBlock).toBe(60);
    expect(t.read(59).toString()).toBe('c19');
    expect(t.read(0).toString()).toBe('a0');
    expect(await t.free(30)).toBeGreaterThan(0);
    expect(() => t.read(0)).toThrow();
    expect(t.read(59).toString()).toBe('c19');
    await t.close();
    fs.rmSync(dir, { recursive: true });
  });
});

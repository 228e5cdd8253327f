/**
 * dump() and load(): the dump format round-trips any bytes exactly (0 to 255
 * of each, empty keys and values), ranges and prefixes select, a dump taken
 * while writers run is one commit, a slow stream is waited for, RESP output
 * is well formed, and malformed input stops at the line it names with
 * everything before it loaded.
 */
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BirchLoadError, dump, load, open, type DumpOptions, type Store } from '../../src/index.js';
import { readState } from '../../src/cli/model.js';
import { Rng } from '../helpers/rng.js';
import { expectCheck, freshPath, openStore, refRange } from './util.js';

const OPTS = { blockSize: 2048, segmentSize: 64 * 2048, cleaning: 0 } as const;

/**
 * A writable that keeps what it is given; `slow`: a tiny buffer, and each
 * chunk is taken only after `slow()` resolves (the dump waits for it).
 */
function sink(slow?: () => Promise<unknown>): Writable & { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    highWaterMark: slow !== undefined ? 1024 : 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      if (slow !== undefined) slow().then(() => cb(), cb);
      else cb();
    },
  }) as Writable & { bytes: () => Buffer };
  w.bytes = () => Buffer.concat(chunks);
  return w;
}

async function dumpBytes(db: Store, opts?: DumpOptions, slow?: () => Promise<unknown>): Promise<Buffer> {
  const out = sink(slow);
  await dump(db, out, opts);
  return out.bytes();
}

/** An async iterable over `data` in chunks of `size` bytes (lines cut anywhere). */
async function* chunks(data: Buffer | string, size = 4096): AsyncGenerator<Buffer> {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

/** Random binary pairs: every key length 0 ... 255 and value length 0 ... 255 occurs. */
async function fillRandom(db: Store, rng: Rng, n: number): Promise<void> {
  const ops = [];
  for (let i = 0; i < n; i++) {
    const klen = i < 256 ? i : rng.int(256);
    const vlen = i < 256 ? 255 - i : rng.int(4) === 0 ? 0 : rng.int(256);
    ops.push({ type: 'put' as const, key: rng.bytes(klen), value: rng.bytes(vlen) });
  }
  ops.push({ type: 'put' as const, key: Buffer.alloc(0), value: Buffer.alloc(0) }); // the empty key, empty value
  ops.push({ type: 'put' as const, key: Buffer.from('\t\n\r\n'), value: Buffer.from('\n') }); // the format's own bytes
  for (let i = 0; i < ops.length; i += 500) await db.batch(ops.slice(i, i + 500));
}

describe('dump and load', () => {
  it('round-trip random binary keys and values exactly, and a second dump is the same bytes', async () => {
    const a = openStore(freshPath(), OPTS);
    await fillRandom(a, new Rng(1), 3000);
    const want = readState(a);
    expect(want.has('')).toBe(true);
    const text = await dumpBytes(a);
    const lines = text.toString('latin1').split('\n');
    expect(lines[0]).toBe('birch-dump\t1');
    expect(lines[lines.length - 1]).toBe(''); // ends with LF
    expect(lines[lines.length - 2]).toBe(`birch-dump-end\t${want.size}`);
    expect(lines.length).toBe(want.size + 3);
    expect(lines[1]).toBe('\t'); // the empty key with the empty value sorts first
    for (const l of lines.slice(1, -2)) expect(l).toMatch(/^(?:[0-9a-f]{2})*\t(?:[0-9a-f]{2})*$/);
    const b = openStore(freshPath(), OPTS);
    const r = await load(b, chunks(text, 777), { batchSize: 1000 });
    expect(r).toMatchObject({ pairs: want.size, lines: want.size + 2, batches: Math.ceil(want.size / 1000) });
    expect(readState(b)).toEqual(want);
    expectCheck(b);
    expect((await dumpBytes(b)).equals(text)).toBe(true);
  });

  it('selects a prefix or a key range, as range() does; reverse and limit too', async () => {
    const db = openStore(freshPath(), OPTS);
    const model = new Map<string, string>();
    const ops = [];
    for (let i = 0; i < 600; i++) {
      const k = `${['ant', 'bee', 'cat'][i % 3]}:${String(i).padStart(4, '0')}`;
      ops.push({ type: 'put' as const, key: k, value: `v${i}` });
      model.set(Buffer.from(k).toString('hex'), Buffer.from(`v${i}`).toString('hex'));
    }
    await db.batch(ops);
    for (const opts of [{ prefix: 'bee:' }, { gte: 'ant:0100', lt: 'bee:0050' }, { gt: 'cat:0500' }, { lte: 'ant:0003' }, { prefix: 'cat', reverse: true, limit: 7 }]) {
      const text = (await dumpBytes(db, opts)).toString('latin1').split('\n').slice(1, -2);
      expect(text.map((l) => l.split('\t') as [string, string])).toEqual(refRange(model, opts));
    }
  });

  it('a dump taken while writers run is one commit: the commit when dump() was called, no half batch', async () => {
    const db = openStore(freshPath(), OPTS);
    const groups = 50;
    const keysOf = (g: number): string[] => Array.from({ length: 20 }, (_, i) => `g${String(g).padStart(2, '0')}-${String(i).padStart(2, '0')}`);
    const write = (g: number, v: number): Promise<void> => db.batch(keysOf(g).map((k) => ({ type: 'put' as const, key: k, value: `${v}`.repeat(30) })));
    for (let g = 0; g < groups; g++) await write(g, 0);
    let stop = false;
    let n = 0;
    const writers = Array.from({ length: 3 }, async (_, w) => {
      while (!stop) await write((++n * 13 + w) % groups, n);
    });
    await new Promise((r) => setTimeout(r, 20));
    const snap = db.snapshot();
    const before = n;
    // Slow: every chunk is taken only once another batch has committed.
    const text = await dumpBytes(db, {}, () => write(0, ++n));
    const want = [...snap.range()].map(([k, v]) => `${k.toString('hex')}\t${v.toString('hex')}`);
    snap.release();
    stop = true;
    await Promise.all(writers);
    expect(n - before, 'writes committed while the dump ran').toBeGreaterThan(0);
    const lines = text.toString('latin1').split('\n').slice(1, -2);
    expect(lines).toEqual(want);
    const b = openStore(freshPath(), OPTS);
    await load(b, chunks(text));
    for (let g = 0; g < groups; g++) expect(new Set(keysOf(g).map((k) => b.get(k)?.toString())).size, `group ${g}`).toBe(1);
  });

  it('RESP output: one binary-safe SET per pair', async () => {
    const db = openStore(freshPath(), OPTS);
    await fillRandom(db, new Rng(2), 400);
    const want = readState(db);
    const resp = await dumpBytes(db, { format: 'resp' });
    const got = new Map<string, string>();
    let at = 0;
    const expectText = (s: string): void => {
      expect(resp.toString('latin1', at, at + s.length)).toBe(s);
      at += s.length;
    };
    const bulk = (): Buffer => {
      expectText('$');
      const nl = resp.indexOf('\r\n', at);
      const n = Number(resp.toString('latin1', at, nl));
      at = nl + 2;
      const b = resp.subarray(at, at + n);
      at += n;
      expectText('\r\n');
      return b;
    };
    while (at < resp.length) {
      expectText('*3\r\n$3\r\nSET\r\n');
      const k = bulk();
      const v = bulk();
      got.set(k.toString('hex'), v.toString('hex'));
    }
    expect(got).toEqual(want);
  });

  it('an empty store dumps to a header and an end line, and loads back empty', async () => {
    const db = openStore(freshPath(), OPTS);
    const text = await dumpBytes(db);
    expect(text.toString()).toBe('birch-dump\t1\nbirch-dump-end\t0\n');
    expect(await dumpBytes(db, { format: 'resp' })).toEqual(Buffer.alloc(0));
    const b = openStore(freshPath(), OPTS);
    expect(await load(b, chunks(text))).toMatchObject({ pairs: 0, lines: 2 });
  });

  describe('malformed input stops at the line it names, with everything before it loaded', () => {
    const good = (i: number): string => `${Buffer.from(`key${i}`).toString('hex')}\t${Buffer.from(`value${i}`).toString('hex')}\n`;
    const body = (n: number): string => Array.from({ length: n }, (_, i) => good(i)).join('');
    const cases: [string, string, number, number, RegExp][] = [
      // [what, input, line named, pairs loaded, message]
      ['empty input', '', 1, 0, /empty/],
      ['not a dump', 'hello\tworld\n', 1, 0, /not a birch dump/],
      ['a newer version', 'birch-dump\t2\n' + body(3) + 'birch-dump-end\t3\n', 1, 0, /version 2/],
      ['no TAB', 'birch-dump\t1\n' + body(5) + '6b6579\n', 7, 5, /no TAB/],
      ['upper-case hex', 'birch-dump\t1\n' + body(5) + '4B\t00\n', 7, 5, /lower-case hex/],
      ['odd digits', 'birch-dump\t1\n' + body(2) + 'abc\t00\n', 4, 2, /whole bytes/],
      ['a third field', 'birch-dump\t1\n' + body(3) + '61\t62\t63\n', 5, 3, /more than two fields/],
      ['a key of 256 bytes', 'birch-dump\t1\n' + body(3) + `${'61'.repeat(256)}\t00\n`, 5, 3, /256 bytes, more than 255/],
      ['a value of 256 bytes', 'birch-dump\t1\n' + body(3) + `61\t${'62'.repeat(256)}\n`, 5, 3, /256 bytes, more than 255/],
      ['a wrong count', 'birch-dump\t1\n' + body(4) + 'birch-dump-end\t5\n', 6, 4, /counts 5 pairs, the dump holds 4/],
      ['a line after the end', 'birch-dump\t1\n' + body(4) + 'birch-dump-end\t4\n' + good(9), 7, 4, /after the end line/],
      ['cut short (no end line)', 'birch-dump\t1\n' + body(25), 27, 25, /ended before the end line/],
      ['cut inside a line', 'birch-dump\t1\n' + body(25) + '6b65', 27, 25, /no TAB/],
    ];
    for (const [what, input, lineNo, loaded, message] of cases) {
      it(what, async () => {
        const dir = freshPath();
        const db = open(dir, { ...OPTS, sync: true });
        let err: unknown;
        try {
          await load(db, chunks(input, 7), { batchSize: 10 });
        } catch (e) {
          err = e;
        } finally {
          await db.close();
        }
        expect(err).toBeInstanceOf(BirchLoadError);
        const e = err as BirchLoadError;
        expect(e.code).toBe('BIRCH_BAD_ARGUMENT');
        expect(e.line, e.message).toBe(lineNo);
        expect(e.loaded).toBe(loaded);
        expect(e.message).toMatch(message);
        expect(e.message).toMatch(new RegExp(`^line ${lineNo}: `));
        // The pairs before the line are in the store, durably (reopened).
        const again = open(dir, OPTS);
        try {
          const state = readState(again);
          expect(state.size).toBe(loaded);
          for (let i = 0; i < loaded; i++) expect(again.get(`key${i}`)?.toString()).toBe(`value${i}`);
        } finally {
          await again.close();
        }
      });
    }
  });

  it('refuses a bad format or batch size', async () => {
    const db = openStore(freshPath(), OPTS);
    await expect(dump(db, sink(), { format: 'xml' as 'birch' })).rejects.toMatchObject({ code: 'BIRCH_BAD_ARGUMENT' });
    await expect(load(db, chunks('birch-dump\t1\nbirch-dump-end\t0\n'), { batchSize: 0 })).rejects.toMatchObject({ code: 'BIRCH_BAD_ARGUMENT' });
    expect(path.isAbsolute(freshPath())).toBe(true);
  });
});

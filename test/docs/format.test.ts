/**
 * Keeps docs/FORMAT.md honest. The `offset | length | field` tables are
 * parsed out of the document (by heading and field name), and a real store's
 * files are decoded with nothing but those tables: every block slot, every
 * page, every commit trailer, and the whole tree from the last block down.
 * Moving a field in the document without the code, or in the code without
 * the document, fails here. The segment record is decoded with its table
 * and matched against the segment files. The worked example's hex dumps are
 * checked against a store made the way the document says it was made.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { open } from '../../src/index.js';
import { useTmpDirs } from '../helpers/tmp.js';

const DOC_PATH = fileURLToPath(new URL('../../docs/FORMAT.md', import.meta.url));
const doc = fs.readFileSync(DOC_PATH, 'utf8');
const lines = doc.split('\n');

// ---------------------------------------------------------------------------
// Reading the document

interface Field {
  name: string;
  offset: string;
  length: string;
  text: string;
}

/** Index of the line of the heading whose text is `title` (or starts with `title `). */
function headingLine(title: string): number {
  const i = lines.findIndex((l) => {
    const m = /^#+\s+(.*)$/.exec(l);
    return m !== null && (m[1] === title || m[1]!.startsWith(title + ' '));
  });
  if (i < 0) throw new Error(`FORMAT.md has no heading "${title}"`);
  return i;
}

/** The offset | length | field table that follows heading `title`, by field name. */
function table(title: string): Map<string, Field> & { order: Field[] } {
  let i = headingLine(title) + 1;
  while (i < lines.length && !lines[i]!.startsWith('|')) {
    if (/^#/.test(lines[i]!)) throw new Error(`no table under heading "${title}"`);
    i++;
  }
  const cells = (l: string): string[] => l.split('|').slice(1, -1).map((c) => c.trim());
  expect(cells(lines[i]!), `table under "${title}" has columns offset | length | field`).toEqual([
    'offset',
    'length',
    'field',
  ]);
  i += 2; // header and the --- row
  const map = new Map<string, Field>() as Map<string, Field> & { order: Field[] };
  map.order = [];
  for (; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const [offset, length, text] = cells(lines[i]!) as [string, string, string];
    const m = /^`([^`]+)`/.exec(text);
    if (m === null) throw new Error(`row without a field name under "${title}": ${lines[i]}`);
    const f = { name: m[1]!, offset, length, text };
    map.set(f.name, f);
    map.order.push(f);
  }
  return map;
}

/** Evaluate an offset or length such as `32`, `1+k`, `32+len-1`, `blockSize-32-len`. */
function evalExpr(expr: string, env: Record<string, number> = {}): number {
  const tokens = expr.replace(/\s+/g, '').match(/[A-Za-z]+|\d+|[+-]/g);
  if (tokens === null || tokens.join('') !== expr.replace(/\s+/g, '')) throw new Error(`cannot evaluate "${expr}"`);
  let sum = 0;
  let sign = 1;
  for (const t of tokens) {
    if (t === '+') sign = 1;
    else if (t === '-') sign = -1;
    else {
      const v = /^\d+$/.test(t) ? Number(t) : env[t];
      if (v === undefined) throw new Error(`unknown name "${t}" in "${expr}"`);
      sum += sign * v;
    }
  }
  return sum;
}

function get(t: Map<string, Field>, name: string): Field {
  const f = t.get(name);
  if (f === undefined) throw new Error(`FORMAT.md table lacks field \`${name}\``);
  return f;
}

/** The field's offset and length, evaluated in `env`. */
function at(t: Map<string, Field>, name: string, env: Record<string, number> = {}): { off: number; len: number } {
  const f = get(t, name);
  return { off: evalExpr(f.offset, env), len: evalExpr(f.length, env) };
}

/** The byte range "bytes a ... b" (both ends included) a CRC field says it covers, as [start, end). */
function crcRange(t: Map<string, Field>, env: Record<string, number> = {}): [number, number] {
  const m = /bytes (\S+) \.\.\. (\S+)/.exec(get(t, 'crc').text);
  if (m === null) throw new Error('crc field does not say which bytes it covers');
  return [evalExpr(m[1]!, env), evalExpr(m[2]!, env) + 1];
}

/** Checks that the fields of a fixed-size table are back to back from 0; returns the total size. */
function contiguousSize(t: { order: Field[] }, env: Record<string, number> = {}): number {
  let end = 0;
  for (const f of t.order) {
    const off = evalExpr(f.offset, env);
    if (off !== end) throw new Error(`FORMAT.md: field \`${f.name}\` is at ${off}, but the field before it ends at ${end}`);
    end += evalExpr(f.length, env);
  }
  return end;
}

const ascii = (t: Map<string, Field>, name: string): string => {
  const m = /ASCII `([^`]+)`/.exec(get(t, name).text);
  if (m === null) throw new Error(`field ${name} names no ASCII value`);
  return m[1]!;
};

const META = table('Meta file');
const SLOT = table('Block slot');
const HEADER = table('Page header');
const PAIR = table('Leaf pair');
const POINTER = table('Child pointer');
const SEPARATOR = table('Separator');
const TRAILER = table('Commit trailer');
const ENTRY = table('Record entry');

// ---------------------------------------------------------------------------
// Reading the bytes with the document's tables

const TWO_32 = 2 ** 32;
function uint(buf: Buffer, off: number, len: number): number {
  if (len === 1) return buf.readUInt8(off);
  if (len === 2) return buf.readUInt16LE(off);
  if (len === 4) return buf.readUInt32LE(off);
  if (len === 8) return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * TWO_32; // two u32 halves
  throw new Error(`no integer of ${len} bytes`);
}
/** Integer field `name` of `t`, read from `buf` at `base`. */
const field = (buf: Buffer, base: number, t: Map<string, Field>, name: string, env: Record<string, number> = {}): number => {
  const { off, len } = at(t, name, env);
  return uint(buf, base + off, len);
};

const BLOCK_HEADER = at(SLOT, 'payload', { len: 0 }).off;
const PAGE_HEADER = contiguousSize(HEADER);
const POINTER_SIZE = contiguousSize(POINTER);
const TRAILER_SIZE = contiguousSize(TRAILER);
const LEAF = Number(/(\d+) = leaf/.exec(get(HEADER, 'type').text)![1]);
const PARENT = Number(/(\d+) = parent/.exec(get(HEADER, 'type').text)![1]);
const ROOT_BIT = 1 << Number(/bit (\d+) = root/.exec(get(HEADER, 'flags').text)![1]);

interface Page {
  blockNo: number;
  type: number;
  root: boolean;
  level: number;
  /** Node size: header + body, without the trailer. */
  size: number;
  pairs: [Buffer, Buffer][];
  /** Each pair's sort key: its keyspace byte and key, contiguous in the page. */
  sortKeys: Buffer[];
  children: { child: number; oldest: number }[];
  separators: Buffer[];
  trailer: { seq: number; keys: number; internal: number; pages: number; oldest: number; height: number } | undefined;
}

function decodePage(blockNo: number, page: Buffer): Page {
  const type = field(page, 0, HEADER, 'type');
  const flags = field(page, 0, HEADER, 'flags');
  const n = field(page, 0, HEADER, 'n');
  const level = field(page, 0, HEADER, 'level');
  const res = at(HEADER, 'reserved');
  expect(page.subarray(res.off, res.off + res.len).every((b) => b === 0), `block ${blockNo}: page reserved bytes`).toBe(true);
  expect(flags & ~ROOT_BIT, `block ${blockNo}: only the root bit may be set`).toBe(0);
  const root = (flags & ROOT_BIT) !== 0;
  const end = page.length - (root ? TRAILER_SIZE : 0);
  const p: Page = { blockNo, type, root, level, size: end, pairs: [], sortKeys: [], children: [], separators: [], trailer: undefined };
  let pos = PAGE_HEADER;
  if (type === LEAF) {
    expect(level, `block ${blockNo}: a leaf's level`).toBe(0);
    for (let i = 0; i < n; i++) {
      const k = field(page, pos, PAIR, 'k');
      const keyspace = field(page, pos, PAIR, 'keyspace');
      const key = at(PAIR, 'key', { k });
      const flags = field(page, pos, PAIR, 'flags', { k });
      const v = field(page, pos, PAIR, 'v', { k });
      const value = at(PAIR, 'value', { k, v });
      expect(key.len).toBe(k);
      expect(value.len).toBe(v);
      expect(keyspace, `block ${blockNo}: pair ${i} keyspace`).toBeLessThanOrEqual(4);
      expect(flags & ~1, `block ${blockNo}: pair ${i} flags`).toBe(0);
      p.pairs.push([page.subarray(pos + key.off, pos + key.off + k), page.subarray(pos + value.off, pos + value.off + v)]);
      expect(key.off, 'the keyspace byte comes right before the key').toBe(at(PAIR, 'keyspace').off + 1);
      p.sortKeys.push(page.subarray(pos + key.off - 1, pos + key.off + k));
      pos += value.off + v;
      if ((flags & 1) !== 0) pos += at(PAIR, 'deadline', { k, v }).len;
    }
  } else {
    expect(type, `block ${blockNo}: page type`).toBe(PARENT);
    for (let i = 0; i < n; i++) {
      p.children.push({ child: field(page, pos, POINTER, 'child'), oldest: field(page, pos, POINTER, 'oldest') });
      pos += POINTER_SIZE;
    }
    for (let i = 0; i < n - 1; i++) {
      const m = field(page, pos, SEPARATOR, 'm');
      const sep = at(SEPARATOR, 'separator', { m });
      p.separators.push(page.subarray(pos + sep.off, pos + sep.off + sep.len));
      pos += sep.off + sep.len;
    }
  }
  expect(pos, `block ${blockNo}: body ends where the trailer (or the payload) starts`).toBe(end);
  if (root) {
    expect(page.toString('latin1', end + at(TRAILER, 'magic').off, end + TRAILER_SIZE), `block ${blockNo}: trailer magic`).toBe(
      ascii(TRAILER, 'magic'),
    );
    p.trailer = {
      seq: field(page, end, TRAILER, 'seq'),
      keys: field(page, end, TRAILER, 'keys'),
      internal: field(page, end, TRAILER, 'internal'),
      pages: field(page, end, TRAILER, 'pages'),
      oldest: field(page, end, TRAILER, 'oldest'),
      height: field(page, end, TRAILER, 'height'),
    };
  }
  return p;
}

/** The number the document gives `kind` for a record entry kind ("1 = created"). */
const entryKind = (name: string): number => Number(new RegExp(`(\\d+) = ${name}`).exec(get(ENTRY, 'kind').text)![1]);

interface Entry {
  kind: number;
  first: number;
  slots: number;
}

/** Every entry of birch.segments, decoded with the Record entry table. */
function readRecord(dir: string): Entry[] {
  const buf = fs.readFileSync(path.join(dir, 'birch.segments'));
  const size = contiguousSize(ENTRY);
  expect(buf.length % size, 'the record holds whole entries').toBe(0);
  const out: Entry[] = [];
  for (let at = 0; at < buf.length; at += size) {
    const e = buf.subarray(at, at + size);
    const [c0, c1] = crcRange(ENTRY);
    expect(field(e, 0, ENTRY, 'crc'), `entry ${at / size}: CRC-32 of bytes ${c0} ... ${c1 - 1}`).toBe(zlib.crc32(e.subarray(c0, c1)) >>> 0);
    const magic = at0(ENTRY, 'magic');
    expect(e.toString('latin1', magic.off, magic.off + magic.len)).toBe(ascii(ENTRY, 'magic'));
    const res = at0(ENTRY, 'reserved');
    expect(e.subarray(res.off, res.off + res.len).every((b) => b === 0)).toBe(true);
    const kind = field(e, 0, ENTRY, 'kind');
    const slots = field(e, 0, ENTRY, 'slots');
    expect([entryKind('created'), entryKind('freed')]).toContain(kind);
    if (kind === entryKind('freed')) expect(slots, 'a freed entry has zero slots').toBe(0);
    out.push({ kind, first: field(e, 0, ENTRY, 'first'), slots });
  }
  return out;
}
const at0 = (t: Map<string, Field>, name: string): { off: number; len: number } => at(t, name);

/** Every block in the store's segment files, checked slot by slot against the Block slot table. */
function readLog(dir: string, blockSize: number): { first: number; pages: Map<number, Page>; appends: number[][]; files: Map<number, number> } {
  const segs = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort();
  expect(segs.length).toBeGreaterThan(0);
  const pages = new Map<number, Page>();
  const appends: number[][] = [];
  /** first block -> size in slots */
  const files = new Map<number, number>();
  let first: number | undefined;
  let expected: number | undefined;
  let cur: { first: number; count: number; blocks: number[] } | undefined;
  for (const name of segs) {
    expect(name, 'segment files are named after their first block in 16 hex digits').toMatch(/^[0-9a-f]{16}\.seg$/);
    const segFirst = parseInt(name.slice(0, 16), 16);
    if (expected !== undefined) expect(segFirst, 'segment files are contiguous').toBe(expected);
    first ??= segFirst;
    const buf = fs.readFileSync(path.join(dir, name));
    expect(buf.length % blockSize, `${name} holds whole slots`).toBe(0);
    files.set(segFirst, buf.length / blockSize);
    let written = 0;
    for (let slot = 0; slot * blockSize < buf.length; slot++) {
      const s = buf.subarray(slot * blockSize, (slot + 1) * blockSize);
      const blockNo = segFirst + slot;
      if (s.every((b) => b === 0)) break; // files are created at full size: the rest is unwritten
      written++;
      const len = field(s, 0, SLOT, 'len');
      const payload = at(SLOT, 'payload', { len });
      const padding = at(SLOT, 'padding', { len, blockSize });
      expect(payload.off + payload.len + padding.len, 'header + payload + padding fill the slot').toBe(blockSize);
      expect(len).toBeLessThanOrEqual(blockSize - BLOCK_HEADER);
      const [c0, c1] = crcRange(SLOT, { len });
      expect(field(s, 0, SLOT, 'crc'), `block ${blockNo}: CRC-32 of bytes ${c0} ... ${c1 - 1}`).toBe(zlib.crc32(s.subarray(c0, c1)) >>> 0);
      expect(field(s, 0, SLOT, 'blockNo'), `slot ${slot} of ${name}`).toBe(blockNo);
      expect(field(s, 0, SLOT, 'reserved')).toBe(0);
      expect(s.subarray(padding.off).every((b) => b === 0), `block ${blockNo}: zero padding`).toBe(true);
      const appendFirst = field(s, 0, SLOT, 'appendFirst');
      const appendCount = field(s, 0, SLOT, 'appendCount');
      expect(appendCount).toBeGreaterThan(0);
      if (cur === undefined) {
        expect(appendFirst, `block ${blockNo} starts an append`).toBe(blockNo);
        cur = { first: blockNo, count: appendCount, blocks: [] };
      }
      expect(appendFirst, `block ${blockNo}: appendFirst`).toBe(cur.first);
      expect(appendCount, `block ${blockNo}: appendCount`).toBe(cur.count);
      cur.blocks.push(blockNo);
      const page = decodePage(blockNo, s.subarray(payload.off, payload.off + len));
      const last = cur.blocks.length === cur.count;
      expect(page.root, `block ${blockNo}: root flag exactly on the last block of its append`).toBe(last);
      pages.set(blockNo, page);
      if (last) {
        appends.push(cur.blocks);
        cur = undefined;
      }
    }
    expect(buf.subarray(written * blockSize).every((b) => b === 0), `${name}: zeros after its last block`).toBe(true);
    expected = segFirst + written;
  }
  expect(cur, 'the log ends with a whole append').toBeUndefined();
  return { first: first!, pages, appends, files };
}

// ---------------------------------------------------------------------------

const tmp = useTmpDirs('birch-format-');
const BLOCK_SIZE = 2048;

describe('docs/FORMAT.md matches the bytes', () => {
  it('documents fixed-size structures whose fields are back to back', () => {
    expect(contiguousSize(META)).toBe(32);
    expect(BLOCK_HEADER).toBe(contiguousSize({ order: SLOT.order.filter((f) => evalExpr(f.offset, { len: 0 }) < BLOCK_HEADER) }));
    expect(PAGE_HEADER).toBeGreaterThan(0);
    expect(TRAILER_SIZE).toBeGreaterThan(0);
  });

  it('meta file, block slots, pages and commit trailers', async () => {
    const dir = path.join(tmp(), 'store');
    const s = open(dir, { blockSize: BLOCK_SIZE, segmentSize: 8 * BLOCK_SIZE, cleaning: 0 });
    const model = new Map<string, string>();
    const put = async (k: string, v: string): Promise<void> => {
      await s.put(k, v);
      model.set(k, v);
    };
    await put('a', '1');
    // One batch large enough to split the root leaf: one append of leaves and a parent.
    const ops = [];
    for (let i = 0; i < 300; i++) ops.push({ type: 'put' as const, key: `key-${String(i).padStart(4, '0')}`, value: `v${'-'.repeat(20)}${i}` });
    await s.batch(ops);
    for (const o of ops) model.set(o.key, o.value);
    await s.reclaim(); // rewrites the oldest leaves and frees segments: a freed entry
    for (let i = 0; i < 10; i++) await put(`key-${String(i * 13).padStart(4, '0')}x`, `w${i}`);
    await Promise.all(Array.from({ length: 20 }, (_, i) => put(`key-${String(i * 7).padStart(4, '0')}y`, `z${i}`)));
    await s.delete('a');
    model.delete('a');
    await s.close();

    expect(fs.readdirSync(dir).filter((f) => !f.endsWith('.seg')).sort()).toEqual(['birch.lock', 'birch.meta', 'birch.segments']);
    expect(fs.statSync(path.join(dir, 'birch.lock')).size).toBe(0);

    // Meta file.
    const meta = fs.readFileSync(path.join(dir, 'birch.meta'));
    expect(meta.length).toBe(contiguousSize(META));
    const magic = at(META, 'magic');
    expect(meta.toString('latin1', magic.off, magic.off + magic.len)).toBe(ascii(META, 'magic'));
    expect(field(meta, 0, META, 'version')).toBe(Number(/format version, (\d+)/.exec(get(META, 'version').text)![1]));
    expect(field(meta, 0, META, 'blockSize')).toBe(BLOCK_SIZE);
    const res = at(META, 'reserved');
    expect(meta.subarray(res.off, res.off + res.len).every((b) => b === 0)).toBe(true);
    const [m0, m1] = crcRange(META);
    expect(field(meta, 0, META, 'crc')).toBe(zlib.crc32(meta.subarray(m0, m1)) >>> 0);

    // Segment files and every block in them.
    const { first, pages, appends, files } = readLog(dir, BLOCK_SIZE);

    // The segment record: the files it holds are the files there, at the sizes it says.
    const entries = readRecord(dir);
    const live = new Map<number, number>();
    let freedBelow = 0;
    for (const e of entries) {
      if (e.kind === entryKind('created')) {
        live.set(e.first, e.slots);
      } else {
        expect(live.has(e.first), 'a freed mark names a segment of the record').toBe(true);
        freedBelow = e.first;
        for (const f of [...live.keys()]) if (f < e.first) live.delete(f);
      }
    }
    expect(freedBelow, 'reclaim() freed segments, and the record says so').toBeGreaterThan(0);
    expect(freedBelow).toBe(first);
    expect([...live.entries()]).toEqual([...files.entries()]);
    for (const slots of files.values()) expect(slots).toBeGreaterThanOrEqual(8);
    const lastBlock = Math.max(...pages.keys());
    expect(appends.length).toBeGreaterThan(1);
    expect(appends.some((a) => a.length > 2), 'some append has several blocks').toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).length, 'several segment files').toBeGreaterThan(1);

    // Commit trailers: one per append, on its last block, sequence numbers consecutive.
    const seqs = appends.map((a) => pages.get(a[a.length - 1]!)!.trailer!.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    if (first === 0) expect(seqs[0]).toBe(1);

    // The tree under the last root, decoded from the pages alone.
    const nodeCapacity = BLOCK_SIZE - BLOCK_HEADER - TRAILER_SIZE;
    const found: [string, string][] = [];
    let pageCount = 0;
    const walk = (blockNo: number): { level: number; oldest: number; firstKey: Buffer | undefined; lastKey: Buffer | undefined } => {
      const p = pages.get(blockNo);
      expect(p, `block ${blockNo} is on disk`).toBeDefined();
      pageCount++;
      expect(p!.size, `block ${blockNo}: node fits nodeCapacity`).toBeLessThanOrEqual(nodeCapacity);
      if (p!.type === LEAF) {
        expect(p!.size).toBe(PAGE_HEADER + p!.pairs.reduce((a, [k, v]) => a + 4 + k.length + v.length, 0)); // no deadlines in this store
        for (const [k, v] of p!.pairs) found.push([k.toString(), v.toString()]);
        return { level: 0, oldest: blockNo, firstKey: p!.sortKeys[0], lastKey: p!.sortKeys.at(-1) };
      }
      expect(p!.size).toBe(PAGE_HEADER + POINTER_SIZE * p!.children.length + p!.separators.reduce((a, s) => a + 1 + s.length, 0)); // m = length - 1, then the bytes
      const subs = p!.children.map((c) => {
        expect(c.child, 'children are written before their parent').toBeLessThan(blockNo);
        const sub = walk(c.child);
        expect(c.oldest, `block ${blockNo}: oldest-leaf pointer of child ${c.child}`).toBe(sub.oldest);
        expect(sub.level + 1).toBe(p!.level);
        return sub;
      });
      p!.separators.forEach((sep, i) => {
        const left = subs[i]!.lastKey!;
        const right = subs[i + 1]!.firstKey!;
        expect(Buffer.compare(left, sep), 'separator sorts after the left subtree').toBeLessThan(0);
        expect(Buffer.compare(sep, right), 'separator sorts at or before the right subtree').toBeLessThanOrEqual(0);
        // The shortest prefix of the right key that sorts after the left key.
        expect(right.subarray(0, sep.length).equals(sep), `separator ${sep} is a prefix of ${right}`).toBe(true);
        expect(Buffer.compare(sep.subarray(0, sep.length - 1), left), `separator ${sep} is the shortest`).toBeLessThanOrEqual(0);
      });
      return {
        level: p!.level,
        oldest: Math.min(...subs.map((x) => x.oldest)),
        firstKey: subs[0]!.firstKey,
        lastKey: subs[subs.length - 1]!.lastKey,
      };
    };
    const root = pages.get(lastBlock)!;
    expect(root.type, 'a tree of this size has a parent root').toBe(PARENT);
    const top = walk(lastBlock);
    expect(found).toEqual([...model.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(root.trailer).toEqual({ seq: seqs[seqs.length - 1], keys: model.size, internal: 0, pages: pageCount, oldest: top.oldest, height: root.level + 1 });
    expect(first, 'nothing a reader needs was freed').toBeLessThanOrEqual(top.oldest);
  });

  it('the worked example is the real bytes', async () => {
    const section = lines.slice(headingLine('Worked example'));
    const dumps: number[][] = [];
    for (const l of section) {
      const m = /^\s{4}([0-9a-f]{8}): ((?:[0-9a-f]{2} ?){1,16})/.exec(l);
      if (m === null) continue;
      if (parseInt(m[1]!, 16) === 0) dumps.push([]);
      dumps[dumps.length - 1]!.push(...m[2]!.trim().split(' ').map((h) => parseInt(h, 16)));
    }
    expect(dumps.length, 'three dumps: birch.meta, birch.segments and the first segment').toBe(3);
    const dir = path.join(tmp(), 'birch-ex');
    const s = open(dir, { blockSize: 2048 });
    await s.put('a', '1');
    await s.close();
    const meta = fs.readFileSync(path.join(dir, 'birch.meta'));
    const record = fs.readFileSync(path.join(dir, 'birch.segments'));
    const seg = fs.readFileSync(path.join(dir, '0000000000000000.seg'));
    expect([...meta]).toEqual(dumps[0]);
    expect([...record]).toEqual(dumps[1]);
    expect([...seg.subarray(0, dumps[2]!.length)]).toEqual(dumps[2]);
    expect(seg.length).toBe(16 * 1024 * 1024);
    expect(seg.subarray(dumps[2]!.length).every((b) => b === 0)).toBe(true);
  });
});

/**
 * `birch check <path>`: exit 0 on a sound store; exit 1 with every problem
 * listed by block, segment file and offset (a failed CRC, keys out of order,
 * a key outside its parent's bounds, a store that fails to open as corrupt);
 * exit 2 when there is nothing to check (no store: and it must not create
 * one), or the store is locked. --all-blocks also verifies dead blocks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { register } from '../../src/cli/check.js';
import { keyOf } from '../../src/cli/workload.js';
import { decodePage } from '../../src/btree/serialize.js';
import { BLOCK_HEADER_SIZE, decodeBlock, encodeBlock } from '../../src/lbs/format.js';
import { parseSegmentName } from '../../src/lbs/segments.js';
import { BIRCH_JS, runBuilt, runIn } from '../helpers/cli.js';
import { flipBit } from '../helpers/lbs.js';
import { rmDir, tmpDir } from '../helpers/tmp.js';

const BS = 2048;
const made: string[] = [];
afterEach(() => made.splice(0).forEach(rmDir));

const check = (...args: string[]) => runIn([register], ['check', ...args]);

/** A closed store of 400 keys with garbage, in small segments. */
async function store(): Promise<string> {
  const root = tmpDir('birch-cli-check-');
  made.push(root);
  const dir = path.join(root, 'store');
  const db = open(dir, { blockSize: BS, segmentSize: 8 * BS, cleaning: 0, sync: false });
  for (let g = 0; g < 8; g++) {
    await db.batch(Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, key: keyOf(g * 50 + i), value: `v${g}.${i}` })));
  }
  for (let g = 0; g < 4; g++) await db.batch(Array.from({ length: 10 }, (_, i) => ({ type: 'put' as const, key: keyOf(i * 37), value: `u${g}` })));
  await db.close();
  return dir;
}

interface BlockLoc {
  file: string;
  name: string;
  offset: number;
  blockNo: number;
}

/** Every block on disk, and which are reachable from the root (leaves and parents). */
function layout(dir: string): { blocks: Map<number, BlockLoc>; live: Set<number>; leaves: number[]; last: number } {
  const blocks = new Map<number, BlockLoc>();
  for (const name of fs.readdirSync(dir).sort()) {
    const first = parseSegmentName(name);
    if (first === undefined) continue;
    const size = fs.statSync(path.join(dir, name)).size;
    for (let off = 0; off < size; off += BS) blocks.set(first + off / BS, { file: path.join(dir, name), name, offset: off, blockNo: first + off / BS });
  }
  const payload = (b: number): Buffer => {
    const loc = blocks.get(b)!;
    const buf = fs.readFileSync(loc.file).subarray(loc.offset, loc.offset + BS);
    const h = decodeBlock(buf, 0, BS)!;
    return buf.subarray(BLOCK_HEADER_SIZE, BLOCK_HEADER_SIZE + h.length);
  };
  const live = new Set<number>();
  const leaves: number[] = [];
  const last = Math.max(...blocks.keys());
  const walk = (b: number): void => {
    live.add(b);
    const { node } = decodePage(payload(b), b);
    if (node.leaf) leaves.push(b);
    else for (const c of node.blocks) walk(c);
  };
  walk(last);
  return { blocks, live, leaves, last };
}

/** Rewrite block `loc` with `edit` applied to its payload and a fresh, valid CRC. */
function rewriteBlock(loc: BlockLoc, edit: (payload: Buffer) => void): void {
  const all = fs.readFileSync(loc.file);
  const slot = all.subarray(loc.offset, loc.offset + BS);
  const h = decodeBlock(slot, 0, BS)!;
  const payload = Buffer.from(slot.subarray(BLOCK_HEADER_SIZE, BLOCK_HEADER_SIZE + h.length));
  edit(payload);
  encodeBlock(all, loc.offset, BS, h, payload);
  fs.writeFileSync(loc.file, all);
}

describe('birch check', () => {
  it('a sound store: exit 0 and a one-line summary; --json says the same', async () => {
    const dir = await store();
    const r = await check(dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/: OK \(400 keys, \d+ pages, height \d\)/);
    const j = await check(dir, '--json');
    expect(j.code).toBe(0);
    const parsed = JSON.parse(j.out) as { ok: boolean; keys: number; problems: string[] };
    expect(parsed).toMatchObject({ ok: true, keys: 400, problems: [] });
  });

  it('a flipped bit in a live page: exit 1, the block named with its file and offset', async () => {
    const dir = await store();
    const { blocks, leaves, last } = layout(dir);
    const victim = blocks.get(leaves.find((b) => blocks.get(b)!.name !== blocks.get(last)!.name)!)!;
    flipBit(victim.file, victim.offset + 100, 3);
    const r = await check(dir);
    expect(r.code).toBe(1);
    // The damaged page, where it is; then what its absence does to the totals.
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/: \d+ problems$/);
    expect(lines[1]).toContain(`block ${victim.blockNo} fails its checksum`);
    expect(lines[1]).toContain(`[${victim.name}, offset ${victim.offset}]`);
    expect(lines[1]!.split(victim.name).length, 'the place is given once').toBe(2);
    expect(r.out).toMatch(/trailer says 400 keys, tree holds \d+/);
  });

  it('keys out of order and outside the parent bounds (valid CRCs): exit 1, each placed in its file', async () => {
    const dir = await store();
    const { blocks, leaves } = layout(dir);
    // A leaf in the middle: make its first key sort after its second, and past the parent's bound.
    const mid = blocks.get(leaves[Math.floor(leaves.length / 2)]!)!;
    rewriteBlock(mid, (p) => {
      p[8 + 2] = 0xff; // first byte of the first key (after the 8-byte header, the length byte and the keyspace byte)
    });
    const r = await check(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`block ${mid.blockNo}: keys out of order at 1 \\[${mid.name.replace('.', '\\.')}, offset ${mid.offset}\\]`));
    expect(r.out).toMatch(new RegExp(`block ${mid.blockNo}: key 0 outside its parent's separators \\[${mid.name.replace('.', '\\.')}, offset ${mid.offset}\\]`));
  });

  it('a store that fails to open as corrupt (its meta file): exit 1 with the file', async () => {
    const dir = await store();
    flipBit(path.join(dir, 'birch.meta'), 13, 0);
    const r = await check(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/BIRCH_CORRUPT.*birch\.meta/);
  });

  it('a damaged dead page passes, unless --all-blocks: then exit 1 naming it', async () => {
    const dir = await store();
    const { blocks, live } = layout(dir);
    const tailName = [...blocks.values()].at(-1)!.name;
    const dead = [...blocks.values()].find((b) => !live.has(b.blockNo) && b.name !== tailName)!;
    flipBit(dead.file, dead.offset + 40, 1);
    expect((await check(dir)).code).toBe(0);
    const r = await check(dir, '--all-blocks');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`block ${dead.blockNo}: BIRCH_CORRUPT`);
    expect(r.out).toContain(`${dead.name}, offset ${dead.offset}`);
  });

  it('no store there: exit 2, and nothing is created', async () => {
    const root = tmpDir('birch-cli-check-');
    made.push(root);
    const missing = path.join(root, 'nope');
    let r = await check(missing);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/does not exist/);
    expect(fs.existsSync(missing)).toBe(false);
    r = await check(root);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no birch store/);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('a store open elsewhere: exit 2, BIRCH_LOCKED', async () => {
    const dir = await store();
    const db = open(dir, { cleaning: 0 });
    try {
      const r = await check(dir);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/BIRCH_LOCKED/);
    } finally {
      await db.close();
    }
  });

  it('the built command: exit codes 0 and 1, and --help says what opening writes', async () => {
    expect(fs.existsSync(BIRCH_JS), 'run npm run build').toBe(true);
    const dir = await store();
    let r = runBuilt(['check', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/OK/);
    const { blocks, leaves, last } = layout(dir);
    const victim = blocks.get(leaves.find((b) => blocks.get(b)!.name !== blocks.get(last)!.name)!)!;
    flipBit(victim.file, victim.offset + 64, 0);
    r = runBuilt(['check', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(victim.name);
    r = runBuilt(['check', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/clears it/);
  });
});

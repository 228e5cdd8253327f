/**
 * Micro-benchmarks of birch's hot paths, with tinybench (`npm run bench:micro`):
 * CRC32 of a page, page serialize and deserialize, key search within a node,
 * a cached get, and one step of a range read.
 *
 * The first four measure internals, which the package does not export: they
 * are loaded from the compiled tree (dist/) next to this file at run time,
 * typed by its declaration files. The last two go through the public API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { open } from 'birchdb';
import { Dataset, randomInts } from '../data.js';
import type * as FormatModule from '../../dist/lbs/format.js';
import type * as NodeModule from '../../dist/btree/node.js';
import type * as SerializeModule from '../../dist/btree/serialize.js';
import type * as FindModule from '../../dist/btree/find.js';

/** An internal module of the compiled package (dist/bench/internal/ -> dist/). */
async function internal<T>(path: string): Promise<T> {
  return (await import(new URL(`../../${path}`, import.meta.url).href)) as T;
}

const BLOCK = 4096;
const format = await internal<typeof FormatModule>('lbs/format.js');
const node = await internal<typeof NodeModule>('btree/node.js');
const serialize = await internal<typeof SerializeModule>('btree/serialize.js');
const find = await internal<typeof FindModule>('btree/find.js');

// A full leaf of benchmark pairs (40-byte keys and values): as many as fit in
// a 4096-byte block's payload. The page is written here by the documented
// page format (src/btree/serialize.ts) and parsed by birch's own decoder, so
// the benchmark does not depend on how nodes are built in memory.
const data = new Dataset(65536);
const payload = BLOCK - format.BLOCK_HEADER_SIZE - serialize.TRAILER_SIZE;
const keys: Buffer[] = [];
let size: number = node.PAGE_HEADER_SIZE;
while (size + 2 + 40 + 40 <= payload) {
  keys.push(data.key(keys.length));
  size += 2 + 40 + 40;
}
const page = Buffer.alloc(size);
page[0] = serialize.TYPE_LEAF;
page.writeUInt16LE(keys.length, 2);
for (let i = 0, at = node.PAGE_HEADER_SIZE; i < keys.length; i++) {
  page[at++] = 40;
  at += data.key(i).copy(page, at);
  page[at++] = 40;
  at += data.value(i).copy(page, at);
}
const { node: decoded } = serialize.decodePage(page, 1);
if (!decoded.leaf || decoded.count !== keys.length) throw new Error('the hand-written leaf did not decode');
const leaf = decoded;
// A parent with as many separators as fit in a block.
const seps: Buffer[] = [];
for (let i = 0, size = node.PAGE_HEADER_SIZE + node.CHILD_POINTER_SIZE; ; i += 64) {
  size += node.separatorSize(data.key(i)) + node.CHILD_POINTER_SIZE;
  if (size > payload || i >= data.n) break;
  seps.push(data.key(i));
}
const parent = new node.Parent(1, 1, seps.slice(1), seps.map((_, j) => 100 + j), seps.map((_, j) => 100 + j));
const block = Buffer.alloc(BLOCK, 7);

// A store of 65,536 pairs, entirely in birch's node cache.
const dir = mkdtempSync(join(tmpdir(), 'birch-micro-'));
const db = open(dir, { sync: false, cleaning: 0 });
await Promise.all(Array.from({ length: data.n }, (_, i) => db.put(data.key(i), data.value(i))));
let it = db.range();

const random = randomInts(1);
const probes = Array.from({ length: 1024 }, () => random(keys.length));
const storeProbes = Array.from({ length: 1024 }, () => random(data.n));
let p = 0;
let sink = 0;

const bench = new Bench({ name: 'birch micro-benchmarks', time: 500 });
bench
  .add(`crc32 of a ${BLOCK}-byte page`, () => {
    sink ^= format.crc32(block, 0, BLOCK);
  })
  .add(`serialize a leaf (${keys.length} pairs)`, () => {
    sink ^= serialize.encodePage(leaf, undefined).payload.length;
  })
  .add(`deserialize a leaf (${keys.length} pairs)`, () => {
    sink ^= serialize.decodePage(page, 1).node.count;
  })
  .add(`key search in a leaf (${keys.length} keys)`, () => {
    const k = keys[probes[p++ & 1023]!]!;
    sink ^= find.leafSearch(leaf, k, 0, k.length);
  })
  .add(`child search in a parent (${parent.count} children)`, () => {
    const k = data.key(storeProbes[p++ & 1023]!);
    sink ^= find.childIndex(parent, k, 0, k.length);
  })
  .add(`cached get (store of ${data.n} pairs)`, () => {
    sink ^= db.get(data.key(storeProbes[p++ & 1023]!))!.length;
  })
  .add('range step', () => {
    let r = it.next();
    if (r.done === true) {
      it = db.range();
      r = it.next();
    }
    sink ^= r.value![0].length;
  });

await bench.run();
console.log(bench.name);
console.table(bench.table());
if (sink === 0.5) console.log(sink); // keeps the results alive
await db.close();
rmSync(dir, { recursive: true, force: true });

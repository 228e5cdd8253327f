/**
 * The node cache: clean nodes by block number, bounded in bytes.
 *
 * Eviction is CLOCK, the usual cheap approximation of least-recently-used: a
 * hit only sets a reference bit (no list surgery on the read path); when the
 * cache is over its bound, the hand sweeps from the oldest insertion, giving
 * referenced nodes a second chance (clear the bit, move to the back) and
 * evicting the first unreferenced one. Dirty nodes are never in the cache;
 * nodes held by a snapshot or an iterator stay alive for them after eviction
 * (they are immutable), they just stop being found here.
 *
 * @internal
 */
import type { BlockStore } from '../lbs/index.js';
import type { Node } from './node.js';
import { decodePage } from './serialize.js';

/** Rough per-node cost beyond its page bytes: objects, arrays, offsets. */
const NODE_OVERHEAD = 160;
const PER_SEPARATOR_OVERHEAD = 96;

export function nodeCost(node: Node): number {
  if (node.leaf) return node.size + NODE_OVERHEAD + 4 * node.count;
  return node.size + NODE_OVERHEAD + PER_SEPARATOR_OVERHEAD * node.count;
}

interface Entry {
  node: Node;
  cost: number;
  ref: boolean;
}

export class NodeCache {
  private readonly map = new Map<number, Entry>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly lbs: BlockStore,
    readonly limit: number,
  ) {}

  /** The clean node stored at `blockNo`, from memory or read from disk. */
  get(blockNo: number): Node {
    const e = this.map.get(blockNo);
    if (e !== undefined) {
      this.hits++;
      e.ref = true;
      return e.node;
    }
    this.misses++;
    const { node } = decodePage(this.lbs.read(blockNo), blockNo);
    this.insert(node);
    return node;
  }

  /** Add a node that was just written (or read) at `node.blockNo`. */
  insert(node: Node): void {
    const cost = nodeCost(node);
    this.map.set(node.blockNo, { node, cost, ref: false });
    this.bytes += cost;
    if (this.bytes > this.limit) this.evict();
  }

  private evict(): void {
    // Keep at least a handful of nodes so a tiny limit still works (root path).
    let guard = 2 * this.map.size;
    for (const [blockNo, e] of this.map) {
      if (this.bytes <= this.limit || this.map.size <= 8 || guard-- <= 0) break;
      this.map.delete(blockNo);
      if (e.ref) {
        e.ref = false;
        this.map.set(blockNo, e); // second chance: to the back of the clock
      } else {
        this.bytes -= e.cost;
      }
    }
  }

  /** Forget blocks below `below` (they were freed). */
  dropBelow(below: number): void {
    for (const [blockNo, e] of this.map) {
      if (blockNo < below) {
        this.map.delete(blockNo);
        this.bytes -= e.cost;
      }
    }
  }

  get size(): number {
    return this.map.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }
}

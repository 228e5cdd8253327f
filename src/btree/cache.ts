/**
 * The node cache: clean nodes by block number, bounded in bytes.
 *
 * Eviction is least-recently-used, kept with a doubly linked list through
 * the nodes themselves (a hit moves its node to the front with a few pointer writes and no
 * allocation; eviction takes from the back). A cached parent also refers to
 * each child a lookup went through (Parent.childRefs), so most lookups never
 * touch the map; such a use only sets the child's `ref` bit, and eviction
 * gives a node whose bit is set a second chance (CLOCK) instead of taking it. A hit on an entry that is
 * already among the most recent quarter of the cache does not move it: the
 * order among those cannot matter for eviction, and the hottest nodes (the
 * top of the tree, hit on every lookup) stop paying for the list at all. Dirty nodes are never in the cache;
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

/**
 * A node leaves the cache: no cached parent may refer to it any more (else
 * the parent would keep it in memory past the cache's bound), and, for a
 * parent, its references to its children go (they may outlive it).
 */
function detach(node: Node): void {
  const owner = node.owner;
  if (owner !== undefined) {
    const refs = owner.childRefs;
    if (refs !== undefined && refs[node.ownerSlot] === node) refs[node.ownerSlot] = undefined;
    node.owner = undefined;
  }
  if (!node.leaf && node.childRefs !== undefined) {
    for (const c of node.childRefs) if (c !== undefined && c.owner === node) c.owner = undefined;
    node.childRefs = undefined;
  }
}

export class NodeCache {
  private readonly map = new Map<number, Node>();
  /** Most recently used first (linked through the nodes' lruPrev and lruNext). */
  private head: Node | undefined;
  private tail: Node | undefined;
  private bytes = 0;
  /** Counts moves to the front: a node moved since stamp s is clock - s moves back. */
  private clock = 0;
  hits = 0;
  misses = 0;

  /** Where a block is stored, for the error a malformed page raises. */
  private readonly locate: (blockNo: number) => { file: string; offset: number } | undefined;

  constructor(
    private readonly lbs: BlockStore,
    readonly limit: number,
  ) {
    this.locate = (blockNo) => lbs.locate(blockNo);
  }

  /** The clean node stored at `blockNo`, from memory or read from disk. */
  get(blockNo: number): Node {
    const e = this.map.get(blockNo);
    if (e !== undefined) {
      this.hits++;
      if (this.clock - e.lruStamp > this.map.size >> 2) {
        this.unlink(e);
        this.pushFront(e);
      }
      return e;
    }
    this.misses++;
    const { node } = decodePage(this.lbs.readView(blockNo), blockNo, this.locate);
    this.insert(node);
    return node;
  }

  /** Add a node that was just written (or read) at `node.blockNo`. */
  insert(node: Node): void {
    const old = this.map.get(node.blockNo);
    if (old !== undefined) this.remove(old);
    node.lruCost = nodeCost(node);
    this.map.set(node.blockNo, node);
    this.pushFront(node);
    this.bytes += node.lruCost;
    node.ref = false;
    if (!node.leaf) node.childRefs = new Array<Node | undefined>(node.count).fill(undefined);
    // Keep a handful of nodes even under a tiny limit (the root's path).
    while (this.bytes > this.limit && this.map.size > 8) {
      const victim = this.tail!;
      if (victim.ref) {
        // Used through a parent's reference since it last came round: a second chance.
        victim.ref = false;
        this.unlink(victim);
        this.pushFront(victim);
        continue;
      }
      this.remove(victim);
    }
  }

  /** Forget the node at `blockNo`, if cached (it was replaced by a commit); returns it. */
  drop(blockNo: number): Node | undefined {
    const e = this.map.get(blockNo);
    if (e === undefined) return undefined;
    this.remove(e);
    return e;
  }

  private remove(e: Node): void {
    this.map.delete(e.blockNo);
    this.unlink(e);
    this.bytes -= e.lruCost;
    detach(e);
  }

  private unlink(e: Node): void {
    if (e.lruPrev !== undefined) e.lruPrev.lruNext = e.lruNext;
    else this.head = e.lruNext;
    if (e.lruNext !== undefined) e.lruNext.lruPrev = e.lruPrev;
    else this.tail = e.lruPrev;
    e.lruPrev = e.lruNext = undefined;
  }

  private pushFront(e: Node): void {
    e.lruStamp = ++this.clock;
    e.lruNext = this.head;
    if (this.head !== undefined) this.head.lruPrev = e;
    this.head = e;
    if (this.tail === undefined) this.tail = e;
  }

  get size(): number {
    return this.map.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }
}

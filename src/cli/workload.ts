/**
 * The deterministic write workload the crash tests and `birch torture` drive
 * a store with: a sequence of *requests*, each one write (put or delete) or
 * one user batch of several, generated from a seed so that a parent can
 * rebuild exactly what a child process issued.
 *
 * @internal
 */
import type { Store } from '../api/store.js';
import { Prng } from './prng.js';

/** One write of a request. */
export type WOp = { kind: 'put'; key: Buffer; value: Buffer } | { kind: 'del'; key: Buffer };

/** A request: one put, one delete, or one batch (all or nothing). */
export interface WReq {
  kind: 'put' | 'del' | 'batch';
  ops: WOp[];
}

/** Issue `req` on `db` the way a user would (put, delete or batch). */
export function issue(db: Store, req: WReq): Promise<unknown> {
  if (req.kind === 'put') {
    const op = req.ops[0] as { key: Buffer; value: Buffer };
    return db.put(op.key, op.value);
  }
  if (req.kind === 'del') return db.delete(req.ops[0]!.key);
  return db.batch(req.ops.map((o) => (o.kind === 'put' ? { type: 'put', key: o.key, value: o.value } : { type: 'del', key: o.key })));
}

export interface WorkloadShape {
  /** Size of the key space (keys are chosen uniformly from it). */
  keys: number;
  /** Share of requests that are batches. */
  batchShare: number;
  /** Share of single requests (and of batch members) that are deletes. */
  deleteShare: number;
  /** Most operations in one batch. */
  maxBatch: number;
}

export const DEFAULT_SHAPE: WorkloadShape = { keys: 3000, batchShare: 0.25, deleteShare: 0.2, maxBatch: 24 };

/**
 * Key number i: 'k' and six digits, then 0 to 60 filler bytes, so that key
 * lengths vary and leaves hold different numbers of pairs.
 */
export function keyOf(i: number): Buffer {
  const head = Buffer.from(`k${String(i).padStart(6, '0')}`);
  const fill = (i * 37) % 61;
  return fill === 0 ? head : Buffer.concat([head, Buffer.alloc(fill, 0x61 + (i % 26))]);
}

/**
 * The request stream of seed `seed`: request n is the same for everyone who
 * asks, so a parent can rebuild what a child process issued.
 */
export class RequestStream {
  private readonly rng: Prng;
  private n = 0;

  constructor(
    readonly seed: number,
    readonly shape: WorkloadShape = DEFAULT_SHAPE,
  ) {
    this.rng = new Prng(seed);
  }

  get issued(): number {
    return this.n;
  }

  private value(idx: number, sub: number): Buffer {
    const r = this.rng;
    const len = r.next() < 0.8 ? r.int(61) : r.int(256);
    const v = r.bytes(len);
    // A value names its request where it has room (for people reading a failure).
    if (len >= 12) {
      v.writeUInt32BE(this.seed >>> 0, 0);
      v.writeUInt32BE(idx, 4);
      v.writeUInt32BE(sub, 8);
    }
    return v;
  }

  private op(idx: number, sub: number): WOp {
    const key = keyOf(this.rng.int(this.shape.keys));
    if (this.rng.next() < this.shape.deleteShare) return { kind: 'del', key };
    return { kind: 'put', key, value: this.value(idx, sub) };
  }

  next(): WReq {
    const idx = this.n++;
    if (this.rng.next() < this.shape.batchShare) {
      const n = 1 + this.rng.int(this.shape.maxBatch);
      const ops: WOp[] = [];
      for (let i = 0; i < n; i++) ops.push(this.op(idx, i));
      return { kind: 'batch', ops };
    }
    const op = this.op(idx, 0);
    return { kind: op.kind, ops: [op] };
  }

  /** Requests 0 ... n-1 of seed `seed` (a fresh stream). */
  static take(seed: number, n: number, shape: WorkloadShape = DEFAULT_SHAPE): WReq[] {
    const s = new RequestStream(seed, shape);
    const out: WReq[] = [];
    for (let i = 0; i < n; i++) out.push(s.next());
    return out;
  }
}

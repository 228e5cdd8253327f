/**
 * The reference model the crash tests and `birch torture` verify a store
 * against, and the deterministic write workload they drive it with.
 *
 * A workload is a sequence of *requests*, each one write (put or delete) or
 * one user batch of several; the store applies requests in the order they
 * were issued and commits them in groups, so after any crash the store must
 * hold exactly the state after the first P requests, for some P at least as
 * large as the number of requests whose promise resolved ("acknowledged")
 * and at most the number issued. `findPrefix` finds that P (or reports that
 * there is none); `analyzeLosses` explains a failure per key: an
 * acknowledged write whose value is gone (a *loss*), or a value nobody wrote
 * (a *phantom*).
 *
 * @internal
 */
import type { Store } from '../api/store.js';

/** One write of a request. */
export type WOp = { t: 'put'; key: Buffer; value: Buffer } | { t: 'del'; key: Buffer };

/** A request: one put, one delete, or one batch (all or nothing). */
export interface WReq {
  kind: 'put' | 'del' | 'batch';
  ops: WOp[];
}

/** A store's contents: hex key -> hex value. */
export type State = Map<string, string>;

export function applyReq(state: State, req: WReq): void {
  for (const op of req.ops) {
    const k = op.key.toString('hex');
    if (op.t === 'put') state.set(k, op.value.toString('hex'));
    else state.delete(k);
  }
}

/** The final value (hex, or undefined = absent) each key has after `req`. */
export function effects(req: WReq): Map<string, string | undefined> {
  const m = new Map<string, string | undefined>();
  for (const op of req.ops) m.set(op.key.toString('hex'), op.t === 'put' ? op.value.toString('hex') : undefined);
  return m;
}

/** Issue `req` on `db` the way a user would (put, delete or batch). */
export function issue(db: Store, req: WReq): Promise<unknown> {
  if (req.kind === 'put') {
    const op = req.ops[0] as { key: Buffer; value: Buffer };
    return db.put(op.key, op.value);
  }
  if (req.kind === 'del') return db.delete(req.ops[0]!.key);
  return db.batch(req.ops.map((o) => (o.t === 'put' ? { type: 'put', key: o.key, value: o.value } : { type: 'del', key: o.key })));
}

/** Everything in the store, read with a forward range. */
export function readState(db: Store): State {
  const s: State = new Map();
  for (const [k, v] of db.range()) s.set(k.toString('hex'), v.toString('hex'));
  return s;
}

export function statesEqual(a: State, b: State): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * The P in [from, to] such that `start` with requests 0 ... P-1 applied
 * equals `actual`, or -1 if there is none. When several P fit (a request
 * that changed nothing), the smallest is returned. O(total ops + state).
 */
export function findPrefix(start: State, reqs: readonly WReq[], from: number, to: number, actual: State): number {
  if (from > to || from > reqs.length) return -1;
  to = Math.min(to, reqs.length);
  const model: State = new Map(start);
  for (let i = 0; i < from; i++) applyReq(model, reqs[i]!);
  const diff = new Set<string>();
  for (const [k, v] of model) if (actual.get(k) !== v) diff.add(k);
  for (const [k, v] of actual) if (model.get(k) !== v) diff.add(k);
  for (let p = from; ; p++) {
    if (diff.size === 0) return p;
    if (p >= to) return -1;
    for (const op of reqs[p]!.ops) {
      const k = op.key.toString('hex');
      if (op.t === 'put') model.set(k, op.value.toString('hex'));
      else model.delete(k);
      if (actual.get(k) === model.get(k)) diff.delete(k);
      else diff.add(k);
    }
  }
}

export interface LossReport {
  /** Keys whose last acknowledged write is not what the store holds (and no later write explains it). */
  losses: number;
  /** Keys holding a value that no request (acknowledged or not) could have left. */
  phantoms: number;
  /** A few of them, for people. */
  details: string[];
}

/**
 * Per key, with the relaxed rule: the value must be that of the key's last
 * acknowledged write, or of any later write to the key (which may or may not
 * have committed); a key no acknowledged request touched may hold its start
 * value or the value of any request that touched it.
 */
export function analyzeLosses(start: State, reqs: readonly WReq[], acked: (i: number) => boolean, actual: State): LossReport {
  const byKey = new Map<string, { i: number; v: string | undefined }[]>();
  reqs.forEach((req, i) => {
    for (const [k, v] of effects(req)) {
      let l = byKey.get(k);
      if (l === undefined) byKey.set(k, (l = []));
      l.push({ i, v });
    }
  });
  const out: LossReport = { losses: 0, phantoms: 0, details: [] };
  const keys = new Set([...start.keys(), ...actual.keys(), ...byKey.keys()]);
  const short = (h: string | undefined): string => (h === undefined ? '(absent)' : h.length > 24 ? h.slice(0, 24) + '...' : h);
  for (const k of keys) {
    const got = actual.get(k);
    const writes = byKey.get(k) ?? [];
    let last = -1;
    for (let j = 0; j < writes.length; j++) if (acked(writes[j]!.i)) last = j;
    const allowed = new Set<string | undefined>();
    if (last < 0) allowed.add(start.get(k));
    for (let j = Math.max(0, last); j < writes.length; j++) allowed.add(writes[j]!.v);
    if (allowed.has(got)) continue;
    if (last >= 0) {
      out.losses++;
      if (out.details.length < 10) {
        out.details.push(`key ${short(k)}: acknowledged request ${writes[last]!.i} left ${short(writes[last]!.v)}, store has ${short(got)}`);
      }
    } else {
      out.phantoms++;
      if (out.details.length < 10) out.details.push(`key ${short(k)}: store has ${short(got)}, which no request wrote`);
    }
  }
  return out;
}

/** mulberry32 with a scrambled seed: the same sequence on every machine. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    let h = (seed >>> 0) ^ 0x9e3779b9;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    this.state = (h ^ (h >>> 16)) >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
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
    if (this.rng.next() < this.shape.deleteShare) return { t: 'del', key };
    return { t: 'put', key, value: this.value(idx, sub) };
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
    return { kind: op.t, ops: [op] };
  }

  /** Requests 0 ... n-1 of seed `seed` (a fresh stream). */
  static take(seed: number, n: number, shape: WorkloadShape = DEFAULT_SHAPE): WReq[] {
    const s = new RequestStream(seed, shape);
    const out: WReq[] = [];
    for (let i = 0; i < n; i++) out.push(s.next());
    return out;
  }
}

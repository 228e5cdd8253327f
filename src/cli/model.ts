/**
 * The reference model the crash tests and `birch torture` verify a store
 * against. The workload (workload.ts) is a sequence of requests; the store
 * applies them in the order they were issued and commits them in groups, so
 * after any crash it must hold exactly the state after the first P
 * requests, for some P at least as large as the number of requests whose
 * promise resolved ("acknowledged") and at most the number issued.
 * `findPrefix` finds that P (or reports that there is none); losses.ts
 * explains a failure key by key.
 *
 * @internal
 */
import type { Store } from '../api/store.js';
import type { WReq } from './workload.js';

/** A store's contents: hex key -> hex value. */
export type State = Map<string, string>;

export function applyReq(state: State, req: WReq): void {
  for (const op of req.ops) {
    const k = op.key.toString('hex');
    if (op.kind === 'put') state.set(k, op.value.toString('hex'));
    else state.delete(k);
  }
}

/** The final value (hex, or undefined = absent) each key has after `req`. */
export function effects(req: WReq): Map<string, string | undefined> {
  const m = new Map<string, string | undefined>();
  for (const op of req.ops) m.set(op.key.toString('hex'), op.kind === 'put' ? op.value.toString('hex') : undefined);
  return m;
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
      if (op.kind === 'put') model.set(k, op.value.toString('hex'));
      else model.delete(k);
      if (actual.get(k) === model.get(k)) diff.delete(k);
      else diff.add(k);
    }
  }
}

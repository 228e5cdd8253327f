/**
 * Explaining a failed crash check per key: an acknowledged write whose value
 * is gone (a *loss*), or a value nobody wrote (a *phantom*).
 *
 * @internal
 */
import { effects, type State } from './model.js';
import type { WReq } from './workload.js';

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

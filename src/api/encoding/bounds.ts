/**
 * Range options given in a key encoding, turned into byte bounds for the
 * tree: each bound encoded as a key, `prefix` turned into the bounds its
 * encoding gives it (KeyCodec.prefix), and of the bounds on each side the
 * tightest kept.
 */
import { BirchError } from '../../errors.js';
import { describe } from './codec.js';
import type { KeyCodec } from './keys.js';

/** A tuple type's leading parts: `[string, number]` gives `[string, number] | [string] | []`. */
type LeadingParts<T extends readonly unknown[]> = T extends readonly [...infer H, unknown] ? T | LeadingParts<H> : T;

/** What may bound a range of keys of type K: a key, or for a tuple type any
 * of its leading parts (`{ prefix: ['alice'] }` for `[string, number]` keys). */
export type KeyBound<K> = K extends readonly unknown[] ? LeadingParts<K> : K;

/** Range options with bounds in a key encoding's type K. */
export interface KeyRangeOptions<K> {
  gt?: KeyBound<K>;
  gte?: KeyBound<K>;
  lt?: KeyBound<K>;
  lte?: KeyBound<K>;
  /** 'binary', 'utf8': keys whose bytes start with the prefix's. 'tuple':
   * tuples that extend the prefix by at least one item. */
  prefix?: KeyBound<K>;
  /** Descending key order. Defaults to false. */
  reverse?: boolean;
  /** At most this many pairs. Defaults to no limit. */
  limit?: number;
}

/** Byte bounds: at most one lower (gt or gte) and one upper (lt or lte). */
export interface ByteBounds {
  gt?: Buffer;
  gte?: Buffer;
  lt?: Buffer;
  lte?: Buffer;
}

interface Bound {
  key: Buffer;
  inclusive: boolean;
}

/**
 * The byte bounds of `opts` under `codec`. Reads only gt, gte, lt, lte and
 * prefix; reverse, limit and unknown options are left to the caller (the
 * store's rangeIn checks them). A bound that does not encode is refused with
 * BIRCH_BAD_ARGUMENT naming the option. Bounds that cross give bounds that
 * hold no key, not an error.
 */
export function rangeBounds<In>(codec: KeyCodec<In, unknown>, opts: KeyRangeOptions<In> | undefined): ByteBounds {
  if (opts === undefined) return {};
  if (typeof opts !== 'object' || opts === null) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `range options must be an object, got ${describe(opts)}`);
  }
  const named = <T>(name: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof BirchError && e.code === 'BIRCH_BAD_ARGUMENT') {
        throw new BirchError('BIRCH_BAD_ARGUMENT', `range option ${name}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  };
  let lo: Bound | undefined;
  let hi: Bound | undefined;
  const lower = (key: Buffer, inclusive: boolean): void => {
    const c = lo === undefined ? 1 : key.compare(lo.key);
    if (c > 0 || (c === 0 && !inclusive)) lo = { key, inclusive };
  };
  const upper = (key: Buffer, inclusive: boolean): void => {
    const c = hi === undefined ? -1 : key.compare(hi.key);
    if (c < 0 || (c === 0 && !inclusive)) hi = { key, inclusive };
  };
  if (opts.gt !== undefined) lower(named('gt', () => codec.encode(opts.gt as In)), false);
  if (opts.gte !== undefined) lower(named('gte', () => codec.encode(opts.gte as In)), true);
  if (opts.lt !== undefined) upper(named('lt', () => codec.encode(opts.lt as In)), false);
  if (opts.lte !== undefined) upper(named('lte', () => codec.encode(opts.lte as In)), true);
  if (opts.prefix !== undefined) {
    const p = named('prefix', () => codec.prefix(opts.prefix as In));
    lower(p.gte, true);
    if (p.lt !== undefined) upper(p.lt, false);
  }
  const out: ByteBounds = {};
  const l = lo as Bound | undefined;
  const h = hi as Bound | undefined;
  if (l !== undefined) out[l.inclusive ? 'gte' : 'gt'] = l.key;
  if (h !== undefined) out[h.inclusive ? 'lte' : 'lt'] = h.key;
  return out;
}

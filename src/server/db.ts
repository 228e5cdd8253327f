/**
 * What a data command sees: a synchronous view of the keys, one of two kinds.
 *
 * - CommittedView: the latest committed state, read-only. Read commands run
 *   on it (GET, MGET, SCAN...), after the connection's own earlier writes
 *   are acknowledged.
 * - TxView: the latest state (the gate has waited until every write in
 *   flight committed) plus the writes of the commands run on it so far, in
 *   memory. A transaction (MULTI/EXEC) and every write that must read first
 *   (GETSET, MSETNX, SET ... GET, ...) run on it; what they wrote becomes
 *   one store batch, applied atomically.
 *
 * So each data command is written once, against Db, whichever way it runs.
 *
 * Expiry: an entry in a TxView carries its deadline (absolute ms) so that
 * reads within a transaction see it expire; its batch gives the store each
 * deadline as a lifetime from the moment the batch is issued (#push).
 *
 * @internal
 */
import type { RangeOptions } from '../index.js';
import type { Backend, Op } from './backend.js';

/** A key range: bounds as in Store.range, plus direction and a limit. */
export interface Span {
  lo?: { key: Buffer; inclusive: boolean };
  hi?: { key: Buffer; inclusive: boolean };
  reverse?: boolean;
  limit?: number;
}

/** How a write treats the key's lifetime: clear it (a plain SET), keep it
 * (KEEPTTL, INCR, APPEND), or set a deadline (absolute ms). */
export type Lifetime = 'clear' | 'keep' | { at: number };

export interface Db {
  get(key: Buffer): Buffer | undefined;
  /** Pairs in key order (or reverse) within the span. */
  range(span: Span): Iterable<[Buffer, Buffer]>;
  /** The number of keys. */
  count(): number;
  set(key: Buffer, value: Buffer, life?: Lifetime): void;
  /** Whether the key existed. */
  del(key: Buffer): boolean;
  /** Remove every key. */
  clear(): void;
  /** Milliseconds left, Infinity (no expiry) or undefined (missing). */
  ttl(key: Buffer): number | undefined;
  /** Set or remove (`undefined`) the deadline of an existing key; false if missing. */
  expireAt(key: Buffer, at: number | undefined): boolean;
}

export function spanOptions(span: Span): RangeOptions {
  const o: RangeOptions = {};
  if (span.lo !== undefined) {
    if (span.lo.inclusive) o.gte = span.lo.key;
    else o.gt = span.lo.key;
  }
  if (span.hi !== undefined) {
    if (span.hi.inclusive) o.lte = span.hi.key;
    else o.lt = span.hi.key;
  }
  if (span.reverse === true) o.reverse = true;
  if (span.limit !== undefined && span.limit !== Infinity) o.limit = span.limit;
  return o;
}

function inSpan(key: Buffer, span: Span): boolean {
  if (span.lo !== undefined) {
    const c = key.compare(span.lo.key);
    if (c < 0 || (c === 0 && !span.lo.inclusive)) return false;
  }
  if (span.hi !== undefined) {
    const c = key.compare(span.hi.key);
    if (c > 0 || (c === 0 && !span.hi.inclusive)) return false;
  }
  return true;
}

class ReadOnly extends Error {}

/** The committed state, read-only. */
export class CommittedView implements Db {
  constructor(private readonly backend: Backend) {}

  get(key: Buffer): Buffer | undefined {
    return this.backend.get(key);
  }

  range(span: Span): Iterable<[Buffer, Buffer]> {
    return this.backend.range(spanOptions(span));
  }

  count(): number {
    return this.backend.count();
  }

  ttl(key: Buffer): number | undefined {
    return this.backend.ttl(key);
  }

  set(): void {
    throw new ReadOnly('a read command wrote');
  }

  del(): boolean {
    throw new ReadOnly('a read command wrote');
  }

  clear(): void {
    throw new ReadOnly('a read command wrote');
  }

  expireAt(): boolean {
    throw new ReadOnly('a read command wrote');
  }
}

/** An entry written in a transaction: its value (null: deleted) and deadline. */
interface Entry {
  value: Buffer | null;
  /** Absolute ms, or undefined for no expiry. */
  at: number | undefined;
}

/** The latest state plus the transaction's own writes; `ops` is its batch. */
export class TxView implements Db {
  readonly ops: Op[] = [];
  /** Keys written, as latin1 strings, since the last takeWritten(); `all` after clear(). */
  #written: string[] = [];
  #writtenAll = false;
  #overlay = new Map<string, Entry>();
  /** Set by clear(): committed keys are all gone. */
  #cleared = false;
  #count: number | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the transaction wrote anything. */
  get wrote(): boolean {
    return this.ops.length > 0;
  }

  /** The keys written since the last call (latin1), or 'all' after a clear(), for WATCH. */
  takeWritten(): string[] | 'all' {
    const w = this.#writtenAll ? 'all' : this.#written;
    this.#written = [];
    this.#writtenAll = false;
    return w;
  }

  #live(e: Entry): Buffer | undefined {
    if (e.value === null) return undefined;
    if (e.at !== undefined && e.at <= this.now()) return undefined;
    return e.value;
  }

  get(key: Buffer): Buffer | undefined {
    const e = this.#overlay.get(key.toString('latin1'));
    if (e !== undefined) return this.#live(e);
    return this.#cleared ? undefined : this.backend.get(key);
  }

  count(): number {
    if (this.#count === undefined) this.#count = this.#cleared ? 0 : this.backend.count();
    return this.#count;
  }

  #adjust(existed: boolean, exists: boolean): void {
    if (this.#count === undefined) this.count();
    this.#count! += (exists ? 1 : 0) - (existed ? 1 : 0);
  }

  set(key: Buffer, value: Buffer, life: Lifetime = 'clear'): void {
    const k = key.toString('latin1');
    let at: number | undefined;
    if (life === 'keep') at = this.#deadline(key, k);
    else if (life !== 'clear') at = life.at;
    const existed = this.get(key) !== undefined;
    // Request arguments are views of socket reads, which are never reused: no copy.
    const e: Entry = { value, at };
    this.#overlay.set(k, e);
    this.#adjust(existed, this.#live(e) !== undefined);
    this.#written.push(k);
    this.#push(key, e);
  }

  del(key: Buffer): boolean {
    const k = key.toString('latin1');
    const existed = this.get(key) !== undefined;
    this.#overlay.set(k, { value: null, at: undefined });
    if (existed) {
      this.#adjust(true, false);
      this.#written.push(k);
      this.ops.push({ type: 'del', key });
    }
    return existed;
  }

  clear(): void {
    // Every committed key, then every key this transaction wrote, is deleted.
    if (!this.#cleared) {
      for (const [k] of this.backend.range({})) {
        if (!this.#overlay.has(k.toString('latin1'))) this.ops.push({ type: 'del', key: k });
      }
    }
    for (const [k, e] of this.#overlay) {
      if (e.value !== null) this.ops.push({ type: 'del', key: Buffer.from(k, 'latin1') });
    }
    this.#cleared = true;
    this.#overlay.clear();
    this.#count = 0;
    this.#writtenAll = true;
  }

  ttl(key: Buffer): number | undefined {
    const k = key.toString('latin1');
    const e = this.#overlay.get(k);
    if (e === undefined) return this.#cleared ? undefined : this.backend.ttl(key);
    if (this.#live(e) === undefined) return undefined;
    return e.at === undefined ? Infinity : e.at - this.now();
  }

  expireAt(key: Buffer, at: number | undefined): boolean {
    const value = this.get(key);
    if (value === undefined) return false;
    const k = key.toString('latin1');
    if (at !== undefined && at <= this.now()) {
      this.del(key);
      return true;
    }
    const e: Entry = { value, at };
    this.#overlay.set(k, e);
    this.#written.push(k);
    this.#push(key, e);
    return true;
  }

  /**
   * The deadline a key has now (undefined: none or missing), for a write
   * that keeps it (KEEPTTL, INCR, APPEND in a transaction). The store has
   * no write that keeps a lifetime while replacing the value, so this reads
   * the lifetime left and #push gives it back as a `ttl`: the gate holds
   * every other write of the server meanwhile, so nothing can change the key
   * in between, but the deadline is re-derived from two clock readings and
   * may move later by the milliseconds the clock advances during the
   * command (usually none). docs/SERVER.md, "Expiry", says the same.
   */
  #deadline(key: Buffer, k: string): number | undefined {
    const e = this.#overlay.get(k);
    if (e !== undefined) return this.#live(e) === undefined ? undefined : e.at;
    if (this.#cleared) return undefined;
    const left = this.backend.ttl(key);
    return left === undefined || left === Infinity ? undefined : this.now() + left;
  }

  /** The store operation for an entry: a put, with its deadline as a lifetime from now; a deadline already past deletes. */
  #push(key: Buffer, e: Entry): void {
    const value = e.value!;
    if (e.at === undefined) return void this.ops.push({ type: 'put', key, value });
    const ttl = e.at - this.now();
    this.ops.push(ttl > 0 ? { type: 'put', key, value, ttl } : { type: 'del', key });
  }

  *range(span: Span): Iterable<[Buffer, Buffer]> {
    // The transaction's own entries in the span, in order, merged with the committed ones.
    const mine: [Buffer, Entry][] = [];
    for (const [k, e] of this.#overlay) {
      const key = Buffer.from(k, 'latin1');
      if (inSpan(key, span)) mine.push([key, e]);
    }
    const reverse = span.reverse === true;
    mine.sort((a, b) => (reverse ? b[0].compare(a[0]) : a[0].compare(b[0])));
    const limit = span.limit ?? Infinity;
    let given = 0;
    let i = 0;
    const committed: Iterator<[Buffer, Buffer]> = this.#cleared
      ? [][Symbol.iterator]()
      : this.backend.range(spanOptions({ ...span, limit: undefined }));
    let next = committed.next();
    try {
      while (given < limit) {
        const c = next.done === true ? undefined : next.value;
        const m = mine[i];
        if (c === undefined && m === undefined) return;
        let order = 0;
        if (c !== undefined && m !== undefined) order = reverse ? m[0].compare(c[0]) : c[0].compare(m[0]);
        if (m === undefined || (c !== undefined && order < 0)) {
          // Only the committed pair comes here.
          given++;
          yield c!;
          next = committed.next();
          continue;
        }
        if (c !== undefined && order === 0) next = committed.next(); // the transaction's entry replaces it
        i++;
        const v = this.#live(m[1]);
        if (v !== undefined) {
          given++;
          yield [m[0], v];
        }
      }
    } finally {
      committed.return?.();
    }
  }
}

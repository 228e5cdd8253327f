/**
 * The reply side of RESP: encoding replies in RESP2 or RESP3 into a
 * connection's output.
 *
 * `Reply` appends to a slab: a Buffer it fills from the front. take()
 * hands what was written since the last take() to the socket as a view of
 * the slab, and later replies are written after it, never over it; when
 * the slab is full a new one is started. So a burst of replies is one
 * socket write with no copy, and a small reply allocates nothing.
 *
 * Where RESP2 and RESP3 differ (null, map, set, double), the writer's
 * `resp` decides: RESP3's null is `_\r\n`, RESP2's is `$-1\r\n` for a
 * string and `*-1\r\n` for an array; a RESP2 map is a flat array of
 * key, value, key, value.
 *
 * Strings given as JavaScript strings are written as latin1 (one byte per
 * character), so text built from the bytes of a request (`toString('latin1')`)
 * goes back out unchanged.
 *
 * @internal
 */

/** A connection's first slab is small (thousands of idle connections cost
 * little); each new one doubles, up to MAX_SLAB (or the reply's size). */
const FIRST_SLAB = 4096;
const MAX_SLAB = 64 * 1024;

/** Pre-encoded replies that need no formatting. */
export const OK = Buffer.from('+OK\r\n');
export const PONG = Buffer.from('+PONG\r\n');
export const QUEUED = Buffer.from('+QUEUED\r\n');
const NULL2 = Buffer.from('$-1\r\n');
const NULL_ARRAY2 = Buffer.from('*-1\r\n');
const NULL3 = Buffer.from('_\r\n');
const EMPTY = Buffer.alloc(0);

/** `:n\r\n` for small n, and the `$n\r\n` bulk headers of short strings. */
const INTS: Buffer[] = [];
const BULK_HEADERS: Buffer[] = [];
for (let i = 0; i <= 1024; i++) {
  INTS.push(Buffer.from(`:${i}\r\n`));
  BULK_HEADERS.push(Buffer.from(`$${i}\r\n`));
}

export class Reply {
  /** The protocol replies are encoded in: 2 or 3. */
  resp: 2 | 3 = 2;
  #slab: Buffer = EMPTY;
  /** Bytes from #start to #pos are written and not yet taken. */
  #start = 0;
  #pos = 0;

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.#pos - this.#start;
  }

  /** What was written since the last take(), or undefined if nothing. The
   * bytes are never written over; they belong to the caller. */
  take(): Buffer | undefined {
    if (this.#pos === this.#start) return undefined;
    const out = this.#slab.subarray(this.#start, this.#pos);
    this.#start = this.#pos;
    return out;
  }

  /** A point to roll back to (valid until the next take()). */
  mark(): number {
    return this.#pos - this.#start;
  }

  /** Forget what was written since mark() (a command that failed halfway). */
  rollback(mark: number): void {
    this.#pos = this.#start + mark;
  }

  /** Room for n more bytes at #pos. */
  #room(n: number): void {
    if (this.#pos + n <= this.#slab.length) return;
    const pending = this.#pos - this.#start;
    let size = this.#slab.length === 0 ? FIRST_SLAB : Math.min(2 * this.#slab.length, MAX_SLAB);
    // Replies not taken yet are copied along: grow geometrically, so a long run of
    // replies written while the socket is full costs linear time, not quadratic.
    if (pending + n > size) size = 2 * (pending + n);
    const next = Buffer.allocUnsafe(size);
    this.#slab.copy(next, 0, this.#start, this.#pos);
    this.#slab = next;
    this.#start = 0;
    this.#pos = pending;
  }

  /** Bytes already encoded (a constant, or another Reply's take()). */
  raw(b: Uint8Array): void {
    this.#room(b.length);
    this.#slab.set(b, this.#pos);
    this.#pos += b.length;
  }

  #ascii(s: string): void {
    this.#room(s.length);
    this.#pos += this.#slab.write(s, this.#pos, 'latin1');
  }

  #crlf(): void {
    this.#room(2);
    this.#slab[this.#pos++] = 13;
    this.#slab[this.#pos++] = 10;
  }

  /** `+s`: a status line (no \r or \n in it). */
  simple(s: string): void {
    this.#room(s.length + 3);
    this.#slab[this.#pos++] = 0x2b;
    this.#ascii(s);
    this.#crlf();
  }

  /** `-ERR ...`: the message must start with its code (ERR, WRONGTYPE...).
   * \r and \n in it become spaces, as Redis does. */
  error(message: string): void {
    const m = /[\r\n]/.test(message) ? message.replace(/[\r\n]/g, ' ') : message;
    this.#room(m.length + 3);
    this.#slab[this.#pos++] = 0x2d;
    this.#ascii(m);
    this.#crlf();
  }

  int(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n <= 1024 && Number.isInteger(n)) return this.raw(INTS[n]!);
    this.#ascii(`:${n}\r\n`);
  }

  bulk(b: Uint8Array): void {
    const n = b.length;
    if (n <= 1024) this.raw(BULK_HEADERS[n]!);
    else this.#ascii(`$${n}\r\n`);
    this.raw(b);
    this.#crlf();
  }

  /** A bulk string from text, written as latin1. */
  bulkText(s: string): void {
    this.#ascii(`$${s.length}\r\n`);
    this.#ascii(s);
    this.#crlf();
  }

  /** A bulk string, or null if undefined. */
  bulkOrNull(b: Uint8Array | undefined): void {
    if (b === undefined) this.null();
    else this.bulk(b);
  }

  /** The null reply: RESP2 `$-1`, RESP3 `_`. */
  null(): void {
    this.raw(this.resp === 3 ? NULL3 : NULL2);
  }

  /** The null array (EXEC aborted by WATCH): RESP2 `*-1`, RESP3 `_`. */
  nullArray(): void {
    this.raw(this.resp === 3 ? NULL3 : NULL_ARRAY2);
  }

  array(n: number): void {
    this.#ascii(`*${n}\r\n`);
  }

  /** A map of n pairs: RESP3 `%n`, RESP2 an array of 2n elements. */
  map(n: number): void {
    this.#ascii(this.resp === 3 ? `%${n}\r\n` : `*${2 * n}\r\n`);
  }

  /** A set of n elements: RESP3 `~n`, RESP2 an array. */
  set(n: number): void {
    this.#ascii(this.resp === 3 ? `~${n}\r\n` : `*${n}\r\n`);
  }

  /** A double: RESP3 `,x`, RESP2 a bulk string. */
  double(x: number): void {
    const s = Number.isNaN(x) ? 'nan' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : String(x);
    if (this.resp === 3) this.#ascii(`,${s}\r\n`);
    else this.bulkText(s);
  }
}

const scratch = new Reply();

/** One reply encoded on its own (for a reply that must wait its turn). The
 * bytes are a view of a shared slab that is never written over. */
export function encodeAlone(resp: 2 | 3, write: (r: Reply) => void): Buffer {
  scratch.resp = resp;
  try {
    write(scratch);
  } catch (err) {
    scratch.take(); // drop a half-written reply
    throw err;
  }
  return scratch.take() ?? EMPTY;
}

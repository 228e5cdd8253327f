/**
 * The request side of RESP: what clients send. Requests are arrays of bulk
 * strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, the same in RESP2 and RESP3)
 * or inline lines (`PING\r\n`, split like a shell, redis-benchmark's
 * PING_INLINE and telnet users).
 *
 * Incremental: bytes arrive in chunks split anywhere (inside a number,
 * inside `\r\n`, inside a bulk string), and the commands parsed are the same
 * however the bytes are split. A bulk string that arrives whole is a view
 * into the chunk (no copy); one split across chunks is copied once into a
 * buffer of its declared length, so a large request costs linear time.
 *
 * Bounded: every limit below is checked as soon as the bytes that break it
 * are seen, so a declared length is refused before anything is allocated
 * for it, and nothing a client sends makes the parser hold more than
 * `maxRequest` bytes (plus one chunk).
 *
 * Malformed input throws ProtocolError, whose message is the error reply
 * (Redis's own wording where Redis has one); the connection then replies
 * and closes. The parser throws nothing else, and once it has thrown it
 * stays failed.
 *
 * @internal
 */

/** Bounds on one request. */
export interface ParserLimits {
  /** Elements of one request array (the command name included). */
  maxArgs: number;
  /** Bytes of one bulk string. */
  maxBulk: number;
  /** Bytes of one request: the sum of its bulk strings' lengths. */
  maxRequest: number;
  /** Bytes of one inline request line, and of one `*`/`$` header line
   * (Redis's PROTO_INLINE_MAX_SIZE). */
  maxInline: number;
}

/** Redis's limits for a client that has not authenticated yet (networking.c). */
export const UNAUTHENTICATED_MAX_ARGS = 10;
export const UNAUTHENTICATED_MAX_BULK = 16384;

/** A request that does not follow the protocol. `message` is the error reply. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const CR = 13;
const LF = 10;
const STAR = 42; // '*'
const DOLLAR = 36; // '$'

// Parser states.
const IDLE = 0; // at the start of a request
const HEADER = 1; // inside an array: expecting `$<len>\r\n`
const DATA = 2; // inside a bulk string
const CR_AFTER = 3; // expecting the `\r` after a bulk string
const LF_AFTER = 4; // expecting the `\n` after a bulk string

const EMPTY = Buffer.alloc(0);

/** How a byte is shown in an error reply (no `\r`, `\n` or other control bytes). */
function shown(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * Redis's string2ll on `buf[from, to)`: an optional '-', then digits with no
 * leading zero (or exactly "0"), within the safe integer range here (every
 * length birch accepts is far smaller). NaN if malformed.
 */
function parseInteger(buf: Buffer, from: number, to: number): number {
  if (from >= to || to - from > 17) return NaN;
  let i = from;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
    if (i === to) return NaN;
  }
  const first = buf[i]!;
  if (first === 0x30) return i + 1 === to && !neg ? 0 : NaN;
  let n = 0;
  for (; i < to; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

export class RequestParser {
  /** The bounds in force; the connection swaps them when a client authenticates. */
  limits: ParserLimits;
  /** Set by the consumer (from inside onCommand or outside) to stop parsing
   * after the current command; resume() goes on. */
  paused = false;
  readonly #onCommand: (args: Buffer[]) => void;

  /** Bytes not parsed yet: a view of the last chunk, or a stash joined with it. */
  #buf: Buffer = EMPTY;
  #pos = 0;
  #state = IDLE;
  #failed: ProtocolError | undefined;
  /** Arguments of the array being read, and how many are still to come. */
  #args: Buffer[] = [];
  #remaining = 0;
  /** Bulk bytes of the request so far (bounded by maxRequest). */
  #requestBytes = 0;
  /** The bulk string being read: its length, and, if it spans chunks, its copy so far. */
  #bulkLen = 0;
  #bulk: Buffer | undefined;
  #bulkFill = 0;
  /** Whether the limits for unauthenticated clients apply. */
  #unauthenticated = false;

  constructor(limits: ParserLimits, onCommand: (args: Buffer[]) => void) {
    this.limits = limits;
    this.#onCommand = onCommand;
  }

  /** Apply Redis's tighter bounds (10 arguments, 16 KiB strings) until the client authenticates. */
  set unauthenticated(on: boolean) {
    this.#unauthenticated = on;
  }

  /** Bytes received and not yet parsed (held while paused, or a partial line). */
  get buffered(): number {
    return this.#buf.length - this.#pos + this.#bulkFill;
  }

  /** Whether a request has started and not finished (bytes of it are held). */
  get midRequest(): boolean {
    return this.#state !== IDLE || this.#pos < this.#buf.length;
  }

  /** Parse `chunk` (after whatever is left of earlier ones). Throws ProtocolError. */
  push(chunk: Buffer): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (chunk.length === 0) return;
    if (this.#pos >= this.#buf.length) {
      this.#buf = chunk;
    } else {
      // A partial line (small: bounded by maxInline) or input held while paused.
      this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), chunk]);
    }
    this.#pos = 0;
    this.#run();
  }

  /** Go on after a pause. Throws ProtocolError. */
  resume(): void {
    this.paused = false;
    if (this.#failed !== undefined) throw this.#failed;
    this.#run();
  }

  #fail(message: string): never {
    this.#failed = new ProtocolError(message);
    this.#buf = EMPTY;
    this.#pos = 0;
    this.#args = [];
    this.#bulk = undefined;
    throw this.#failed;
  }

  #run(): void {
    try {
      this.#parse();
    } catch (err) {
      if (err instanceof ProtocolError) throw err;
      // Only a bug could land here; never let it pass as anything but a protocol error.
      this.#fail(`Protocol error: ${(err as Error).message}`);
    }
    if (this.#pos >= this.#buf.length) {
      this.#buf = EMPTY;
      this.#pos = 0;
    }
  }

  #parse(): void {
    const lim = this.limits;
    while (!this.paused) {
      const buf = this.#buf;
      const len = buf.length;
      let pos = this.#pos;
      switch (this.#state) {
        case IDLE: {
          if (pos >= len) return;
          if (buf[pos] !== STAR) {
            if (!this.#inline()) return;
            break;
          }
          const cr = this.#lineEnd(pos + 1, 'Protocol error: too big mbulk count string');
          if (cr < 0) return;
          const n = parseInteger(buf, pos + 1, cr);
          if (Number.isNaN(n) || buf[cr + 1] !== LF) this.#fail('Protocol error: invalid multibulk length');
          const maxArgs = this.#unauthenticated ? Math.min(UNAUTHENTICATED_MAX_ARGS, lim.maxArgs) : lim.maxArgs;
          if (n > maxArgs) {
            this.#fail(
              this.#unauthenticated
                ? 'Protocol error: unauthenticated multibulk length'
                : `Protocol error: a request of ${n} arguments is over the limit of ${lim.maxArgs}`,
            );
          }
          this.#pos = cr + 2;
          if (n <= 0) break; // `*0` and `*-1`: nothing to run (as Redis)
          this.#args = [];
          this.#remaining = n;
          this.#requestBytes = 0;
          this.#state = HEADER;
          break;
        }
        case HEADER: {
          if (pos >= len) return;
          if (buf[pos] !== DOLLAR) this.#fail(`Protocol error: expected '$', got '${shown(buf[pos]!)}'`);
          const cr = this.#lineEnd(pos + 1, 'Protocol error: too big bulk count string');
          if (cr < 0) return;
          const n = parseInteger(buf, pos + 1, cr);
          if (Number.isNaN(n) || n < 0 || buf[cr + 1] !== LF) this.#fail('Protocol error: invalid bulk length');
          if (this.#unauthenticated && n > UNAUTHENTICATED_MAX_BULK) this.#fail('Protocol error: unauthenticated bulk length');
          if (n > lim.maxBulk) this.#fail(`Protocol error: a bulk string of ${n} bytes is over the limit of ${lim.maxBulk}`);
          this.#requestBytes += n;
          if (this.#requestBytes > lim.maxRequest) {
            this.#fail(`Protocol error: a request of more than ${lim.maxRequest} bytes is over the limit`);
          }
          this.#bulkLen = n;
          this.#pos = cr + 2;
          this.#state = DATA;
          break;
        }
        case DATA: {
          const n = this.#bulkLen;
          const avail = len - pos;
          if (this.#bulk === undefined) {
            if (avail >= n + 2 && buf[pos + n] === CR && buf[pos + n + 1] === LF) {
              // The common case: the whole string and its \r\n are here.
              this.#pos = pos + n + 2;
              this.#arg(buf.subarray(pos, pos + n));
              break;
            }
            if (avail >= n) {
              this.#pos = pos + n;
              this.#state = CR_AFTER;
              this.#pendingArg = buf.subarray(pos, pos + n);
              break;
            }
            if (avail === 0) return;
            this.#bulk = Buffer.allocUnsafe(n);
            this.#bulkFill = 0;
          }
          const take = Math.min(avail, n - this.#bulkFill);
          buf.copy(this.#bulk, this.#bulkFill, pos, pos + take);
          this.#bulkFill += take;
          this.#pos = pos + take;
          if (this.#bulkFill < n) return;
          this.#pendingArg = this.#bulk;
          this.#bulk = undefined;
          this.#bulkFill = 0;
          this.#state = CR_AFTER;
          break;
        }
        case CR_AFTER: {
          if (pos >= len) return;
          if (buf[pos] !== CR) this.#fail('Protocol error: a bulk string must end with \\r\\n');
          this.#pos = pos + 1;
          this.#state = LF_AFTER;
          break;
        }
        case LF_AFTER: {
          if (pos >= len) return;
          if (buf[pos] !== LF) this.#fail('Protocol error: a bulk string must end with \\r\\n');
          this.#pos = pos + 1;
          const arg = this.#pendingArg!;
          this.#pendingArg = undefined;
          this.#arg(arg);
          break;
        }
      }
    }
  }

  /** A bulk string whose bytes are complete but whose \r\n is still to come. */
  #pendingArg: Buffer | undefined;

  /** One argument of the array read; runs the command when it is the last. */
  #arg(arg: Buffer): void {
    this.#args.push(arg);
    if (--this.#remaining > 0) {
      this.#state = HEADER;
      return;
    }
    const args = this.#args;
    this.#args = [];
    this.#state = IDLE;
    this.#onCommand(args);
  }

  /**
   * The index of the `\r` ending the header line that starts at `from`, or
   * -1 if it has not arrived (the line's bytes stay buffered). A line longer
   * than maxInline is refused whether or not its end has arrived, so the
   * outcome does not depend on how the bytes were split. A `\r` must be
   * followed by `\n`: -1 while that byte has not arrived.
   */
  #lineEnd(from: number, tooBig: string): number {
    const buf = this.#buf;
    const max = this.limits.maxInline;
    const cr = buf.indexOf(CR, from);
    if (cr < 0) {
      if (buf.length - from > max) this.#fail(tooBig);
      return -1;
    }
    if (cr - from > max) this.#fail(tooBig);
    if (cr + 1 >= buf.length) return -1;
    return cr;
  }

  /** One inline request line; false if its end has not arrived. */
  #inline(): boolean {
    const buf = this.#buf;
    const from = this.#pos;
    const max = this.limits.maxInline;
    const lf = buf.indexOf(LF, from);
    if (lf < 0) {
      // The line is at least this long (a last \r may be the start of its \r\n).
      const atLeast = buf.length - from - (buf[buf.length - 1] === CR ? 1 : 0);
      if (atLeast > max) this.#fail('Protocol error: too big inline request');
      return false;
    }
    let end = lf;
    if (end > from && buf[end - 1] === CR) end--;
    if (end - from > max) this.#fail('Protocol error: too big inline request');
    this.#pos = lf + 1;
    const args = splitArgs(buf, from, end);
    if (args === undefined) this.#fail('Protocol error: unbalanced quotes in request');
    if (args.length === 0) return true; // an empty line: nothing to run
    const maxArgs = this.#unauthenticated ? Math.min(UNAUTHENTICATED_MAX_ARGS, this.limits.maxArgs) : this.limits.maxArgs;
    if (args.length > maxArgs) {
      this.#fail(
        this.#unauthenticated
          ? 'Protocol error: unauthenticated multibulk length'
          : `Protocol error: a request of ${args.length} arguments is over the limit of ${this.limits.maxArgs}`,
      );
    }
    this.#onCommand(args);
    return true;
  }
}

function isSpace(c: number): boolean {
  // C's isspace: space, \t, \n, \v, \f, \r
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * Redis's sdssplitargs on `buf[from, to)`: words separated by spaces, with
 * "double quotes" (escapes \xHH \n \r \t \b \a and \<any>) and 'single
 * quotes' (escape \'); a closing quote must be followed by a space or the
 * end. undefined if the quotes are unbalanced. As in C, a NUL byte ends the
 * line.
 */
export function splitArgs(buf: Buffer, from: number, to: number): Buffer[] | undefined {
  const nul = buf.indexOf(0, from);
  if (nul >= 0 && nul < to) to = nul;
  const out: Buffer[] = [];
  let p = from;
  for (;;) {
    while (p < to && isSpace(buf[p]!)) p++;
    if (p >= to) return out;
    const word: number[] = [];
    let inq = false;
    let insq = false;
    let plain = true; // no quotes or escapes: the word is a plain slice
    const start = p;
    for (;;) {
      const c = p < to ? buf[p]! : -1;
      if (inq) {
        if (c === 0x5c && p + 3 < to && buf[p + 1] === 0x78 && hexValue(buf[p + 2]!) >= 0 && hexValue(buf[p + 3]!) >= 0) {
          word.push(hexValue(buf[p + 2]!) * 16 + hexValue(buf[p + 3]!));
          p += 3;
        } else if (c === 0x5c && p + 1 < to) {
          p++;
          const e = buf[p]!;
          word.push(e === 0x6e ? 10 : e === 0x72 ? 13 : e === 0x74 ? 9 : e === 0x62 ? 8 : e === 0x61 ? 7 : e);
        } else if (c === 0x22) {
          // The closing quote must be followed by a space or nothing.
          if (p + 1 < to && !isSpace(buf[p + 1]!)) return undefined;
          p++;
          break;
        } else if (c < 0) {
          return undefined;
        } else {
          word.push(c);
        }
      } else if (insq) {
        if (c === 0x5c && p + 1 < to && buf[p + 1] === 0x27) {
          p++;
          word.push(0x27);
        } else if (c === 0x27) {
          if (p + 1 < to && !isSpace(buf[p + 1]!)) return undefined;
          p++;
          break;
        } else if (c < 0) {
          return undefined;
        } else {
          word.push(c);
        }
      } else {
        if (c < 0 || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
        if (c === 0x22) {
          inq = true;
          plain = false;
        } else if (c === 0x27) {
          insq = true;
          plain = false;
        } else {
          word.push(c);
        }
      }
      p++;
    }
    out.push(plain ? buf.subarray(start, start + word.length) : Buffer.from(word));
  }
}

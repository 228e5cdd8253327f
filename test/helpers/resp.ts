/**
 * A minimal RESP client for tests: sends commands (or raw bytes), decodes
 * replies in RESP2 and RESP3, and keeps each reply's raw bytes, so tests
 * can check both what a reply means and exactly how it was encoded.
 *
 * Decoded replies: a simple string is '+OK' (with its '+'), a bulk string
 * a JavaScript string (latin1, so bytes round-trip), an error { error },
 * an integer a number (bigint past 2^53), null for every null, arrays as
 * arrays, RESP3 maps { map: [[k, v], ...] }, sets { set: [...] }, doubles
 * { double }.
 */
import * as net from 'node:net';

export type RespValue =
  | string
  | number
  | bigint
  | null
  | boolean
  | { error: string }
  | { map: [RespValue, RespValue][] }
  | { set: RespValue[] }
  | { double: number }
  | RespValue[];

class Incomplete extends Error {}

/** Decode one reply at `pos`; returns it and the position after it. Throws Incomplete. */
export function decode(buf: Buffer, pos: number): [RespValue, number] {
  if (pos >= buf.length) throw new Incomplete();
  const type = buf[pos]!;
  const cr = buf.indexOf('\r\n', pos);
  if (cr < 0) throw new Incomplete();
  const line = buf.toString('latin1', pos + 1, cr);
  let p = cr + 2;
  const n = (): number => Number(line);
  switch (type) {
    case 0x2b: // +
      return ['+' + line, p];
    case 0x2d: // -
      return [{ error: line }, p];
    case 0x3a: {
      // :
      const v = BigInt(line);
      return [v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v, p];
    }
    case 0x24: // $
    case 0x3d: {
      // = (verbatim)
      if (n() < 0) return [null, p];
      if (p + n() + 2 > buf.length) throw new Incomplete();
      let s = buf.toString('latin1', p, p + n());
      if (type === 0x3d) s = s.slice(4);
      return [s, p + n() + 2];
    }
    case 0x5f: // _
      return [null, p];
    case 0x23: // #
      return [line === 't', p];
    case 0x2c: // ,
      return [{ double: Number(line === 'inf' ? Infinity : line === '-inf' ? -Infinity : line) }, p];
    case 0x2a: // *
    case 0x7e: // ~
    case 0x3e: {
      // >
      if (n() < 0) return [null, p];
      const items: RespValue[] = [];
      for (let i = 0; i < n(); i++) {
        const [v, q] = decode(buf, p);
        items.push(v);
        p = q;
      }
      return [type === 0x7e ? { set: items } : items, p];
    }
    case 0x25: {
      // %
      const pairs: [RespValue, RespValue][] = [];
      for (let i = 0; i < n(); i++) {
        const [k, q] = decode(buf, p);
        const [v, r] = decode(buf, q);
        pairs.push([k, v]);
        p = r;
      }
      return [{ map: pairs }, p];
    }
    default:
      throw new Error(`bad reply type byte ${type} at ${pos}: ${JSON.stringify(buf.toString('latin1', pos, pos + 40))}`);
  }
}

/** A request as RESP bytes. */
export function encode(args: (string | Buffer | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'latin1');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export interface Reply {
  value: RespValue;
  raw: string;
}

export class RawClient {
  readonly socket: net.Socket;
  #buf = Buffer.alloc(0);
  #waiters: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  #replies: Reply[] = [];
  #ended = false;
  #endError: Error | undefined;
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
      this.#drain();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#ended = true;
        this.#endError = new Error(`connection closed; unparsed: ${JSON.stringify(this.#buf.toString('latin1').slice(0, 200))}`);
        for (const w of this.#waiters.splice(0)) w.reject(this.#endError);
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  static connect(target: { port: number; host?: string } | { path: string }): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(target as net.NetConnectOpts);
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  #drain(): void {
    for (;;) {
      let v: RespValue;
      let end: number;
      try {
        [v, end] = decode(this.#buf, 0);
      } catch (err) {
        if (err instanceof Incomplete) return;
        throw err;
      }
      const r = { value: v, raw: this.#buf.toString('latin1', 0, end) };
      this.#buf = this.#buf.subarray(end);
      const w = this.#waiters.shift();
      if (w !== undefined) w.resolve(r);
      else this.#replies.push(r);
    }
  }

  send(...args: (string | Buffer | number)[]): void {
    this.socket.write(encode(args));
  }

  sendRaw(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** The next reply, with its raw bytes. */
  next(): Promise<Reply> {
    const r = this.#replies.shift();
    if (r !== undefined) return Promise.resolve(r);
    if (this.#ended) return Promise.reject(this.#endError);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async read(): Promise<RespValue> {
    return (await this.next()).value;
  }

  async call(...args: (string | Buffer | number)[]): Promise<RespValue> {
    this.send(...args);
    return this.read();
  }

  async callRaw(...args: (string | Buffer | number)[]): Promise<string> {
    this.send(...args);
    return (await this.next()).raw;
  }

  /** Replies received and not yet read. */
  get buffered(): number {
    return this.#replies.length;
  }

  close(): void {
    this.socket.destroy();
  }
}

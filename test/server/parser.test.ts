/**
 * The request parser (src/server/parser.ts): RESP arrays, the inline
 * protocol, every protocol error with Redis's wording, the bounds, and a
 * seeded fuzz: random valid frames, mutations of them and garbage, each
 * split at random points. Properties: the parser throws nothing but
 * ProtocolError, always finishes, and gives the same commands and the
 * same error however the bytes are split.
 */
import { describe, expect, it } from 'vitest';
import { ProtocolError, RequestParser, splitArgs, type ParserLimits } from '../../src/server/parser.js';
import { Reply } from '../../src/server/reply.js';
import { Rng } from '../helpers/rng.js';

const LIMITS: ParserLimits = { maxArgs: 1024, maxBulk: 4096, maxRequest: 64 * 1024, maxInline: 1024 };

interface Outcome {
  commands: string[][];
  error?: string;
}

/** Parse `chunks` in order; commands as latin1 strings. */
function parse(chunks: Buffer[], limits = LIMITS, unauthenticated = false): Outcome {
  const commands: string[][] = [];
  const p = new RequestParser(limits, (args) => commands.push(args.map((a) => a.toString('latin1'))));
  p.unauthenticated = unauthenticated;
  for (const c of chunks) {
    try {
      p.push(c);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw new Error(`parser threw a ${(err as Error)?.constructor?.name}: ${String(err)}`);
      return { commands, error: err.message };
    }
  }
  return { commands };
}

const whole = (s: string | Buffer, limits = LIMITS): Outcome => parse([typeof s === 'string' ? Buffer.from(s, 'latin1') : s], limits);

/** Every byte on its own. */
function bytewise(s: Buffer, limits = LIMITS): Outcome {
  const chunks: Buffer[] = [];
  for (let i = 0; i < s.length; i++) chunks.push(s.subarray(i, i + 1));
  return parse(chunks, limits);
}

function randomSplit(s: Buffer, rng: Rng): Buffer[] {
  const cuts = new Set<number>();
  const n = rng.range(0, Math.min(12, s.length));
  for (let i = 0; i < n; i++) cuts.add(rng.range(1, Math.max(1, s.length - 1)));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(s.subarray(prev, c));
    prev = c;
  }
  out.push(s.subarray(prev));
  return out;
}

const bulk = (s: string): string => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const arr = (...a: string[]): string => `*${a.length}\r\n${a.map(bulk).join('')}`;

describe('RESP arrays', () => {
  it('parses pipelined commands, the same whole and byte by byte', () => {
    const s = arr('SET', 'k', 'v') + arr('GET', 'k') + arr('PING') + '*0\r\n*-1\r\n' + arr('ECHO', '');
    const expected = { commands: [['SET', 'k', 'v'], ['GET', 'k'], ['PING'], ['ECHO', '']] };
    expect(whole(s)).toEqual(expected);
    expect(bytewise(Buffer.from(s, 'latin1'))).toEqual(expected);
  });

  it('keeps binary bulk strings intact (\\r\\n and NUL inside)', () => {
    const v = Buffer.from([0, 13, 10, 255, 36, 42]);
    const s = Buffer.concat([Buffer.from('*2\r\n$3\r\nSET\r\n$6\r\n'), v, Buffer.from('\r\n')]);
    const got: Buffer[][] = [];
    const p = new RequestParser(LIMITS, (a) => got.push(a));
    p.push(s);
    expect(got).toHaveLength(1);
    expect(got[0]![1]!.equals(v)).toBe(true);
  });

  it('a bulk string split across reads is assembled once', () => {
    const big = 'x'.repeat(3000);
    const s = Buffer.from(arr('SET', 'k', big), 'latin1');
    const r = parse([s.subarray(0, 20), s.subarray(20, 1000), s.subarray(1000, 2999), s.subarray(2999)]);
    expect(r).toEqual({ commands: [['SET', 'k', big]] });
  });

  it("answers malformed frames with Redis's protocol errors", () => {
    expect(whole('*abc\r\n').error).toBe('Protocol error: invalid multibulk length');
    expect(whole('*01\r\n').error).toBe('Protocol error: invalid multibulk length');
    expect(whole('*2\r\n:1\r\n').error).toBe("Protocol error: expected '$', got ':'");
    expect(whole('*1\r\n\x01').error).toBe("Protocol error: expected '$', got '\\x01'");
    expect(whole('*1\r\n$-1\r\n').error).toBe('Protocol error: invalid bulk length');
    expect(whole('*1\r\n$x\r\n').error).toBe('Protocol error: invalid bulk length');
    expect(whole('*1\r\n$3\r\nabcXY').error).toBe('Protocol error: a bulk string must end with \\r\\n');
    expect(whole('SET "a b\r\n').error).toBe('Protocol error: unbalanced quotes in request');
    expect(whole('SET "a"b\r\n').error).toBe('Protocol error: unbalanced quotes in request');
  });

  it('commands before a malformed frame are still parsed', () => {
    expect(whole(arr('PING') + '*x\r\n' + arr('PING'))).toEqual({
      commands: [['PING']],
      error: 'Protocol error: invalid multibulk length',
    });
  });

  it('refuses a declared length over the bounds before reading it', () => {
    expect(whole('*1025\r\n').error).toBe('Protocol error: a request of 1025 arguments is over the limit of 1024');
    expect(whole('*1000000\r\n').error).toMatch(/1000000 arguments is over the limit/);
    expect(whole('*1\r\n$4097\r\n').error).toBe('Protocol error: a bulk string of 4097 bytes is over the limit of 4096');
    expect(whole('*1\r\n$2147483648\r\n').error).toMatch(/bulk string of 2147483648 bytes/);
    expect(whole('*1\r\n$99999999999999999999\r\n').error).toBe('Protocol error: invalid bulk length');
    // The whole request: 20 bulk strings of 4000 bytes is over 64 KiB.
    const r = whole(`*20\r\n${bulk('y'.repeat(4000)).repeat(17)}$4000\r\n`);
    expect(r.error).toBe('Protocol error: a request of more than 65536 bytes is over the limit');
  });

  it('refuses a header line that never ends', () => {
    expect(whole('*' + '1'.repeat(2000)).error).toBe('Protocol error: too big mbulk count string');
    expect(whole('*1\r\n$' + '1'.repeat(2000)).error).toBe('Protocol error: too big bulk count string');
  });

  it("applies Redis's tighter bounds before AUTH", () => {
    expect(parse([Buffer.from('*11\r\n')], LIMITS, true).error).toBe('Protocol error: unauthenticated multibulk length');
    expect(parse([Buffer.from('*1\r\n$16385\r\n')], LIMITS, true).error).toBe('Protocol error: unauthenticated bulk length');
    expect(parse([Buffer.from(arr('AUTH', 'x'))], LIMITS, true)).toEqual({ commands: [['AUTH', 'x']] });
  });

  it('stays failed after a protocol error', () => {
    const p = new RequestParser(LIMITS, () => {});
    expect(() => p.push(Buffer.from('*x\r\n'))).toThrow(ProtocolError);
    expect(() => p.push(Buffer.from(arr('PING')))).toThrow(ProtocolError);
  });

  it('pauses after the command that asked, and resumes where it stopped', () => {
    const got: string[] = [];
    const p = new RequestParser(LIMITS, (a) => {
      got.push(a[0]!.toString());
      if (got.length === 2) p.paused = true;
    });
    p.push(Buffer.from(arr('A') + arr('B') + arr('C') + arr('D')));
    expect(got).toEqual(['A', 'B']);
    expect(p.buffered).toBeGreaterThan(0);
    p.push(Buffer.from(arr('E')));
    expect(got).toEqual(['A', 'B']);
    p.resume();
    expect(got).toEqual(['A', 'B', 'C', 'D', 'E']);
  });
});

describe('the inline protocol', () => {
  it('splits like sdssplitargs', () => {
    expect(whole('PING\r\n')).toEqual({ commands: [['PING']] });
    expect(whole('PING\n')).toEqual({ commands: [['PING']] });
    expect(whole('  set   k  v  \r\n\r\n\n')).toEqual({ commands: [['set', 'k', 'v']] });
    expect(whole(`SET "a b" 'c\\'d' "\\x41\\n\\t\\"" ''\r\n`)).toEqual({ commands: [['SET', 'a b', "c'd", 'A\n\t"', '']] });
    expect(whole('ECHO "\\xZZ"\r\n')).toEqual({ commands: [['ECHO', 'xZZ']] });
    expect(whole('a"b c"d\r\n').error).toBe('Protocol error: unbalanced quotes in request');
  });

  it('matches splitArgs on its own', () => {
    const b = Buffer.from('x "y z" w');
    expect(splitArgs(b, 0, b.length)!.map(String)).toEqual(['x', 'y z', 'w']);
    expect(splitArgs(Buffer.from('"open'), 0, 5)).toBeUndefined();
  });

  it('bounds an inline line, whether or not its end has arrived', () => {
    expect(whole('x'.repeat(1025)).error).toBe('Protocol error: too big inline request');
    expect(whole('x'.repeat(1025) + '\r\n').error).toBe('Protocol error: too big inline request');
    expect(whole('x'.repeat(1024) + '\r\n')).toEqual({ commands: [['x'.repeat(1024)]] });
    // 1024 bytes then \r (the start of \r\n) is not over the bound yet.
    expect(parse([Buffer.from('x'.repeat(1024) + '\r'), Buffer.from('\n')])).toEqual({ commands: [['x'.repeat(1024)]] });
  });
});

describe('the reply writer', () => {
  it('encodes RESP2 and RESP3 where they differ', () => {
    const r = new Reply();
    const take = (): string => r.take()!.toString('latin1');
    r.null();
    r.nullArray();
    r.map(1);
    r.set(2);
    r.double(1.5);
    expect(take()).toBe('$-1\r\n*-1\r\n*2\r\n*2\r\n$3\r\n1.5\r\n');
    r.resp = 3;
    r.null();
    r.nullArray();
    r.map(1);
    r.set(2);
    r.double(1.5);
    expect(take()).toBe('_\r\n_\r\n%1\r\n~2\r\n,1.5\r\n');
  });

  it('encodes the common types, and error texts without line breaks', () => {
    const r = new Reply();
    r.simple('OK');
    r.int(0);
    r.int(-7);
    r.int(2n ** 63n - 1n);
    r.bulk(Buffer.from('hi'));
    r.bulk(Buffer.alloc(0));
    r.error('ERR a\r\nb');
    r.array(2);
    expect(r.take()!.toString()).toBe(':0\r\n:-7\r\n:9223372036854775807\r\n$2\r\nhi\r\n$0\r\n\r\n-ERR a  b\r\n*2\r\n'.replace(/^/, '+OK\r\n'));
  });

  it('never writes over bytes it handed out, across slabs', () => {
    const r = new Reply();
    const handed: [Buffer, string][] = [];
    const rng = new Rng(7);
    for (let i = 0; i < 2000; i++) {
      const s = 'v'.repeat(rng.range(0, 3000));
      r.bulk(Buffer.from(s));
      if (rng.bool(0.3)) {
        const b = r.take()!;
        handed.push([b, b.toString('latin1')]);
      }
    }
    for (const [b, s] of handed) expect(b.toString('latin1')).toBe(s);
  });

  it('grows in linear time when nothing is taken (replies written while the socket is full)', () => {
    const r = new Reply();
    const v = Buffer.alloc(255, 0x61);
    const start = Date.now();
    for (let i = 0; i < 100_000; i++) r.bulk(v);
    // 26 MB: quadratic copying would take minutes.
    expect(r.length).toBe(100_000 * (6 + 255 + 2));
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('rolls back a half-written reply', () => {
    const r = new Reply();
    r.simple('A');
    const m = r.mark();
    r.array(3);
    r.int(1);
    r.rollback(m);
    r.error('ERR x');
    expect(r.take()!.toString()).toBe('+A\r\n-ERR x\r\n');
  });
});

// The fuzz.

function randomArg(rng: Rng): Buffer {
  const kind = rng.int(5);
  if (kind === 0) return rng.bytes(rng.range(0, 40)); // binary
  if (kind === 1) return Buffer.from(rng.pick(['GET', 'SET', 'PING', 'mset', 'k', '', '*', '$', '\r\n', '"', "'"]));
  if (kind === 2) return Buffer.alloc(rng.range(0, 5000), 0x61); // maybe over maxBulk
  return Buffer.from(String(rng.range(-5, 100000)));
}

function validFrame(rng: Rng): Buffer {
  if (rng.bool(0.2)) {
    // inline
    const words: string[] = [];
    for (let i = rng.range(0, 5); i > 0; i--) {
      const w = rng.pick(['PING', 'set', 'k', 'v', '"a b"', "'c d'", '"\\x41\\n"', '""', 'x'.repeat(rng.range(1, 30))]);
      words.push(w);
    }
    return Buffer.from(words.join(' '.repeat(rng.range(1, 3))) + (rng.bool() ? '\r\n' : '\n'), 'latin1');
  }
  const n = rng.range(0, 6);
  const parts: Buffer[] = [Buffer.from(`*${n}\r\n`)];
  for (let i = 0; i < n; i++) {
    const a = randomArg(rng);
    parts.push(Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

function mutate(b: Buffer, rng: Rng): Buffer {
  const a = Buffer.from(b);
  const kind = rng.int(5);
  if (a.length === 0) return rng.bytes(rng.range(1, 10));
  const i = rng.int(a.length);
  if (kind === 0) {
    a[i] = rng.int(256);
    return a;
  }
  if (kind === 1) return Buffer.concat([a.subarray(0, i), a.subarray(i + 1)]);
  if (kind === 2) return Buffer.concat([a.subarray(0, i), rng.bytes(rng.range(1, 4)), a.subarray(i)]);
  if (kind === 3) return a.subarray(0, i);
  // a digit of a length turned into a larger number
  return Buffer.from(a.toString('latin1').replace(/([*$])(\d+)/, (_m, t: string) => `${t}${rng.pick(['999999999', '-2', '2147483648', '00', '1x'])}`), 'latin1');
}

describe('fuzz', () => {
  const SEED = Number(process.env.BIRCH_FUZZ_SEED ?? 20260);
  const CASES = process.env.BIRCH_SOAK === '1' ? 20000 : 2500;

  it(`${CASES} inputs (valid, mutated, garbage), each split 3 ways at random (and byte by byte when short): same outcome, only ProtocolError (seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    let errors = 0;
    let commands = 0;
    for (let c = 0; c < CASES; c++) {
      const frames: Buffer[] = [];
      for (let i = rng.range(1, 5); i > 0; i--) frames.push(validFrame(rng));
      let input = Buffer.concat(frames);
      const kind = rng.int(4);
      if (kind === 1) input = mutate(input, rng);
      else if (kind === 2) input = Buffer.concat([input, rng.bytes(rng.range(1, 200))]);
      else if (kind === 3) for (let m = rng.range(1, 4); m > 0; m--) input = mutate(input, rng);
      const ref = whole(input);
      if (ref.error !== undefined) errors++;
      commands += ref.commands.length;
      for (let s = 0; s < 3; s++) {
        const got = parse(randomSplit(input, rng));
        if (JSON.stringify(got) !== JSON.stringify(ref)) {
          throw new Error(`case ${c} (seed ${SEED}): split changed the outcome for ${JSON.stringify(input.toString('latin1').slice(0, 300))}`);
        }
      }
      if (input.length < 300) expect(bytewise(input)).toEqual(ref);
    }
    // The fuzz covered both sides.
    expect(errors).toBeGreaterThan(CASES / 10);
    expect(commands).toBeGreaterThan(CASES);
  });

  it('pure garbage never throws anything but ProtocolError and never hangs', () => {
    const rng = new Rng(SEED + 1);
    for (let c = 0; c < 500; c++) {
      const input = rng.bytes(rng.range(1, 2000));
      const ref = whole(input);
      expect(parse(randomSplit(input, rng))).toEqual(ref);
    }
  });
});

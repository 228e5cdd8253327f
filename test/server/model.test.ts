/**
 * Random command sequences against a plain model (a Map, and which keys
 * have a lifetime), three ways: each command on its own (pipelined in
 * windows: the fast paths, reads waiting for writes), the same inside
 * MULTI/EXEC (everything on a TxView in the gate), and a mix. Every reply
 * must be the model's. This is what keeps the two forms of each write (fast
 * path and run()) in agreement.
 *
 * Lifetimes here are long (1000 s and more) or already past, so which keys
 * exist never depends on timing; TTL's reply is compared as -2, -1 or
 * "positive" ('T').
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, type RawClient, type RespValue } from '../helpers/resp.js';
import { Rng } from '../helpers/rng.js';
import { startServer, type TestServer } from '../helpers/server.js';

const KEYS = Array.from({ length: 12 }, (_, i) => `k${i}`);
const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);
const NOT_INTEGER = { error: 'ERR value is not an integer or out of range' };
const OVERFLOW = { error: 'ERR increment or decrement would overflow' };

/** A 64-bit integer as Redis's string2ll reads it (no sign but '-', no leading zeros, no spaces). */
function int64(s: string): bigint | undefined {
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return undefined;
  const v = BigInt(s);
  return v < I64_MIN || v > I64_MAX ? undefined : v;
}

/** An integer reply as test/helpers/resp.ts decodes it. */
function intReply(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Replies compared as JSON: bigints as text, a positive TTL as 'T'. */
function json(v: RespValue): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
}

/**
 * A positive TTL is 'T'. An increment's refusal is one error here, whichever
 * of Redis's two texts: the store refuses both with one code, and the
 * server tells them apart by the value the key holds when the refusal
 * arrives, which a later write to the key in the same group commit (as in
 * these pipelined windows) may already have replaced. test/server/
 * datamodel.test.ts checks the two texts one command at a time.
 */
function normalize(cmd: string[], r: RespValue): RespValue {
  if (cmd[0] === 'TTL' && typeof r === 'number' && r > 0) return 'T';
  if (/^(INCR|DECR)/.test(cmd[0]!) && json(r) === json(OVERFLOW)) return NOT_INTEGER;
  return r;
}

class Model {
  m = new Map<string, string>();
  /** Keys with a lifetime (all long: none expires during the test). */
  ttl = new Set<string>();

  #set(k: string, v: string, life: 'clear' | 'keep' | 'set'): void {
    const had = this.m.has(k);
    this.m.set(k, v);
    if (life === 'set') this.ttl.add(k);
    else if (life === 'clear' || !had) this.ttl.delete(k);
  }

  #del(k: string): boolean {
    this.ttl.delete(k);
    return this.m.delete(k);
  }

  sortedKeys(): string[] {
    return [...this.m.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  /** Apply a command and return the reply Redis would give. */
  apply(cmd: string[]): RespValue {
    const m = this.m;
    const [name, ...a] = cmd;
    switch (name) {
      case 'SET': {
        const [k, v, ...opts] = a as [string, string, ...string[]];
        const old = m.get(k);
        const nx = opts.includes('NX');
        const xx = opts.includes('XX');
        const get = opts.includes('GET');
        if ((nx && old !== undefined) || (xx && old === undefined)) return get ? (old ?? null) : null;
        if (opts.includes('PXAT')) this.#del(k); // PXAT 1: set, and expired at once
        else this.#set(k, v, opts.includes('EX') ? 'set' : opts.includes('KEEPTTL') ? 'keep' : 'clear');
        return get ? (old ?? null) : '+OK';
      }
      case 'SETEX':
        this.#set(a[0]!, a[2]!, 'set');
        return '+OK';
      case 'SETNX':
        if (m.has(a[0]!)) return 0;
        this.#set(a[0]!, a[1]!, 'clear');
        return 1;
      case 'GETSET': {
        const old = m.get(a[0]!) ?? null;
        this.#set(a[0]!, a[1]!, 'clear');
        return old;
      }
      case 'GETDEL': {
        const old = m.get(a[0]!) ?? null;
        this.#del(a[0]!);
        return old;
      }
      case 'GETEX': {
        const old = m.get(a[0]!) ?? null;
        if (old !== null) {
          if (a[1] === 'PERSIST') this.ttl.delete(a[0]!);
          else if (a[1] === 'EX') this.ttl.add(a[0]!);
        }
        return old;
      }
      case 'DEL': {
        let n = 0;
        for (const k of a) if (this.#del(k)) n++;
        return n;
      }
      case 'MSET':
        for (let i = 0; i < a.length; i += 2) this.#set(a[i]!, a[i + 1]!, 'clear');
        return '+OK';
      case 'MSETNX':
        for (let i = 0; i < a.length; i += 2) if (m.has(a[i]!)) return 0;
        for (let i = 0; i < a.length; i += 2) this.#set(a[i]!, a[i + 1]!, 'clear');
        return 1;
      case 'INCR':
      case 'DECR':
      case 'INCRBY':
      case 'DECRBY': {
        const k = a[0]!;
        let by = 1n;
        if (a.length > 1) {
          const b = int64(a[1]!);
          if (b === undefined) return NOT_INTEGER;
          if (name === 'DECRBY' && b === I64_MIN) return { error: 'ERR decrement would overflow' };
          by = b;
        }
        if (name.startsWith('DECR')) by = -by;
        const cur = m.has(k) ? int64(m.get(k)!) : 0n;
        if (cur === undefined) return NOT_INTEGER;
        const next = cur + by;
        if (next > I64_MAX || next < I64_MIN) return OVERFLOW;
        this.#set(k, next.toString(), 'keep');
        return intReply(next);
      }
      case 'APPEND': {
        const v = (m.get(a[0]!) ?? '') + a[1]!;
        if (v.length > 255) return { error: `ERR appending ${a[1]!.length} byte${a[1]!.length === 1 ? '' : 's'} would make the value longer than birch's limit of 255 bytes` };
        this.#set(a[0]!, v, 'keep');
        return v.length;
      }
      case 'EXPIRE': {
        const [k, secs, cond] = a as [string, string, string | undefined];
        if (!m.has(k)) return 0;
        if ((cond === 'NX' && this.ttl.has(k)) || (cond === 'XX' && !this.ttl.has(k))) return 0;
        if (Number(secs) <= 0) this.#del(k);
        else this.ttl.add(k);
        return 1;
      }
      case 'PERSIST':
        return m.has(a[0]!) && this.ttl.delete(a[0]!) ? 1 : 0;
      case 'TTL':
        return !m.has(a[0]!) ? -2 : this.ttl.has(a[0]!) ? 'T' : -1;
      case 'GET':
        return m.get(a[0]!) ?? null;
      case 'MGET':
        return a.map((k) => m.get(k) ?? null);
      case 'EXISTS':
        return a.filter((k) => m.has(k)).length;
      case 'STRLEN':
        return Buffer.byteLength(m.get(a[0]!) ?? '');
      case 'TYPE':
        return m.has(a[0]!) ? '+string' : '+none';
      case 'DBSIZE':
        return m.size;
      case 'KEYS':
        return this.sortedKeys().filter((k) => k.startsWith(a[0]!.slice(0, -1)));
      case 'BIRCH.RANGE': {
        const lo = a[0]!.slice(1);
        const hi = a[1]!.slice(1);
        return this.sortedKeys()
          .filter((k) => k >= lo && k < hi)
          .flatMap((k) => [k, m.get(k)!]);
      }
      case 'FLUSHDB':
        m.clear();
        this.ttl.clear();
        return '+OK';
      default:
        throw new Error(`model: ${name}`);
    }
  }
}

const NUMBERS = ['0', '-3', '41', String(I64_MAX), String(I64_MIN), '007', '9223372036854775808'];

function randomCommand(rng: Rng): string[] {
  const k = (): string => rng.pick(KEYS);
  const v = (): string =>
    rng.bool(0.25) ? rng.pick(NUMBERS) : rng.pick(['', 'a', 'bb', 'ccc', `v${rng.int(1000)}`, 'x'.repeat(rng.range(0, 255))]);
  // Lifetimes, counters and append: a fifth of the commands.
  if (rng.bool(0.2)) {
    const r = rng.int(12);
    if (r === 0) return ['INCR', k()];
    if (r === 1) return ['DECR', k()];
    if (r === 2) return ['INCRBY', k(), rng.pick(['1', '-7', '100', String(I64_MAX), String(I64_MIN), 'x'])];
    if (r === 3) return ['DECRBY', k(), rng.pick(['1', '-7', '100', String(I64_MAX), String(I64_MIN), '1.5'])];
    if (r === 4) return ['APPEND', k(), rng.pick(['', 'z', '12', 'y'.repeat(rng.range(0, 255))])];
    if (r === 5) return ['EXPIRE', k(), rng.pick(['1000', '2000', '0', '-1'])];
    if (r === 6) return ['EXPIRE', k(), '1000', rng.pick(['NX', 'XX'])];
    if (r === 7) return ['PERSIST', k()];
    if (r === 8) return ['SETEX', k(), '1000', v()];
    if (r === 9) return ['GETEX', k(), ...rng.pick([[], ['PERSIST'], ['EX', '3000']])];
    return ['TTL', k()];
  }
  const roll = rng.int(100);
  if (roll < 25) {
    const opts: string[] = [];
    const c = rng.int(4);
    if (c === 1) opts.push('NX');
    if (c === 2) opts.push('XX');
    if (rng.bool(0.3)) opts.push('GET');
    const life = rng.int(10);
    if (life < 2) opts.push('EX 1000');
    else if (life === 2) opts.push('KEEPTTL');
    else if (life === 3) opts.push('PXAT 1');
    return ['SET', k(), v(), ...rng.shuffle(opts).flatMap((o) => o.split(' '))];
  }
  if (roll < 30) return ['SETNX', k(), v()];
  if (roll < 35) return ['GETSET', k(), v()];
  if (roll < 39) return ['GETDEL', k()];
  if (roll < 47) return ['DEL', ...Array.from({ length: rng.range(1, 3) }, k)];
  if (roll < 54) return ['MSET', ...Array.from({ length: rng.range(1, 3) }, () => [k(), v()]).flat()];
  if (roll < 58) return ['MSETNX', ...Array.from({ length: rng.range(1, 3) }, () => [k(), v()]).flat()];
  if (roll < 72) return ['GET', k()];
  if (roll < 77) return ['MGET', ...Array.from({ length: rng.range(1, 4) }, k)];
  if (roll < 81) return ['EXISTS', ...Array.from({ length: rng.range(1, 3) }, k)];
  if (roll < 84) return ['STRLEN', k()];
  if (roll < 86) return ['TYPE', k()];
  if (roll < 89) return ['DBSIZE'];
  if (roll < 92) return ['KEYS', `k${rng.int(2)}*`];
  if (roll < 99) {
    const [a, b] = [k(), k()].sort();
    return ['BIRCH.RANGE', `[${a}`, `(${b}`];
  }
  return ['FLUSHDB'];
}

let t: TestServer;
let c: RawClient;
beforeAll(async () => {
  t = await startServer();
  c = await t.client();
});
afterAll(async () => {
  await t.stop();
});

async function runWindow(cmds: string[][], model: Model, multi: boolean): Promise<void> {
  const expected: RespValue[] = [];
  const reqs: Buffer[] = [];
  if (multi) {
    reqs.push(encode(['MULTI']));
    expected.push('+OK');
  }
  const results: RespValue[] = [];
  for (const cmd of cmds) {
    reqs.push(encode(cmd));
    const r = normalize(cmd, model.apply(cmd));
    results.push(r);
    expected.push(multi ? '+QUEUED' : r);
  }
  if (multi) {
    reqs.push(encode(['EXEC']));
    expected.push(results);
  }
  c.sendRaw(Buffer.concat(reqs));
  const got: RespValue[] = [];
  for (let i = 0; i < expected.length; i++) got.push(await c.read());
  if (multi && Array.isArray(got[got.length - 1])) {
    const exec = got[got.length - 1] as RespValue[];
    got[got.length - 1] = exec.map((r, j) => normalize(cmds[j]!, r));
  }
  for (let i = 0; i < expected.length; i++) {
    const at = multi ? i - 1 : i;
    const g = multi ? got[i]! : normalize(cmds[i]!, got[i]!);
    if (json(g) !== json(expected[i]!)) {
      throw new Error(
        `reply ${i} of the window (${multi ? 'MULTI' : 'plain'}): ${JSON.stringify(cmds[at] ?? 'EXEC')}\n got ${json(g)}\nwant ${json(expected[i]!)}`,
      );
    }
  }
}

describe('commands against a model', () => {
  const SEED = Number(process.env.BIRCH_MODEL_SEED ?? 1414);
  const STEPS = process.env.BIRCH_SOAK === '1' ? 20000 : 3000;

  for (const mode of ['plain', 'multi', 'mixed'] as const) {
    it(`${STEPS} random commands, ${mode} (seed ${SEED})`, async () => {
      await c.call('FLUSHDB');
      const rng = new Rng(SEED + mode.length);
      const model = new Model();
      let done = 0;
      while (done < STEPS) {
        const n = rng.range(1, 40);
        const cmds = Array.from({ length: n }, () => randomCommand(rng));
        const multi = mode === 'multi' || (mode === 'mixed' && rng.bool());
        await runWindow(cmds, model, multi);
        done += n;
      }
      // The store itself agrees with the model, lifetimes included.
      const pairs = [...t.store.range()].map(([k, v]) => [k.toString(), v.toString()]);
      expect(pairs).toEqual(model.sortedKeys().map((k) => [k, model.m.get(k)]));
      const lives = model.sortedKeys().map((k) => [k, t.store.ttl(k) !== Infinity]);
      expect(lives).toEqual(model.sortedKeys().map((k) => [k, model.ttl.has(k)]));
    }, 120_000);
  }
});

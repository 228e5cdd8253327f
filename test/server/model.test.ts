/**
 * Random command sequences against a plain model (a Map), three ways: each
 * command on its own (pipelined in windows: the fast paths, reads waiting
 * for writes), the same inside MULTI/EXEC (everything on a TxView in the
 * gate), and a mix. Every reply must be the model's. This is what keeps the
 * two forms of each write (fast path and run()) in agreement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, type RawClient, type RespValue } from '../helpers/resp.js';
import { Rng } from '../helpers/rng.js';
import { startServer, type TestServer } from '../helpers/server.js';

const KEYS = Array.from({ length: 12 }, (_, i) => `k${i}`);

class Model {
  m = new Map<string, string>();

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
        m.set(k, v);
        return get ? (old ?? null) : '+OK';
      }
      case 'SETNX':
        if (m.has(a[0]!)) return 0;
        m.set(a[0]!, a[1]!);
        return 1;
      case 'GETSET': {
        const old = m.get(a[0]!) ?? null;
        m.set(a[0]!, a[1]!);
        return old;
      }
      case 'GETDEL': {
        const old = m.get(a[0]!) ?? null;
        m.delete(a[0]!);
        return old;
      }
      case 'DEL': {
        let n = 0;
        for (const k of a) if (m.delete(k)) n++;
        return n;
      }
      case 'MSET':
        for (let i = 0; i < a.length; i += 2) m.set(a[i]!, a[i + 1]!);
        return '+OK';
      case 'MSETNX':
        for (let i = 0; i < a.length; i += 2) if (m.has(a[i]!)) return 0;
        for (let i = 0; i < a.length; i += 2) m.set(a[i]!, a[i + 1]!);
        return 1;
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
        return '+OK';
      default:
        throw new Error(`model: ${name}`);
    }
  }
}

function randomCommand(rng: Rng): string[] {
  const k = (): string => rng.pick(KEYS);
  const v = (): string => rng.pick(['', 'a', 'bb', 'ccc', `v${rng.int(1000)}`, 'x'.repeat(rng.range(0, 255))]);
  const roll = rng.int(100);
  if (roll < 25) {
    const opts: string[] = [];
    const c = rng.int(4);
    if (c === 1) opts.push('NX');
    if (c === 2) opts.push('XX');
    if (rng.bool(0.3)) opts.push('GET');
    return ['SET', k(), v(), ...rng.shuffle(opts)];
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
    const r = model.apply(cmd);
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
  for (let i = 0; i < expected.length; i++) {
    if (JSON.stringify(got[i]) !== JSON.stringify(expected[i])) {
      const at = multi ? i - 1 : i;
      throw new Error(
        `reply ${i} of the window (${multi ? 'MULTI' : 'plain'}): ${JSON.stringify(cmds[at] ?? 'EXEC')}\n got ${JSON.stringify(got[i])}\nwant ${JSON.stringify(expected[i])}`,
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
      // The store itself agrees with the model.
      const pairs = [...t.store.range()].map(([k, v]) => [k.toString(), v.toString()]);
      expect(pairs).toEqual(model.sortedKeys().map((k) => [k, model.m.get(k)]));
    }, 120_000);
  }
});

/**
 * Real Redis clients with their default options against birch serve:
 * ioredis 6 and node-redis 6 both negotiate RESP3 with HELLO 3, send CLIENT
 * SETINFO (node-redis also CLIENT MAINT_NOTIFICATIONS), and ioredis runs its
 * INFO ready check. Then their ordinary commands (lifetimes, counters and
 * append included), pipelines, transactions and scans.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer();
});
afterAll(async () => {
  await t.stop();
});

/** The CLIENT LIST line of the connection named `name`. */
async function clientLine(name: string): Promise<string> {
  const c = await t.client();
  const list = (await c.call('CLIENT', 'LIST')) as string;
  c.close();
  return list.split('\n').find((l) => l.includes(` name=${name} `)) ?? '';
}

describe('ioredis (default options)', () => {
  it('connects with HELLO 3, CLIENT SETINFO and the INFO ready check, and runs ordinary commands', async () => {
    const redis = new Redis({ port: t.port, host: '127.0.0.1', connectionName: 'ioredis-test', maxRetriesPerRequest: 1 });
    const errors: Error[] = [];
    redis.on('error', (e: Error) => errors.push(e));
    try {
      await new Promise<void>((resolve, reject) => {
        redis.once('ready', () => resolve());
        redis.once('end', () => reject(new Error('ioredis gave up connecting')));
      });
      const line = await clientLine('ioredis-test');
      expect(line).toContain(' resp=3 ');
      expect(line).toContain(' lib-name=ioredis ');
      expect(line).toMatch(/ lib-ver=\d/);

      expect(await redis.set('io:a', '1')).toBe('OK');
      expect(await redis.get('io:a')).toBe('1');
      expect(await redis.get('io:missing')).toBe(null);
      expect(await redis.set('io:a', '2', 'NX')).toBe(null);
      expect(await redis.set('io:b', '2', 'XX')).toBe(null);
      expect(await redis.set('io:a', '3', 'GET')).toBe('1');
      expect(await redis.mset({ 'io:c': 'c', 'io:d': 'd' })).toBe('OK');
      expect(await redis.mget('io:a', 'io:c', 'io:x')).toEqual(['3', 'c', null]);
      expect(await redis.msetnx('io:c', 'x', 'io:e', 'e')).toBe(0);
      expect(await redis.setnx('io:e', 'e')).toBe(1);
      expect(await redis.getset('io:e', 'f')).toBe('e');
      expect(await redis.getdel('io:e')).toBe('f');
      expect(await redis.exists('io:a', 'io:e')).toBe(1);
      expect(await redis.strlen('io:a')).toBe(1);
      expect(await redis.type('io:a')).toBe('string');
      expect(await redis.del('io:c', 'io:d')).toBe(2);
      expect(await redis.keys('io:*')).toEqual(['io:a']);
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.echo('hi')).toBe('hi');
      expect(typeof (await redis.dbsize())).toBe('number');
      expect(await redis.info('server')).toContain('redis_version:7.2.0');
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);

      // Lifetimes, counters, append.
      expect(await redis.set('io:t', 'v', 'EX', 100)).toBe('OK');
      expect(await redis.ttl('io:t')).toBe(100);
      expect(await redis.pttl('io:t')).toBeGreaterThan(90_000);
      expect(await redis.set('io:t', 'w', 'KEEPTTL')).toBe('OK');
      expect(await redis.ttl('io:t')).toBe(100);
      expect(await redis.persist('io:t')).toBe(1);
      expect(await redis.ttl('io:t')).toBe(-1);
      expect(await redis.expire('io:t', 200)).toBe(1);
      expect(await redis.expire('io:t', 100, 'GT')).toBe(0);
      expect(await redis.pexpire('io:t', 300_000, 'GT')).toBe(1);
      expect(await redis.ttl('io:t')).toBe(300);
      expect(await redis.ttl('io:missing')).toBe(-2);
      expect(await redis.setex('io:n', 100, '5')).toBe('OK');
      expect(await redis.incr('io:n')).toBe(6);
      expect(await redis.incrby('io:n', 10)).toBe(16);
      expect(await redis.decr('io:n')).toBe(15);
      expect(await redis.decrby('io:n', 20)).toBe(-5);
      expect(await redis.ttl('io:n')).toBe(100);
      await expect(redis.incr('io:t')).rejects.toThrow('ERR value is not an integer or out of range');
      expect(await redis.append('io:t', '!')).toBe(2);
      expect(await redis.get('io:t')).toBe('w!');
      expect(await redis.psetex('io:short', 100, 'x')).toBe('OK');
      expect(await redis.getex('io:t', 'PX', 400_000)).toBe('w!');
      expect(await redis.ttl('io:t')).toBe(400);
      for (let i = 0; i < 250 && (await redis.exists('io:short')) === 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await redis.get('io:short')).toBe(null);
      expect(await redis.del('io:t', 'io:n')).toBe(2);

      // Binary values round-trip.
      const bin = Buffer.from([0, 1, 2, 255, 13, 10]);
      await redis.set(Buffer.from('io:bin'), bin);
      expect((await redis.getBuffer('io:bin'))!.equals(bin)).toBe(true);

      // A pipeline of many commands shares commits and keeps order.
      const p = redis.pipeline();
      for (let i = 0; i < 500; i++) p.set(`io:p${i}`, String(i));
      p.get('io:p499');
      const res = (await p.exec())!;
      expect(res).toHaveLength(501);
      expect(res[500]).toEqual([null, '499']);

      // MULTI/EXEC.
      const m = await redis.multi().set('io:m1', 'a').get('io:m1').incrby('io:m1', 1).exec();
      expect(m![0]).toEqual([null, 'OK']);
      expect(m![1]).toEqual([null, 'a']);
      expect((m![2]![0] as Error).message).toMatch(/ERR /);

      // scanStream follows SCAN's cursors to the end.
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const s = redis.scanStream({ match: 'io:p*', count: 37 });
        s.on('data', (keys: string[]) => seen.push(...keys));
        s.on('end', () => resolve());
        s.on('error', reject);
      });
      expect(seen.sort()).toEqual(Array.from({ length: 500 }, (_, i) => `io:p${i}`).sort());

      // birch's own range command, through call().
      expect(await redis.call('BIRCH.RANGE', '[io:p1', '(io:p2', 'LIMIT', '0', '2', 'NOVALUES')).toEqual(['io:p1', 'io:p10']);

      // A key over 255 bytes: a normal error reply.
      await expect(redis.set('k'.repeat(256), 'v')).rejects.toThrow(/over birch's limit of 255 bytes/);
      expect(errors).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('authenticates through HELLO 3 AUTH against --requirepass', async () => {
    const s = await startServer({ requirepass: 'pw' });
    const good = new Redis({ port: s.port, host: '127.0.0.1', password: 'pw', maxRetriesPerRequest: 1 });
    const bad = new Redis({ port: s.port, host: '127.0.0.1', password: 'nope', maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    const badErrors: string[] = [];
    bad.on('error', (e: Error) => badErrors.push(e.message));
    try {
      expect(await good.set('a', '1')).toBe('OK');
      expect(await good.get('a')).toBe('1');
      await expect(bad.connect()).rejects.toThrow();
      expect(badErrors.some((m) => m.includes('WRONGPASS'))).toBe(true);
    } finally {
      good.disconnect();
      bad.disconnect();
      await s.stop();
    }
  });

  it('speaks RESP2 when asked', async () => {
    const redis = new Redis({ port: t.port, host: '127.0.0.1', protocol: 2, connectionName: 'ioredis-resp2' });
    try {
      expect(await redis.set('io2:a', 'x')).toBe('OK');
      expect(await redis.get('io2:a')).toBe('x');
      expect(await clientLine('ioredis-resp2')).toContain(' resp=2 ');
    } finally {
      redis.disconnect();
    }
  });
});

describe('node-redis (default options)', () => {
  it('connects with HELLO 3, CLIENT SETINFO and MAINT_NOTIFICATIONS, and runs ordinary commands', async () => {
    const client = createClient({ url: `redis://127.0.0.1:${t.port}`, name: 'node-redis-test' });
    const errors: Error[] = [];
    client.on('error', (e: Error) => errors.push(e));
    await client.connect();
    try {
      const line = await clientLine('node-redis-test');
      expect(line).toContain(' resp=3 ');
      expect(line).toContain(' lib-name=node-redis ');

      expect(await client.set('nr:a', '1')).toBe('OK');
      expect(await client.get('nr:a')).toBe('1');
      expect(await client.get('nr:missing')).toBe(null);
      expect(await client.set('nr:a', '2', { condition: 'NX' })).toBe(null);
      expect(await client.set('nr:a', '2', { GET: true })).toBe('1');
      expect(await client.mSet({ 'nr:b': 'b', 'nr:c': 'c' })).toBe('OK');
      expect(await client.mGet(['nr:a', 'nr:b', 'nr:x'])).toEqual(['2', 'b', null]);
      expect(await client.mSetNX({ 'nr:b': 'x', 'nr:d': 'd' })).toBe(0);
      expect(await client.setNX('nr:d', 'd')).toBe(1);
      expect(await client.getDel('nr:d')).toBe('d');
      expect(await client.exists(['nr:a', 'nr:d'])).toBe(1);
      expect(await client.strLen('nr:a')).toBe(1);
      expect(await client.type('nr:a')).toBe('string');
      expect(await client.del(['nr:b', 'nr:c'])).toBe(2);
      expect(await client.keys('nr:*')).toEqual(['nr:a']);
      expect(await client.ping()).toBe('PONG');
      expect(await client.dbSize()).toBeGreaterThan(0);
      expect(await client.info('persistence')).toContain('loading:0');

      // Lifetimes, counters, append.
      expect(await client.set('nr:t', 'v', { expiration: { type: 'EX', value: 100 } })).toBe('OK');
      expect(await client.ttl('nr:t')).toBe(100);
      expect(await client.set('nr:t', 'w', { expiration: 'KEEPTTL' })).toBe('OK');
      expect(await client.pTTL('nr:t')).toBeGreaterThan(90_000);
      expect(await client.expire('nr:t', 50, 'LT')).toBe(1);
      expect(await client.ttl('nr:t')).toBe(50);
      expect(await client.persist('nr:t')).toBe(1);
      expect(await client.ttl('nr:t')).toBe(-1);
      expect(await client.incr('nr:n')).toBe(1);
      expect(await client.incrBy('nr:n', 41)).toBe(42);
      expect(await client.decrBy('nr:n', 2)).toBe(40);
      await expect(client.incr('nr:t')).rejects.toThrow('ERR value is not an integer or out of range');
      expect(await client.append('nr:n', '0')).toBe(3);
      expect(await client.get('nr:n')).toBe('400');
      expect(await client.setEx('nr:e', 100, 'x')).toBe('OK');
      expect(await client.getDel('nr:e')).toBe('x');
      expect(await client.del(['nr:t', 'nr:n'])).toBe(2);
      expect(await client.sendCommand(['BIRCH.RANGE', '[nr:', '(nr;', 'NOVALUES'])).toEqual(['nr:a']);

      // Pipelined (auto-pipelining of concurrent commands) and MULTI.
      await Promise.all(Array.from({ length: 300 }, (_, i) => client.set(`nr:p${i}`, String(i))));
      const r = await client.multi().set('nr:m', 'a').get('nr:m').exec();
      expect(r).toEqual(['OK', 'a']);

      // scanIterator follows the cursors.
      const seen: string[] = [];
      for await (const keys of client.scanIterator({ MATCH: 'nr:p*', COUNT: 41 })) seen.push(...keys);
      expect(seen.sort()).toEqual(Array.from({ length: 300 }, (_, i) => `nr:p${i}`).sort());

      // WATCH: a change from another connection aborts the transaction.
      const other = client.duplicate();
      await other.connect();
      await client.watch('nr:w');
      await other.set('nr:w', 'theirs');
      await expect(client.multi().set('nr:w', 'mine').exec()).rejects.toThrow(/WATCH|watch/);
      expect(await client.get('nr:w')).toBe('theirs');
      other.destroy();
      expect(errors).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('RESP2, and a password', async () => {
    const s = await startServer({ requirepass: 'pw' });
    const client = createClient({ url: `redis://:pw@127.0.0.1:${s.port}`, RESP: 2 });
    client.on('error', () => {});
    const wrong = createClient({ url: `redis://:nope@127.0.0.1:${s.port}`, socket: { reconnectStrategy: false } });
    wrong.on('error', () => {});
    try {
      await client.connect();
      expect(await client.set('a', '1')).toBe('OK');
      expect(await client.get('a')).toBe('1');
      await expect(wrong.connect()).rejects.toThrow(/WRONGPASS/);
    } finally {
      client.destroy();
      await s.stop();
    }
  });
});

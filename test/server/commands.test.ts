/**
 * Every command birch serves, over a real socket, with the exact replies
 * and error texts Redis gives (clients parse them), in RESP2 and RESP3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BirchError } from '../../src/index.js';
import { serve } from '../../src/server/index.js';
import type { RawClient, RespValue } from '../helpers/resp.js';
import { startServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer();
});
afterAll(async () => {
  await t.stop();
});

const err = (e: string): { error: string } => ({ error: e });

/** Fresh keys per test. */
let n = 0;
const ns = (): string => `t${++n}:`;

describe('connection', () => {
  it('PING, ECHO', async () => {
    const c = await t.client();
    expect(await c.call('PING')).toBe('+PONG');
    expect(await c.call('ping', 'hi')).toBe('hi');
    expect(await c.call('PING', 'a', 'b')).toEqual(err("ERR wrong number of arguments for 'ping' command"));
    expect(await c.call('ECHO', 'x\r\ny')).toBe('x\r\ny');
    expect(await c.call('ECHO')).toEqual(err("ERR wrong number of arguments for 'echo' command"));
  });

  it("unknown commands and subcommands, in Redis's words", async () => {
    const c = await t.client();
    expect(await c.call('NOPE', 'a', 'b')).toEqual(err("ERR unknown command 'NOPE', with args beginning with: 'a' 'b' "));
    expect(await c.call('nope')).toEqual(err("ERR unknown command 'nope', with args beginning with: "));
    expect(await c.call('LPUSH', 'k', 'v')).toEqual(err("ERR unknown command 'LPUSH', with args beginning with: 'k' 'v' "));
    expect(await c.call('CLIENT', 'FOO')).toEqual(err("ERR unknown subcommand 'FOO'. Try CLIENT HELP."));
    // node-redis sends this on connect with RESP3 and ignores the error, as Redis 7 gives it.
    expect(await c.call('CLIENT', 'MAINT_NOTIFICATIONS', 'ON', 'moving-endpoint-type', 'internal-ip')).toEqual(
      err("ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP."),
    );
    expect(await c.call('CLIENT')).toEqual(err("ERR wrong number of arguments for 'client' command"));
    expect(await c.call('CLIENT', 'SETNAME')).toEqual(err("ERR wrong number of arguments for 'client|setname' command"));
    expect(await c.call('CONFIG', 'SET', 'save', '')).toEqual(err("ERR unknown subcommand 'SET'. Try CONFIG HELP."));
    // A long name is cut at 128 bytes, as Redis does.
    const long = 'x'.repeat(300);
    expect(await c.call(long)).toEqual(err(`ERR unknown command '${'x'.repeat(128)}', with args beginning with: `));
  });

  it('HELLO: RESP3 and back, with SETNAME; NOPROTO for other versions', async () => {
    const c = await t.client();
    expect(await c.callRaw('GET', 'missing')).toBe('$-1\r\n');
    const raw = await c.callRaw('HELLO', '3', 'SETNAME', 'me');
    expect(raw.startsWith('%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.0\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:')).toBe(true);
    expect(await c.callRaw('GET', 'missing')).toBe('_\r\n');
    expect(await c.call('CLIENT', 'GETNAME')).toBe('me');
    const hello = (await c.call('HELLO')) as { map: [RespValue, RespValue][] };
    expect(new Map(hello.map).get('proto')).toBe(3);
    expect(await c.call('HELLO', '4')).toEqual(err('NOPROTO unsupported protocol version'));
    expect(await c.call('HELLO', 'x')).toEqual(err('ERR Protocol version is not an integer or out of range'));
    expect(await c.call('HELLO', '3', 'FOO')).toEqual(err("ERR Syntax error in HELLO option 'FOO'"));
    const two = await c.call('HELLO', '2');
    expect(Array.isArray(two) && two.length === 14).toBe(true);
    expect(await c.callRaw('GET', 'missing')).toBe('$-1\r\n');
  });

  it('SELECT 0 only', async () => {
    const c = await t.client();
    expect(await c.call('SELECT', '0')).toBe('+OK');
    expect(await c.call('SELECT', '1')).toEqual(err('ERR DB index is out of range'));
    expect(await c.call('SELECT', 'x')).toEqual(err('ERR value is not an integer or out of range'));
  });

  it('CLIENT ID, SETNAME, GETNAME, SETINFO, INFO, LIST, NO-EVICT, HELP', async () => {
    const c = await t.client();
    const id = await c.call('CLIENT', 'ID');
    expect(typeof id).toBe('number');
    expect(await c.call('CLIENT', 'GETNAME')).toBe(null);
    expect(await c.call('CLIENT', 'SETNAME', 'worker-1')).toBe('+OK');
    expect(await c.call('CLIENT', 'GETNAME')).toBe('worker-1');
    expect(await c.call('CLIENT', 'SETNAME', 'a b')).toEqual(err('ERR Client names cannot contain spaces, newlines or special characters.'));
    expect(await c.call('CLIENT', 'SETINFO', 'LIB-NAME', 'mylib')).toBe('+OK');
    expect(await c.call('CLIENT', 'SETINFO', 'lib-ver', '1.2.3')).toBe('+OK');
    expect(await c.call('CLIENT', 'SETINFO', 'foo', 'x')).toEqual(err("ERR Unrecognized option 'foo'"));
    const info = (await c.call('CLIENT', 'INFO')) as string;
    expect(info).toMatch(new RegExp(`^id=${id} addr=127\\.0\\.0\\.1:\\d+ .*name=worker-1 .*resp=2 lib-name=mylib lib-ver=1\\.2\\.3\\n$`));
    const list = (await c.call('CLIENT', 'LIST')) as string;
    expect(list).toContain(`id=${id} `);
    expect(await c.call('CLIENT', 'LIST', 'ID', String(id))).toMatch(new RegExp(`^id=${id} `));
    expect(await c.call('CLIENT', 'NO-EVICT', 'on')).toBe('+OK');
    expect(await c.call('CLIENT', 'NO-TOUCH', 'maybe')).toEqual(err('ERR syntax error'));
    expect((await c.call('CLIENT', 'HELP')) as string[]).toContain('+SETNAME <name>');
  });

  it('QUIT answers OK and closes; what follows it is not run', async () => {
    const c = await t.client();
    const k = ns();
    c.sendRaw(Buffer.concat([Buffer.from(`*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$1\r\nv\r\n`)]));
    expect(await c.read()).toBe('+OK');
    await c.closed;
    expect(t.store.get(k)).toBeUndefined();
  });

  it('RESET leaves MULTI, forgets the name, goes back to RESP2', async () => {
    const c = await t.client();
    await c.call('HELLO', '3', 'SETNAME', 'x');
    await c.call('MULTI');
    expect(await c.call('RESET')).toBe('+RESET');
    expect(await c.call('CLIENT', 'GETNAME')).toBe(null);
    expect(await c.callRaw('GET', 'missing')).toBe('$-1\r\n');
    expect(await c.call('EXEC')).toEqual(err('ERR EXEC without MULTI'));
  });
});

describe('server', () => {
  it('INFO says redis_version 7.2.0 and loading:0; sections can be asked for', async () => {
    const c = await t.client();
    const info = (await c.call('INFO')) as string;
    expect(info).toMatch(/^# Server\r\nredis_version:7\.2\.0\r\n/);
    expect(info).toContain('\r\nloading:0\r\n');
    expect(info).toContain('\r\nrole:master\r\n');
    const p = (await c.call('INFO', 'persistence')) as string;
    expect(p.startsWith('# Persistence\r\n')).toBe(true);
    expect(p).not.toContain('redis_version');
    expect(await c.call('INFO', 'server', 'clients')).toMatch(/connected_clients:\d+/);
  });

  it('CONFIG GET save and appendonly (redis-benchmark asks), globs, a map in RESP3', async () => {
    const c = await t.client();
    expect(await c.call('CONFIG', 'GET', 'save')).toEqual(['save', '']);
    expect(await c.call('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await c.call('CONFIG', 'GET', 'append*')).toEqual(['appendonly', 'yes', 'appendfsync', 'always']);
    expect(await c.call('CONFIG', 'GET', 'nothing')).toEqual([]);
    await c.call('HELLO', '3');
    expect(await c.call('CONFIG', 'GET', 'databases')).toEqual({ map: [['databases', '1']] });
  });

  it('COMMAND, COMMAND COUNT, INFO, DOCS, LIST', async () => {
    const c = await t.client();
    const count = (await c.call('COMMAND', 'COUNT')) as number;
    expect(count).toBe(t.server.table.size);
    const all = (await c.call('COMMAND')) as RespValue[][];
    expect(all).toHaveLength(count);
    expect(await c.call('COMMAND', 'INFO', 'get', 'nosuch')).toEqual([
      ['get', 2, ['+readonly', '+fast'], 1, 1, 1, ['+@read', '+@string', '+@fast'], [], [], []],
      null,
    ]);
    const docs = (await c.call('COMMAND', 'DOCS', 'set')) as RespValue[];
    expect(docs[0]).toBe('set');
    const setDocs = new Map<RespValue, RespValue>();
    const flat = docs[1] as RespValue[];
    for (let i = 0; i < flat.length; i += 2) setDocs.set(flat[i]!, flat[i + 1]!);
    expect(setDocs.get('group')).toBe('string');
    expect(setDocs.get('since')).toBe('1.0.0');
    expect(Array.isArray(setDocs.get('arguments'))).toBe(true);
    const client = (await c.call('COMMAND', 'DOCS', 'client')) as RespValue[];
    expect(JSON.stringify(client)).toContain('client|setname');
    expect(await c.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'birch.*')).toEqual(['birch.range']);
  });

  it('TIME, DBSIZE, FLUSHDB, FLUSHALL', async () => {
    const c = await t.client();
    const [s, us] = (await c.call('TIME')) as string[];
    expect(Math.abs(Number(s) - Date.now() / 1000)).toBeLessThan(5);
    expect(Number(us)).toBeLessThan(1e6);
    await c.call('MSET', 'f1', 'a', 'f2', 'b');
    expect(await c.call('DBSIZE')).toBe(t.store.stats().keys);
    expect(await c.call('FLUSHDB', 'NOW')).toEqual(err('ERR syntax error'));
    expect(await c.call('FLUSHDB')).toBe('+OK');
    expect(await c.call('DBSIZE')).toBe(0);
    await c.call('SET', 'f3', 'c');
    expect(await c.call('FLUSHALL', 'ASYNC')).toBe('+OK');
    expect(await c.call('DBSIZE')).toBe(0);
    expect(t.store.stats().keys).toBe(0);
  });
});

describe('strings', () => {
  it('GET, SET, SETNX, GETSET, GETDEL, STRLEN, TYPE, EXISTS, DEL', async () => {
    const c = await t.client();
    const k = ns();
    expect(await c.call('GET', k + 'a')).toBe(null);
    expect(await c.call('SET', k + 'a', '1')).toBe('+OK');
    expect(await c.call('GET', k + 'a')).toBe('1');
    expect(await c.call('SETNX', k + 'a', '2')).toBe(0);
    expect(await c.call('SETNX', k + 'b', '2')).toBe(1);
    expect(await c.call('GETSET', k + 'a', '3')).toBe('1');
    expect(await c.call('GETSET', k + 'c', '9')).toBe(null);
    expect(await c.call('STRLEN', k + 'a')).toBe(1);
    expect(await c.call('STRLEN', k + 'zz')).toBe(0);
    expect(await c.call('TYPE', k + 'a')).toBe('+string');
    expect(await c.call('TYPE', k + 'zz')).toBe('+none');
    expect(await c.call('EXISTS', k + 'a', k + 'b', k + 'zz', k + 'a')).toBe(3);
    expect(await c.call('GETDEL', k + 'c')).toBe('9');
    expect(await c.call('GETDEL', k + 'c')).toBe(null);
    expect(await c.call('DEL', k + 'a', k + 'b', k + 'zz')).toBe(2);
    expect(await c.call('UNLINK', k + 'a')).toBe(0);
    expect(await c.call('TOUCH', k + 'a', k + 'b')).toBe(0);
  });

  it('SET NX, XX, GET and their combinations', async () => {
    const c = await t.client();
    const k = ns() + 'k';
    expect(await c.call('SET', k, 'a', 'XX')).toBe(null);
    expect(await c.call('SET', k, 'a', 'NX')).toBe('+OK');
    expect(await c.call('SET', k, 'b', 'NX')).toBe(null);
    expect(await c.call('SET', k, 'b', 'XX')).toBe('+OK');
    expect(await c.call('SET', k, 'c', 'GET')).toBe('b');
    expect(await c.call('SET', k, 'd', 'NX', 'GET')).toBe('c');
    expect(await c.call('GET', k)).toBe('c');
    expect(await c.call('SET', k + 'new', 'e', 'XX', 'GET')).toBe(null);
    expect(await c.call('GET', k + 'new')).toBe(null);
    expect(await c.call('SET', k + 'new', 'e', 'NX', 'GET')).toBe(null);
    expect(await c.call('GET', k + 'new')).toBe('e');
    expect(await c.call('SET', k, 'x', 'NX', 'XX')).toEqual(err('ERR syntax error'));
    expect(await c.call('SET', k, 'x', 'FOO')).toEqual(err('ERR syntax error'));
    expect(await c.call('SET', k, 'x', 'EX')).toEqual(err('ERR syntax error'));
    expect(await c.call('SET', k, 'x', 'EX', '10', 'PX', '10')).toEqual(err('ERR syntax error'));
    expect(await c.call('SET', k, 'x', 'EX', 'ten')).toEqual(err('ERR value is not an integer or out of range'));
    expect(await c.call('SET', k, 'x', 'EX', '0')).toEqual(err("ERR invalid expire time in 'set' command"));
    expect(await c.call('SET', k, 'x', 'EX', '9223372036854775')).toEqual(err("ERR invalid expire time in 'set' command"));
    expect(await c.call('GET', k)).toBe('c');
  });

  it('MGET, MSET (atomic), MSETNX', async () => {
    const c = await t.client();
    const k = ns();
    expect(await c.call('MSET', k + 'a', '1', k + 'b', '2')).toBe('+OK');
    expect(await c.call('MGET', k + 'a', k + 'x', k + 'b')).toEqual(['1', null, '2']);
    expect(await c.call('MSET', k + 'a', '1', k + 'b')).toEqual(err("ERR wrong number of arguments for 'mset' command"));
    expect(await c.call('MSETNX', k + 'a', '9', k + 'c', '9')).toBe(0);
    expect(await c.call('MGET', k + 'a', k + 'c')).toEqual(['1', null]);
    expect(await c.call('MSETNX', k + 'c', '3', k + 'd', '4')).toBe(1);
    expect(await c.call('MGET', k + 'c', k + 'd')).toEqual(['3', '4']);
    expect(await c.call('MSETNX', k + 'e')).toEqual(err("ERR wrong number of arguments for 'msetnx' command"));
  });

  it('GETRANGE and SUBSTR', async () => {
    const c = await t.client();
    const k = ns() + 'k';
    await c.call('SET', k, 'This is a string');
    expect(await c.call('GETRANGE', k, '0', '3')).toBe('This');
    expect(await c.call('GETRANGE', k, '-3', '-1')).toBe('ing');
    expect(await c.call('GETRANGE', k, '0', '-1')).toBe('This is a string');
    expect(await c.call('GETRANGE', k, '10', '100')).toBe('string');
    expect(await c.call('SUBSTR', k, '5', '6')).toBe('is');
    expect(await c.call('GETRANGE', k, '-1', '-5')).toBe('');
    expect(await c.call('GETRANGE', k + 'x', '0', '1')).toBe('');
    expect(await c.call('GETRANGE', k, 'a', '1')).toEqual(err('ERR value is not an integer or out of range'));
  });

  it('keys and values over 255 bytes get an error naming the limit, and nothing is written', async () => {
    const c = await t.client();
    const k = ns();
    const big = 'v'.repeat(256);
    expect(await c.call('SET', k, big)).toEqual(err("ERR value is 256 bytes, over birch's limit of 255 bytes"));
    expect(await c.call('SET', big, 'v')).toEqual(err("ERR key is 256 bytes, over birch's limit of 255 bytes"));
    expect(await c.call('GET', big)).toEqual(err("ERR key is 256 bytes, over birch's limit of 255 bytes"));
    expect(await c.call('MSET', k + 'a', '1', k + 'b', big)).toEqual(err("ERR value is 256 bytes, over birch's limit of 255 bytes"));
    expect(await c.call('MGET', k + 'a')).toEqual([null]);
    expect(await c.call('SET', k, 'v'.repeat(255))).toBe('+OK');
    expect(await c.call('SET', 'k'.repeat(255), 'v')).toBe('+OK');
    expect(await c.call('DEL', 'k'.repeat(255))).toBe(1);
  });
});

describe('keyspace', () => {
  async function load(c: RawClient, prefix: string, n: number): Promise<string[]> {
    const keys: string[] = [];
    const args: string[] = ['MSET'];
    for (let i = 0; i < n; i++) {
      const k = `${prefix}${String(i).padStart(4, '0')}`;
      keys.push(k);
      args.push(k, `v${i}`);
    }
    await c.call(...args);
    return keys;
  }

  it('KEYS with patterns (the literal prefix narrows the read)', async () => {
    const c = await t.client();
    const p = ns();
    const keys = await load(c, p, 30);
    expect(await c.call('KEYS', `${p}*`)).toEqual(keys);
    expect(await c.call('KEYS', `${p}001?`)).toEqual(keys.slice(10, 20));
    expect(await c.call('KEYS', `${p}00[12]5`)).toEqual([keys[15], keys[25]]);
    expect(await c.call('KEYS', `*${p.slice(1)}0029`)).toEqual([keys[29]]);
    expect(await c.call('KEYS', `${p}[^0]*`)).toEqual([]);
  });

  it('SCAN walks every key once in key order, with MATCH and COUNT; writes between calls do not disturb it', async () => {
    const c = await t.client();
    const p = ns();
    const keys = await load(c, p, 100);
    const seen: string[] = [];
    let cursor = '0';
    let calls = 0;
    do {
      const [next, batch] = (await c.call('SCAN', cursor, 'MATCH', `${p}*`, 'COUNT', '7')) as [string, string[]];
      expect(next).toMatch(/^\d+$/);
      seen.push(...batch);
      cursor = next;
      // Concurrent writes: delete a key already returned, add keys before and after the cursor.
      if (calls === 3) {
        await c.call('DEL', keys[0]!);
        await c.call('SET', `${p}0000a`, 'x'); // before the cursor: may or may not be seen
      }
      calls++;
    } while (cursor !== '0');
    expect(seen.filter((k) => k !== `${p}0000a`)).toEqual(keys);
    expect(calls).toBeGreaterThan(14);
    expect(await c.call('SCAN', '12345', 'COUNT', '5')).toEqual(err('ERR invalid cursor'));
    expect(await c.call('SCAN', 'abc')).toEqual(err('ERR invalid cursor'));
    expect(await c.call('SCAN', '0', 'COUNT', '0')).toEqual(err('ERR syntax error'));
    expect(await c.call('SCAN', '0', 'COUNT', 'x')).toEqual(err('ERR value is not an integer or out of range'));
    expect(await c.call('SCAN', '0', 'TYPE', 'nosuch')).toEqual(err("ERR unknown type name 'nosuch'"));
    expect(await c.call('SCAN', '0', 'MATCH', `${p}*`, 'TYPE', 'hash', 'COUNT', '1000')).toEqual(['0', []]);
  });

  it('BIRCH.RANGE: ZRANGEBYLEX bounds, REV, LIMIT, NOVALUES', async () => {
    const c = await t.client();
    const p = ns();
    await c.call('MSET', `${p}a`, '1', `${p}b`, '2', `${p}c`, '3', `${p}d`, '4');
    expect(await c.call('BIRCH.RANGE', `[${p}b`, `[${p}c`)).toEqual([`${p}b`, '2', `${p}c`, '3']);
    expect(await c.call('BIRCH.RANGE', `(${p}a`, `(${p}d`, 'NOVALUES')).toEqual([`${p}b`, `${p}c`]);
    expect(await c.call('BIRCH.RANGE', `[${p}d`, `[${p}a`, 'REV', 'LIMIT', '1', '2', 'NOVALUES')).toEqual([`${p}c`, `${p}b`]);
    expect(await c.call('BIRCH.RANGE', `[${p}`, `(${p}~`, 'LIMIT', '0', '1')).toEqual([`${p}a`, '1']);
    const all = (await c.call('BIRCH.RANGE', '-', '+', 'NOVALUES')) as string[];
    expect(all).toEqual([...all].sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'))));
    expect(all).toContain(`${p}d`);
    expect(await c.call('BIRCH.RANGE', 'a', '+')).toEqual(err('ERR min or max not valid string range item'));
    expect(await c.call('BIRCH.RANGE', '-', '+', 'LIMIT', '0')).toEqual(err('ERR syntax error'));
  });
});

describe('transactions', () => {
  it('MULTI/EXEC applies the queue atomically and replies with every result', async () => {
    const c = await t.client();
    const k = ns();
    expect(await c.call('MULTI')).toBe('+OK');
    expect(await c.call('SET', k + 'a', '1')).toBe('+QUEUED');
    expect(await c.call('GET', k + 'a')).toBe('+QUEUED');
    expect(await c.call('SET', k + 'b', 'v'.repeat(300))).toBe('+QUEUED');
    expect(await c.call('MSETNX', k + 'a', 'x', k + 'c', 'y')).toBe('+QUEUED');
    expect(await c.call('DEL', k + 'a', k + 'zz')).toBe('+QUEUED');
    expect(await c.call('DBSIZE')).toBe('+QUEUED');
    const before = t.store.stats().keys;
    expect(await c.call('EXEC')).toEqual([
      '+OK',
      '1',
      err("ERR value is 256 bytes, over birch's limit of 255 bytes".replace('256', '300')),
      0,
      1,
      before,
    ]);
    expect(await c.call('MGET', k + 'a', k + 'b', k + 'c')).toEqual([null, null, null]);
  });

  it('errors while queueing abort EXEC (EXECABORT); runtime errors do not', async () => {
    const c = await t.client();
    expect(await c.call('MULTI')).toBe('+OK');
    expect(await c.call('MULTI')).toEqual(err('ERR MULTI calls can not be nested'));
    expect(await c.call('NOPE')).toEqual(err("ERR unknown command 'NOPE', with args beginning with: "));
    expect(await c.call('SET', 'x')).toEqual(err("ERR wrong number of arguments for 'set' command"));
    expect(await c.call('HELLO', '3')).toEqual(err('ERR Command not allowed inside a transaction'));
    expect(await c.call('SET', 'x', '1')).toBe('+QUEUED');
    expect(await c.call('EXEC')).toEqual(err('EXECABORT Transaction discarded because of previous errors.'));
    expect(await c.call('GET', 'x')).toBe(null);
    expect(await c.call('EXEC')).toEqual(err('ERR EXEC without MULTI'));
    expect(await c.call('DISCARD')).toEqual(err('ERR DISCARD without MULTI'));
    await c.call('MULTI');
    await c.call('SET', 'x', '1');
    expect(await c.call('DISCARD')).toBe('+OK');
    expect(await c.call('GET', 'x')).toBe(null);
  });

  it('WATCH: a change by another client makes EXEC return null (RESP2 *-1, RESP3 _)', async () => {
    const a = await t.client();
    const b = await t.client();
    const k = ns() + 'w';
    await a.call('SET', k, '1');
    expect(await a.call('WATCH', k)).toBe('+OK');
    await b.call('SET', k, '2');
    await a.call('MULTI');
    await a.call('SET', k, '3');
    expect(await a.callRaw('EXEC')).toBe('*-1\r\n');
    expect(await a.call('GET', k)).toBe('2');
    // Unchanged: EXEC runs. And a change by a's own earlier write counts too.
    await a.call('HELLO', '3');
    await a.call('WATCH', k);
    await a.call('MULTI');
    await a.call('SET', k, '4');
    expect(await a.call('EXEC')).toEqual(['+OK']);
    await a.call('WATCH', k);
    await a.call('SET', k, '5');
    await a.call('MULTI');
    await a.call('SET', k, '6');
    expect(await a.callRaw('EXEC')).toBe('_\r\n');
    expect(await a.call('GET', k)).toBe('5');
    // The same value written again still counts as a change (as Redis).
    await a.call('WATCH', k);
    await b.call('SET', k, '5');
    await a.call('MULTI');
    await a.call('SET', k, '7');
    expect(await a.call('EXEC')).toBe(null);
    // UNWATCH, and WATCH inside MULTI.
    await a.call('WATCH', k);
    await b.call('SET', k, '8');
    expect(await a.call('UNWATCH')).toBe('+OK');
    await a.call('MULTI');
    expect(await a.call('WATCH', k)).toEqual(err('ERR WATCH inside MULTI is not allowed'));
    await a.call('SET', k, '9');
    expect(await a.call('EXEC')).toEqual(['+OK']);
  });
});

describe('authentication and binding', () => {
  it('requirepass: NOAUTH until AUTH, constant answers, HELLO AUTH', async () => {
    const s = await startServer({ requirepass: 's3cret' });
    try {
      const c = await s.client();
      expect(await c.call('GET', 'k')).toEqual(err('NOAUTH Authentication required.'));
      expect(await c.call('NOPE')).toEqual(err("ERR unknown command 'NOPE', with args beginning with: "));
      expect(await c.call('HELLO', '3')).toEqual(
        err(
          'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
        ),
      );
      expect(await c.call('AUTH', 'wrong')).toEqual(err('WRONGPASS invalid username-password pair or user is disabled.'));
      expect(await c.call('AUTH', 'bob', 's3cret')).toEqual(err('WRONGPASS invalid username-password pair or user is disabled.'));
      expect(await c.call('AUTH', 's3cret')).toBe('+OK');
      expect(await c.call('GET', 'k')).toBe(null);
      const d = await s.client();
      const hello = (await d.call('HELLO', '3', 'AUTH', 'default', 's3cret')) as { map: unknown[] };
      expect(hello.map).toHaveLength(7);
      expect(await d.call('PING')).toBe('+PONG');
      // RESET de-authenticates.
      expect(await d.call('RESET')).toBe('+RESET');
      expect(await d.call('PING')).toEqual(err('NOAUTH Authentication required.'));
      // Before AUTH, Redis's tighter request bounds apply: more than 10 arguments is a protocol error.
      const e = await s.client();
      e.send('MGET', ...Array.from({ length: 11 }, (_, i) => `k${i}`));
      expect(await e.read()).toEqual(err('Protocol error: unauthenticated multibulk length'));
      await e.closed;
    } finally {
      await s.stop();
    }
  });

  it('AUTH without a password set gets Redis\'s error', async () => {
    const c = await t.client();
    expect(await c.call('AUTH', 'x')).toEqual(
      err('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?'),
    );
    expect(await c.call('AUTH', 'default', 'anything')).toBe('+OK');
  });

  it('refuses a non-loopback address without a password unless insecure', async () => {
    let code: string | undefined;
    try {
      await serve(t.store, { host: '0.0.0.0', port: 0 });
    } catch (e) {
      code = (e as BirchError).code;
      expect((e as Error).message).toMatch(/refusing to listen on 0\.0\.0\.0 without a password/);
    }
    expect(code).toBe('BIRCH_BAD_ARGUMENT');
    const a = await serve(t.store, { host: '0.0.0.0', port: 0, insecure: true });
    await a.close();
    const b = await serve(t.store, { host: '0.0.0.0', port: 0, requirepass: 'x' });
    await b.close();
    await expect(serve(t.store, { port: 0, nosuch: 1 } as never)).rejects.toThrow(/unknown serve option 'nosuch'/);
  });

  it('serves on a unix socket', async () => {
    const sock = `${t.dir}.sock`;
    const s = await startServer({ unix: sock, port: undefined } as never);
    try {
      expect(s.server.address()).toEqual({ unix: sock });
      const c = await s.client();
      expect(await c.call('SET', 'u', '1')).toBe('+OK');
      expect(await c.call('GET', 'u')).toBe('1');
      expect(await c.call('CLIENT', 'INFO')).toMatch(/^id=\d+ /);
    } finally {
      await s.stop();
    }
  });
});

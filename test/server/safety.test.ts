/**
 * Bad input never crashes the server or touches other connections:
 * malformed frames, huge declared lengths, a million-element array,
 * binary garbage, HTTP, thousands of idle connections, too many clients.
 * And close(): what was read is answered, then connections end.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, RawClient } from '../helpers/resp.js';
import { Rng } from '../helpers/rng.js';
import { startServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let watcher: RawClient;
beforeAll(async () => {
  t = await startServer();
  // A bystander connection, checked after every test: bad input elsewhere never reaches it.
  watcher = await t.client();
  await watcher.call('SET', 'bystander', 'ok');
});
afterAll(async () => {
  expect(await watcher.call('GET', 'bystander')).toBe('ok');
  await t.stop();
});

async function bystanderOk(): Promise<void> {
  expect(await watcher.call('PING')).toBe('+PONG');
}

describe('malformed input gets a protocol error and the connection closes', () => {
  const cases: [string, string | Buffer, string][] = [
    ['an invalid multibulk length', '*x\r\n', 'Protocol error: invalid multibulk length'],
    ['a non-bulk element', '*1\r\n:5\r\n', "Protocol error: expected '$', got ':'"],
    ['a negative bulk length', '*1\r\n$-5\r\n', 'Protocol error: invalid bulk length'],
    ['a huge declared bulk length', '*1\r\n$9999999999\r\n', 'Protocol error: a bulk string of 9999999999 bytes is over the limit of 1048576'],
    ['a million-element array', '*1000000\r\n', 'Protocol error: a request of 1000000 arguments is over the limit of 262144'],
    ['a bulk string without its \\r\\n', '*1\r\n$4\r\nPINGxx', 'Protocol error: a bulk string must end with \\r\\n'],
    ['unbalanced quotes', 'SET "k v\r\n', 'Protocol error: unbalanced quotes in request'],
    ['an endless inline line', Buffer.alloc(70 * 1024, 0x61), 'Protocol error: too big inline request'],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, async () => {
      const c = await t.client();
      c.sendRaw(Buffer.concat([encode(['PING']), Buffer.from(bytes as string, 'latin1'), encode(['PING'])]));
      expect(await c.read()).toBe('+PONG'); // what came before is answered
      expect(await c.read()).toEqual({ error: message });
      await c.closed;
      await bystanderOk();
    });
  }

  it('the error waits for the replies of writes before it', async () => {
    const c = await t.client();
    c.sendRaw(Buffer.concat([encode(['SET', 'before-error', '1']), Buffer.from('*x\r\n')]));
    expect(await c.read()).toBe('+OK');
    expect(await c.read()).toEqual({ error: 'Protocol error: invalid multibulk length' });
    await c.closed;
    expect(t.store.get('before-error')?.toString()).toBe('1');
  });

  it('looks like HTTP: closed without a reply (cross-protocol scripting)', async () => {
    const c = await t.client();
    c.sendRaw('POST / HTTP/1.1\r\nHost: localhost\r\n\r\nSET k v\r\n');
    await c.closed;
    expect(c.buffered).toBe(0);
    expect(t.store.get('k')).toBeUndefined();
    await bystanderOk();
  });
});

describe('large and strange but valid input', () => {
  it('an array of 100,000 arguments (MGET) is served', async () => {
    const c = await t.client();
    const keys = Array.from({ length: 100_000 }, (_, i) => `mk${i}`);
    c.sendRaw(encode(['MGET', ...keys]));
    const r = (await c.read()) as unknown[];
    expect(r).toHaveLength(100_000);
    expect(r.every((x) => x === null)).toBe(true);
    await bystanderOk();
  });

  it('seeded binary garbage: only error replies, the server lives, other connections never notice', async () => {
    const rng = new Rng(4242);
    for (let i = 0; i < 40; i++) {
      const c = await t.client();
      c.sendRaw(rng.bytes(rng.range(1, 4000)));
      c.sendRaw(encode(['PING']));
      // Whatever it parsed, every reply is an error or PONG, and the server either
      // answers the PING or closes the connection after a protocol error.
      const replies: unknown[] = [];
      const reading = (async () => {
        try {
          for (;;) {
            const r = await c.read();
            replies.push(r);
            if (r === '+PONG') return;
          }
        } catch {
          // closed after a protocol error
        }
      })();
      await Promise.race([reading, new Promise((r) => setTimeout(r, 2000))]);
      for (const r of replies) expect(r === '+PONG' || (typeof r === 'object' && r !== null && 'error' in r)).toBe(true);
      c.close();
    }
    await bystanderOk();
  });

  it('frames split at every byte still work', async () => {
    const c = await t.client();
    const req = Buffer.concat([encode(['SET', 'split', 'a\r\nb']), Buffer.from('GET split\r\n'), encode(['GET', 'split'])]);
    for (let i = 0; i < req.length; i++) {
      c.sendRaw(req.subarray(i, i + 1));
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await c.read()).toBe('+OK');
    expect(await c.read()).toBe('a\r\nb');
    expect(await c.read()).toBe('a\r\nb');
  });
});

/** The soft limit on open files (Linux), or undefined. Each connection here costs two. */
function fdLimit(): number | undefined {
  try {
    const m = /Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}
const FDS = fdLimit() ?? 1024;
const IDLE = Math.min(2000, Math.floor((FDS - 300) / 2 / 200) * 200);

describe('many connections', () => {
  it.skipIf(IDLE < 1000)(`${IDLE} idle connections, then each one answers${IDLE < 1000 ? ` (SKIPPED: ulimit -n is ${FDS}; needs 2,300)` : ''}`, async () => {
    const N = IDLE;
    const sockets: net.Socket[] = [];
    for (let i = 0; i < N; i += 200) {
      const batch = await Promise.all(
        Array.from({ length: 200 }, () => new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ port: t.port, host: '127.0.0.1' }, () => resolve(s));
          s.on('error', reject);
        })),
      );
      sockets.push(...batch);
    }
    // The server accepts them as it gets to them.
    for (let i = 0; i < 200 && [...t.server.clients()].length < N; i++) await new Promise((r) => setTimeout(r, 50));
    expect([...t.server.clients()].length).toBeGreaterThanOrEqual(N);
    await bystanderOk();
    const rss = process.memoryUsage().rss;
    const answers = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<string>((resolve) => {
            s.once('data', (d: Buffer) => resolve(d.toString()));
            s.write('PING\r\n');
          }),
      ),
    );
    expect(new Set(answers)).toEqual(new Set(['+PONG\r\n']));
    for (const s of sockets) s.destroy();
    // Small per connection (the process holds the test's sockets too).
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 1024 * 1024);
  }, 60_000);

  it('past maxClients a connection gets Redis\'s error and is closed', async () => {
    const s = await startServer({ maxClients: 3 });
    try {
      await Promise.all([s.client(), s.client(), s.client()]);
      const d = await s.client();
      expect(await d.read()).toEqual({ error: 'ERR max number of clients reached' });
      await d.closed;
    } finally {
      await s.stop();
    }
  });
});

describe('close()', () => {
  it('answers what was read, lets its writes commit, ends the connections, leaves the store open', async () => {
    const s = await startServer();
    const c = await s.client();
    const reqs: Buffer[] = [];
    for (let i = 0; i < 2000; i++) reqs.push(encode(['SET', `c${i}`, String(i)]));
    reqs.push(encode(['GET', 'c1999']));
    c.sendRaw(Buffer.concat(reqs));
    // Wait until the server has read all of it.
    while (s.store.stats().requests < 1) await new Promise((r) => setTimeout(r, 5));
    const closing = s.server.close();
    const replies: unknown[] = [];
    try {
      for (;;) replies.push(await c.read());
    } catch {
      // the connection ended
    }
    await closing;
    // Every reply that arrived is for a write that is in the store.
    const oks = replies.filter((r) => r === '+OK').length;
    for (let i = 0; i < oks; i++) expect(s.store.get(`c${i}`)?.toString()).toBe(String(i));
    expect(replies.length === 2001 ? replies[2000] : '1999').toBe('1999');
    // New connections are refused once closed.
    await expect(RawClient.connect({ port: s.port })).rejects.toThrow();
    expect(s.store.get('c0')?.toString()).toBe('0'); // the store is still open
    await s.stop();
  });
});

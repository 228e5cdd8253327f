/**
 * The ordering rule and the gate: replies in request order, a read waits
 * for the connection's own earlier writes, many connections' writes share
 * commits, and the commands that read then write (GETSET, MSETNX,
 * MULTI/EXEC) are atomic against every other connection's writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, type RawClient } from '../helpers/resp.js';
import { startServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startServer();
});
afterAll(async () => {
  await t.stop();
});

let n = 0;
const ns = (): string => `o${++n}:`;

async function readN(c: RawClient, count: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) out.push(await c.read());
  return out;
}

describe('ordering on one connection', () => {
  it('a pipelined read after writes sees them, and every reply comes in request order', async () => {
    const c = await t.client();
    const k = ns();
    const reqs: Buffer[] = [];
    const expected: unknown[] = [];
    for (let i = 0; i < 500; i++) {
      reqs.push(encode(['SET', `${k}a`, String(i)]));
      expected.push('+OK');
      if (i % 50 === 0) {
        reqs.push(encode(['GET', `${k}a`]));
        expected.push(String(i));
        reqs.push(encode(['SET', `${k}b`, 'v'.repeat(300)])); // refused at once, answered in its turn
        expected.push({ error: "ERR value is 300 bytes, over birch's limit of 255 bytes" });
        reqs.push(encode(['PING']));
        expected.push('+PONG');
        reqs.push(encode(['DEL', `${k}a`, `${k}zz`]));
        expected.push(1);
        reqs.push(encode(['GETSET', `${k}a`, String(i)])); // through the gate
        expected.push(null);
      }
    }
    reqs.push(encode(['MGET', `${k}a`, `${k}b`]));
    expected.push(['499', null]);
    c.sendRaw(Buffer.concat(reqs));
    expect(await readN(c, expected.length)).toEqual(expected);
  });

  it('a write is answered only once it is committed', async () => {
    const c = await t.client();
    const k = ns();
    for (let i = 0; i < 20; i++) c.send('SET', `${k}${i}`, 'v');
    for (let i = 0; i < 20; i++) {
      expect(await c.read()).toBe('+OK');
      // The store shows committed state only: the write is there when its reply is.
      expect(t.store.get(`${k}${i}`)?.toString()).toBe('v');
    }
  });

  it("many connections' pipelined writes share commits", async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => t.client()));
    const k = ns();
    const before = t.store.stats();
    await Promise.all(
      clients.map(async (c, j) => {
        const reqs: Buffer[] = [];
        for (let i = 0; i < 50; i++) reqs.push(encode(['SET', `${k}${j}:${i}`, String(i)]));
        c.sendRaw(Buffer.concat(reqs));
        expect(new Set(await readN(c, 50))).toEqual(new Set(['+OK']));
      }),
    );
    const after = t.store.stats();
    const requests = after.requests - before.requests;
    const commits = after.commits - before.commits;
    expect(requests).toBe(1000);
    // On an idle machine this is a handful of commits; leave room for a loaded one.
    expect(commits).toBeLessThan(requests / 4);
  });
});

describe('the gate: read-then-write commands are atomic', () => {
  it('GETSET from many clients: every value is handed on exactly once', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => t.client()));
    const k = ns() + 'chain';
    await clients[0]!.call('SET', k, 'start');
    const olds: string[] = [];
    await Promise.all(
      clients.map(async (c, j) => {
        for (let i = 0; i < 30; i++) c.send('GETSET', k, `${j}:${i}`);
        // Writers of plain SETs on other keys run meanwhile.
        for (const r of await readN(c, 30)) olds.push(r as string);
      }),
    );
    const final = (await clients[0]!.call('GET', k)) as string;
    // The values form one chain: start -> ... -> final, each written value returned once.
    const written = new Set<string>();
    for (let j = 0; j < 8; j++) for (let i = 0; i < 30; i++) written.add(`${j}:${i}`);
    const returned = [...olds].sort();
    const expected = [...[...written].filter((v) => v !== final), 'start'].sort();
    expect(returned).toEqual(expected);
  });

  it('MSETNX from many clients on the same keys: exactly one wins, whole', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => t.client()));
    const k = ns();
    const results = await Promise.all(clients.map((c, j) => c.call('MSETNX', `${k}a`, String(j), `${k}b`, String(j), `${k}c`, String(j))));
    expect(results.filter((r) => r === 1)).toHaveLength(1);
    const winner = String(results.indexOf(1));
    expect(await clients[0]!.call('MGET', `${k}a`, `${k}b`, `${k}c`)).toEqual([winner, winner, winner]);
  });

  it('MULTI/EXEC is never seen half-applied, while plain SETs run beside it', async () => {
    const [w, r, s] = await Promise.all([t.client(), t.client(), t.client()]);
    const k = ns();
    await w.call('MSET', `${k}a`, '0', `${k}b`, '0');
    let stop = false;
    const writer = (async () => {
      for (let i = 1; i <= 60; i++) {
        w.send('MULTI');
        w.send('SET', `${k}a`, String(i));
        w.send('INCRBY', `${k}x`, 'x'); // a runtime error inside EXEC does not stop the rest
        w.send('SET', `${k}b`, String(i));
        w.send('EXEC');
        const replies = await readN(w, 5);
        expect(replies[4]).toEqual(['+OK', { error: 'ERR value is not an integer or out of range' }, '+OK']);
      }
      stop = true;
    })();
    const setter = (async () => {
      let i = 0;
      while (!stop) await s.call('SET', `${k}other`, String(i++));
    })();
    let reads = 0;
    while (!stop) {
      const [a, b] = (await r.call('MGET', `${k}a`, `${k}b`)) as string[];
      expect(a).toBe(b);
      reads++;
    }
    await Promise.all([writer, setter]);
    expect(reads).toBeGreaterThan(0);
  });

  it('a write waiting at the closed gate goes after the gated batch', async () => {
    const [a, b] = await Promise.all([t.client(), t.client()]);
    const k = ns() + 'k';
    await a.call('SET', k, '0');
    // a's GETSET closes the gate; b's SET, sent right after, must apply after it.
    a.send('GETSET', k, '1');
    b.send('SET', k, '2');
    expect(await a.read()).toBe('0');
    expect(await b.read()).toBe('+OK');
    expect(await a.call('GET', k)).toBe('2');
  });
});

describe('backpressure', () => {
  it('a client that pipelines without reading is paused, other clients are not, and every reply arrives', async () => {
    const c = await t.client();
    const other = await t.client();
    const k = ns();
    c.socket.pause(); // do not read replies
    const N = 60_000;
    const chunk: Buffer[] = [];
    // Writes, then reads (a read right after a write waits for its commit: alternating
    // them would measure fsyncs, not backpressure).
    // Replies of 255-byte values: 40,000 of them (10 MB) overflow the kernel's socket buffers.
    const v = (i: number): string => String(i).padEnd(255, '.');
    for (let i = 0; i < N; i++) chunk.push(i < N / 3 ? encode(['SET', `${k}${i % 100}`, v(i)]) : encode(['GET', `${k}${i % 100}`]));
    c.sendRaw(Buffer.concat(chunk));
    // The server stops reading once its replies fill the socket: the rest of the
    // requests wait in the client's socket buffer and the kernel's.
    let paused: { pending: number }[] = [];
    for (let i = 0; i < 200 && paused.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      paused = [...t.server.clients()].filter((x) => x.readingPaused);
    }
    expect(paused).toHaveLength(1);
    expect(paused[0]!.pending).toBeLessThanOrEqual(4096);
    expect(await other.call('PING')).toBe('+PONG');
    c.socket.resume();
    const replies = await readN(c, N);
    expect(replies.slice(0, N / 3).filter((x) => x !== '+OK')).toEqual([]);
    expect(replies.slice(N / 3, N / 3 + 100)).toEqual(Array.from({ length: 100 }, (_, i) => v(N / 3 - 100 + i)));
    expect(await c.call('PING')).toBe('+PONG');
  }, 60_000);
});

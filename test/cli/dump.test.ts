/**
 * `birch dump` and `birch load`: in-process (exit codes, messages, the
 * locked-store hint, range options), as the built command in a pipe, and
 * `birch dump --format resp | redis-cli --pipe` into a real redis-server
 * (skipped, visibly, where redis-server and redis-cli are not installed).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { register as registerDump } from '../../src/cli/dump.js';
import { register as registerLoad } from '../../src/cli/load.js';
import { readState } from '../../src/cli/model.js';
import { BIRCH_JS, runIn } from '../helpers/cli.js';
import { Rng } from '../helpers/rng.js';
import { useTmpDirs } from '../helpers/tmp.js';

const tmp = useTmpDirs('birch-cli-dump-');
const OPTS = { blockSize: 2048, cleaning: 0 } as const;

async function makeStore(dir: string, n: number, seed = 1): Promise<Map<string, string>> {
  const db = open(dir, OPTS);
  const rng = new Rng(seed);
  const ops = Array.from({ length: n }, (_, i) => ({
    type: 'put' as const,
    key: i % 2 === 0 ? Buffer.from(`user:${String(i).padStart(5, '0')}`) : rng.bytes(rng.int(256)),
    value: rng.bytes(rng.int(256)),
  }));
  for (let i = 0; i < ops.length; i += 1000) await db.batch(ops.slice(i, i + 1000));
  const state = readState(db);
  await db.close();
  return state;
}

/** A writable that keeps what it is given. */
function collector(): Writable & { text: () => Buffer } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  }) as Writable & { text: () => Buffer };
  w.text = () => Buffer.concat(chunks);
  return w;
}

const dumpCmd = (stdout: Writable) => (p: Parameters<typeof registerDump>[0], io: Parameters<typeof registerDump>[1]) =>
  registerDump(p, { ...io, stdout: stdout as unknown as never });
const loadCmd = (stdin: Buffer | string) => (p: Parameters<typeof registerLoad>[0], io: Parameters<typeof registerLoad>[1]) =>
  registerLoad(p, { ...io, stdin: Readable.from([Buffer.isBuffer(stdin) ? stdin : Buffer.from(stdin)]) });

describe('birch dump and birch load', () => {
  it('round-trip a store through the commands; a prefix selects', async () => {
    const src = path.join(tmp(), 'a');
    const want = await makeStore(src, 3000);
    const out = collector();
    const d = await runIn([dumpCmd(out)], ['dump', src]);
    expect(d.code, d.err).toBe(0);
    expect(d.err).toMatch(/pairs .* in [\d.]+ s/);
    const dst = path.join(tmp(), 'b');
    const l = await runIn([loadCmd(out.text())], ['load', dst, '--batch', '700']);
    expect(l.code, l.err).toBe(0);
    expect(l.out).toMatch(new RegExp(`loaded ${want.size.toLocaleString('en-US')} pairs in ${Math.ceil(want.size / 700)} batches`));
    const db = open(dst, { cleaning: 0 });
    expect(readState(db)).toEqual(want);
    expect(db.check().ok).toBe(true);
    await db.close();

    const pre = collector();
    expect((await runIn([dumpCmd(pre)], ['dump', src, '--prefix', 'user:0001', '-q'])).code).toBe(0);
    const lines = pre.text().toString().split('\n');
    // user:00010 ... user:00018 (keys of even i only), header, end line, and the empty string after the last LF.
    expect(lines.slice(1, -2).map((l) => Buffer.from(l.split('\t')[0]!, 'hex').toString())).toEqual([10, 12, 14, 16, 18].map((i) => `user:000${i}`));
  });

  it('the prefix and bounds may be given in hex', async () => {
    const src = path.join(tmp(), 'a');
    const db = open(src, OPTS);
    await db.batch([0, 1, 2, 3, 250, 251, 255].map((b) => ({ type: 'put' as const, key: Buffer.from([0xff, b]), value: Buffer.from([b]) })));
    await db.put('plain', 'text');
    await db.close();
    const out = collector();
    expect((await runIn([dumpCmd(out)], ['dump', src, '--hex', '--gte', 'ff02', '--lt', 'fffb', '-q'])).code).toBe(0);
    expect(out.text().toString().split('\n').slice(1, -2)).toEqual(['ff02\t02', 'ff03\t03', 'fffa\tfa']);
    const bad = await runIn([dumpCmd(collector())], ['dump', src, '--hex', '--prefix', 'xyz']);
    expect(bad.code).toBe(2);
  });

  it('malformed input: exit 1, the message names the line, and the pairs before it are loaded', async () => {
    const good = (i: number): string => `${Buffer.from(`k${i}`).toString('hex')}\t${Buffer.from(`v${i}`).toString('hex')}\n`;
    const input = 'birch-dump\t1\n' + Array.from({ length: 40 }, (_, i) => good(i)).join('') + 'not-hex\t00\n' + good(99);
    const dst = path.join(tmp(), 'b');
    const l = await runIn([loadCmd(input)], ['load', dst, '--batch', '16']);
    expect(l.code).toBe(1);
    expect(l.err).toMatch(/line 42: the key is not hex of whole bytes/);
    expect(l.err).toMatch(/40 pairs before line 42 are loaded/);
    const db = open(dst, { cleaning: 0 });
    expect(readState(db).size).toBe(40);
    expect(db.get('k39')?.toString()).toBe('v39');
    await db.close();
  });

  it('a store held by another handle: BIRCH_LOCKED, exit 2, with the hint to call dump()/load() in the application', async () => {
    const src = path.join(tmp(), 'a');
    await makeStore(src, 10);
    const db = open(src, OPTS);
    try {
      const d = await runIn([dumpCmd(collector())], ['dump', src]);
      expect(d.code).toBe(2);
      expect(d.err).toMatch(/BIRCH_LOCKED[\s\S]*dump\(db, stream\)/);
      const l = await runIn([loadCmd('birch-dump\t1\nbirch-dump-end\t0\n')], ['load', src]);
      expect(l.code).toBe(2);
      expect(l.err).toMatch(/BIRCH_LOCKED[\s\S]*load\(db, stream\)/);
    } finally {
      await db.close();
    }
    const none = await runIn([dumpCmd(collector())], ['dump', path.join(tmp(), 'nothing')]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/does not exist/);
  });

  it('the built commands in a pipe: birch dump a | birch load b', async () => {
    expect(fs.existsSync(BIRCH_JS), `${BIRCH_JS}: run npm run build`).toBe(true);
    const src = path.join(tmp(), 'a');
    const want = await makeStore(src, 2000, 3);
    const dst = path.join(tmp(), 'b');
    const r = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${BIRCH_JS}" dump "${src}" | "${process.execPath}" "${BIRCH_JS}" load "${dst}"`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const db = open(dst, { cleaning: 0 });
    expect(readState(db)).toEqual(want);
    await db.close();
  });
});

// ---------------------------------------------------------------------------
// Into a real Redis

const HAVE_REDIS =
  spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0 &&
  spawnSync('redis-cli', ['--version'], { encoding: 'utf8' }).status === 0;
if (!HAVE_REDIS) console.log('[dump] SKIPPED: redis-server or redis-cli is not installed (apt-get install redis-server redis-tools)');

/** A port nobody listens on. */
async function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** GET each key over one connection (a minimal RESP client); undefined for a missing key. */
async function redisGetAll(port: number, keys: Buffer[]): Promise<(Buffer | undefined)[]> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const out: (Buffer | undefined)[] = [];
  let buf = Buffer.alloc(0);
  const done = new Promise<void>((resolve, reject) => {
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        if (buf[0] !== 0x24) return reject(new Error(`unexpected reply ${buf.toString('latin1', 0, nl)}`));
        const n = Number(buf.toString('latin1', 1, nl));
        if (n < 0) {
          out.push(undefined);
          buf = buf.subarray(nl + 2);
        } else {
          if (buf.length < nl + 2 + n + 2) return;
          out.push(Buffer.from(buf.subarray(nl + 2, nl + 2 + n)));
          buf = buf.subarray(nl + 2 + n + 2);
        }
        if (out.length === keys.length) return resolve();
      }
    });
    sock.on('error', reject);
  });
  for (const k of keys) sock.write(Buffer.concat([Buffer.from(`*2\r\n$3\r\nGET\r\n$${k.length}\r\n`), k, Buffer.from('\r\n')]));
  await done;
  sock.destroy();
  return out;
}

describe.skipIf(!HAVE_REDIS)('birch dump --format resp | redis-cli --pipe, into a real redis-server', () => {
  it('every pair, binary keys and values included, arrives', async () => {
    const src = path.join(tmp(), 'a');
    const want = await makeStore(src, 3000, 4);
    const port = await sparePort();
    const dir = tmp();
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      // Wait until it answers.
      for (let i = 0; ; i++) {
        const ping = spawnSync('redis-cli', ['-p', String(port), 'PING'], { encoding: 'utf8' });
        if (ping.stdout.trim() === 'PONG') break;
        if (i > 100) throw new Error(`redis-server did not start: ${ping.stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const r = spawnSync(
        '/bin/sh',
        ['-c', `"${process.execPath}" "${BIRCH_JS}" dump "${src}" --format resp -q | redis-cli -p ${port} --pipe`],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`errors: 0, replies: ${want.size}`));
      const size = spawnSync('redis-cli', ['-p', String(port), 'DBSIZE'], { encoding: 'utf8' });
      expect(Number(size.stdout.trim())).toBe(want.size);
      const keys = [...want.keys()].map((h) => Buffer.from(h, 'hex'));
      const values = await redisGetAll(port, keys);
      keys.forEach((k, i) => expect(values[i]?.toString('hex'), k.toString('hex')).toBe(want.get(k.toString('hex'))));
    } finally {
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
    }
  });
});

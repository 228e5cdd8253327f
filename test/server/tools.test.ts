/**
 * Redis's own tools against birch serve: redis-cli (commands, --pipe,
 * --scan with its numeric cursors, the interactive help it builds from
 * COMMAND DOCS) and redis-benchmark (a smoke run: ping, set, get, incr,
 * mset). They come from Debian's redis-tools; where they are not installed
 * the tests are skipped with the reason in their name, unless
 * BIRCH_REQUIRE_REDIS_TOOLS=1 (.ci/run sets it, after installing them):
 * then a missing tool fails the suite rather than skipping it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

function has(cmd: string, arg = '--version'): boolean {
  const r = spawnSync(cmd, [arg], { encoding: 'utf8' });
  return r.status === 0;
}

const CLI = has('redis-cli');
const BENCH = has('redis-benchmark');
const SCRIPT = has('script', '--version');
const REQUIRED = process.env.BIRCH_REQUIRE_REDIS_TOOLS === '1';

describe.runIf(REQUIRED)('BIRCH_REQUIRE_REDIS_TOOLS=1', () => {
  it('redis-cli and redis-benchmark are installed, so their tests run', () => {
    expect({ 'redis-cli': CLI, 'redis-benchmark': BENCH }).toEqual({ 'redis-cli': true, 'redis-benchmark': true });
  });
});

let t: TestServer;
beforeAll(async () => {
  if (CLI || BENCH) t = await startServer();
});
afterAll(async () => {
  await t?.stop();
});

/** Run a tool with `input` on stdin; resolves with its output. */
function run(cmd: string, args: string[], input?: string | Buffer, timeoutMs = 60_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out; output so far: ${out} ${err}`));
    }, timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    p.stdin.end(input);
  });
}

describe.skipIf(!CLI)(`redis-cli${CLI ? '' : ' (SKIPPED: redis-cli is not installed; apt-get install redis-tools)'}`, () => {
  const cli = (...args: string[]): Promise<{ code: number | null; out: string; err: string }> => run('redis-cli', ['-p', String(t.port), ...args]);

  it('runs commands and prints their replies', async () => {
    expect((await cli('SET', 'cli:a', 'hello world')).out).toBe('OK\n');
    expect((await cli('GET', 'cli:a')).out).toBe('hello world\n');
    expect((await cli('--no-raw', 'MGET', 'cli:a', 'cli:none')).out).toBe('1) "hello world"\n2) (nil)\n');
    expect((await cli('NOPE')).out.trim()).toBe("ERR unknown command 'NOPE', with args beginning with:");
    expect((await cli('-3', 'HELLO', '3')).out).toContain('proto 3\n');
    // Commands from stdin, one per line.
    expect((await run('redis-cli', ['-p', String(t.port)], 'PING\nDBSIZE\n')).out).toMatch(/^PONG\n\d+\n$/);
  });

  it('expiry, counters and append', async () => {
    expect((await cli('SET', 'cli:t', 'v', 'EX', '100')).out).toBe('OK\n');
    expect((await cli('TTL', 'cli:t')).out).toBe('100\n');
    expect((await cli('PERSIST', 'cli:t')).out).toBe('1\n');
    expect((await cli('TTL', 'cli:t')).out).toBe('-1\n');
    expect((await cli('TTL', 'cli:none')).out).toBe('-2\n');
    expect((await cli('SETEX', 'cli:n', '100', '41')).out).toBe('OK\n');
    expect((await cli('INCR', 'cli:n')).out).toBe('42\n');
    expect((await cli('--no-raw', 'INCRBY', 'cli:n', '-50')).out).toBe('(integer) -8\n');
    expect((await cli('TTL', 'cli:n')).out).toBe('100\n');
    expect((await cli('INCR', 'cli:t')).out.trim()).toBe('ERR value is not an integer or out of range');
    expect((await cli('APPEND', 'cli:t', '!')).out).toBe('2\n');
    expect((await cli('GET', 'cli:t')).out).toBe('v!\n');
  });

  it('--pipe: 10,000 SETs in the protocol, all answered, no errors', async () => {
    let input = '';
    for (let i = 0; i < 10_000; i++) input += `*3\r\n$3\r\nSET\r\n$${`pipe:${i}`.length}\r\npipe:${i}\r\n$${String(i).length}\r\n${i}\r\n`;
    const p = await run('redis-cli', ['-p', String(t.port), '--pipe'], input);
    expect(p.out).toContain('errors: 0, replies: 10000');
    expect(t.store.get('pipe:9999')?.toString()).toBe('9999');
  });

  it('--scan walks every key with its numeric cursors', async () => {
    await cli('MSET', ...Array.from({ length: 300 }, (_, i) => [`scan:${i}`, 'v']).flat());
    const r = await cli('--scan', '--pattern', 'scan:*');
    const keys = r.out.trim().split('\n');
    expect(keys.sort()).toEqual(Array.from({ length: 300 }, (_, i) => `scan:${i}`).sort());
  });

  it('COMMAND DOCS gives the help redis-cli prints', async () => {
    const r = await cli('COMMAND', 'DOCS', 'get');
    expect(r.out).toContain('Returns the string value of a key.');
  });

  it.skipIf(!SCRIPT)(`interactive help comes from COMMAND DOCS${SCRIPT ? '' : ' (SKIPPED: no script(1) for a terminal)'}`, async () => {
    // redis-cli builds its help from COMMAND DOCS only when it runs on a terminal.
    const p = spawn('script', ['-qc', `TERM=dumb redis-cli -p ${t.port}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const say = async (s: string): Promise<void> => {
      await new Promise((r) => setTimeout(r, 700));
      p.stdin.write(s + '\r');
    };
    await say('help birch.range');
    await say('help set');
    await say('quit');
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        resolve(undefined);
      }, 10_000);
      p.on('close', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
    const text = out.replace(/\x1b\[[0-9;]*m/g, '');
    // birch's own summaries: redis-cli's built-in table has neither.
    expect(text).toContain('BIRCH.RANGE min max [REV] [LIMIT offset count] [NOVALUES]');
    expect(text).toContain('EX/PX/EXAT/PXAT set a lifetime, KEEPTTL keeps it');
  }, 30_000);
});

describe.skipIf(!BENCH)(`redis-benchmark${BENCH ? '' : ' (SKIPPED: redis-benchmark is not installed; apt-get install redis-tools)'}`, () => {
  it('redis-benchmark -t ping,set,get,incr,mset -n 2000 -q -e: every test completes without errors', async () => {
    const r = await run('redis-benchmark', ['-p', String(t.port), '-t', 'ping,set,get,incr,mset', '-n', '2000', '-q', '-e'], undefined, 120_000);
    const lines = r.out.split(/[\r\n]/).filter((l) => l.includes('requests per second'));
    const tests = lines.map((l) => l.trim().split(':')[0]);
    expect(tests).toEqual(['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'MSET (10 keys)']);
    // INCR counted 2,000 increments on its one key.
    expect(t.store.get('counter:__rand_int__')?.toString()).toBe('2000');
    // With -e, redis-benchmark stops at the first error reply and prints it.
    expect(r.out + r.err).not.toMatch(/Error from server|ERR /);
    expect(r.code).toBe(0);
    console.log(lines.map((l) => l.trim()).join('\n'));
  }, 130_000);
});

/**
 * `birch serve` as users run it: the BUILT command (dist/, made by npm run
 * build) in a child process. SIGTERM closes it cleanly; SIGKILL under load,
 * again and again, loses no write that got a reply (the crash suites' way:
 * record every acknowledgement, kill at a random moment, reopen, verify).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { BIRCH_JS } from '../helpers/cli.js';
import { encode, RawClient } from '../helpers/resp.js';
import { Rng } from '../helpers/rng.js';
import { rmDir, tmpDir } from '../helpers/tmp.js';

const CYCLES = process.env.BIRCH_SOAK === '1' ? 40 : 5;

const roots: string[] = [];
afterAll(() => roots.forEach(rmDir));
function root(): string {
  const r = tmpDir('birch-serve-cli-');
  roots.push(r);
  return r;
}

interface Child {
  proc: ChildProcess;
  port: number;
  out: () => string;
  err: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `birch serve dir --port 0 ...args`; resolves once it says where it listens. */
function startChild(dir: string, args: string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, [BIRCH_JS, 'serve', dir, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on tcp [^ ]+:(\d+)/.exec(out);
      if (m !== null) resolve({ proc, port: Number(m[1]), out: () => out, err: () => err, exit });
    });
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    void exit.then(({ code, signal }) => reject(new Error(`birch serve exited (${code ?? signal}) before listening: ${err}`)));
  });
}

describe('birch serve (the built CLI)', () => {
  it('the built CLI is there', () => {
    expect(fs.existsSync(BIRCH_JS), `${BIRCH_JS} missing: run npm run build`).toBe(true);
  });

  it('SIGTERM: answers what it read, closes the store, exits 0; the data is there', async () => {
    const dir = path.join(root(), 'store');
    const child = await startChild(dir);
    const c = await RawClient.connect({ port: child.port });
    const N = 3000;
    const reqs: Buffer[] = [];
    for (let i = 0; i < N; i++) reqs.push(encode(['SET', `term:${i}`, String(i)]));
    c.sendRaw(Buffer.concat(reqs));
    expect(await c.read()).toBe('+OK');
    child.proc.kill('SIGTERM');
    let acked = 1;
    try {
      for (;;) {
        expect(await c.read()).toBe('+OK');
        acked++;
      }
    } catch {
      // the server ended the connection
    }
    const { code } = await child.exit;
    expect(code).toBe(0);
    expect(child.err()).toContain('SIGTERM: closing');
    expect(child.err()).toContain('closed');
    const db = open(dir, { cleaning: 0 });
    try {
      for (let i = 0; i < acked; i++) expect(db.get(`term:${i}`)?.toString()).toBe(String(i));
      expect(db.check().ok).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('refuses a non-loopback --host without a password; --insecure or --requirepass allows it', async () => {
    const dir = path.join(root(), 'store');
    const proc = spawn(process.execPath, [BIRCH_JS, 'serve', dir, '--host', '0.0.0.0', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => proc.on('exit', r));
    expect(code).toBe(2);
    expect(err).toMatch(/BIRCH_BAD_ARGUMENT: refusing to listen on 0\.0\.0\.0 without a password/);

    const a = await startChild(dir, ['--host', '0.0.0.0', '--insecure']);
    a.proc.kill('SIGINT');
    expect((await a.exit).code).toBe(0);

    const pwFile = path.join(root(), 'pw');
    fs.writeFileSync(pwFile, 'filepw\n');
    const b = await startChild(dir, ['--host', '0.0.0.0', '--requirepass-file', pwFile]);
    const c = await RawClient.connect({ port: b.port });
    expect(await c.call('GET', 'x')).toEqual({ error: 'NOAUTH Authentication required.' });
    expect(await c.call('AUTH', 'filepw')).toBe('+OK');
    c.close();
    b.proc.kill('SIGTERM');
    expect((await b.exit).code).toBe(0);
  });

  it('a second server on the same store gets BIRCH_LOCKED and exits 2', async () => {
    const dir = path.join(root(), 'store');
    const a = await startChild(dir);
    const proc = spawn(process.execPath, [BIRCH_JS, 'serve', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await new Promise((r) => proc.on('exit', r))).toBe(2);
    expect(err).toContain('BIRCH_LOCKED');
    a.proc.kill('SIGTERM');
    await a.exit;
  });

  it(`SIGKILL under load, ${CYCLES} times: every write that got a reply is there, MSETs whole or absent`, async () => {
    const dir = path.join(root(), 'store');
    const rng = new Rng(9090);
    /** key -> value of every acknowledged SET; MSET pairs; acknowledged DELs. */
    const acked = new Map<string, string>();
    const deleted = new Set<string>();
    /** Keys a DEL was sent for, answered or not: they may be gone. */
    const maybeDeleted = new Set<string>();
    const pairs: [string, string, string][] = [];
    let totalAcked = 0;
    let unackedSeen = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const child = await startChild(dir);
      const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect({ port: child.port })));
      const killAt = rng.range(40, 400);
      const ackedBefore = [...acked.keys()].filter((k) => !maybeDeleted.has(k));
      const loads = clients.map(async (c, j) => {
        // Each client pipelines windows of writes and records each reply as it comes.
        let i = 0;
        try {
          for (;;) {
            const window: { kind: 'set' | 'mset' | 'del'; keys: string[]; value: string }[] = [];
            const reqs: Buffer[] = [];
            for (let w = 0; w < 64; w++, i++) {
              const roll = rng.next();
              if (roll < 0.1 && ackedBefore.length > 0) {
                const k = ackedBefore.splice(rng.int(ackedBefore.length), 1)[0]!;
                maybeDeleted.add(k);
                window.push({ kind: 'del', keys: [k], value: '' });
                reqs.push(encode(['DEL', k]));
              } else if (roll < 0.3) {
                const ks = [`m${cycle}:${j}:${i}:a`, `m${cycle}:${j}:${i}:b`];
                window.push({ kind: 'mset', keys: ks, value: `mv${i}` });
                reqs.push(encode(['MSET', ks[0]!, `mv${i}`, ks[1]!, `mv${i}`]));
              } else {
                const k = `s${cycle}:${j}:${i}`;
                window.push({ kind: 'set', keys: [k], value: `v${i}` });
                reqs.push(encode(['SET', k, `v${i}`]));
              }
            }
            c.sendRaw(Buffer.concat(reqs));
            for (const op of window) {
              const r = await c.read();
              if (op.kind === 'del') {
                expect(r).toBe(1);
                deleted.add(op.keys[0]!);
              } else {
                expect(r).toBe('+OK');
                for (const k of op.keys) acked.set(k, op.value);
                if (op.kind === 'mset') pairs.push([op.keys[0]!, op.keys[1]!, op.value]);
              }
              totalAcked++;
            }
          }
        } catch (err) {
          if (!String(err).includes('connection closed')) throw err;
        }
      });
      await new Promise((r) => setTimeout(r, killAt));
      child.proc.kill('SIGKILL');
      await Promise.all(loads);
      expect((await child.exit).signal).toBe('SIGKILL');

      const db = open(dir, { cleaning: 0 });
      try {
        expect(db.check().problems).toEqual([]);
        for (const [k, v] of acked) {
          if (deleted.has(k)) expect(db.get(k), `acknowledged DEL of ${k} lost`).toBeUndefined();
          else if (maybeDeleted.has(k)) expect([undefined, v]).toContain(db.get(k)?.toString());
          else expect(db.get(k)?.toString(), `acknowledged write of ${k} lost (cycle ${cycle})`).toBe(v);
        }
        // Every MSET in the store is whole, acknowledged or not.
        for (const [k] of db.range({ prefix: `m${cycle}:` })) {
          const s = k.toString();
          const other = s.endsWith(':a') ? s.slice(0, -1) + 'b' : s.slice(0, -1) + 'a';
          expect(db.get(other)?.toString(), `half an MSET: ${s}`).toBe(db.get(k)!.toString());
          if (!acked.has(s)) unackedSeen++;
        }
      } finally {
        await db.close();
      }
    }
    console.log(`birch serve SIGKILL: ${CYCLES} cycles, ${totalAcked} acknowledged requests verified, ${pairs.length} MSETs, ${deleted.size} DELs, ${unackedSeen} unacknowledged MSET keys found committed`);
    expect(totalAcked).toBeGreaterThan(CYCLES * 10);
  }, 300_000);
});

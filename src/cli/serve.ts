/**
 * `birch serve <path>`: open the store at <path> (creating it if needed)
 * and serve it over the Redis protocol until SIGTERM or SIGINT, which stop
 * accepting, answer what was read (its commits finish), close the store
 * and exit 0. A second signal exits at once (1).
 *
 * src/bin/birch.ts adds the command by calling register().
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { open, type Store } from '../api/store.js';
import { BirchError } from '../errors.js';
import { serve, type BirchServer, type ServeOptions } from '../server/index.js';
import { int } from './args.js';
import { cliIO, type CliIO } from './io.js';

export interface ServeCliOptions {
  port?: number;
  host?: string;
  unix?: string;
  requirepass?: string;
  requirepassFile?: string;
  insecure?: boolean;
}

export interface Serving {
  server: BirchServer;
  store: Store;
  /** Close the server, then the store. Idempotent. */
  stop(): Promise<void>;
}

/** Open and serve; throws (with the store closed again) if either fails. */
export async function runServe(dir: string, opts: ServeCliOptions): Promise<Serving> {
  let requirepass = opts.requirepass;
  if (opts.requirepassFile !== undefined) {
    requirepass = fs.readFileSync(opts.requirepassFile, 'utf8').replace(/\r?\n$/, '');
  }
  const store = open(path.resolve(dir));
  let server: BirchServer;
  try {
    const o: ServeOptions = {
      ...(opts.port !== undefined && { port: opts.port }),
      ...(opts.host !== undefined && { host: opts.host }),
      ...(opts.unix !== undefined && { unix: opts.unix }),
      ...(requirepass !== undefined && { requirepass }),
      ...(opts.insecure === true && { insecure: true }),
    };
    server = await serve(store, o);
  } catch (err) {
    await store.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    server,
    store,
    stop: () => (stopping ??= server.close().then(() => store.close())),
  };
}

function describe(a: ReturnType<BirchServer['address']>): string {
  const parts: string[] = [];
  if (a.port !== undefined) parts.push(`tcp ${a.host?.includes(':') === true ? `[${a.host}]` : a.host}:${a.port}`);
  if (a.unix !== undefined) parts.push(`unix ${a.unix}`);
  return parts.join(' and ');
}

export function register(program: Command, partial: Partial<CliIO> = {}): Command {
  const io = cliIO(partial);
  return program
    .command('serve')
    .description('serve the store at <path> over the Redis protocol (redis-cli, redis-benchmark, ioredis, node-redis...)')
    .argument('<path>', 'the store directory (created if missing)')
    .option('--port <n>', 'TCP port, 0 for any free one (default: 6379, or none with --unix)', int(0))
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--unix <socket>', 'listen on this unix socket path')
    .option('--requirepass <secret>', 'clients must AUTH with this password (visible to other users in ps: prefer --requirepass-file)')
    .option('--requirepass-file <file>', 'read the password from this file (its first line)')
    .option('--insecure', 'allow a non-loopback --host without a password')
    .addHelpText(
      'after',
      '\nEvery write is fsynced before its reply (like redis-server with appendfsync always).\n' +
        'SIGTERM or SIGINT: stop accepting, answer what was read, close the store, exit 0.\n' +
        'Details: docs/SERVER.md.\n',
    )
    .action(async (dir: string, opts: ServeCliOptions) => {
      let serving: Serving;
      try {
        serving = await runServe(dir, opts);
      } catch (err) {
        const msg = err instanceof BirchError ? `${err.code}: ${err.message}` : (err as Error).message;
        io.err.write(`birch serve: ${msg}\n`);
        io.exit(2);
        return;
      }
      // The handlers go in before the line that says the server is up, so that
      // a signal sent as soon as that line is read finds them (else Node's
      // default action would kill the process with the store still open).
      const closed = new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals): void => {
          if (++signals > 1) {
            io.err.write(`birch serve: ${sig} again, exiting now\n`);
            process.exit(1);
          }
          io.err.write(`birch serve: ${sig}: closing\n`);
          serving.stop().then(
            () => {
              process.off('SIGTERM', onSignal);
              process.off('SIGINT', onSignal);
              io.err.write('birch serve: closed\n');
              resolve();
            },
            (err: unknown) => {
              io.err.write(`birch serve: closing failed: ${String(err)}\n`);
              io.exit(1);
              resolve();
            },
          );
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      io.out.write(`birch serve: ${path.resolve(dir)} on ${describe(serving.server.address())}\n`);
      await closed;
      io.exit(0);
    });
}

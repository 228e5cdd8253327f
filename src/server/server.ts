/**
 * `serve(store, options)`: a Redis-protocol server in front of one open
 * Store, on TCP and/or a unix socket. Every connection shares the store;
 * the store's group commit makes their writes share fsyncs.
 *
 * Security: binds to 127.0.0.1 by default; refuses a non-loopback address
 * without `requirepass` unless `insecure` (Redis's protected mode). With
 * `requirepass`, every command but AUTH, HELLO, QUIT and RESET is refused
 * with NOAUTH until the client authenticates; the password is compared in
 * constant time (SHA-256 digests, timingSafeEqual).
 *
 * close(): stops accepting, stops reading, answers every command already
 * read (their writes commit), ends the connections, and resolves; the
 * Store stays open (the caller closes it).
 *
 * @internal
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { BirchError, type Store } from '../index.js';
import { Backend } from './backend.js';
import { commandTable, type CommandTable } from './commands/index.js';
import { Connection, type ConnectionHost, type ConnectionLimits } from './connection.js';
import { Cursors } from './cursors.js';
import { CommittedView } from './db.js';
import { Gate } from './gate.js';

export interface ServeOptions {
  /** TCP port; 0 picks a free one. Defaults to 6379, or to no TCP listener when `unix` is given. */
  port?: number;
  /** Address to bind. Defaults to 127.0.0.1. */
  host?: string;
  /** A unix socket path to listen on (as well as TCP if `port` is given). */
  unix?: string;
  /** Clients must AUTH (or HELLO ... AUTH) with this password. */
  requirepass?: string;
  /** Allow a non-loopback `host` without `requirepass`. Defaults to false. */
  insecure?: boolean;
  /** Connections at once; more are answered `-ERR max number of clients reached`. Defaults to 10000. */
  maxClients?: number;
  /** Commands parsed and not yet answered per connection before reading pauses. Defaults to 4096. */
  maxPending?: number;
  /** Elements of one request array. Defaults to 262144. */
  maxArgs?: number;
  /** Bytes of one bulk string in a request. Defaults to 1 MiB. */
  maxBulkBytes?: number;
  /** Bytes of one request (its bulk strings). Defaults to 64 MiB. */
  maxRequestBytes?: number;
  /** Bytes of an inline request line. Defaults to 64 KiB (Redis's). */
  maxInlineBytes?: number;
  /** Commands queued in one MULTI. Defaults to 65536. */
  maxMultiCommands?: number;
  /** Largest reply KEYS or BIRCH.RANGE may build. Defaults to 64 MiB. */
  maxReplyBytes?: number;
  /** SCAN cursors remembered (oldest forgotten first). Defaults to 100000. */
  scanCursors?: number;
  /** close() destroys connections still open after this many ms. Defaults to 10000. */
  closeTimeout?: number;
}

export interface ServerAddress {
  /** The TCP address, if listening on TCP. */
  host?: string;
  port?: number;
  /** The unix socket path, if listening on one. */
  unix?: string;
}

const DEFAULTS = {
  maxClients: 10_000,
  maxPending: 4096,
  maxArgs: 262_144,
  maxBulkBytes: 1024 * 1024,
  maxRequestBytes: 64 * 1024 * 1024,
  maxInlineBytes: 64 * 1024,
  maxMultiCommands: 65_536,
  maxReplyBytes: 64 * 1024 * 1024,
  scanCursors: 100_000,
  closeTimeout: 10_000,
};

/** Whether `host` is a loopback address (or name). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

function bad(message: string): BirchError {
  return new BirchError('BIRCH_BAD_ARGUMENT', message);
}

function positiveInt(o: Record<string, unknown>, name: keyof typeof DEFAULTS): number {
  const v = o[name];
  if (v === undefined) return DEFAULTS[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(`serve option ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

const KNOWN = new Set([
  'port', 'host', 'unix', 'requirepass', 'insecure', ...Object.keys(DEFAULTS),
]);

const digest = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** A running server: its address, and close(). */
export class BirchServer implements ConnectionHost {
  readonly backend: Backend;
  readonly gate: Gate;
  readonly committed: CommittedView;
  readonly table: CommandTable = commandTable();
  readonly cursors: Cursors;
  readonly startedAt = Date.now();
  readonly requirePass: boolean;
  readonly config: ReadonlyMap<string, string>;
  readonly stats = { connectionsReceived: 0, commandsProcessed: 0, rejectedConnections: 0 };
  readonly listening: { port: number | undefined; unix: string | undefined } = { port: undefined, unix: undefined };
  readonly maxReplyBytes: number;

  readonly #passDigest: Buffer | undefined;
  readonly #limits: ConnectionLimits;
  readonly #maxClients: number;
  readonly #closeTimeout: number;
  readonly #conns = new Set<Connection>();
  readonly #watchers = new Map<string, Set<Connection>>();
  readonly #listeners: net.Server[] = [];
  #nextId = 1;
  #closing: Promise<void> | undefined;
  #address: ServerAddress = {};

  /** @internal Use serve(). */
  constructor(store: Store, o: ServeOptions) {
    const opts = o as Record<string, unknown>;
    this.backend = new Backend(store);
    this.gate = new Gate(this.backend, (written) => {
      if (written === 'all') this.touchAll();
      else for (const k of written) this.#touchKey(k);
    });
    this.backend.onIdle = () => this.gate.idle();
    this.committed = new CommittedView(this.backend);
    this.cursors = new Cursors(positiveInt(opts, 'scanCursors'));
    this.requirePass = o.requirepass !== undefined;
    this.#passDigest = o.requirepass === undefined ? undefined : digest(Buffer.from(o.requirepass, 'utf8'));
    this.#limits = {
      maxArgs: positiveInt(opts, 'maxArgs'),
      maxBulk: positiveInt(opts, 'maxBulkBytes'),
      maxRequest: positiveInt(opts, 'maxRequestBytes'),
      maxInline: positiveInt(opts, 'maxInlineBytes'),
      maxPending: positiveInt(opts, 'maxPending'),
      maxMultiCommands: positiveInt(opts, 'maxMultiCommands'),
    };
    this.#maxClients = positiveInt(opts, 'maxClients');
    this.#closeTimeout = positiveInt(opts, 'closeTimeout');
    this.maxReplyBytes = positiveInt(opts, 'maxReplyBytes');
    this.config = new Map([
      ['save', ''],
      ['appendonly', 'yes'],
      ['appendfsync', 'always'],
      ['databases', '1'],
      ['maxclients', String(this.#maxClients)],
      ['maxmemory', '0'],
      ['timeout', '0'],
      ['proto-max-bulk-len', String(this.#limits.maxBulk)],
      ['port', String(o.port ?? (o.unix !== undefined ? 0 : 6379))],
      ['bind', o.host ?? '127.0.0.1'],
      ['unixsocket', o.unix ?? ''],
      ['protected-mode', o.insecure === true ? 'no' : 'yes'],
    ]);
  }

  // ServerState / ConnectionHost

  checkPassword(user: Buffer, password: Buffer): boolean {
    const userOk = user.length === 7 && user.toString('latin1').toLowerCase() === 'default';
    if (this.#passDigest === undefined) return userOk; // no password: the default user takes any (Redis's nopass)
    // Compare digests so that neither the length nor the bytes of the password leak through timing.
    const passOk = timingSafeEqual(digest(password), this.#passDigest);
    return userOk && passOk;
  }

  clients(): Iterable<Connection> {
    return this.#conns;
  }

  touch(key: Buffer): void {
    if (this.#watchers.size === 0) return;
    this.#touchKey(key.toString('latin1'));
  }

  #touchKey(k: string): void {
    const set = this.#watchers.get(k);
    if (set !== undefined) for (const c of set) c.touched();
  }

  touchAll(): void {
    for (const set of this.#watchers.values()) for (const c of set) c.touched();
  }

  watch(key: string, conn: Connection): void {
    let set = this.#watchers.get(key);
    if (set === undefined) this.#watchers.set(key, (set = new Set()));
    set.add(conn);
  }

  unwatch(key: string, conn: Connection): void {
    const set = this.#watchers.get(key);
    if (set === undefined) return;
    set.delete(conn);
    if (set.size === 0) this.#watchers.delete(key);
  }

  gone(conn: Connection): void {
    this.#conns.delete(conn);
    this.#maybeClosed?.();
  }

  // Listening

  /** @internal */
  async listen(o: ServeOptions): Promise<void> {
    const tcp = o.port !== undefined || o.unix === undefined;
    if (tcp) {
      const port = o.port ?? 6379;
      const host = o.host ?? '127.0.0.1';
      const s = await this.#listenOn((srv, cb) => srv.listen({ port, host }, cb));
      const a = s.address() as net.AddressInfo;
      this.#address.host = a.address;
      this.#address.port = a.port;
      this.listening.port = a.port;
    }
    if (o.unix !== undefined) {
      const path = o.unix;
      // A socket file left by a server that died would make listen fail: remove it if nothing answers on it.
      if (fs.existsSync(path) && fs.statSync(path).isSocket() && !(await answers(path))) fs.unlinkSync(path);
      await this.#listenOn((srv, cb) => srv.listen({ path }, cb));
      this.#address.unix = path;
      this.listening.unix = path;
    }
  }

  #listenOn(start: (srv: net.Server, cb: () => void) => void): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(socket));
      const onError = (err: Error): void => reject(err);
      srv.once('error', onError);
      start(srv, () => {
        srv.off('error', onError);
        srv.on('error', () => {
          /* accept errors (EMFILE...) are per connection; the listener goes on */
        });
        this.#listeners.push(srv);
        resolve(srv);
      });
    });
  }

  #accept(socket: net.Socket): void {
    this.stats.connectionsReceived++;
    socket.on('error', () => {});
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    if (this.#conns.size >= this.#maxClients) {
      this.stats.rejectedConnections++;
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    // As Redis's tcp-keepalive 300: a peer that vanished is noticed and its connection freed.
    socket.setKeepAlive(true, 300_000);
    const conn = new Connection(this.#nextId++, socket, this, this.#limits);
    this.#conns.add(conn);
  }

  /** Where the server listens. */
  address(): ServerAddress {
    return { ...this.#address };
  }

  #maybeClosed: (() => void) | undefined;

  /**
   * Stop accepting, stop reading, answer what was read (its writes commit),
   * end every connection, and resolve. Idempotent. The Store stays open.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      const stopped = Promise.all(this.#listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
      const allGone = new Promise<void>((resolve) => {
        this.#maybeClosed = () => {
          if (this.#conns.size === 0) resolve();
        };
        for (const c of [...this.#conns]) c.shutdown();
        this.#maybeClosed();
      });
      const timer = setTimeout(() => {
        for (const c of [...this.#conns]) c.destroy();
      }, this.#closeTimeout);
      timer.unref();
      await allGone;
      clearTimeout(timer);
      await stopped;
      // Writes still in flight (of connections that went away) finish before the caller closes the store.
      while (this.backend.inflight > 0) await new Promise((r) => setTimeout(r, 5));
    })();
    return this.#closing;
  }
}

/** Whether something accepts connections on the unix socket `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Serve `store` over the Redis protocol. Resolves once listening. The store
 * must stay open while the server runs; close the server, then the store.
 */
export async function serve(store: Store, options: ServeOptions = {}): Promise<BirchServer> {
  if (typeof options !== 'object' || options === null) throw bad('serve options must be an object');
  for (const k of Object.keys(options)) if (!KNOWN.has(k)) throw bad(`unknown serve option '${k}'`);
  const o = options;
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) {
    throw bad(`serve option port must be an integer from 0 to 65535, got ${String(o.port)}`);
  }
  if (o.requirepass !== undefined && (typeof o.requirepass !== 'string' || o.requirepass.length === 0)) {
    throw bad('serve option requirepass must be a non-empty string');
  }
  const host = o.host ?? '127.0.0.1';
  const tcp = o.port !== undefined || o.unix === undefined;
  if (tcp && !isLoopback(host) && o.requirepass === undefined && o.insecure !== true) {
    throw bad(
      `refusing to listen on ${host} without a password: anyone who can reach it could read and change the store. ` +
        'Set requirepass, bind to 127.0.0.1, or pass insecure: true (--insecure) if the network is trusted.',
    );
  }
  const server = new BirchServer(store, o);
  await server.listen(o);
  return server;
}

/**
 * One client connection: its state (protocol, authentication, name, id,
 * MULTI queue, WATCHed keys) and the order of its replies.
 *
 * The ordering rule (docs/SERVER.md): commands of a connection run in the
 * order they arrive, and their replies go out in that order.
 * - A write with a fast path (SET, DEL, MSET, ...) is issued to the store
 *   at once, without waiting for the writes before it: pipelined writes of
 *   every connection share a group commit. Its reply waits in a slot until
 *   the write is durable.
 * - Any other command (a read, PING, HELLO...) waits until every earlier
 *   write of this connection has been acknowledged, then runs: a read
 *   sees the connection's own writes, and sees only committed data. The
 *   commands after a waiting one wait behind it.
 * - A write that must read first goes through the gate (gate.ts); the
 *   connection's later commands wait until it has run.
 *
 * Bounds: at most `maxPending` commands parsed and not yet answered (slots
 * plus waiting commands); past that the socket is paused until half of
 * them are answered, and while the socket will not take more output (the
 * client does not read) reading is paused too. So a client that pipelines
 * without reading holds at most maxPending replies, and TCP pushes back.
 *
 * @internal
 */
import type { Socket } from 'node:net';
import { storeErrorText } from './backend.js';
import { lower } from './commands/args.js';
import { EXECABORT, NOAUTH, NOT_IN_MULTI, NOT_IN_MULTI_WATCH, arity, unknownCommand, unknownSubcommand } from './commands/errors.js';
import type { Client, CommandSpec, Ctx, FastCtx, ServerState } from './commands/index.js';
import { CommittedView, type Db, type TxView } from './db.js';
import type { Gate, GateTask } from './gate.js';
import { ProtocolError, RequestParser, type ParserLimits } from './parser.js';
import { OK, QUEUED, Reply } from './reply.js';

export interface ConnectionLimits extends ParserLimits {
  /** Commands parsed and not yet answered, per connection. */
  maxPending: number;
  /** Commands queued in one MULTI. */
  maxMultiCommands: number;
}

/** What the server gives each connection. */
export interface ConnectionHost extends ServerState {
  readonly gate: Gate;
  readonly committed: CommittedView;
  /** A write is about to change `key` (WATCH). */
  touch(key: Buffer): void;
  /** A write is about to change every key (FLUSHDB). */
  touchAll(): void;
  watch(key: string, conn: Connection): void;
  unwatch(key: string, conn: Connection): void;
  /** The connection closed. */
  gone(conn: Connection): void;
}

/** A reply slot: pending until its write settles; state 1 done, 2 failed. */
interface Slot {
  state: 0 | 1 | 2;
  value: unknown;
  encode: (out: Reply, value: never) => void;
  fail: ((out: Reply, err: unknown) => void) | undefined;
}

/** A command waiting its turn, or a protocol error to answer in its turn. */
type Waiting = Buffer[] | ProtocolError;

/** Commands that act on MULTI itself rather than being queued. */
const MULTI_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);
/** Commands refused inside MULTI: they change the connection, which EXEC cannot undo or order. */
const NOT_QUEUED = new Set(['hello', 'auth', 'client']);

function errorText(err: unknown): string {
  if (err instanceof Error && err.name === 'BirchError') return storeErrorText(err);
  return `ERR birch internal error: ${err instanceof Error ? err.message : String(err)}`;
}

export class Connection implements Client, FastCtx {
  readonly id: number;
  readonly out = new Reply();
  name: Buffer | undefined;
  libName: string | undefined;
  libVer: string | undefined;
  readonly addr: string;
  readonly laddr: string;
  readonly createdAt = Date.now();
  lastActive = Date.now();
  lastCommand = 'NULL';
  readonly client: Client = this;
  readonly server: ConnectionHost;

  readonly #socket: Socket;
  readonly #parser: RequestParser;
  readonly #limits: ConnectionLimits;
  #authenticated: boolean;
  /** The context read commands run in (reused: commands are synchronous). */
  readonly #ctx: Ctx;

  /** Replies in order; #slotHead is the first not yet written. */
  #slots: Slot[] = [];
  #slotHead = 0;
  /** Commands waiting their turn; #waitHead is the first. */
  #waiting: Waiting[] = [];
  #waitHead = 0;
  /** A command of this connection is queued in the gate: everything after it waits. */
  #inGate: GateTask | undefined;
  /** Registered with the gate to resume held writes. */
  #heldByGate = false;

  #multi: { spec: CommandSpec; args: Buffer[] }[] | undefined;
  #multiDirty = false;
  #watched: Map<string, Buffer | undefined> | undefined;
  #watchDirty = false;

  /** No more commands are taken from the socket (QUIT, protocol error, server closing). */
  #inputDone = false;
  /** End the socket once every command taken has been answered. */
  #endWhenIdle = false;
  #ended = false;
  #closed = false;
  #peerEnded = false;
  #readPaused = false;
  #writeBlocked = false;
  #flushQueued = false;

  constructor(id: number, socket: Socket, host: ConnectionHost, limits: ConnectionLimits) {
    this.id = id;
    this.#socket = socket;
    this.server = host;
    this.#limits = limits;
    this.addr = socket.remoteAddress !== undefined ? `${socket.remoteAddress}:${socket.remotePort}` : `${host.listening.unix ?? ''}:0`;
    this.laddr = socket.localAddress !== undefined ? `${socket.localAddress}:${socket.localPort}` : `${host.listening.unix ?? ''}:0`;
    this.#authenticated = !host.requirePass;
    this.#parser = new RequestParser(limits, (args) => this.#take(args));
    this.#parser.unauthenticated = !this.#authenticated;
    this.#ctx = { db: host.committed, out: this.out, client: this, server: host, inExec: false };

    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => {
      this.#writeBlocked = false;
      this.#maybeResume();
    });
    socket.on('end', () => {
      this.#peerEnded = true;
      this.#maybeEnd();
    });
    socket.on('error', () => {
      /* 'close' follows */
    });
    socket.on('close', () => this.#onClose());
  }

  // Client

  get authenticated(): boolean {
    return this.#authenticated;
  }

  set authenticated(on: boolean) {
    this.#authenticated = on;
    this.#parser.unauthenticated = !on;
  }

  get inMulti(): boolean {
    return this.#multi !== undefined;
  }

  get watching(): number {
    return this.#watched?.size ?? 0;
  }

  closeAfterReply(): void {
    // QUIT: what follows it is not run.
    this.#stopInput();
    this.#waiting = [];
    this.#waitHead = 0;
    this.#endWhenIdle = true;
  }

  reset(): void {
    this.#multi = undefined;
    this.#multiDirty = false;
    this.#unwatch();
    this.out.resp = 2;
    this.name = undefined;
    this.libName = undefined;
    this.libVer = undefined;
    if (this.server.requirePass) this.authenticated = false;
  }

  // FastCtx

  reply(write: (out: Reply) => void): void {
    if (this.#slotHead === this.#slots.length) write(this.out);
    else this.#slots.push({ state: 1, value: undefined, encode: write, fail: undefined });
  }

  later<T>(p: Promise<T>, encode: (out: Reply, value: T) => void, fail?: (out: Reply, err: unknown) => void): void {
    const slot: Slot = { state: 0, value: undefined, encode: encode as (out: Reply, value: never) => void, fail };
    this.#slots.push(slot);
    p.then(
      (v) => {
        slot.state = 1;
        slot.value = v;
        this.#settled();
      },
      (err: unknown) => {
        slot.state = 2;
        slot.value = err;
        this.#settled();
      },
    );
  }

  touch(key: Buffer): void {
    this.server.touch(key);
  }

  /** A write changed a key this connection watches. */
  touched(): void {
    this.#watchDirty = true;
  }

  /** Stop reading and answer what was taken, then end (the server is closing). */
  shutdown(): void {
    this.#stopInput();
    this.#endWhenIdle = true;
    this.#maybeEnd();
  }

  /** Close now, answered or not. */
  destroy(): void {
    this.#socket.destroy();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Commands taken and not yet answered (bounded by maxPending plus one command). */
  get pending(): number {
    return this.#pending();
  }

  /** Whether reading from the socket is paused (backpressure). */
  get readingPaused(): boolean {
    return this.#readPaused;
  }

  // Input

  #onData(chunk: Buffer): void {
    this.lastActive = Date.now();
    if (this.#inputDone) return;
    // Replies written while parsing go out in one write at the end.
    this.#inData = true;
    try {
      this.#parser.push(chunk);
    } catch (err) {
      this.#protocolError(err);
    }
    this.#inData = false;
    this.#flush();
  }

  #inData = false;

  #protocolError(err: unknown): void {
    const e = err instanceof ProtocolError ? err : new ProtocolError(`Protocol error: ${String(err)}`);
    this.#stopInput();
    this.#endWhenIdle = true;
    this.#enqueue(e);
  }

  #stopInput(): void {
    this.#inputDone = true;
    this.#parser.paused = true;
    this.#socket.pause();
  }

  /** A command from the parser. */
  #take(args: Buffer[]): void {
    if (this.#inputDone) return;
    this.#enqueue(args);
    if (this.#pending() >= this.#limits.maxPending) this.#pauseReading();
  }

  #enqueue(w: Waiting): void {
    if (this.#waitHead < this.#waiting.length || this.#inGate !== undefined || !this.#run(w)) this.#waiting.push(w);
  }

  /** Commands taken and not yet answered. */
  #pending(): number {
    return this.#slots.length - this.#slotHead + this.#waiting.length - this.#waitHead;
  }

  /** Run the waiting commands that can run now. */
  #drain(): void {
    while (this.#waitHead < this.#waiting.length && this.#inGate === undefined && !this.#closed) {
      const w = this.#waiting[this.#waitHead]!;
      if (!this.#run(w)) break;
      this.#waiting[this.#waitHead++] = undefined as unknown as Waiting;
    }
    if (this.#waitHead === this.#waiting.length) {
      this.#waiting = [];
      this.#waitHead = 0;
    } else if (this.#waitHead > 1024 && this.#waitHead * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#waitHead);
      this.#waitHead = 0;
    }
    this.#maybeResume();
  }

  /** Whether writes of this connection are still in flight (replies pending). */
  #writesPending(): boolean {
    return this.#slotHead < this.#slots.length;
  }

  /**
   * Run one command, or return false if it must wait (a read behind this
   * connection's unacknowledged writes; a write while the gate is closed).
   */
  #run(w: Waiting): boolean {
    if (w instanceof ProtocolError) {
      if (this.#writesPending()) return false;
      this.out.error(w.message);
      this.#scheduleFlush();
      return true;
    }
    const args = w;
    const host = this.server;
    let spec = host.table.lookup(args[0]!);
    if (spec === undefined) {
      // Redis closes on what looks like HTTP (cross-protocol scripting).
      const name = lower(args[0]!);
      if (name === 'post' || name === 'host:') {
        this.#socket.destroy();
        return true;
      }
      return this.#reject(unknownCommand(args));
    }
    if (spec.subIndex !== undefined && args.length >= 2) {
      const sub = spec.subIndex.get(args[1]!);
      if (sub === undefined) return this.#reject(unknownSubcommand(spec.name, args[1]!));
      spec = sub;
    }
    if ((spec.arity > 0 && args.length !== spec.arity) || args.length < -spec.arity) return this.#reject(arity(spec.name));
    if (!this.#authenticated && spec.noAuth !== true) return this.#reject(NOAUTH);
    const base = spec.base!;

    if (this.#multi !== undefined && !MULTI_CONTROL.has(base)) {
      if (NOT_QUEUED.has(base) || spec.run === undefined) return this.#reject(NOT_IN_MULTI);
      if (this.#multi.length >= this.#limits.maxMultiCommands) {
        return this.#reject(`ERR a transaction holds at most ${this.#limits.maxMultiCommands} commands`);
      }
      this.#multi.push({ spec, args });
      this.reply(queued);
      this.#count(spec);
      return true;
    }

    switch (base) {
      case 'multi':
        if (this.#writesPending()) return false;
        this.#count(spec);
        if (this.#multi !== undefined) this.out.error('ERR MULTI calls can not be nested');
        else {
          this.#multi = [];
          this.#multiDirty = false;
          this.out.raw(OK);
        }
        return true;
      case 'discard':
        if (this.#writesPending()) return false;
        this.#count(spec);
        if (this.#multi === undefined) this.out.error('ERR DISCARD without MULTI');
        else {
          this.#multi = undefined;
          this.#unwatch();
          this.out.raw(OK);
        }
        return true;
      case 'exec':
        return this.#exec(spec);
      case 'watch':
        if (this.#writesPending()) return false;
        this.#count(spec);
        if (this.#multi !== undefined) this.out.error(NOT_IN_MULTI_WATCH);
        else this.#watch(args);
        return true;
      case 'unwatch':
        if (this.#writesPending()) return false;
        this.#count(spec);
        this.#unwatch();
        this.out.raw(OK);
        return true;
    }

    if (spec.write === true) {
      if (host.gate.closed) {
        this.#holdForGate();
        return false;
      }
      if (spec.fast !== undefined) {
        try {
          if (spec.fast(this, args)) {
            this.#count(spec);
            return true;
          }
        } catch (err) {
          this.#count(spec);
          this.reply((out) => out.error(errorText(err)));
          return true;
        }
      }
      this.#count(spec);
      this.#toGate((tx, out) => this.#runOn(spec, args, tx, out, false));
      return true;
    }

    // Reads and connection commands: after this connection's writes are acknowledged.
    if (this.#writesPending()) return false;
    this.#count(spec);
    this.#runOn(spec, args, host.committed, this.out, false);
    this.#scheduleFlush();
    return true;
  }

  #count(spec: CommandSpec): void {
    this.lastCommand = spec.name;
    this.server.stats.commandsProcessed++;
  }

  /** An error before the command ran (unknown, arity, NOAUTH...): inside MULTI it also dooms EXEC. */
  #reject(message: string): true {
    if (this.#multi !== undefined) this.#multiDirty = true;
    this.reply((out) => out.error(message));
    this.#scheduleFlush();
    return true;
  }

  /** Run a command's run() on a Db, turning a throw into an error reply. */
  #runOn(spec: CommandSpec, args: Buffer[], db: Db, out: Reply, inExec: boolean): void {
    const ctx = db === this.server.committed && out === this.out && !inExec ? this.#ctx : { db, out, client: this, server: this.server, inExec };
    const mark = out.mark();
    try {
      spec.run!(ctx, args);
    } catch (err) {
      out.rollback(mark);
      out.error(errorText(err));
    }
  }

  #holdForGate(): void {
    if (this.#heldByGate) return;
    this.#heldByGate = true;
    this.server.gate.whenOpen(() => {
      this.#heldByGate = false;
      if (!this.#closed) this.#drain();
      this.#scheduleFlush();
    });
  }

  /** Queue `run` in the gate; this connection's later commands wait for it. */
  #toGate(run: (tx: TxView, out: Reply) => void): void {
    const task: GateTask = {
      resp: this.out.resp,
      cancelled: false,
      run,
      done: (reply, commit) => {
        this.#inGate = undefined;
        if (commit === undefined) this.reply((out) => out.raw(reply));
        else this.later(commit, (out) => out.raw(reply));
        this.#drain();
        this.#scheduleFlush();
      },
    };
    this.#inGate = task;
    this.server.gate.enqueue(task);
  }

  // Transactions

  #exec(spec: CommandSpec): boolean {
    if (this.#multi === undefined) {
      if (this.#writesPending()) return false;
      this.#count(spec);
      this.out.error('ERR EXEC without MULTI');
      return true;
    }
    if (this.#multiDirty) {
      if (this.#writesPending()) return false;
      this.#count(spec);
      this.#multi = undefined;
      this.#multiDirty = false;
      this.#unwatch();
      this.out.error(EXECABORT);
      return true;
    }
    this.#count(spec);
    const queue = this.#multi;
    this.#multi = undefined;
    this.#toGate((tx, out) => {
      const aborted = this.#watchBroken(tx);
      this.#unwatch();
      if (aborted) return out.nullArray();
      out.array(queue.length);
      for (const { spec: s, args } of queue) {
        this.#runOn(s, args, tx, out, true);
        // Each command's writes reach other connections' WATCHes before the next runs.
        const w = tx.takeWritten();
        if (w === 'all') this.server.touchAll();
        else for (const k of w) this.server.touch(Buffer.from(k, 'latin1'));
      }
    });
    return true;
  }

  #watch(args: Buffer[]): void {
    if (this.#watched === undefined) this.#watched = new Map();
    if (!this.#watchDirty) {
      for (let i = 1; i < args.length; i++) {
        const k = args[i]!.toString('latin1');
        if (this.#watched.has(k)) continue;
        // The value now (this connection's own writes are acknowledged: WATCH waits for them).
        const v = args[i]!.length <= 255 ? this.server.committed.get(args[i]!) : undefined;
        this.#watched.set(k, v === undefined ? undefined : Buffer.from(v));
        this.server.watch(k, this);
      }
    }
    this.out.raw(OK);
  }

  /**
   * Whether a watched key changed since WATCH: a write issued since then
   * touched it, or its value now differs (a write in flight at WATCH time
   * that committed after it).
   */
  #watchBroken(tx: TxView): boolean {
    if (this.#watched === undefined) return false;
    if (this.#watchDirty) return true;
    for (const [k, v] of this.#watched) {
      const key = Buffer.from(k, 'latin1');
      const now = key.length <= 255 ? tx.get(key) : undefined;
      if (now === undefined ? v !== undefined : v === undefined || !now.equals(v)) return true;
    }
    return false;
  }

  #unwatch(): void {
    if (this.#watched !== undefined) for (const k of this.#watched.keys()) this.server.unwatch(k, this);
    this.#watched = undefined;
    this.#watchDirty = false;
  }

  // Output

  /** Write every finished slot at the head, in order; then run what waited. */
  #settled(): void {
    const slots = this.#slots;
    while (this.#slotHead < slots.length && slots[this.#slotHead]!.state !== 0) {
      const s = slots[this.#slotHead]!;
      slots[this.#slotHead++] = undefined as unknown as Slot;
      if (this.#closed) continue;
      if (s.state === 1) s.encode(this.out, s.value as never);
      else if (s.fail !== undefined) s.fail(this.out, s.value);
      else this.out.error(errorText(s.value));
    }
    if (this.#slotHead === slots.length) {
      this.#slots = [];
      this.#slotHead = 0;
      this.#drain();
    } else if (this.#slotHead > 1024 && this.#slotHead * 2 > slots.length) {
      this.#slots = slots.slice(this.#slotHead);
      this.#slotHead = 0;
    }
    this.#maybeResume();
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushQueued || this.#inData) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#closed) return;
    const bytes = this.out.take();
    if (bytes !== undefined && !this.#ended) {
      if (!this.#socket.write(bytes)) {
        this.#writeBlocked = true;
        this.#pauseReading();
      }
    }
    this.#maybeEnd();
  }

  #pauseReading(): void {
    if (this.#readPaused) return;
    this.#readPaused = true;
    this.#parser.paused = true;
    this.#socket.pause();
  }

  #maybeResume(): void {
    if (!this.#readPaused || this.#writeBlocked || this.#inputDone || this.#closed) return;
    if (this.#pending() > this.#limits.maxPending / 2) return;
    this.#readPaused = false;
    this.#socket.resume();
    try {
      this.#parser.resume();
    } catch (err) {
      this.#protocolError(err);
    }
    this.#scheduleFlush();
  }

  #maybeEnd(): void {
    if (this.#ended || this.#closed) return;
    const idle = this.#pending() === 0 && this.#inGate === undefined && this.out.length === 0;
    if (!idle) return;
    if (this.#endWhenIdle || (this.#peerEnded && !this.#parser.midRequest)) {
      this.#ended = true;
      this.#socket.end();
    }
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting = [];
    this.#waitHead = 0;
    this.#multi = undefined;
    this.#unwatch();
    if (this.#inGate !== undefined) this.#inGate.cancelled = true;
    this.server.gone(this);
  }
}

const queued = (out: Reply): void => out.raw(QUEUED);

/**
 * The gate: where commands that must read and then write atomically run
 * (MULTI/EXEC, GETSET, GETDEL, MSETNX, SET ... GET, FLUSHDB, ...).
 *
 * The store's conditional operations act on one key each, and a batch is
 * puts and deletes only, so a command that reads several keys and writes
 * depending on what it read cannot be one store call. The gate makes it
 * one: while a task waits, writes from every connection are held (they
 * wait for the gate to open, reads do not); once every write in flight
 * has committed, the committed tree is the latest state, and the waiting
 * tasks run one after another, synchronously, on one TxView (db.ts). What
 * they wrote is one store batch, issued before the gate opens, so it is
 * applied atomically and before any write issued after it. Their replies
 * are sent once that batch is durable.
 *
 * So the gate serializes exactly the commands that need it, costs them
 * one commit of waiting, and groups all those that arrive meanwhile into
 * one batch. It relies on the server being the store's only writer: a
 * write made directly on the Store by the embedding process is not held.
 *
 * @internal
 */
import type { Backend } from './backend.js';
import { TxView } from './db.js';
import { encodeAlone, type Reply } from './reply.js';

export interface GateTask {
  /** The protocol the reply is encoded in. */
  readonly resp: 2 | 3;
  /** Whether the connection went away before the task ran. */
  cancelled: boolean;
  /** Run on the transaction and write the reply (never throws: errors are replies). */
  run(tx: TxView, out: Reply): void;
  /** The encoded reply, and the batch's promise if the gate wrote anything. */
  done(reply: Buffer, commit: Promise<void> | undefined): void;
}

export class Gate {
  readonly #backend: Backend;
  readonly #touched: (written: string[] | 'all') => void;
  #tasks: GateTask[] = [];
  /** Connections holding writes until the gate opens. */
  #held = new Set<() => void>();
  #scheduled = false;

  /** `touched` hears of the keys each task wrote (WATCH). */
  constructor(backend: Backend, touched: (written: string[] | 'all') => void) {
    this.#backend = backend;
    this.#touched = touched;
  }

  /** While closed, writes wait (a task is waiting for the writes in flight to commit). */
  get closed(): boolean {
    return this.#tasks.length > 0;
  }

  enqueue(task: GateTask): void {
    this.#tasks.push(task);
    this.#maybeRun();
  }

  /** Call `resume` once the gate opens. */
  whenOpen(resume: () => void): void {
    this.#held.add(resume);
  }

  /** The backend calls this each time its last write in flight settles. */
  idle(): void {
    this.#maybeRun();
  }

  #maybeRun(): void {
    if (this.#scheduled || this.#tasks.length === 0 || this.#backend.inflight > 0) return;
    this.#scheduled = true;
    // On the next turn, so that tasks arriving in this one share the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#run();
    });
  }

  #run(): void {
    if (this.#tasks.length === 0 || this.#backend.inflight > 0) return;
    const tasks = this.#tasks;
    this.#tasks = [];
    const tx = new TxView(this.#backend);
    const replies: Buffer[] = [];
    for (const t of tasks) {
      if (t.cancelled) {
        replies.push(Buffer.alloc(0));
        continue;
      }
      let reply: Buffer;
      try {
        reply = encodeAlone(t.resp, (out) => t.run(tx, out));
      } catch (err) {
        // run() turns errors into replies; this is a bug, answered rather than crashing the server.
        reply = encodeAlone(t.resp, (out) => out.error(`ERR birch internal error: ${(err as Error).message}`));
      }
      replies.push(reply);
      this.#touched(tx.takeWritten());
    }
    let commit: Promise<void> | undefined;
    if (tx.wrote) {
      try {
        commit = this.#backend.batch(tx.ops);
      } catch (err) {
        commit = Promise.reject(err);
      }
    }
    for (let i = 0; i < tasks.length; i++) if (!tasks[i]!.cancelled) tasks[i]!.done(replies[i]!, commit);
    // Open: the writes held back go after the batch.
    const held = [...this.#held];
    this.#held.clear();
    for (const resume of held) resume();
  }
}

/**
 * What a command is: its Redis metadata (arity, flags, key positions, the
 * text COMMAND DOCS gives), and its implementation, in up to two forms:
 *
 * - `run(ctx, args)`: synchronous, on a Db (db.ts). A command without the
 *   `write` flag runs on the committed view; a write runs on a TxView in
 *   the gate (gate.ts) or inside EXEC, and its writes become one batch.
 * - `fast(ctx, args)`: a write that the store can do in one call (SET is a
 *   put, SET NX an add, DEL deletes, MSET a batch) issues it at once and
 *   replies when it is durable; it returns false for arguments it leaves to
 *   run() (SET ... GET). Every fast path gives the reply run() would.
 *
 * @internal
 */
import type { Backend } from '../backend.js';
import type { Cursors } from '../cursors.js';
import type { Db } from '../db.js';
import type { Reply } from '../reply.js';
import type { NameIndex } from './lookup.js';

/** One argument as COMMAND DOCS describes it. */
export interface ArgDoc {
  name: string;
  type: 'string' | 'integer' | 'double' | 'key' | 'pattern' | 'unix-time' | 'pure-token' | 'oneof' | 'block';
  token?: string;
  optional?: boolean;
  multiple?: boolean;
  args?: ArgDoc[];
}

/** The connection as commands see it. */
export interface Client {
  readonly id: number;
  /** Where replies are encoded; `out.resp` is the protocol. */
  readonly out: Reply;
  name: Buffer | undefined;
  libName: string | undefined;
  libVer: string | undefined;
  authenticated: boolean;
  readonly addr: string;
  readonly laddr: string;
  readonly createdAt: number;
  readonly lastActive: number;
  readonly lastCommand: string;
  readonly inMulti: boolean;
  readonly watching: number;
  /** Close the connection once the replies so far are sent (QUIT). */
  closeAfterReply(): void;
  /** RESET: leave MULTI, forget WATCHes, RESP2, no name, not authenticated (with a password set). */
  reset(): void;
}

/** The server as commands see it. */
export interface ServerState {
  readonly backend: Backend;
  readonly startedAt: number;
  /** Whether clients must authenticate. */
  readonly requirePass: boolean;
  /** Constant-time check of a user and password. */
  checkPassword(user: Buffer, password: Buffer): boolean;
  clients(): Iterable<Client>;
  readonly cursors: Cursors;
  /** CONFIG GET's parameters. */
  readonly config: ReadonlyMap<string, string>;
  readonly table: CommandTable;
  stats: { connectionsReceived: number; commandsProcessed: number; rejectedConnections: number };
  /** Where TCP and unix clients connect (INFO). */
  readonly listening: { port: number | undefined; unix: string | undefined };
  /** The largest reply KEYS, SCAN... may build, in bytes. */
  readonly maxReplyBytes: number;
}

export interface Ctx {
  db: Db;
  out: Reply;
  client: Client;
  server: ServerState;
  /** Running as a command of EXEC. */
  inExec: boolean;
}

/** What a fast path may do besides reading. */
export interface FastCtx {
  client: Client;
  server: ServerState;
  /** Reply now, in order after the replies before it. */
  reply(write: (out: Reply) => void): void;
  /** Reply once `p` settles: with encode, or if it rejects with fail (default: an error reply). */
  later<T>(p: Promise<T>, encode: (out: Reply, value: T) => void, fail?: (out: Reply, err: unknown) => void): void;
  /** The keys a write is about to change (for WATCH). */
  touch(key: Buffer): void;
}

export interface CommandSpec {
  /** Lower case; a subcommand is `client|setname`. */
  name: string;
  /** Redis's arity: n means exactly n words (the name included), -n at least n. */
  arity: number;
  /** Redis's command flags (lower case), for COMMAND INFO. */
  flags: readonly string[];
  /** ACL categories (`@read`, `@string`...), for COMMAND INFO. */
  acl: readonly string[];
  /** First key, last key (-1: the last argument), step; 0 0 0 without keys. */
  keys: readonly [number, number, number];
  group: string;
  since: string;
  summary: string;
  complexity?: string;
  args?: readonly ArgDoc[];
  /** Writes: run in the gate (or inside EXEC) unless `fast` takes them. */
  write?: boolean;
  /** Allowed before AUTH (AUTH, HELLO, QUIT, RESET). */
  noAuth?: boolean;
  /** Refused inside MULTI. */
  noMulti?: boolean;
  run?(ctx: Ctx, args: Buffer[]): void;
  fast?(ctx: FastCtx, args: Buffer[]): boolean;
  /** A container (CLIENT, CONFIG, COMMAND): its subcommands by lower-case name. */
  subcommands?: Map<string, CommandSpec>;
  /** Set by commandTable(): the container's name for a subcommand, else the name. */
  base?: string;
  /** Set by commandTable(): subcommands by the bytes of their names. */
  subIndex?: NameIndex<CommandSpec>;
}

export type CommandTable = ReadonlyMap<string, CommandSpec> & {
  /** The command named by these bytes, ignoring ASCII case (no allocation). */
  lookup(name: Uint8Array): CommandSpec | undefined;
};

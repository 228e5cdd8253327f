/**
 * String commands: GET, SET and its options, SETNX, SETEX, PSETEX, GETSET,
 * GETDEL, GETEX, MGET, MSET, MSETNX, STRLEN, GETRANGE, INCR, DECR, INCRBY,
 * DECRBY, APPEND. Semantics and error texts follow Redis's t_string.c.
 *
 * @internal
 */
import { BirchError } from '../../index.js';
import { VALUE_LIMIT, storeErrorText, type Backend } from '../backend.js';
import type { Lifetime } from '../db.js';
import { OK, type Reply } from '../reply.js';
import { int64, isWord, keyError, keysError, valueError } from './args.js';
import { NOT_INTEGER, OVERFLOW, SYNTAX, appendTooLarge, arity, invalidExpire } from './errors.js';
import type { CommandSpec, Ctx, FastCtx } from './spec.js';

const ok = (out: Reply): void => out.raw(OK);
const okOrNull = (out: Reply, done: boolean): void => (done ? out.raw(OK) : out.null());
const oneOrZero = (out: Reply, done: boolean): void => out.int(done ? 1 : 0);
const integer = (out: Reply, n: number | bigint): void => out.int(n);

function fail(ctx: FastCtx, message: string): true {
  ctx.reply((out) => out.error(message));
  return true;
}

const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);

// SET's options, as t_string.c's parseExtendedStringArgumentsOrReply.
const NX = 1;
const XX = 2;
const GET = 4;
const KEEPTTL = 8;
const EX = 16;
const PX = 32;
const EXAT = 64;
const PXAT = 128;
const PERSIST = 256;
const EXPIRES = EX | PX | EXAT | PXAT;

interface SetOptions {
  flags: number;
  /** The expiry argument, if any. */
  expire: Buffer | undefined;
}

/** Parse SET's (from index 3) or GETEX's (from 2) options; a string is an error reply. */
function parseOptions(args: Buffer[], from: number, forSet: boolean): SetOptions | string {
  let flags = 0;
  let expire: Buffer | undefined;
  for (let j = from; j < args.length; j++) {
    const a = args[j]!;
    const hasNext = j + 1 < args.length;
    if (forSet && isWord(a, 'nx') && !(flags & XX)) flags |= NX;
    else if (forSet && isWord(a, 'xx') && !(flags & NX)) flags |= XX;
    else if (forSet && isWord(a, 'get')) flags |= GET;
    else if (forSet && isWord(a, 'keepttl') && !(flags & (PERSIST | EXPIRES))) flags |= KEEPTTL;
    else if (!forSet && isWord(a, 'persist') && !(flags & (EXPIRES | KEEPTTL))) flags |= PERSIST;
    else if (hasNext && !(flags & (KEEPTTL | PERSIST))) {
      let f = 0;
      if (isWord(a, 'ex')) f = EX;
      else if (isWord(a, 'px')) f = PX;
      else if (isWord(a, 'exat')) f = EXAT;
      else if (isWord(a, 'pxat')) f = PXAT;
      if (f === 0 || flags & (EXPIRES & ~f)) return SYNTAX;
      flags |= f;
      expire = args[++j];
    } else {
      return SYNTAX;
    }
  }
  return { flags, expire };
}

/**
 * The absolute deadline (ms) of an EX/PX/EXAT/PXAT argument, as
 * getExpireMillisecondsOrReply: a string is an error reply.
 */
function deadline(arg: Buffer, flags: number, command: string, now: number): number | string {
  const v = int64(arg);
  if (v === undefined) return NOT_INTEGER;
  const seconds = (flags & (EX | EXAT)) !== 0;
  if (v <= 0n || (seconds && v > I64_MAX / 1000n)) return invalidExpire(command);
  let ms = seconds ? v * 1000n : v;
  if (flags & (EX | PX)) ms += BigInt(now);
  if (ms <= 0n || ms > I64_MAX) return invalidExpire(command);
  return Number(ms);
}

/** SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] */
function setRun(ctx: Ctx, args: Buffer[]): void {
  const o = parseOptions(args, 3, true);
  if (typeof o === 'string') return ctx.out.error(o);
  let at: number | undefined;
  if (o.expire !== undefined) {
    const d = deadline(o.expire, o.flags, 'set', Date.now());
    if (typeof d === 'string') return ctx.out.error(d);
    at = d;
  }
  const err = keyError(args[1]!) ?? valueError(args[2]!);
  if (err !== undefined) return ctx.out.error(err);
  const key = args[1]!;
  const old = ctx.db.get(key);
  const f = o.flags;
  if ((f & NX && old !== undefined) || (f & XX && old === undefined)) {
    if (f & GET) ctx.out.bulkOrNull(old);
    else ctx.out.null();
    return;
  }
  const life: Lifetime = at !== undefined ? { at } : f & KEEPTTL ? 'keep' : 'clear';
  // A deadline already past: the key is set and expires at once (Redis deletes it).
  if (at !== undefined && at <= Date.now()) ctx.db.del(key);
  else ctx.db.set(key, args[2]!, life);
  if (f & GET) ctx.out.bulkOrNull(old);
  else ctx.out.raw(OK);
}

function setFast(ctx: FastCtx, args: Buffer[]): boolean {
  const backend = ctx.server.backend;
  if (args.length === 3) {
    // The common case: SET key value.
    const err = keyError(args[1]!) ?? valueError(args[2]!);
    if (err !== undefined) return fail(ctx, err);
    ctx.touch(args[1]!);
    ctx.later(backend.put(args[1]!, args[2]!), ok);
    return true;
  }
  const o = parseOptions(args, 3, true);
  if (typeof o === 'string') return fail(ctx, o);
  // GET reads first: it goes through the gate. KEEPTTL is the store's
  // keepTtl, decided inside the commit.
  if (o.flags & GET) return false;
  let ttl: number | 'keep' | undefined = o.flags & KEEPTTL ? 'keep' : undefined;
  if (o.expire !== undefined) {
    const now = Date.now();
    const d = deadline(o.expire, o.flags, 'set', now);
    if (typeof d === 'string') return fail(ctx, d);
    ttl = d - now;
    // A deadline already past (EXAT/PXAT): set and expired at once, which
    // with NX or XX depends on the key; run() does it in the gate.
    if (ttl <= 0 && o.flags & (NX | XX)) return false;
  }
  const err = keyError(args[1]!) ?? valueError(args[2]!);
  if (err !== undefined) return fail(ctx, err);
  const key = args[1]!;
  ctx.touch(key);
  if (typeof ttl === 'number' && ttl <= 0) ctx.later(backend.delete(key), ok);
  else if (o.flags & NX) ctx.later(backend.add(key, args[2]!, ttl === 'keep' ? undefined : ttl), okOrNull); // absent: nothing to keep
  else if (o.flags & XX) ctx.later(backend.modify(key, args[2]!, ttl), okOrNull);
  else ctx.later(backend.put(key, args[2]!, ttl), ok);
  return true;
}

/** SETEX key seconds value, PSETEX key ms value. */
function setexRun(ms: boolean) {
  return (ctx: Ctx, args: Buffer[]): void => {
    const name = ms ? 'psetex' : 'setex';
    const d = deadline(args[2]!, ms ? PX : EX, name, Date.now());
    if (typeof d === 'string') return ctx.out.error(d);
    const err = keyError(args[1]!) ?? valueError(args[3]!);
    if (err !== undefined) return ctx.out.error(err);
    ctx.db.set(args[1]!, args[3]!, { at: d });
    ctx.out.raw(OK);
  };
}

function setexFast(ms: boolean) {
  return (ctx: FastCtx, args: Buffer[]): boolean => {
    const name = ms ? 'psetex' : 'setex';
    const d = deadline(args[2]!, ms ? PX : EX, name, Date.now());
    if (typeof d === 'string') return fail(ctx, d);
    const err = keyError(args[1]!) ?? valueError(args[3]!);
    if (err !== undefined) return fail(ctx, err);
    const backend = ctx.server.backend;
    ctx.touch(args[1]!);
    const left = d - Date.now();
    ctx.later<unknown>(left > 0 ? backend.put(args[1]!, args[3]!, left) : backend.delete(args[1]!), ok);
    return true;
  };
}

function getRun(ctx: Ctx, args: Buffer[]): void {
  const err = keyError(args[1]!);
  if (err !== undefined) return ctx.out.error(err);
  ctx.out.bulkOrNull(ctx.db.get(args[1]!));
}

/** GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST] */
function getexRun(ctx: Ctx, args: Buffer[]): void {
  const o = parseOptions(args, 2, false);
  if (typeof o === 'string') return ctx.out.error(o);
  let at: number | undefined;
  if (o.expire !== undefined) {
    const d = deadline(o.expire, o.flags, 'getex', Date.now());
    if (typeof d === 'string') return ctx.out.error(d);
    at = d;
  }
  const err = keyError(args[1]!);
  if (err !== undefined) return ctx.out.error(err);
  const key = args[1]!;
  const value = ctx.db.get(key);
  if (value !== undefined) {
    if (at !== undefined) ctx.db.expireAt(key, at);
    else if (o.flags & PERSIST) ctx.db.expireAt(key, undefined);
  }
  ctx.out.bulkOrNull(value);
}

function getsetRun(ctx: Ctx, args: Buffer[]): void {
  const err = keyError(args[1]!) ?? valueError(args[2]!);
  if (err !== undefined) return ctx.out.error(err);
  const old = ctx.db.get(args[1]!);
  ctx.db.set(args[1]!, args[2]!, 'clear');
  ctx.out.bulkOrNull(old);
}

function getdelRun(ctx: Ctx, args: Buffer[]): void {
  const err = keyError(args[1]!);
  if (err !== undefined) return ctx.out.error(err);
  const old = ctx.db.get(args[1]!);
  if (old !== undefined) ctx.db.del(args[1]!);
  ctx.out.bulkOrNull(old);
}

function mgetRun(ctx: Ctx, args: Buffer[]): void {
  const err = keysError(args, 1);
  if (err !== undefined) return ctx.out.error(err);
  ctx.out.array(args.length - 1);
  for (let i = 1; i < args.length; i++) ctx.out.bulkOrNull(ctx.db.get(args[i]!));
}

/** The error for MSET's and MSETNX's arguments, if any. */
function msetError(args: Buffer[], name: string): string | undefined {
  if (args.length % 2 === 0) return arity(name);
  for (let i = 1; i < args.length; i += 2) {
    const err = keyError(args[i]!) ?? valueError(args[i + 1]!);
    if (err !== undefined) return err;
  }
  return undefined;
}

function msetRun(ctx: Ctx, args: Buffer[]): void {
  const err = msetError(args, 'mset');
  if (err !== undefined) return ctx.out.error(err);
  for (let i = 1; i < args.length; i += 2) ctx.db.set(args[i]!, args[i + 1]!, 'clear');
  ctx.out.raw(OK);
}

function msetFast(ctx: FastCtx, args: Buffer[]): boolean {
  const err = msetError(args, 'mset');
  if (err !== undefined) return fail(ctx, err);
  const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [];
  for (let i = 1; i < args.length; i += 2) {
    ctx.touch(args[i]!);
    ops.push({ type: 'put', key: args[i]!, value: args[i + 1]! });
  }
  ctx.later(ctx.server.backend.batch(ops), ok);
  return true;
}

function msetnxRun(ctx: Ctx, args: Buffer[]): void {
  const err = msetError(args, 'msetnx');
  if (err !== undefined) return ctx.out.error(err);
  for (let i = 1; i < args.length; i += 2) {
    if (ctx.db.get(args[i]!) !== undefined) return ctx.out.int(0);
  }
  for (let i = 1; i < args.length; i += 2) ctx.db.set(args[i]!, args[i + 1]!, 'clear');
  ctx.out.int(1);
}

function setnxRun(ctx: Ctx, args: Buffer[]): void {
  const err = keyError(args[1]!) ?? valueError(args[2]!);
  if (err !== undefined) return ctx.out.error(err);
  if (ctx.db.get(args[1]!) !== undefined) return ctx.out.int(0);
  ctx.db.set(args[1]!, args[2]!, 'clear');
  ctx.out.int(1);
}

function setnxFast(ctx: FastCtx, args: Buffer[]): boolean {
  const err = keyError(args[1]!) ?? valueError(args[2]!);
  if (err !== undefined) return fail(ctx, err);
  ctx.touch(args[1]!);
  ctx.later(ctx.server.backend.add(args[1]!, args[2]!), oneOrZero);
  return true;
}

function strlenRun(ctx: Ctx, args: Buffer[]): void {
  const err = keyError(args[1]!);
  if (err !== undefined) return ctx.out.error(err);
  ctx.out.int(ctx.db.get(args[1]!)?.length ?? 0);
}

/** GETRANGE key start end (and SUBSTR), as getrangeCommand: negative indexes count from the end. */
function getrangeRun(ctx: Ctx, args: Buffer[]): void {
  const s = int64(args[2]!);
  const e = int64(args[3]!);
  if (s === undefined || e === undefined) return ctx.out.error(NOT_INTEGER);
  const err = keyError(args[1]!);
  if (err !== undefined) return ctx.out.error(err);
  const v = ctx.db.get(args[1]!);
  if (v === undefined) return ctx.out.bulk(Buffer.alloc(0));
  const len = BigInt(v.length);
  let start = s;
  let end = e;
  if (start < 0n && end < 0n && start > end) return ctx.out.bulk(Buffer.alloc(0));
  if (start < 0n) start += len;
  if (end < 0n) end += len;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= len) end = len - 1n;
  if (v.length === 0 || start > end) return ctx.out.bulk(Buffer.alloc(0));
  ctx.out.bulk(v.subarray(Number(start), Number(end) + 1));
}

/** The increment of INCR, DECR, INCRBY key n, DECRBY key n; a string is an error reply. */
function increment(args: Buffer[], sign: 1n | -1n): bigint | string {
  if (args.length === 2) return sign;
  const by = int64(args[2]!);
  if (by === undefined) return NOT_INTEGER;
  if (sign === -1n && by === I64_MIN) return 'ERR decrement would overflow';
  return sign * by;
}

function incrRun(sign: 1n | -1n) {
  return (ctx: Ctx, args: Buffer[]): void => {
    const by = increment(args, sign);
    if (typeof by === 'string') return ctx.out.error(by);
    const err = keyError(args[1]!);
    if (err !== undefined) return ctx.out.error(err);
    const old = ctx.db.get(args[1]!);
    const cur = old === undefined ? 0n : int64(old);
    if (cur === undefined) return ctx.out.error(NOT_INTEGER);
    const next = cur + by;
    if (next > I64_MAX || next < I64_MIN) return ctx.out.error(OVERFLOW);
    ctx.db.set(args[1]!, Buffer.from(next.toString(), 'latin1'), 'keep');
    ctx.out.int(next);
  };
}

/** A refusal already worded as Redis words it, decided when the store refused. */
class Refused extends Error {}

/** The error reply of a fast path's failed write: Redis's text if the command worded it, else the store error's. */
function refusedOrStore(out: Reply, err: unknown): void {
  out.error(err instanceof Refused ? err.message : storeErrorText(err));
}

/**
 * The store refuses an increment of a value that is not a 64-bit integer,
 * and one that would overflow, with one code (BIRCH_NOT_AN_INTEGER, nothing
 * changed); Redis's clients expect two texts. They are told apart as soon
 * as the refusal arrives, by the value the key holds then: a value that
 * parses and would overflow with `by` is Redis's overflow, anything else
 * not an integer. The value read is that of the commit the increment was
 * refused in, so only another write of the same key in that same group
 * commit, after the increment, can make the text the other one.
 */
function incrRefused(backend: Backend, key: Buffer, by: bigint) {
  return (err: unknown): never => {
    if (!(err instanceof BirchError) || err.code !== 'BIRCH_NOT_AN_INTEGER') throw err;
    const v = backend.get(key);
    const cur = v === undefined ? 0n : int64(v);
    const overflows = cur !== undefined && (cur + by > I64_MAX || cur + by < I64_MIN);
    throw new Refused(overflows ? OVERFLOW : NOT_INTEGER);
  };
}

function incrFast(sign: 1n | -1n) {
  return (ctx: FastCtx, args: Buffer[]): boolean => {
    const by = increment(args, sign);
    if (typeof by === 'string') return fail(ctx, by);
    const err = keyError(args[1]!);
    if (err !== undefined) return fail(ctx, err);
    const key = args[1]!;
    const backend = ctx.server.backend;
    ctx.touch(key);
    ctx.later(backend.incr(key, by).catch(incrRefused(backend, key, by)), integer, refusedOrStore);
    return true;
  };
}

function appendRun(ctx: Ctx, args: Buffer[]): void {
  const err = keyError(args[1]!) ?? valueError(args[2]!);
  if (err !== undefined) return ctx.out.error(err);
  const old = ctx.db.get(args[1]!);
  const next = old === undefined ? args[2]! : Buffer.concat([old, args[2]!]);
  if (next.length > VALUE_LIMIT) return ctx.out.error(appendTooLarge(args[2]!.length));
  ctx.db.set(args[1]!, next, 'keep');
  ctx.out.int(next.length);
}

function appendFast(ctx: FastCtx, args: Buffer[]): boolean {
  const err = keyError(args[1]!) ?? valueError(args[2]!);
  if (err !== undefined) return fail(ctx, err);
  const key = args[1]!;
  const extra = args[2]!.length;
  ctx.touch(key);
  // Past 255 bytes the store refuses and changes nothing: name the limit.
  const refused = (e: unknown): never => {
    throw e instanceof BirchError && e.code === 'BIRCH_VALUE_TOO_LARGE' ? new Refused(appendTooLarge(extra)) : e;
  };
  ctx.later(ctx.server.backend.append(key, args[2]!).catch(refused), integer, refusedOrStore);
  return true;
}

const KEY1: [number, number, number] = [1, 1, 1];
const W = ['write', 'denyoom'];
const R = ['readonly', 'fast'];
const k = (name = 'key'): { name: string; type: 'key' } => ({ name, type: 'key' });
const str = (name: string): { name: string; type: 'string' } => ({ name, type: 'string' });
const int = (name: string): { name: string; type: 'integer' } => ({ name, type: 'integer' });

const expiration = {
  name: 'expiration',
  type: 'oneof' as const,
  optional: true,
  args: [
    { name: 'seconds', type: 'integer' as const, token: 'EX' },
    { name: 'milliseconds', type: 'integer' as const, token: 'PX' },
    { name: 'unix-time-seconds', type: 'unix-time' as const, token: 'EXAT' },
    { name: 'unix-time-milliseconds', type: 'unix-time' as const, token: 'PXAT' },
  ],
};

export const stringCommands: CommandSpec[] = [
  {
    name: 'get', arity: 2, flags: R, acl: ['@read', '@string', '@fast'], keys: KEY1,
    group: 'string', since: '1.0.0', summary: 'Returns the string value of a key.', complexity: 'O(log N)',
    args: [k()], run: getRun,
  },
  {
    name: 'set', arity: -3, flags: W, acl: ['@write', '@string', '@slow'], keys: KEY1, write: true,
    group: 'string', since: '1.0.0', complexity: 'O(log N)',
    summary: 'Sets the string value of a key; NX/XX make it conditional, GET returns the old value, EX/PX/EXAT/PXAT set a lifetime, KEEPTTL keeps it.',
    args: [
      k(), str('value'),
      { name: 'condition', type: 'oneof', optional: true, args: [{ name: 'nx', type: 'pure-token', token: 'NX' }, { name: 'xx', type: 'pure-token', token: 'XX' }] },
      { name: 'get', type: 'pure-token', token: 'GET', optional: true },
      { ...expiration, args: [...expiration.args, { name: 'keepttl', type: 'pure-token', token: 'KEEPTTL' }] },
    ],
    run: setRun, fast: setFast,
  },
  {
    name: 'setnx', arity: 3, flags: [...W, 'fast'], acl: ['@write', '@string', '@fast'], keys: KEY1, write: true,
    group: 'string', since: '1.0.0', summary: 'Sets the value of a key only when it does not exist.', complexity: 'O(log N)',
    args: [k(), str('value')], run: setnxRun, fast: setnxFast,
  },
  {
    name: 'setex', arity: 4, flags: W, acl: ['@write', '@string', '@slow'], keys: KEY1, write: true,
    group: 'string', since: '2.0.0', summary: 'Sets the value and the expiration time in seconds of a key.',
    args: [k(), int('seconds'), str('value')], run: setexRun(false), fast: setexFast(false),
  },
  {
    name: 'psetex', arity: 4, flags: W, acl: ['@write', '@string', '@slow'], keys: KEY1, write: true,
    group: 'string', since: '2.6.0', summary: 'Sets the value and the expiration time in milliseconds of a key.',
    args: [k(), int('milliseconds'), str('value')], run: setexRun(true), fast: setexFast(true),
  },
  {
    name: 'getset', arity: 3, flags: [...W, 'fast'], acl: ['@write', '@string', '@fast'], keys: KEY1, write: true,
    group: 'string', since: '1.0.0', summary: 'Sets the value of a key and returns its previous value.',
    args: [k(), str('value')], run: getsetRun,
  },
  {
    name: 'getdel', arity: 2, flags: ['write', 'fast'], acl: ['@write', '@string', '@fast'], keys: KEY1, write: true,
    group: 'string', since: '6.2.0', summary: 'Returns the value of a key and deletes it.',
    args: [k()], run: getdelRun,
  },
  {
    name: 'getex', arity: -2, flags: ['write', 'fast'], acl: ['@write', '@string', '@fast'], keys: KEY1, write: true,
    group: 'string', since: '6.2.0', summary: 'Returns the value of a key and sets or removes its expiry.',
    args: [k(), { ...expiration, args: [...expiration.args, { name: 'persist', type: 'pure-token', token: 'PERSIST' }] }],
    run: getexRun,
  },
  {
    name: 'mget', arity: -2, flags: R, acl: ['@read', '@string', '@fast'], keys: [1, -1, 1],
    group: 'string', since: '1.0.0', summary: 'Returns the values of one or more keys.',
    args: [{ ...k(), multiple: true }], run: mgetRun,
  },
  {
    name: 'mset', arity: -3, flags: W, acl: ['@write', '@string', '@slow'], keys: [1, -1, 2], write: true,
    group: 'string', since: '1.0.1', summary: 'Sets the values of one or more keys, atomically (one birch batch).',
    args: [{ name: 'data', type: 'block', multiple: true, args: [k(), str('value')] }], run: msetRun, fast: msetFast,
  },
  {
    name: 'msetnx', arity: -3, flags: W, acl: ['@write', '@string', '@slow'], keys: [1, -1, 2], write: true,
    group: 'string', since: '1.0.1', summary: 'Sets the values of one or more keys only when none of them exists, atomically.',
    args: [{ name: 'data', type: 'block', multiple: true, args: [k(), str('value')] }], run: msetnxRun,
  },
  {
    name: 'strlen', arity: 2, flags: R, acl: ['@read', '@string', '@fast'], keys: KEY1,
    group: 'string', since: '2.2.0', summary: 'Returns the length of a string value.',
    args: [k()], run: strlenRun,
  },
  {
    name: 'getrange', arity: 4, flags: ['readonly'], acl: ['@read', '@string', '@slow'], keys: KEY1,
    group: 'string', since: '2.4.0', summary: 'Returns a substring of the string stored at a key.',
    args: [k(), int('start'), int('end')], run: getrangeRun,
  },
  {
    name: 'substr', arity: 4, flags: ['readonly'], acl: ['@read', '@string', '@slow'], keys: KEY1,
    group: 'string', since: '1.0.0', summary: 'Returns a substring of the string stored at a key (GETRANGE).',
    args: [k(), int('start'), int('end')], run: getrangeRun,
  },
  {
    name: 'incr', arity: 2, flags: [...W, 'fast'], acl: ['@write', '@string', '@fast'], keys: KEY1, write: true,
    group: 'string', since: '1.0.0', summary: 'Increments the integer value of a key by one.',
    args: [k()], run: incrRun(1n), fast: incrFast(1n),
  },
  {
    name: 'decr', arity: 2, flags: [...W, 'fast'], acl: ['@write', '@string', '@fast'], keys: KEY1, write: true,
    group: 'string', since: '1.0.0', summary: 'Decrements the integer value of a key by one.',
    args: [k()], run: incrRun(-1n), fast: incrFast(-1n),
  },
  {
    name: 'incrby', arity: 3, flags: [...W, 'fast'], acl: ['@write', '@string', '@fast'], keys: KEY1, write: true,
    group: 'string', since: '1.0.0', summary: 'Increments the integer value of a key by a number.',
    args: [k(), int('increment')], run: incrRun(1n), fast: incrFast(1n),
  },
  {
    name: 'decrby', arity: 3, flags: [...W, 'fast'], acl: ['@write', '@string', '@fast'], keys: KEY1, write: true,
    group: 'string', since: '1.0.0', summary: 'Decrements the integer value of a key by a number.',
    args: [k(), int('decrement')], run: incrRun(-1n), fast: incrFast(-1n),
  },
  {
    name: 'append', arity: 3, flags: [...W, 'fast'], acl: ['@write', '@string', '@fast'], keys: KEY1, write: true,
    group: 'string', since: '2.0.0', summary: 'Appends a string to the value of a key; at most 255 bytes in all.',
    args: [k(), str('value')], run: appendRun, fast: appendFast,
  },
];

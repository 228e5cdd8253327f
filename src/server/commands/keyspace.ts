/**
 * Keyspace commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, KEYS, SCAN, the
 * expiry commands (EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL,
 * PERSIST, EXPIRETIME, PEXPIRETIME), and BIRCH.RANGE, the ordered read
 * Redis has no command for.
 *
 * @internal
 */
import { prefixEnd } from '../../api/encoding/keys.js';
import { literalPrefix, globMatch, matchesAll } from '../glob.js';
import type { Span } from '../db.js';
import type { Reply } from '../reply.js';
import { int64, isWord, keyError, keysError, safeInt } from './args.js';
import { INVALID_CURSOR, NOT_INTEGER, RANGE_ITEM, SYNTAX, invalidExpire } from './errors.js';
import type { CommandSpec, Ctx, FastCtx } from './spec.js';

const integer = (out: Reply, n: number): void => out.int(n);
const oneOrZero = (out: Reply, done: boolean): void => out.int(done ? 1 : 0);

function fail(ctx: FastCtx, message: string): true {
  ctx.reply((out) => out.error(message));
  return true;
}

/** The span of keys a glob pattern can match: its literal prefix. */
function patternSpan(pattern: Buffer): Span {
  const prefix = literalPrefix(pattern);
  if (prefix.length === 0) return {};
  const end = prefixEnd(prefix);
  return { lo: { key: prefix, inclusive: true }, ...(end !== undefined && { hi: { key: end, inclusive: false } }) };
}

function delRun(ctx: Ctx, args: Buffer[]): void {
  const err = keysError(args, 1);
  if (err !== undefined) return ctx.out.error(err);
  let n = 0;
  for (let i = 1; i < args.length; i++) if (ctx.db.del(args[i]!)) n++;
  ctx.out.int(n);
}

function countTrue(results: boolean[]): number {
  let n = 0;
  for (const r of results) if (r) n++;
  return n;
}

/** DEL k1 k2...: one delete per key, issued together (they join one commit). */
function delFast(ctx: FastCtx, args: Buffer[]): boolean {
  const err = keysError(args, 1);
  if (err !== undefined) return fail(ctx, err);
  const backend = ctx.server.backend;
  if (args.length === 2) {
    ctx.touch(args[1]!);
    ctx.later(backend.delete(args[1]!), oneOrZero);
    return true;
  }
  const all: Promise<boolean>[] = [];
  for (let i = 1; i < args.length; i++) {
    ctx.touch(args[i]!);
    all.push(backend.delete(args[i]!));
  }
  ctx.later(
    Promise.all(all).then(countTrue),
    integer,
  );
  return true;
}

function existsRun(ctx: Ctx, args: Buffer[]): void {
  const err = keysError(args, 1);
  if (err !== undefined) return ctx.out.error(err);
  let n = 0;
  for (let i = 1; i < args.length; i++) if (ctx.db.get(args[i]!) !== undefined) n++;
  ctx.out.int(n);
}

function typeRun(ctx: Ctx, args: Buffer[]): void {
  const err = keyError(args[1]!);
  if (err !== undefined) return ctx.out.error(err);
  ctx.out.simple(ctx.db.get(args[1]!) === undefined ? 'none' : 'string');
}

/** Reply-size accounting for KEYS and BIRCH.RANGE: a bulk string costs its bytes plus ~16. */
function tooLarge(ctx: Ctx, what: string): void {
  ctx.out.error(`ERR ${what} reply would exceed ${ctx.server.maxReplyBytes} bytes; use SCAN or BIRCH.RANGE with LIMIT`);
}

function keysRun(ctx: Ctx, args: Buffer[]): void {
  const pattern = args[1]!;
  const all = matchesAll(pattern);
  const found: Buffer[] = [];
  let bytes = 0;
  for (const [k] of ctx.db.range(all ? {} : patternSpan(pattern))) {
    if (!all && !globMatch(pattern, k)) continue;
    bytes += k.length + 16;
    if (bytes > ctx.server.maxReplyBytes) return tooLarge(ctx, 'KEYS');
    found.push(k);
  }
  ctx.out.array(found.length);
  for (const k of found) ctx.out.bulk(k);
}

const SCAN_TYPES = new Set(['string', 'list', 'set', 'zset', 'hash', 'stream']);

/**
 * SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]: up to COUNT keys after
 * the cursor's key are examined, those matching are returned, and the new
 * cursor names the last key examined ("0" when the keys ran out). With a
 * pattern that starts with literal bytes, only keys with that prefix are
 * examined.
 */
function scanRun(ctx: Ctx, args: Buffer[]): void {
  const after = ctx.server.cursors.resolve(args[1]!);
  if (after === undefined) return ctx.out.error(INVALID_CURSOR);
  let count = 10;
  let pattern: Buffer | undefined;
  let wantStrings = true;
  for (let i = 2; i < args.length; i++) {
    const more = i + 1 < args.length;
    if (isWord(args[i]!, 'count') && more) {
      const n = safeInt(args[++i]!);
      if (n === undefined) return ctx.out.error(NOT_INTEGER);
      if (n < 1) return ctx.out.error(SYNTAX);
      count = n;
    } else if (isWord(args[i]!, 'match') && more) {
      pattern = args[++i]!;
      if (matchesAll(pattern)) pattern = undefined;
    } else if (isWord(args[i]!, 'type') && more) {
      const t = args[++i]!.toString('latin1');
      if (!SCAN_TYPES.has(t.toLowerCase())) return ctx.out.error(`ERR unknown type name '${t}'`);
      wantStrings = t.toLowerCase() === 'string';
    } else {
      return ctx.out.error(SYNTAX);
    }
  }
  count = Math.min(count, 100_000);
  const span: Span = pattern === undefined ? {} : patternSpan(pattern);
  if (after !== null && (span.lo === undefined || after.compare(span.lo.key) >= 0)) span.lo = { key: after, inclusive: false };
  span.limit = count;
  const found: Buffer[] = [];
  let last: Buffer | undefined;
  let examined = 0;
  for (const [k] of ctx.db.range(span)) {
    examined++;
    last = k;
    if (!wantStrings) continue;
    if (pattern !== undefined && !globMatch(pattern, k)) continue;
    found.push(k);
  }
  const next = examined < count || last === undefined ? '0' : ctx.server.cursors.create(last);
  ctx.out.array(2);
  ctx.out.bulkText(next);
  ctx.out.array(found.length);
  for (const k of found) ctx.out.bulk(k);
}

/**
 * A ZRANGEBYLEX bound: `-` and `+` (unbounded), `[key` (inclusive),
 * `(key` (exclusive); undefined for unbounded, null if malformed.
 */
function lexBound(b: Buffer): { key: Buffer; inclusive: boolean } | undefined | null {
  if (b.length === 1 && (b[0] === 0x2d || b[0] === 0x2b)) return undefined;
  if (b.length >= 1 && (b[0] === 0x5b || b[0] === 0x28)) return { key: b.subarray(1), inclusive: b[0] === 0x5b };
  return null;
}

/**
 * BIRCH.RANGE min max [REV] [LIMIT offset count] [NOVALUES]: the pairs
 * with min <= key <= max in key order (REV: descending; then, as ZRANGE
 * BYLEX REV, the first bound is the upper one), as a flat array key,
 * value, key, value (keys only with NOVALUES). Bounds are ZRANGEBYLEX's:
 * `-`, `+`, `[key`, `(key`.
 */
function rangeRun(ctx: Ctx, args: Buffer[]): void {
  let reverse = false;
  let values = true;
  let offset = 0;
  let count = Infinity;
  for (let i = 3; i < args.length; i++) {
    if (isWord(args[i]!, 'rev')) reverse = true;
    else if (isWord(args[i]!, 'novalues')) values = false;
    else if (isWord(args[i]!, 'limit') && i + 2 < args.length) {
      const o = safeInt(args[i + 1]!);
      const c = safeInt(args[i + 2]!);
      if (o === undefined || c === undefined) return ctx.out.error(NOT_INTEGER);
      offset = o;
      count = c < 0 ? Infinity : c;
      i += 2;
    } else return ctx.out.error(SYNTAX);
  }
  const a = lexBound(args[1]!);
  const b = lexBound(args[2]!);
  if (a === null || b === null) return ctx.out.error(RANGE_ITEM);
  const lo = reverse ? b : a;
  const hi = reverse ? a : b;
  const boundErr = (lo !== undefined ? keyError(lo.key) : undefined) ?? (hi !== undefined ? keyError(hi.key) : undefined);
  if (boundErr !== undefined) return ctx.out.error(boundErr);
  if (offset < 0 || count === 0) return ctx.out.array(0);
  const span: Span = { reverse, limit: offset + count };
  if (lo !== undefined) span.lo = lo;
  if (hi !== undefined) span.hi = hi;
  const found: Buffer[] = [];
  let bytes = 0;
  let i = 0;
  for (const [k, v] of ctx.db.range(span)) {
    if (i++ < offset) continue;
    bytes += k.length + 16 + (values ? v.length + 16 : 0);
    if (bytes > ctx.server.maxReplyBytes) return tooLarge(ctx, 'BIRCH.RANGE');
    found.push(k);
    if (values) found.push(v);
  }
  ctx.out.array(found.length);
  for (const x of found) ctx.out.bulk(x);
}

// Expiry: the store's per-key lifetimes (Store.put with ttl, expire, persist, ttl).

type Unit = 's' | 'ms';

/** EXPIRE key n [NX|XX|GT|LT] and friends: the deadline in absolute ms, or an error reply. */
function expireDeadline(arg: Buffer, unit: Unit, absolute: boolean, command: string, now: number): number | string {
  const v = int64(arg);
  if (v === undefined) return NOT_INTEGER;
  const limit = 2n ** 63n - 1n;
  let ms = unit === 's' ? v * 1000n : v;
  if (unit === 's' && (v > limit / 1000n || v < -limit / 1000n)) return invalidExpire(command);
  if (!absolute) ms += BigInt(now);
  if (ms > limit || ms < -limit) return invalidExpire(command);
  return Number(ms);
}

// EXPIRE's conditions (Redis 7): bits, as expire.c.
const C_NX = 1;
const C_XX = 2;
const C_GT = 4;
const C_LT = 8;

/** EXPIRE's condition flags from args[3...]; a string is an error reply. */
function expireCondition(args: Buffer[]): number | string {
  let f = 0;
  for (let i = 3; i < args.length; i++) {
    const a = args[i]!;
    if (isWord(a, 'nx')) f |= C_NX;
    else if (isWord(a, 'xx')) f |= C_XX;
    else if (isWord(a, 'gt')) f |= C_GT;
    else if (isWord(a, 'lt')) f |= C_LT;
    else return `ERR Unsupported option ${a.toString('latin1')}`;
  }
  if (f & C_NX && f & (C_XX | C_GT | C_LT)) return 'ERR NX and XX, GT or LT options at the same time are not compatible';
  if (f & C_GT && f & C_LT) return 'ERR GT and LT options at the same time are not compatible';
  return f;
}

function expireRun(unit: Unit, absolute: boolean, command: string) {
  return (ctx: Ctx, args: Buffer[]): void => {
    const now = Date.now();
    const at = expireDeadline(args[2]!, unit, absolute, command, now);
    if (typeof at === 'string') return ctx.out.error(at);
    const f = expireCondition(args);
    if (typeof f === 'string') return ctx.out.error(f);
    const err = keyError(args[1]!);
    if (err !== undefined) return ctx.out.error(err);
    const left = ctx.db.ttl(args[1]!);
    if (left === undefined) return ctx.out.int(0);
    const cur = left === Infinity ? -1 : now + left;
    // As expireGenericCommand: a key without expiry counts as an infinite one for GT and LT.
    if (f & C_NX && cur !== -1) return ctx.out.int(0);
    if (f & C_XX && cur === -1) return ctx.out.int(0);
    if (f & C_GT && (at <= cur || cur === -1)) return ctx.out.int(0);
    if (f & C_LT && at >= cur && cur !== -1) return ctx.out.int(0);
    ctx.db.expireAt(args[1]!, at);
    ctx.out.int(1);
  };
}

function expireFast(unit: Unit, absolute: boolean, command: string) {
  return (ctx: FastCtx, args: Buffer[]): boolean => {
    if (args.length > 3) return false; // NX/XX/GT/LT read the current expiry first
    const now = Date.now();
    const at = expireDeadline(args[2]!, unit, absolute, command, now);
    if (typeof at === 'string') return fail(ctx, at);
    const err = keyError(args[1]!);
    if (err !== undefined) return fail(ctx, err);
    ctx.touch(args[1]!);
    // Store.expire takes ms from now; a deadline not in the future deletes the key (as Redis does), 1 if it existed.
    ctx.later(ctx.server.backend.expire(args[1]!, at - now), oneOrZero);
    return true;
  };
}

function ttlRun(unit: Unit, absolute: boolean) {
  return (ctx: Ctx, args: Buffer[]): void => {
    const err = keyError(args[1]!);
    if (err !== undefined) return ctx.out.error(err);
    const left = ctx.db.ttl(args[1]!);
    if (left === undefined) return ctx.out.int(-2);
    if (left === Infinity) return ctx.out.int(-1);
    // As ttlGenericCommand: a time left in seconds is rounded, an absolute one truncated.
    if (absolute) {
      const at = Date.now() + left;
      return ctx.out.int(unit === 'ms' ? at : Math.floor(at / 1000));
    }
    const ms = Math.max(0, left);
    ctx.out.int(unit === 'ms' ? ms : Math.floor((ms + 500) / 1000));
  };
}

function persistRun(ctx: Ctx, args: Buffer[]): void {
  const err = keyError(args[1]!);
  if (err !== undefined) return ctx.out.error(err);
  const left = ctx.db.ttl(args[1]!);
  if (left === undefined || left === Infinity) return ctx.out.int(0);
  ctx.db.expireAt(args[1]!, undefined);
  ctx.out.int(1);
}

function persistFast(ctx: FastCtx, args: Buffer[]): boolean {
  const err = keyError(args[1]!);
  if (err !== undefined) return fail(ctx, err);
  ctx.touch(args[1]!);
  ctx.later(ctx.server.backend.persist(args[1]!), oneOrZero);
  return true;
}

const KEY1: [number, number, number] = [1, 1, 1];
const k = { name: 'key', type: 'key' as const };
const keys = { name: 'key', type: 'key' as const, multiple: true };
const condition = {
  name: 'condition',
  type: 'oneof' as const,
  optional: true,
  args: ['NX', 'XX', 'GT', 'LT'].map((t) => ({ name: t.toLowerCase(), type: 'pure-token' as const, token: t })),
};

function expireSpec(name: string, unit: Unit, absolute: boolean, since: string, argName: string, summary: string): CommandSpec {
  return {
    name, arity: -3, flags: ['write', 'fast'], acl: ['@keyspace', '@write', '@fast'], keys: KEY1, write: true,
    group: 'generic', since, summary: `${summary}.`,
    args: [k, { name: argName, type: absolute ? 'unix-time' : 'integer' }, condition],
    run: expireRun(unit, absolute, name), fast: expireFast(unit, absolute, name),
  };
}

function ttlSpec(name: string, unit: Unit, absolute: boolean, since: string, summary: string): CommandSpec {
  return {
    name, arity: 2, flags: ['readonly', 'fast'], acl: ['@keyspace', '@read', '@fast'], keys: KEY1,
    group: 'generic', since, summary: `${summary}.`, args: [k], run: ttlRun(unit, absolute),
  };
}

export const keyspaceCommands: CommandSpec[] = [
  {
    name: 'del', arity: -2, flags: ['write'], acl: ['@keyspace', '@write', '@slow'], keys: [1, -1, 1], write: true,
    group: 'generic', since: '1.0.0', summary: 'Deletes one or more keys.', args: [keys], run: delRun, fast: delFast,
  },
  {
    name: 'unlink', arity: -2, flags: ['write', 'fast'], acl: ['@keyspace', '@write', '@fast'], keys: [1, -1, 1], write: true,
    group: 'generic', since: '4.0.0', summary: 'Deletes one or more keys (the same as DEL in birch).', args: [keys], run: delRun, fast: delFast,
  },
  {
    name: 'exists', arity: -2, flags: ['readonly', 'fast'], acl: ['@keyspace', '@read', '@fast'], keys: [1, -1, 1],
    group: 'generic', since: '1.0.0', summary: 'Determines whether one or more keys exist.', args: [keys], run: existsRun,
  },
  {
    name: 'touch', arity: -2, flags: ['readonly', 'fast'], acl: ['@keyspace', '@read', '@fast'], keys: [1, -1, 1],
    group: 'generic', since: '3.2.1', summary: 'Returns the number of existing keys out of those specified.', args: [keys], run: existsRun,
  },
  {
    name: 'type', arity: 2, flags: ['readonly', 'fast'], acl: ['@keyspace', '@read', '@fast'], keys: KEY1,
    group: 'generic', since: '1.0.0', summary: "Determines the type of value stored at a key ('string' or 'none' in birch).",
    args: [k], run: typeRun,
  },
  {
    name: 'keys', arity: 2, flags: ['readonly'], acl: ['@keyspace', '@read', '@slow', '@dangerous'], keys: [0, 0, 0],
    group: 'generic', since: '1.0.0', summary: 'Returns all key names that match a pattern (reads only the pattern\'s literal prefix).',
    complexity: 'O(N) with N the keys under the pattern\'s literal prefix',
    args: [{ name: 'pattern', type: 'pattern' }], run: keysRun,
  },
  {
    name: 'scan', arity: -2, flags: ['readonly'], acl: ['@keyspace', '@read', '@slow'], keys: [0, 0, 0],
    group: 'generic', since: '2.8.0', summary: 'Iterates over the key names in key order; the cursor names the last key returned.',
    args: [
      { name: 'cursor', type: 'integer' },
      { name: 'pattern', type: 'pattern', token: 'MATCH', optional: true },
      { name: 'count', type: 'integer', token: 'COUNT', optional: true },
      { name: 'type', type: 'string', token: 'TYPE', optional: true },
    ],
    run: scanRun,
  },
  {
    name: 'birch.range', arity: -3, flags: ['readonly'], acl: ['@keyspace', '@read', '@slow'], keys: [0, 0, 0],
    group: 'generic', since: '0.1.0', complexity: 'O(log N + M) with M the pairs returned and skipped',
    summary: 'Returns the pairs between two keys in key order (bounds as ZRANGEBYLEX: -, +, [key, (key), as key, value, key, value...',
    args: [
      { name: 'min', type: 'string' },
      { name: 'max', type: 'string' },
      { name: 'rev', type: 'pure-token', token: 'REV', optional: true },
      { name: 'limit', type: 'block', token: 'LIMIT', optional: true, args: [{ name: 'offset', type: 'integer' }, { name: 'count', type: 'integer' }] },
      { name: 'novalues', type: 'pure-token', token: 'NOVALUES', optional: true },
    ],
    run: rangeRun,
  },
  expireSpec('expire', 's', false, '1.0.0', 'seconds', 'Sets the expiration time of a key in seconds'),
  expireSpec('pexpire', 'ms', false, '2.6.0', 'milliseconds', 'Sets the expiration time of a key in milliseconds'),
  expireSpec('expireat', 's', true, '1.2.0', 'unix-time-seconds', 'Sets the expiration time of a key to a Unix timestamp'),
  expireSpec('pexpireat', 'ms', true, '2.6.0', 'unix-time-milliseconds', 'Sets the expiration time of a key to a Unix milliseconds timestamp'),
  ttlSpec('ttl', 's', false, '1.0.0', 'Returns the expiration time in seconds of a key'),
  ttlSpec('pttl', 'ms', false, '2.6.0', 'Returns the expiration time in milliseconds of a key'),
  ttlSpec('expiretime', 's', true, '7.0.0', 'Returns the expiration time of a key as a Unix timestamp'),
  ttlSpec('pexpiretime', 'ms', true, '7.0.0', 'Returns the expiration time of a key as a Unix milliseconds timestamp'),
  {
    name: 'persist', arity: 2, flags: ['write', 'fast'], acl: ['@keyspace', '@write', '@fast'], keys: KEY1, write: true,
    group: 'generic', since: '2.2.0', summary: 'Removes the expiration time of a key.',
    args: [k], run: persistRun, fast: persistFast,
  },
];

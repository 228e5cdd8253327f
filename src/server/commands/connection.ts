/**
 * Connection commands: PING, ECHO, HELLO, AUTH, SELECT, CLIENT, QUIT,
 * RESET. What clients send when they connect must succeed or fail the way
 * Redis's does (see docs/SERVER.md, "What clients send").
 *
 * @internal
 */
import { OK, PONG } from '../reply.js';
import { isWord, lower, safeInt } from './args.js';
import {
  CLIENT_NAME,
  DB_INDEX,
  HELLO_NOAUTH,
  NOPROTO,
  NOT_INTEGER,
  NO_PASSWORD_SET,
  SYNTAX,
  WRONGPASS,
  arity,
} from './errors.js';
import type { Client, CommandSpec, Ctx } from './spec.js';

/** The Redis version birch answers to: 7.2's commands and replies are what it follows. */
export const REDIS_VERSION = '7.2.0';

const DEFAULT_USER = Buffer.from('default');

function pingRun(ctx: Ctx, args: Buffer[]): void {
  if (args.length > 2) return ctx.out.error(arity('ping'));
  if (args.length === 2) ctx.out.bulk(args[1]!);
  else ctx.out.raw(PONG);
}

function echoRun(ctx: Ctx, args: Buffer[]): void {
  ctx.out.bulk(args[1]!);
}

/** Redis's validateClientAttr: printable ASCII without spaces ('!' to '~'). */
function printable(b: Uint8Array): boolean {
  for (const c of b) if (c < 0x21 || c > 0x7e) return false;
  return true;
}

/** HELLO [protover [AUTH user pass] [SETNAME name]] */
function helloRun(ctx: Ctx, args: Buffer[]): void {
  let ver = 0;
  let i = 1;
  if (args.length >= 2) {
    const v = safeInt(args[1]!);
    if (v === undefined) return ctx.out.error('ERR Protocol version is not an integer or out of range');
    if (v < 2 || v > 3) return ctx.out.error(NOPROTO);
    ver = v;
    i = 2;
  }
  let user: Buffer | undefined;
  let pass: Buffer | undefined;
  let name: Buffer | undefined;
  for (; i < args.length; i++) {
    const more = args.length - 1 - i;
    if (isWord(args[i]!, 'auth') && more >= 2) {
      user = args[i + 1]!;
      pass = args[i + 2]!;
      i += 2;
    } else if (isWord(args[i]!, 'setname') && more >= 1) {
      name = args[++i]!;
      if (!printable(name)) return ctx.out.error(CLIENT_NAME);
    } else {
      return ctx.out.error(`ERR Syntax error in HELLO option '${args[i]!.toString('latin1')}'`);
    }
  }
  const c = ctx.client;
  if (user !== undefined && pass !== undefined) {
    if (!ctx.server.checkPassword(user, pass)) return ctx.out.error(WRONGPASS);
    c.authenticated = true;
  }
  if (ctx.server.requirePass && !c.authenticated) return ctx.out.error(HELLO_NOAUTH);
  if (name !== undefined) c.name = name.length === 0 ? undefined : Buffer.from(name);
  if (ver !== 0) ctx.out.resp = ver as 2 | 3;
  const out = ctx.out;
  out.map(7);
  out.bulkText('server');
  out.bulkText('redis');
  out.bulkText('version');
  out.bulkText(REDIS_VERSION);
  out.bulkText('proto');
  out.int(out.resp);
  out.bulkText('id');
  out.int(c.id);
  out.bulkText('mode');
  out.bulkText('standalone');
  out.bulkText('role');
  out.bulkText('master');
  out.bulkText('modules');
  out.array(0);
}

/** AUTH [user] password */
function authRun(ctx: Ctx, args: Buffer[]): void {
  if (args.length > 3) return ctx.out.error(SYNTAX);
  if (args.length === 2 && !ctx.server.requirePass) return ctx.out.error(NO_PASSWORD_SET);
  const user = args.length === 3 ? args[1]! : DEFAULT_USER;
  const pass = args[args.length - 1]!;
  if (!ctx.server.checkPassword(user, pass)) return ctx.out.error(WRONGPASS);
  ctx.client.authenticated = true;
  ctx.out.raw(OK);
}

/** SELECT index: birch has one keyspace, index 0. */
function selectRun(ctx: Ctx, args: Buffer[]): void {
  const id = safeInt(args[1]!);
  if (id === undefined || id < -(2 ** 31) || id >= 2 ** 31) return ctx.out.error(NOT_INTEGER);
  if (id !== 0) return ctx.out.error(DB_INDEX);
  ctx.out.raw(OK);
}

function quitRun(ctx: Ctx): void {
  ctx.out.raw(OK);
  ctx.client.closeAfterReply();
}

function resetRun(ctx: Ctx): void {
  ctx.client.reset();
  ctx.out.simple('RESET');
}

/** One line of CLIENT LIST / CLIENT INFO (a subset of Redis's fields, in its order). */
export function clientLine(c: Client, now: number): string {
  const name = c.name === undefined ? '' : c.name.toString('latin1');
  const age = Math.floor((now - c.createdAt) / 1000);
  const idle = Math.floor((now - c.lastActive) / 1000);
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=-1 name=${name} age=${age} idle=${idle} ` +
    `flags=${c.inMulti ? 'x' : 'N'} db=0 sub=0 psub=0 ssub=0 multi=${c.inMulti ? 0 : -1} watch=${c.watching} ` +
    `cmd=${c.lastCommand} user=default redir=-1 resp=${c.out.resp} lib-name=${c.libName ?? ''} lib-ver=${c.libVer ?? ''}`
  );
}

const clientSubcommands: CommandSpec[] = [
  {
    name: 'client|id', arity: 2, flags: ['noscript', 'loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'connection', since: '5.0.0', summary: 'Returns the unique client ID of the connection.',
    run: (ctx) => ctx.out.int(ctx.client.id),
  },
  {
    name: 'client|setname', arity: 3, flags: ['noscript', 'loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'connection', since: '2.6.9', summary: 'Sets the connection name.', args: [{ name: 'connection-name', type: 'string' }],
    run: (ctx, args) => {
      const name = args[2]!;
      if (!printable(name)) return ctx.out.error(CLIENT_NAME);
      ctx.client.name = name.length === 0 ? undefined : Buffer.from(name);
      ctx.out.raw(OK);
    },
  },
  {
    name: 'client|getname', arity: 2, flags: ['noscript', 'loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'connection', since: '2.6.9', summary: 'Returns the name of the connection.',
    run: (ctx) => ctx.out.bulkOrNull(ctx.client.name),
  },
  {
    name: 'client|setinfo', arity: 4, flags: ['noscript', 'loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'connection', since: '7.2.0', summary: 'Sets information specific to the client or connection (LIB-NAME, LIB-VER).',
    args: [
      {
        name: 'attr', type: 'oneof',
        args: [{ name: 'libname', type: 'string', token: 'LIB-NAME' }, { name: 'libver', type: 'string', token: 'LIB-VER' }],
      },
    ],
    run: (ctx, args) => {
      const attr = lower(args[2]!);
      if (attr !== 'lib-name' && attr !== 'lib-ver') {
        return ctx.out.error(`ERR Unrecognized option '${args[2]!.toString('latin1')}'`);
      }
      const v = args[3]!;
      if (!printable(v)) return ctx.out.error(`ERR ${args[2]!.toString('latin1')} cannot contain spaces, newlines or special characters.`);
      const s = v.length === 0 ? undefined : v.toString('latin1');
      if (attr === 'lib-name') ctx.client.libName = s;
      else ctx.client.libVer = s;
      ctx.out.raw(OK);
    },
  },
  {
    name: 'client|info', arity: 2, flags: ['noscript', 'loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'connection', since: '6.2.0', summary: 'Returns information about the connection.',
    run: (ctx) => ctx.out.bulkText(`${clientLine(ctx.client, Date.now())}\n`),
  },
  {
    name: 'client|list', arity: -2, flags: ['admin', 'noscript', 'loading', 'stale'], acl: ['@admin', '@slow', '@dangerous', '@connection'],
    keys: [0, 0, 0], group: 'connection', since: '2.4.0', summary: 'Lists open connections (CLIENT LIST [ID id ...]).',
    args: [{ name: 'client-id', type: 'integer', token: 'ID', optional: true, multiple: true }],
    run: (ctx, args) => {
      let ids: Set<number> | undefined;
      if (args.length > 2) {
        if (!isWord(args[2]!, 'id') || args.length < 4) return ctx.out.error(SYNTAX);
        ids = new Set();
        for (let i = 3; i < args.length; i++) {
          const id = safeInt(args[i]!);
          if (id === undefined || id <= 0) return ctx.out.error('ERR Invalid client ID');
          ids.add(id);
        }
      }
      const now = Date.now();
      let s = '';
      for (const c of ctx.server.clients()) if (ids === undefined || ids.has(c.id)) s += `${clientLine(c, now)}\n`;
      ctx.out.bulkText(s);
    },
  },
  {
    name: 'client|no-evict', arity: 3, flags: ['admin', 'noscript', 'loading', 'stale'], acl: ['@admin', '@slow', '@dangerous', '@connection'],
    keys: [0, 0, 0], group: 'connection', since: '7.0.0', summary: 'Accepted for compatibility: birch never evicts clients.',
    args: [{ name: 'enabled', type: 'oneof', args: [{ name: 'on', type: 'pure-token', token: 'ON' }, { name: 'off', type: 'pure-token', token: 'OFF' }] }],
    run: (ctx, args) => (isWord(args[2]!, 'on') || isWord(args[2]!, 'off') ? ctx.out.raw(OK) : ctx.out.error(SYNTAX)),
  },
  {
    name: 'client|no-touch', arity: 3, flags: ['noscript', 'loading', 'stale'], acl: ['@slow', '@connection'],
    keys: [0, 0, 0], group: 'connection', since: '7.2.0', summary: 'Accepted for compatibility: birch keeps no access times.',
    args: [{ name: 'enabled', type: 'oneof', args: [{ name: 'on', type: 'pure-token', token: 'ON' }, { name: 'off', type: 'pure-token', token: 'OFF' }] }],
    run: (ctx, args) => (isWord(args[2]!, 'on') || isWord(args[2]!, 'off') ? ctx.out.raw(OK) : ctx.out.error(SYNTAX)),
  },
  {
    name: 'client|help', arity: 2, flags: ['loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'connection', since: '5.0.0', summary: 'Returns helpful text about the different subcommands.',
    run: (ctx) => {
      const lines = [
        'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
        'GETNAME', '    Return the name of the current connection.',
        'ID', '    Return the ID of the current connection.',
        'INFO', '    Return information about the current client connection.',
        'LIST [ID <id> [<id> ...]]', '    Return information about client connections.',
        'SETNAME <name>', '    Assign the name <name> to the current connection.',
        'SETINFO <option> <value>', '    Set client meta attr (LIB-NAME, LIB-VER).',
        'NO-EVICT (ON|OFF)', '    Accepted; birch does not evict clients.',
        'NO-TOUCH (ON|OFF)', '    Accepted; birch keeps no access times.',
        'HELP', '    Print this help.',
      ];
      ctx.out.array(lines.length);
      for (const l of lines) ctx.out.simple(l);
    },
  },
];

const CONN = ['noscript', 'loading', 'stale', 'fast'];

export const connectionCommands: CommandSpec[] = [
  {
    name: 'ping', arity: -1, flags: ['fast'], acl: ['@fast', '@connection'], keys: [0, 0, 0],
    group: 'connection', since: '1.0.0', summary: 'Returns the server\'s liveliness response.',
    args: [{ name: 'message', type: 'string', optional: true }], run: pingRun,
  },
  {
    name: 'echo', arity: 2, flags: ['loading', 'stale', 'fast'], acl: ['@fast', '@connection'], keys: [0, 0, 0],
    group: 'connection', since: '1.0.0', summary: 'Returns the given string.', args: [{ name: 'message', type: 'string' }], run: echoRun,
  },
  {
    name: 'hello', arity: -1, flags: [...CONN, 'no_auth', 'allow_busy'], acl: ['@fast', '@connection'], keys: [0, 0, 0], noAuth: true,
    group: 'connection', since: '6.0.0', summary: 'Handshakes with the server: the protocol (2 or 3), AUTH and SETNAME in one command.',
    args: [
      {
        name: 'arguments', type: 'block', optional: true,
        args: [
          { name: 'protover', type: 'integer' },
          { name: 'auth', type: 'block', token: 'AUTH', optional: true, args: [{ name: 'username', type: 'string' }, { name: 'password', type: 'string' }] },
          { name: 'clientname', type: 'string', token: 'SETNAME', optional: true },
        ],
      },
    ],
    run: helloRun,
  },
  {
    name: 'auth', arity: -2, flags: [...CONN, 'no_auth', 'allow_busy'], acl: ['@fast', '@connection'], keys: [0, 0, 0], noAuth: true,
    group: 'connection', since: '1.0.0', summary: 'Authenticates the connection (the password of --requirepass; the user is "default").',
    args: [{ name: 'username', type: 'string', optional: true }, { name: 'password', type: 'string' }], run: authRun,
  },
  {
    name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], acl: ['@keyspace', '@fast', '@connection'], keys: [0, 0, 0],
    group: 'connection', since: '1.0.0', summary: 'Selects the database: birch has one, index 0.', args: [{ name: 'index', type: 'integer' }],
    run: selectRun,
  },
  {
    name: 'quit', arity: -1, flags: ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth'], acl: ['@fast', '@connection'],
    keys: [0, 0, 0], noAuth: true, group: 'connection', since: '1.0.0', summary: 'Closes the connection.', run: quitRun,
  },
  {
    name: 'reset', arity: 1, flags: [...CONN, 'no_auth', 'allow_busy'], acl: ['@fast', '@connection'], keys: [0, 0, 0], noAuth: true,
    group: 'connection', since: '6.2.0', summary: 'Resets the connection (MULTI, WATCH, protocol, name, authentication).', run: resetRun,
  },
  {
    name: 'client', arity: -2, flags: [], acl: ['@slow'], keys: [0, 0, 0],
    group: 'connection', since: '2.4.0', summary: 'A container for client connection commands.',
    subcommands: new Map(clientSubcommands.map((s) => [s.name.slice('client|'.length), s])),
  },
];


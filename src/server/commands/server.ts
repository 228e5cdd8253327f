/**
 * Server commands: INFO, DBSIZE, CONFIG GET, COMMAND (COUNT, DOCS, INFO,
 * LIST), TIME, FLUSHDB, FLUSHALL.
 *
 * INFO says `redis_version:7.2.0` (clients try RESP3 from 6 on) and
 * `loading:0` (ioredis waits while it is 1); CONFIG GET answers `save`
 * and `appendonly` the way a durable Redis would (redis-benchmark asks);
 * COMMAND DOCS gives redis-cli its help.
 *
 * @internal
 */
import * as os from 'node:os';
import { VERSION } from '../../index.js';
import { globMatch } from '../glob.js';
import { OK, type Reply } from '../reply.js';
import { isWord, lower } from './args.js';
import { SYNTAX } from './errors.js';
import { REDIS_VERSION } from './connection.js';
import type { ArgDoc, CommandSpec, CommandTable, Ctx } from './spec.js';

function dbsizeRun(ctx: Ctx): void {
  ctx.out.int(ctx.db.count());
}

function timeRun(ctx: Ctx): void {
  const us = BigInt(Date.now()) * 1000n + (process.hrtime.bigint() / 1000n) % 1000n;
  ctx.out.array(2);
  ctx.out.bulkText(String(us / 1_000_000n));
  ctx.out.bulkText(String(us % 1_000_000n));
}

/** FLUSHDB / FLUSHALL [ASYNC|SYNC]: every key deleted in one batch (birch has one keyspace). */
function flushRun(ctx: Ctx, args: Buffer[]): void {
  if (args.length === 2 && !isWord(args[1]!, 'sync') && !isWord(args[1]!, 'async')) return ctx.out.error(SYNTAX);
  if (args.length > 2) return ctx.out.error(SYNTAX);
  ctx.db.clear();
  ctx.out.raw(OK);
}

function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let u = 0;
  let v = bytes;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes}B` : `${v.toFixed(2)}${units[u]}`;
}

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'keyspace', 'birch'];

/** INFO [section ...] */
function infoRun(ctx: Ctx, args: Buffer[]): void {
  const wanted = new Set<string>();
  if (args.length === 1) for (const s of DEFAULT_SECTIONS) wanted.add(s);
  for (let i = 1; i < args.length; i++) {
    const s = lower(args[i]!);
    if (s === 'all' || s === 'everything' || s === 'default') for (const d of DEFAULT_SECTIONS) wanted.add(d);
    else wanted.add(s);
  }
  const server = ctx.server;
  const now = Date.now();
  const uptime = Math.floor((now - server.startedAt) / 1000);
  const sections: [string, [string, string | number][]][] = [];
  if (wanted.has('server')) {
    sections.push([
      'Server',
      [
        ['redis_version', REDIS_VERSION],
        ['redis_mode', 'standalone'],
        ['birch_version', VERSION],
        ['os', `${os.type()} ${os.release()} ${os.arch()}`],
        ['arch_bits', 64],
        ['process_id', process.pid],
        ['tcp_port', server.listening.port ?? 0],
        ['unix_socket', server.listening.unix ?? ''],
        ['uptime_in_seconds', uptime],
        ['uptime_in_days', Math.floor(uptime / 86400)],
        ['executable', process.argv[1] ?? ''],
      ],
    ]);
  }
  if (wanted.has('clients')) {
    let n = 0;
    for (const _ of server.clients()) n++;
    sections.push(['Clients', [['connected_clients', n], ['blocked_clients', 0]]]);
  }
  if (wanted.has('memory')) {
    const m = process.memoryUsage();
    sections.push([
      'Memory',
      [
        ['used_memory', m.heapUsed + m.external],
        ['used_memory_human', human(m.heapUsed + m.external)],
        ['used_memory_rss', m.rss],
        ['used_memory_rss_human', human(m.rss)],
        ['maxmemory', 0],
        ['maxmemory_policy', 'noeviction'],
      ],
    ]);
  }
  if (wanted.has('persistence')) {
    sections.push([
      'Persistence',
      [
        ['loading', 0],
        ['async_loading', 0],
        ['rdb_changes_since_last_save', 0],
        ['rdb_bgsave_in_progress', 0],
        ['rdb_last_bgsave_status', 'ok'],
        ['aof_enabled', 1],
        ['aof_rewrite_in_progress', 0],
        ['aof_last_write_status', 'ok'],
        ['birch_durability', 'every write is fsynced before its reply'],
      ],
    ]);
  }
  if (wanted.has('stats')) {
    const s = server.stats;
    sections.push([
      'Stats',
      [
        ['total_connections_received', s.connectionsReceived],
        ['total_commands_processed', s.commandsProcessed],
        ['rejected_connections', s.rejectedConnections],
        ['expired_keys', 0],
        ['evicted_keys', 0],
      ],
    ]);
  }
  if (wanted.has('replication')) sections.push(['Replication', [['role', 'master'], ['connected_slaves', 0]]]);
  if (wanted.has('keyspace')) {
    const n = ctx.db.count();
    sections.push(['Keyspace', n > 0 ? [['db0', `keys=${n},expires=0,avg_ttl=0`]] : []]);
  }
  if (wanted.has('birch')) {
    const st = server.backend.store.stats();
    sections.push([
      'Birch',
      [
        ['birch_keys', st.keys],
        ['birch_height', st.height],
        ['birch_pages_live', st.pagesLive],
        ['birch_pages_on_disk', st.pagesOnDisk],
        ['birch_bytes_on_disk', st.bytesOnDisk],
        ['birch_commits', st.commits],
        ['birch_average_batch', st.averageBatch.toFixed(2)],
        ['birch_cache_hit_rate', st.cacheHitRate.toFixed(4)],
      ],
    ]);
  }
  const text = sections.map(([title, fields]) => `# ${title}\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join('')}`).join('\r\n');
  ctx.out.bulk(Buffer.from(text, 'utf8'));
}

/** CONFIG GET parameter [parameter ...]: a map of the matching parameters. */
function configGetRun(ctx: Ctx, args: Buffer[]): void {
  const found = new Map<string, string>();
  for (let i = 2; i < args.length; i++) {
    const pattern = Buffer.from(lower(args[i]!), 'latin1');
    for (const [k, v] of ctx.server.config) if (globMatch(pattern, Buffer.from(k))) found.set(k, v);
  }
  ctx.out.map(found.size);
  for (const [k, v] of found) {
    ctx.out.bulkText(k);
    ctx.out.bulkText(v);
  }
}

function helpRun(lines: string[]) {
  return (ctx: Ctx): void => {
    ctx.out.array(lines.length);
    for (const l of lines) ctx.out.simple(l);
  };
}

// COMMAND and its subcommands, from the table itself.

function flagsSet(out: Reply, flags: readonly string[]): void {
  out.set(flags.length);
  for (const f of flags) out.simple(f);
}

function commandInfo(out: Reply, spec: CommandSpec): void {
  out.array(10);
  out.bulkText(spec.name);
  out.int(spec.arity);
  flagsSet(out, spec.flags);
  out.int(spec.keys[0]);
  out.int(spec.keys[1]);
  out.int(spec.keys[2]);
  flagsSet(out, spec.acl);
  out.array(0); // tips
  out.array(0); // key specs
  const subs = spec.subcommands === undefined ? [] : [...spec.subcommands.values()];
  out.array(subs.length);
  for (const s of subs) commandInfo(out, s);
}

function argDocs(out: Reply, args: readonly ArgDoc[]): void {
  out.array(args.length);
  for (const a of args) {
    const nested = a.type === 'oneof' || a.type === 'block';
    const flags: string[] = [];
    if (a.optional === true) flags.push('optional');
    if (a.multiple === true) flags.push('multiple');
    // name, type, and display_text (a plain argument) or arguments (oneof, block)
    out.map(3 + (a.token !== undefined ? 1 : 0) + (flags.length > 0 ? 1 : 0));
    out.bulkText('name');
    out.bulkText(a.name);
    out.bulkText('type');
    out.bulkText(a.type);
    if (!nested) {
      out.bulkText('display_text');
      out.bulkText(a.name);
    }
    if (a.token !== undefined) {
      out.bulkText('token');
      out.bulkText(a.token);
    }
    if (flags.length > 0) {
      out.bulkText('flags');
      flagsSet(out, flags);
    }
    if (nested) {
      out.bulkText('arguments');
      argDocs(out, a.args ?? []);
    }
  }
}

function commandDocs(out: Reply, spec: CommandSpec): void {
  const subs = spec.subcommands === undefined ? [] : [...spec.subcommands.values()];
  out.map(3 + (spec.complexity !== undefined ? 1 : 0) + (spec.args !== undefined ? 1 : 0) + (subs.length > 0 ? 1 : 0));
  out.bulkText('summary');
  out.bulkText(spec.summary);
  out.bulkText('since');
  out.bulkText(spec.since);
  out.bulkText('group');
  out.bulkText(spec.group);
  if (spec.complexity !== undefined) {
    out.bulkText('complexity');
    out.bulkText(spec.complexity);
  }
  if (spec.args !== undefined) {
    out.bulkText('arguments');
    argDocs(out, spec.args);
  }
  if (subs.length > 0) {
    out.bulkText('subcommands');
    out.map(subs.length);
    for (const s of subs) {
      out.bulkText(s.name);
      commandDocs(out, s);
    }
  }
}

/** The spec for a name given to COMMAND INFO/DOCS: `get`, or `client|setname`. */
function findSpec(table: CommandTable, name: Buffer): CommandSpec | undefined {
  const n = lower(name);
  const bar = n.indexOf('|');
  if (bar < 0) return table.get(n);
  return table.get(n.slice(0, bar))?.subcommands?.get(n.slice(bar + 1));
}

function commandRun(ctx: Ctx): void {
  const table = ctx.server.table;
  ctx.out.array(table.size);
  for (const spec of table.values()) commandInfo(ctx.out, spec);
}

const commandSubcommands: CommandSpec[] = [
  {
    name: 'command|count', arity: 2, flags: ['loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'server', since: '2.8.13', summary: 'Returns a count of commands.', run: (ctx) => ctx.out.int(ctx.server.table.size),
  },
  {
    name: 'command|docs', arity: -2, flags: ['loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'server', since: '7.0.0', summary: 'Returns documentary information about one, multiple or all commands.',
    args: [{ name: 'command-name', type: 'string', optional: true, multiple: true }],
    run: (ctx, args) => {
      const specs: CommandSpec[] = [];
      if (args.length === 2) specs.push(...ctx.server.table.values());
      for (let i = 2; i < args.length; i++) {
        const s = findSpec(ctx.server.table, args[i]!);
        if (s !== undefined) specs.push(s);
      }
      ctx.out.map(specs.length);
      for (const s of specs) {
        ctx.out.bulkText(s.name);
        commandDocs(ctx.out, s);
      }
    },
  },
  {
    name: 'command|info', arity: -2, flags: ['loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'server', since: '2.8.13', summary: 'Returns information about one, multiple or all commands.',
    args: [{ name: 'command-name', type: 'string', optional: true, multiple: true }],
    run: (ctx, args) => {
      if (args.length === 2) return commandRun(ctx);
      ctx.out.array(args.length - 2);
      for (let i = 2; i < args.length; i++) {
        const s = findSpec(ctx.server.table, args[i]!);
        if (s === undefined) ctx.out.null();
        else commandInfo(ctx.out, s);
      }
    },
  },
  {
    name: 'command|list', arity: -2, flags: ['loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'server', since: '7.0.0', summary: 'Returns a list of command names (FILTERBY PATTERN pattern).',
    run: (ctx, args) => {
      let pattern: Buffer | undefined;
      if (args.length === 5 && isWord(args[2]!, 'filterby') && isWord(args[3]!, 'pattern')) pattern = args[4]!;
      else if (args.length !== 2) return ctx.out.error(SYNTAX);
      const names = [...ctx.server.table.keys()].filter((n) => pattern === undefined || globMatch(pattern, Buffer.from(n)));
      ctx.out.array(names.length);
      for (const n of names) ctx.out.bulkText(n);
    },
  },
  {
    name: 'command|help', arity: 2, flags: ['loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'server', since: '5.0.0', summary: 'Returns helpful text about the different subcommands.',
    run: helpRun([
      'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      '(no subcommand)', '    Return details about all commands.',
      'COUNT', '    Return the total number of commands.',
      'DOCS [<command-name> ...]', '    Return documentary information about commands.',
      'INFO [<command-name> ...]', '    Return details about commands.',
      'LIST [FILTERBY PATTERN <pattern>]', '    Return a list of command names.',
      'HELP', '    Print this help.',
    ]),
  },
];

const configSubcommands: CommandSpec[] = [
  {
    name: 'config|get', arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], acl: ['@admin', '@slow', '@dangerous'], keys: [0, 0, 0],
    group: 'server', since: '2.0.0', summary: "Returns the effective values of configuration parameters (save, appendonly, appendfsync, databases...).",
    args: [{ name: 'parameter', type: 'string', multiple: true }], run: configGetRun,
  },
  {
    name: 'config|help', arity: 2, flags: ['loading', 'stale'], acl: ['@slow'], keys: [0, 0, 0],
    group: 'server', since: '5.0.0', summary: 'Returns helpful text about the different subcommands.',
    run: helpRun([
      'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      'GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.',
      'HELP', '    Print this help.',
    ]),
  },
];

export const serverCommands: CommandSpec[] = [
  {
    name: 'info', arity: -1, flags: ['loading', 'stale'], acl: ['@slow', '@dangerous'], keys: [0, 0, 0],
    group: 'server', since: '1.0.0', summary: 'Returns information and statistics about the server.',
    args: [{ name: 'section', type: 'string', optional: true, multiple: true }], run: infoRun,
  },
  {
    name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], acl: ['@keyspace', '@read', '@fast'], keys: [0, 0, 0],
    group: 'server', since: '1.0.0', summary: 'Returns the number of keys.', run: dbsizeRun,
  },
  {
    name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], acl: ['@fast'], keys: [0, 0, 0],
    group: 'server', since: '2.6.0', summary: 'Returns the server time.', run: timeRun,
  },
  {
    name: 'flushdb', arity: -1, flags: ['write'], acl: ['@keyspace', '@write', '@slow', '@dangerous'], keys: [0, 0, 0], write: true,
    group: 'server', since: '1.0.0', summary: 'Removes all keys, atomically (one birch batch).',
    args: [{ name: 'flush-type', type: 'oneof', optional: true, args: [{ name: 'async', type: 'pure-token', token: 'ASYNC' }, { name: 'sync', type: 'pure-token', token: 'SYNC' }] }],
    run: flushRun,
  },
  {
    name: 'flushall', arity: -1, flags: ['write'], acl: ['@keyspace', '@write', '@slow', '@dangerous'], keys: [0, 0, 0], write: true,
    group: 'server', since: '1.0.0', summary: 'Removes all keys, atomically (one birch batch; birch has one keyspace).',
    args: [{ name: 'flush-type', type: 'oneof', optional: true, args: [{ name: 'async', type: 'pure-token', token: 'ASYNC' }, { name: 'sync', type: 'pure-token', token: 'SYNC' }] }],
    run: flushRun,
  },
  {
    name: 'config', arity: -2, flags: [], acl: ['@slow'], keys: [0, 0, 0],
    group: 'server', since: '2.0.0', summary: 'A container for server configuration commands (GET only).',
    subcommands: new Map(configSubcommands.map((s) => [s.name.slice('config|'.length), s])),
  },
  {
    name: 'command', arity: -1, flags: ['loading', 'stale'], acl: ['@slow', '@connection'], keys: [0, 0, 0],
    group: 'server', since: '2.8.13', summary: 'Returns detailed information about all commands.', run: commandRun,
    subcommands: new Map(commandSubcommands.map((s) => [s.name.slice('command|'.length), s])),
  },
];

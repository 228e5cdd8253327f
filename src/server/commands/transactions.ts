/**
 * MULTI, EXEC, DISCARD, WATCH, UNWATCH: their metadata. They act on the
 * connection's state, so connection.ts runs them (see docs/SERVER.md,
 * "Transactions").
 *
 * @internal
 */
import { OK } from '../reply.js';
import type { CommandSpec } from './spec.js';

const T = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'];

export const transactionCommands: CommandSpec[] = [
  {
    name: 'multi', arity: 1, flags: T, acl: ['@fast', '@transaction'], keys: [0, 0, 0],
    group: 'transactions', since: '1.2.0', summary: 'Starts a transaction: the commands until EXEC apply as one atomic birch batch.',
  },
  {
    name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], acl: ['@slow', '@transaction'], keys: [0, 0, 0],
    group: 'transactions', since: '1.2.0', summary: 'Executes all commands in a transaction, atomically.',
  },
  {
    name: 'discard', arity: 1, flags: T, acl: ['@fast', '@transaction'], keys: [0, 0, 0],
    group: 'transactions', since: '2.0.0', summary: 'Discards a transaction.',
  },
  {
    name: 'watch', arity: -2, flags: T, acl: ['@fast', '@transaction'], keys: [1, -1, 1],
    group: 'transactions', since: '2.2.0', summary: 'Monitors changes to keys to determine the execution of a transaction.',
    args: [{ name: 'key', type: 'key', multiple: true }],
  },
  {
    name: 'unwatch', arity: 1, flags: T, acl: ['@fast', '@transaction'], keys: [0, 0, 0],
    group: 'transactions', since: '2.2.0', summary: 'Forgets about watched keys of a transaction.',
    // Inside MULTI it is queued and does nothing (EXEC forgets the watched keys anyway).
    run: (ctx) => ctx.out.raw(OK),
  },
];

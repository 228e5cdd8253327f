/**
 * The command table: every command birch serves, by lower-case name.
 *
 * @internal
 */
import { connectionCommands } from './connection.js';
import { keyspaceCommands } from './keyspace.js';
import { NameIndex } from './lookup.js';
import { serverCommands } from './server.js';
import type { CommandSpec, CommandTable } from './spec.js';
import { stringCommands } from './strings.js';
import { transactionCommands } from './transactions.js';

export type { CommandSpec, CommandTable, Ctx, FastCtx, Client, ServerState, ArgDoc } from './spec.js';

export function commandTable(): CommandTable {
  const table = new Map<string, CommandSpec>();
  const index = new NameIndex<CommandSpec>();
  for (const list of [connectionCommands, serverCommands, stringCommands, keyspaceCommands, transactionCommands]) {
    for (const spec of list) {
      if (table.has(spec.name)) throw new Error(`command ${spec.name} defined twice`);
      table.set(spec.name, spec);
      index.set(spec.name, spec);
      spec.base = spec.name;
      if (spec.subcommands !== undefined) {
        spec.subIndex = new NameIndex();
        for (const [sub, s] of spec.subcommands) {
          s.base = spec.name;
          spec.subIndex.set(sub, s);
        }
      }
    }
  }
  return Object.assign(table, { lookup: (name: Uint8Array) => index.get(name) });
}

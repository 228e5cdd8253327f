#!/usr/bin/env node
/**
 * The `birch` command. Subcommands are added by the layers that own them.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { register as registerCheck } from '../cli/check.js';
import { register as registerStats } from '../cli/stats.js';
import { register as registerTorture } from '../cli/torture.js';
import { register as registerServe } from '../cli/serve.js';

const program = new Command();
program
  .name('birch')
  .description('birch: an embedded, durable, log-structured B+tree key-value store')
  .version(VERSION, '-V, --version', 'print the version');

// `birch bench` lives in bench/ (compiled to dist/bench/ beside dist/bin/).
const { register } = (await import(new URL('../bench/cli.js', import.meta.url).href)) as { register: (p: Command) => void };
register(program);

registerCheck(program);
registerStats(program);
registerTorture(program);
registerServe(program);

await program.parseAsync(process.argv);

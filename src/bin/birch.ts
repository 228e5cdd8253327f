#!/usr/bin/env node
/**
 * The `birch` command. Subcommands are added by the layers that own them.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { register as registerCheck } from '../cli/check.js';
import { register as registerStats } from '../cli/stats.js';
import { register as registerTorture } from '../cli/torture.js';
import { register as registerBackup } from '../cli/backup.js';
import { register as registerDump } from '../cli/dump.js';
import { register as registerLoad } from '../cli/load.js';
import { register as registerServe } from '../cli/serve.js';

const program = new Command();
program
  .name('birch')
  .description('birch: an embedded, durable, log-structured B+tree key-value store')
  .version(VERSION, '-V, --version', 'print the version');

// `birch bench` lives in bench/ (compiled to dist/bench/ beside dist/bin/) and
// is loaded only when it runs, so that the other commands never depend on it.
// This stand-in takes every argument as is and hands them to the real command
// (which owns the options, their checks and `birch bench --help`).
program
  .command('bench')
  .description("run kivaloo's benchmark workloads (all of them on a 2^18-pair store if none are named) and print a table")
  .usage('[options] [workloads...]')
  .argument('[workloads...]')
  .helpOption(false)
  .allowUnknownOption()
  .allowExcessArguments()
  .addHelpText('after', "\nRun 'birch bench --help' for its options and workloads.")
  .action(async (_args: string[], _opts: unknown, cmd: Command) => {
    const url = new URL('../bench/cli.js', import.meta.url);
    let bench: { register: (p: Command) => Command };
    try {
      bench = (await import(url.href)) as typeof bench;
    } catch (err) {
      cmd.error(`error: birch bench could not be loaded from ${url.pathname} (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); in a clone, run npm run build`);
    }
    const real = new Command().name('birch');
    bench.register(real);
    await real.parseAsync(['bench', ...cmd.args], { from: 'user' });
  });

registerCheck(program);
registerStats(program);
registerTorture(program);
registerBackup(program);
registerDump(program);
registerLoad(program);
registerServe(program);

await program.parseAsync(process.argv);

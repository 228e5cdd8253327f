#!/usr/bin/env node
/**
 * The `birch` command. Subcommands are added by the layers that own them.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';

const program = new Command();
program
  .name('birch')
  .description('birch: an embedded, durable, log-structured B+tree key-value store')
  .version(VERSION, '-V, --version', 'print the version');

await program.parseAsync(process.argv);

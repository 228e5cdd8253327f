/**
 * Running the CLI commands in tests: in-process through register() with the
 * output captured, or as the built `node dist/bin/birch.js` in a child.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { CliIO } from '../../src/cli/io.js';

/** The built CLI. vitest's globalSetup (test/global-build.ts) rebuilds dist/
 * first when src/ or bench/ is newer, so this is the current code. */
export const BIRCH_JS = fileURLToPath(new URL('../../dist/bin/birch.js', import.meta.url));

export interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** Run `birch <args>` in-process with the commands `registers` add. */
export async function runIn(registers: ((p: Command, io: Partial<CliIO>) => unknown)[], args: string[]): Promise<Outcome> {
  let out = '';
  let err = '';
  let code = 0;
  const program = new Command().name('birch').exitOverride();
  program.configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  const io: Partial<CliIO> = {
    out: { write: (s: string) => (out += s) },
    err: { write: (s: string) => (err += s) },
    exit: (c: number) => void (code = c),
  };
  for (const r of registers) r(program, io);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { code: e.exitCode, out, err };
    throw e;
  }
  return { code, out, err };
}

/** Run the built CLI. */
export function runBuilt(args: string[], timeoutMs = 60_000): Outcome {
  const r = spawnSync(process.execPath, [BIRCH_JS, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

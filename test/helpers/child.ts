/**
 * Child processes for cross-process tests: run a script with node, read the
 * first line it prints, and wait for it to exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** Run `node script ...args`; `line` resolves with the first line of its stdout. */
export function spawnScript(script: string, args: string[]): { proc: ChildProcess; line: Promise<string> } {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const line = new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before reporting: ${err}`)));
  });
  return { proc, line };
}

/** Resolves once `proc` has exited (at once if it already has). */
export function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.on('exit', () => resolve());
  });
}

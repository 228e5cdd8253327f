/**
 * Opening an existing store for a command that reads or writes it (backup,
 * dump, load): never creating one by mistake, and turning the errors into a
 * message and an exit status.
 *
 * @internal
 */
import { open, type Store } from '../api/store.js';
import type { OpenOptions } from '../api/types.js';
import { BirchError } from '../errors.js';
import { notAStore } from './io.js';

export type Opened = { ok: true; db: Store } | { ok: false; code: number; message: string };

/**
 * Open the store at `dir` with `opts`. `create`: a missing or empty
 * directory becomes a new store (birch load); otherwise it must hold one.
 * `lockedHint` is added to the message when another handle holds it.
 */
export function openForCommand(dir: string, opts: OpenOptions, create: boolean, lockedHint = ''): Opened {
  if (!create) {
    const why = notAStore(dir);
    if (why !== undefined) return { ok: false, code: 2, message: why };
  }
  try {
    return { ok: true, db: open(dir, opts) };
  } catch (err) {
    if (!(err instanceof BirchError)) return { ok: false, code: 2, message: String(err) };
    const hint = err.code === 'BIRCH_LOCKED' && lockedHint !== '' ? `\n${lockedHint}` : '';
    return { ok: false, code: err.code === 'BIRCH_CORRUPT' ? 1 : 2, message: `${err.code}: ${err.message}${hint}` };
  }
}

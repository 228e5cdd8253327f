/**
 * The one error class birch throws, and the closed set of codes it carries.
 *
 * Callers branch on `err.code`, never on the message: messages are for people
 * and may change, codes are part of the API and do not.
 *
 * | code                    | meaning                                                              |
 * | ----------------------- | -------------------------------------------------------------------- |
 * | `BIRCH_LOCKED`          | another handle (this process or another) holds the store's lock      |
 * | `BIRCH_NOT_A_STORE`     | the path holds files that are not a birch store; nothing was touched |
 * | `BIRCH_CORRUPT`         | on-disk data failed a check (CRC, format, order); never served       |
 * | `BIRCH_IO`              | a read, write or fsync failed (see `cause`); after a failed write or |
 * |                         | fsync the store accepts no more writes until it is reopened          |
 * | `BIRCH_CLOSED`          | the handle (store, snapshot) was closed or released                  |
 * | `BIRCH_BAD_ARGUMENT`    | an argument or option has the wrong type or an invalid value         |
 * | `BIRCH_KEY_TOO_LARGE`   | a key longer than 255 bytes                                          |
 * | `BIRCH_VALUE_TOO_LARGE` | a value longer than 255 bytes                                        |
 * | `BIRCH_BLOCK_SIZE`      | the store was created with another block size than the one asked for, |
 * |                         | or one too small for the B+tree                                      |
 * | `BIRCH_VERSION`         | the store was written in a format this birch does not read (an older |
 * |                         | or newer birch wrote it); nothing was touched                        |
 * | `BIRCH_NOT_AN_INTEGER`  | incr() on a value that is not a 64-bit signed decimal integer, or a  |
 * |                         | result outside that range; the value is left as it was              |
 * | `BIRCH_INTERNAL`        | an invariant of birch itself failed: a bug in birch, not in the      |
 * |                         | caller's input; report it (never thrown for bad input or bad disks)  |
 */
export type BirchErrorCode =
  | 'BIRCH_LOCKED'
  | 'BIRCH_NOT_A_STORE'
  | 'BIRCH_CORRUPT'
  | 'BIRCH_IO'
  | 'BIRCH_CLOSED'
  | 'BIRCH_BAD_ARGUMENT'
  | 'BIRCH_KEY_TOO_LARGE'
  | 'BIRCH_VALUE_TOO_LARGE'
  | 'BIRCH_BLOCK_SIZE'
  | 'BIRCH_VERSION'
  | 'BIRCH_NOT_AN_INTEGER'
  | 'BIRCH_INTERNAL';

export class BirchError extends Error {
  readonly code: BirchErrorCode;
  /** For BIRCH_CORRUPT and BIRCH_IO: the file concerned, where known. */
  readonly file: string | undefined;
  /** For BIRCH_CORRUPT: the byte offset in `file` where the bad data starts. */
  readonly offset: number | undefined;

  constructor(
    code: BirchErrorCode,
    message: string,
    opts: { cause?: unknown; file?: string; offset?: number } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BirchError';
    this.code = code;
    this.file = opts.file;
    this.offset = opts.offset;
  }
}

/**
 * BIRCH_BAD_ARGUMENT from load(): the input is malformed at `line` (1-based),
 * and the `loaded` pairs before it are committed (durably, unless the store
 * runs with sync: false).
 */
export class BirchLoadError extends BirchError {
  readonly line: number;
  readonly loaded: number;

  constructor(line: number, why: string, loaded: number) {
    super('BIRCH_BAD_ARGUMENT', `line ${line}: ${why} (the ${loaded} pairs before it are loaded)`);
    this.name = 'BirchLoadError';
    this.line = line;
    this.loaded = loaded;
  }
}

/** Wrap a system error (EIO, ENOSPC, ...) from `what` on `file` as BIRCH_IO. */
export function ioError(what: string, file: string, cause: unknown): BirchError {
  const sys = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
  return new BirchError('BIRCH_IO', `${what} failed on ${file}: ${sys}`, { cause, file });
}

/** An error's message without the " (file at offset N)" that corrupt() adds (its fields carry the place). */
export function messageWithoutPlace(err: BirchError): string {
  const place = err.file !== undefined ? ` (${err.file} at offset ${err.offset})` : '';
  return place !== '' && err.message.endsWith(place) ? err.message.slice(0, -place.length) : err.message;
}

export function corrupt(message: string, file: string, offset: number): BirchError {
  return new BirchError('BIRCH_CORRUPT', `${message} (${file} at offset ${offset})`, { file, offset });
}

/**
 * Check an internal invariant: if `cond` is false, birch has a bug. The one
 * way invariant failures are raised (never with a user-facing code), so that
 * a caller can tell "my input is wrong" from "birch is wrong".
 */
export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw internalError(message);
}

/** The error for a failed invariant (see invariant()). */
export function internalError(message: string): BirchError {
  return new BirchError('BIRCH_INTERNAL', `internal error (a bug in birch, please report it): ${message}`);
}

/**
 * Error replies, worded as Redis words them (server.c, t_string.c, db.c,
 * multi.c, networking.c, acl.c), because client libraries decide things
 * from these texts: ioredis falls back from RESP3 only on "NOPROTO" or on
 * "unknown command" with "hello"; clients ignore some handshake errors
 * only when they look like Redis's own.
 *
 * @internal
 */
import { KEY_LIMIT, VALUE_LIMIT } from '../backend.js';

export const SYNTAX = 'ERR syntax error';
export const NOT_INTEGER = 'ERR value is not an integer or out of range';
export const NOAUTH = 'NOAUTH Authentication required.';
export const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';
export const NO_PASSWORD_SET =
  'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?';
export const HELLO_NOAUTH =
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time';
export const NOPROTO = 'NOPROTO unsupported protocol version';
export const DB_INDEX = 'ERR DB index is out of range';
export const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';
export const NOT_IN_MULTI = 'ERR Command not allowed inside a transaction';
export const INVALID_CURSOR = 'ERR invalid cursor';
export const NOT_IN_MULTI_WATCH = 'ERR WATCH inside MULTI is not allowed';
export const NO_SUCH_KEY = 'ERR no such key';
export const RANGE_ITEM = 'ERR min or max not valid string range item';
export const OVERFLOW = 'ERR increment or decrement would overflow';
export const CLIENT_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

/** Redis shows at most 128 bytes of a name (%.128s). */
function cut(b: Uint8Array, n = 128): string {
  return Buffer.from(b.subarray(0, n)).toString('latin1');
}

/** `ERR unknown command 'x', with args beginning with: 'a' 'b' ` (commandCheckExistence). */
export function unknownCommand(args: Buffer[]): string {
  let rest = '';
  for (let i = 1; i < args.length && rest.length < 128; i++) rest += `'${cut(args[i]!, 128 - rest.length)}' `;
  return `ERR unknown command '${cut(args[0]!)}', with args beginning with: ${rest}`;
}

/** `ERR unknown subcommand 'x'. Try CLIENT HELP.` */
export function unknownSubcommand(command: string, sub: Uint8Array): string {
  return `ERR unknown subcommand '${cut(sub)}'. Try ${command.toUpperCase()} HELP.`;
}

/** `ERR wrong number of arguments for 'get' command` (the full name: 'client|setname'). */
export function arity(fullname: string): string {
  return `ERR wrong number of arguments for '${fullname}' command`;
}

export function invalidExpire(command: string): string {
  return `ERR invalid expire time in '${command}' command`;
}

/** birch's own: a key or value over kivaloo's 255-byte limit. */
export function keyTooLarge(n: number): string {
  return `ERR key is ${n} bytes, over birch's limit of ${KEY_LIMIT} bytes`;
}

export function valueTooLarge(n: number): string {
  return `ERR value is ${n} bytes, over birch's limit of ${VALUE_LIMIT} bytes`;
}

/**
 * APPEND past the limit. It names the bytes appended, not the length the
 * value would have had: the store refuses an append atomically, and the
 * value it refused to grow may have changed by the time the server could
 * read it again (a later write in the same group commit).
 */
export function appendTooLarge(n: number): string {
  return `ERR appending ${n} byte${n === 1 ? '' : 's'} would make the value longer than birch's limit of ${VALUE_LIMIT} bytes`;
}

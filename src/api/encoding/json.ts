/**
 * The 'json' value encoding: JSON.stringify's text as UTF-8, read back with
 * JSON.parse, refusing what JSON.stringify would silently drop or change.
 *
 * Accepted: null, booleans, finite numbers, strings (lone surrogates too:
 * JSON escapes them), arrays and plain objects of those, and anything with a
 * toJSON method, as JSON.stringify calls it (a Date comes back as its ISO
 * string, a Buffer as { type: 'Buffer', data: [...] }). Refused with
 * BIRCH_BAD_ARGUMENT: undefined, functions and symbols (dropped from objects,
 * null in arrays), NaN and ±Infinity (null), bigints (JSON.stringify throws),
 * other objects without toJSON (a Map or a Set would be {}, a class instance
 * a plain object), and circular structures. -0 comes back as 0.
 *
 * @internal
 */
import { BirchError } from '../../errors.js';
import { describe, isPlainObject, type Codec } from './codec.js';
import { utf8Decode } from './text.js';

function refuse(key: string, why: string): BirchError {
  return new BirchError('BIRCH_BAD_ARGUMENT', `${key === '' ? 'value' : `value at key ${JSON.stringify(key)}`} ${why}`);
}

/** Called by JSON.stringify for every value, after its toJSON. */
function replacer(key: string, v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw refuse(key, `is ${v}, which JSON cannot hold (it would be written as null)`);
      return v;
    case 'bigint':
      throw refuse(key, `is ${describe(v)}, which JSON cannot hold`);
    case 'object':
      if (v === null || Array.isArray(v) || isPlainObject(v)) return v;
      throw refuse(key, `is ${describe(v)}, which JSON would not read back as itself; give it a toJSON method or convert it first`);
    default:
      throw refuse(key, `is ${describe(v)}, which JSON cannot hold (it would be dropped)`);
  }
}

export const jsonCodec: Codec<unknown, unknown> = Object.freeze({
  encoding: 'json',
  encode(x: unknown): Buffer {
    let text: string | undefined;
    try {
      text = JSON.stringify(x, replacer);
    } catch (e) {
      if (e instanceof BirchError) throw e;
      // A cycle, or a toJSON that threw.
      throw new BirchError('BIRCH_BAD_ARGUMENT', `value cannot be encoded as JSON: ${(e as Error).message}`, { cause: e });
    }
    if (text === undefined) throw refuse('', `is ${describe(x)}, which JSON cannot hold`);
    // JSON.stringify escapes lone surrogates (ES2019), so the text is well-formed.
    return Buffer.from(text, 'utf8');
  },
  decode(b: Buffer): unknown {
    const text = utf8Decode(b, "value (encoding 'json')");
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new BirchError('BIRCH_CORRUPT', `value (encoding 'json') is not JSON: ${(e as Error).message}`, { cause: e });
    }
  },
});

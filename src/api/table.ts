/**
 * A table: the store's read and write API over keys isolated from every
 * other table and from the store's own keys (tables.ts says how).
 */
import { Access } from './access.js';
import type { Codec, KeyCodec } from './encoding/index.js';
import type { Keyspace } from './keyspace.js';
import type { Bytes } from './types.js';

export class Table<KIn = Bytes, KOut = Buffer, VIn = Bytes, VOut = Buffer> extends Access<KIn, KOut, VIn, VOut> {
  /** The table's name. */
  readonly name: string;

  /** @internal Use Store.table(). */
  constructor(name: string, ks: Keyspace, codecs: { kc: KeyCodec<unknown, unknown>; vc: Codec<unknown, unknown> }) {
    super(ks, codecs);
    this.name = name;
  }
}

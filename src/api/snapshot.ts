/**
 * A consistent, read-only view of the store at one commit: its own keys and
 * every table's, all at that commit. See readers.ts for the pin that keeps
 * the commit's blocks from being freed.
 */
import type { Commit, Tree } from '../btree/index.js';
import { Reader, codecsOf } from './access.js';
import type { KeyEncoding, KeyEncodingFor, KeyInput, KeyOf, ValueEncoding, ValueEncodingFor, ValueOf } from './encoding/index.js';
import { Keyspace, type Owner } from './keyspace.js';
import { pinSnapshot } from './readers.js';
import type { Tables } from './tables.js';
import type { Bytes } from './types.js';

export class Snapshot<KIn = Bytes, KOut = Buffer, VOut = Buffer> extends Reader<KIn, KOut, VOut> {
  readonly #owner: Owner;
  readonly #tables: Tables;
  readonly #commit: Commit;
  readonly #release: () => void;
  readonly #state: ReturnType<typeof pinSnapshot>['state'];

  /** @internal Use Store.snapshot(). */
  constructor(own: Keyspace, codecs: ConstructorParameters<typeof Reader>[1], tables: Tables, tree: Tree, storeAlive: () => void) {
    const commit = tree.committed;
    const pin = pinSnapshot(tree, commit, storeAlive);
    super(own, codecs, { commit, state: pin.state });
    this.#owner = own.owner;
    this.#tables = tables;
    this.#commit = commit;
    this.#release = pin.release;
    this.#state = pin.state;
    pin.register(this);
  }

  /** Table `name` as it was at this snapshot's commit (empty if it did not exist), read-only. */
  table<KE extends KeyEncoding = 'binary', VE extends ValueEncoding = 'binary'>(
    name: string,
    options?: { keyEncoding?: KE; valueEncoding?: VE },
  ): Reader<KeyInput<KE>, KeyOf<KE>, ValueOf<VE>>;
  table<K, V>(name: string, options: { keyEncoding: KeyEncodingFor<K>; valueEncoding: ValueEncodingFor<V> }): Reader<K, K, V>;
  table(name: string, options?: { keyEncoding?: KeyEncoding; valueEncoding?: ValueEncoding }): Reader<unknown, unknown, unknown> {
    this.#state.alive();
    const codecs = codecsOf(options);
    const ks = new Keyspace(this.#owner, this.#tables.sourceAt(name, this.#commit));
    return new Reader(ks, codecs, { commit: this.#commit, state: this.#state });
  }

  /** Let the cleaner reclaim the blocks this view holds. Idempotent. */
  release(): void {
    this.#release();
  }
}

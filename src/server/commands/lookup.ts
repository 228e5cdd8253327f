/**
 * Finding a command by the bytes of its name, ignoring ASCII case, without
 * allocating: a hash of the lower-cased bytes picks the candidates, whose
 * names are then compared byte by byte. The command name is looked up for
 * every request, so this is on the hot path.
 *
 * @internal
 */

/** FNV-1a over the bytes with A-Z folded to a-z. */
function foldedHash(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    let c = b[i]!;
    if (c >= 0x41 && c <= 0x5a) c += 32;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

export class NameIndex<T> {
  readonly #buckets = new Map<number, { name: Buffer; value: T }[]>();

  /** `name` in lower case (ASCII). */
  set(name: string, value: T): void {
    const b = Buffer.from(name, 'latin1');
    const h = foldedHash(b);
    let list = this.#buckets.get(h);
    if (list === undefined) this.#buckets.set(h, (list = []));
    list.push({ name: b, value });
  }

  get(b: Uint8Array): T | undefined {
    const list = this.#buckets.get(foldedHash(b));
    if (list === undefined) return undefined;
    outer: for (const e of list) {
      const n = e.name;
      if (n.length !== b.length) continue;
      for (let i = 0; i < n.length; i++) {
        let c = b[i]!;
        if (c >= 0x41 && c <= 0x5a) c += 32;
        if (c !== n[i]) continue outer;
      }
      return e.value;
    }
    return undefined;
  }
}

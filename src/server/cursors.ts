/**
 * SCAN cursors. A cursor stands for the last key a SCAN returned: the next
 * call resumes just after that key, so keys written or deleted meanwhile
 * never shift it (an offset would skip or repeat keys). Every key present
 * for the whole scan is returned exactly once; keys added or removed
 * during it may or may not be.
 *
 * Redis's tools take a cursor as an unsigned 64-bit decimal (redis-cli
 * --scan reads it with strtoull, redis-py with int()), and a key is up to
 * 255 bytes, so the key cannot be the cursor itself. The server keeps
 * them: a cursor is a random number below 2^53 (exact as a JavaScript
 * number and as a double) naming the key in a table of the most recent
 * `capacity` cursors, oldest dropped first. A dropped or unknown cursor
 * gets `ERR invalid cursor` (as a malformed one does in Redis), never a
 * wrong position. Cursors do not survive a restart.
 *
 * @internal
 */
import { randomInt } from 'node:crypto';

export class Cursors {
  readonly #keys = new Map<number, Buffer>();
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** A new cursor for resuming after `key`. */
  create(key: Buffer): string {
    let id: number;
    do id = randomInt(1, 2 ** 48) * 32 + randomInt(0, 32);
    while (this.#keys.has(id));
    this.#keys.set(id, Buffer.from(key));
    if (this.#keys.size > this.capacity) {
      const oldest = this.#keys.keys().next().value as number;
      this.#keys.delete(oldest);
    }
    return String(id);
  }

  /** The key a cursor resumes after; null for cursor 0 (the start); undefined if unknown. */
  resolve(cursor: Buffer): Buffer | null | undefined {
    const s = cursor.toString('latin1');
    if (s === '0') return null;
    if (!/^[1-9][0-9]{0,15}$/.test(s)) return undefined;
    return this.#keys.get(Number(s));
  }

  get size(): number {
    return this.#keys.size;
  }
}

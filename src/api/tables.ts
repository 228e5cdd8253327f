/**
 * Tables: named keyspaces inside one store (docs/DESIGN.md, "Tables").
 *
 * A table's keys live in keyspace KS_TABLES behind the table's id, a varint
 * (btree/entry.ts): `[1][varint(id)][key]`. The catalog (keyspace
 * KS_CATALOG) maps each name to its id; the pair with the empty name holds
 * the next id to give. Ids are never given twice, so the keys of a dropped
 * table can never show through a new table of the same name, and a read
 * under an id that is not committed yet simply finds nothing.
 *
 * A table comes into being with its first write: the catalog pairs go in
 * the same batch as that write (or an earlier one), never a later one, so a
 * committed table key always has its catalog entry. Dropping a table is one
 * atomic commit: its catalog entry goes and a KS_DROPPED marker comes; its
 * keys are then deleted in the background (cleaner/purger.ts), invisible to
 * every reader from that commit on, and the marker survives a crash until
 * the work is done.
 *
 * This file keeps the catalog's state in memory: ids by name in issue order
 * (what writes use) and the drops not yet committed (what reads must still
 * see past).
 *
 * @internal
 */
import { BirchError } from '../errors.js';
import { KS_CATALOG, KS_DROPPED, KS_TABLES, makeEntry, sortKey, tablePrefix, type Commit, type Op, type Tree } from '../btree/index.js';
import type { Space } from './input.js';
import type { SpaceSource } from './keyspace.js';

/** The longest table name, in UTF-8 bytes (a catalog key). */
export const MAX_TABLE_NAME = 255;

interface Entry {
  id: number;
  space: Space;
  /** Until a batch holding its catalog pairs has committed, every write carries them. */
  created: boolean;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

/** A table's name as its catalog key; BIRCH_BAD_ARGUMENT if it is not a usable name. */
export function tableNameIn(name: unknown): Buffer {
  if (typeof name !== 'string' || name.length === 0) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `a table name must be a non-empty string, got ${name === '' ? 'the empty string' : typeof name}`);
  }
  if (/[\uD800-\uDFFF]/u.test(name)) {
    // Node would write a lone surrogate as U+FFFD: two names, one catalog key.
    throw new BirchError('BIRCH_BAD_ARGUMENT', 'a table name must be well-formed UTF-16 (it has a lone surrogate)');
  }
  const b = Buffer.from(name, 'utf8');
  if (b.length > MAX_TABLE_NAME) {
    throw new BirchError('BIRCH_BAD_ARGUMENT', `table name of ${b.length} bytes exceeds ${MAX_TABLE_NAME}`);
  }
  return b;
}

const spaceOf = (id: number): Space => ({ keyspace: KS_TABLES, prefix: tablePrefix(id) });
/**
 * Where reads of a table that does not exist go: id 0, which is never given,
 * so nothing is ever found there, and keys are checked as for a table with
 * a 1-byte prefix, as reads of an existing table check them.
 */
const NO_TABLE: Space = spaceOf(0);
const NEXT_ID_KEY = sortKey(Buffer.alloc(0), KS_CATALOG);

export class Tables {
  /** Ids by name, in issue order: what a write to a name goes to. */
  private readonly byName = new Map<string, Entry>();
  /** Entries whose drop is issued but not committed, by name: reads still see them while the commit they read has the name. */
  private readonly dropping = new Map<string, Entry[]>();
  private nextId = 1;

  constructor(private readonly tree: Tree) {
    const c = tree.committed;
    for (const [name, id] of this.catalog(c)) {
      this.byName.set(name, { id, space: spaceOf(id), created: true });
      if (id >= this.nextId) this.nextId = id + 1;
    }
    const next = tree.getIn(c, NEXT_ID_KEY, NEXT_ID_KEY.length);
    if (next !== undefined && next.length === 4) this.nextId = Math.max(this.nextId, next.readUInt32LE(0));
  }

  /** The catalog of `commit`: every table name with its id, in name order. */
  catalog(commit: Commit): Array<[string, number]> {
    const lo = Buffer.from([KS_CATALOG, 0]); // past the empty name (the next id)
    const hi = Buffer.from([KS_CATALOG + 1]);
    const out: Array<[string, number]> = [];
    const it = this.tree.range(commit, { key: lo, inclusive: true }, { key: hi, inclusive: false }, false, Infinity, (k, v) => [k, v] as const, () => {});
    for (const [k, v] of it) {
      if (v.length !== 4) throw new BirchError('BIRCH_CORRUPT', `table catalog entry of ${v.length} bytes (expected 4)`);
      out.push([k.toString('utf8', 1), v.readUInt32LE(0)]);
    }
    return out;
  }

  /** Names of the tables that hold at least one live key in `commit`, in name order. */
  list(commit: Commit): string[] {
    const out: string[] = [];
    for (const [name, id] of this.catalog(commit)) {
      const prefix = Buffer.concat([Buffer.from([KS_TABLES]), tablePrefix(id)]);
      const end = Buffer.from(prefix);
      end[end.length - 1]!++; // a varint's last byte is below 0x80
      const it = this.tree.range(commit, { key: prefix, inclusive: true }, { key: end, inclusive: false }, false, 1, () => true, () => {});
      if (!it.next().done) out.push(name);
      it.return?.();
    }
    return out;
  }

  /** Where reads of table `name` go in `commit` (live reads: the latest commit). */
  source(name: string): SpaceSource {
    const key = tableNameIn(name);
    return {
      read: (commit) => this.readSpace(name, key, commit),
      write: () => this.writeSpace(name, key),
      committed: (space) => this.committed(name, space),
    };
  }

  /** A source fixed at one commit's catalog (a snapshot's tables). */
  sourceAt(name: string, commit: Commit): SpaceSource {
    const key = tableNameIn(name);
    const v = this.tree.getIn(commit, catalogKey(key), 1 + key.length);
    const space = v === undefined ? NO_TABLE : spaceOf(v.readUInt32LE(0));
    return {
      read: () => space,
      write: () => {
        throw new BirchError('BIRCH_BAD_ARGUMENT', 'a snapshot is read-only');
      },
    };
  }

  private readSpace(name: string, key: Buffer, commit: Commit): Space {
    const pending = this.dropping.get(name);
    if (pending !== undefined) {
      // A drop (or several) of this name is not committed yet: the commit
      // being read may still hold the table it dropped.
      const v = this.tree.getIn(commit, catalogKey(key), 1 + key.length);
      if (v !== undefined) {
        const id = v.readUInt32LE(0);
        const e = pending.find((p) => p.id === id);
        if (e !== undefined) return e.space;
      }
    }
    return this.byName.get(name)?.space ?? NO_TABLE;
  }

  private writeSpace(name: string, key: Buffer): { space: Space; before: Op[] | undefined } {
    let e = this.byName.get(name);
    if (e === undefined) {
      const id = this.nextId++;
      if (id > 0xffff_ffff) throw new BirchError('BIRCH_BAD_ARGUMENT', 'no table ids left');
      e = { id, space: spaceOf(id), created: false };
      this.byName.set(name, e);
    }
    if (e.created) return { space: e.space, before: undefined };
    return { space: e.space, before: this.createOps(e, key) };
  }

  /** The catalog pairs of a new table (idempotent: every write until one commits carries them). */
  private createOps(e: Entry, key: Buffer): Op[] {
    return [
      { kind: 'put', entry: makeEntry(key, u32(e.id), KS_CATALOG) },
      { kind: 'put', entry: makeEntry(Buffer.alloc(0), u32(Math.max(this.nextId, e.id + 1)), KS_CATALOG) },
    ];
  }

  /** Record that a batch carrying `before` (from write()) committed. */
  committed(name: string, space: Space): void {
    const e = this.byName.get(name);
    if (e !== undefined && e.space === space) e.created = true;
  }

  /**
   * The operations that drop table `name` (one atomic request), or undefined
   * if no table of that name exists. `done(ok)` must be called once they
   * have committed (or failed).
   */
  drop(name: string): { ops: Op[]; done: (ok: boolean) => void } | undefined {
    const key = tableNameIn(name);
    const e = this.byName.get(name);
    if (e === undefined) return undefined;
    this.byName.delete(name);
    const list = this.dropping.get(name) ?? [];
    list.push(e);
    this.dropping.set(name, list);
    const ops: Op[] = [
      { kind: 'del', key: catalogKey(key) },
      { kind: 'put', entry: makeEntry(tablePrefix(e.id), Buffer.alloc(0), KS_DROPPED) },
    ];
    const done = (ok: boolean): void => {
      const l = this.dropping.get(name);
      if (l !== undefined) {
        const i = l.indexOf(e);
        if (i >= 0) l.splice(i, 1);
        if (l.length === 0) this.dropping.delete(name);
      }
      // A failed drop leaves the table as it was, unless the name was written again meanwhile.
      if (!ok && !this.byName.has(name)) this.byName.set(name, e);
    };
    return { ops, done };
  }
}

function catalogKey(name: Buffer): Buffer {
  return sortKey(name, KS_CATALOG);
}

/**
 * FaultFS: a FileIO for tests that runs every call on the real node:fs inside
 * one root directory and, on the side, keeps the model of what a power loss
 * would leave behind. Crash tests of the block store (and later of the whole
 * store) pass it as the `io` option.
 *
 * What it simulates
 * - Durability of file data. Per file (per inode: renames and unlinks keep
 *   the identity) it keeps the "durable image", the content as of its last
 *   fdatasync/fsync, and the writes and truncates made since.
 * - Durability of directory entries. Per directory it keeps the entries as of
 *   its last fsyncDir/fsyncDirSync and the creates (open with a creating
 *   flag, mkdir), renames and unlinks made since. mkdir is an entry in the
 *   parent: a directory whose parent was never fsynced may vanish whole.
 * - `crash(rng)`, a power loss. Every directory becomes its durable entries
 *   plus each pending entry operation applied or not, independently (so a
 *   file created and never covered by a directory fsync may vanish, and an
 *   unlink not covered may be undone, bringing back the file's durable image
 *   plus its own unsynced writes). Every file becomes its durable image plus
 *   each unsynced write independently dropped, kept, or torn (a random prefix
 *   kept; or each 512-byte sector of it kept or not; or a random part of it
 *   replaced by garbage, random bytes or zeros; a kept piece past the old
 *   end grows the file, with zeros in any gap before it), and each unsynced
 *   truncate applied or not, all applied in a random order. Then
 *   the instance is dead: every later call throws (except closeSync, so that
 *   a handle can still close its descriptors and release its lock).
 * - A failed fdatasync/fsync of a file, as Linux handles it: by the time the
 *   error is reported the kernel has marked the dirty pages clean (they left
 *   the write-back set and may never reach the disk), and it reports the
 *   error once. So the file's unsynced writes leave the durable path: no
 *   later fsync makes them durable (a later fsync of the file succeeds, and
 *   covers only what was written after the failure), and on a crash() each
 *   of them is still dropped, kept or torn on its own, as if never synced
 *   (pessimistic: some may have reached the disk in the failed write-back),
 *   before whatever was synced after the failure is applied. Reads keep
 *   returning them (they stay in the page cache). Unsynced truncates are
 *   metadata and stay pending: the next fsync that succeeds makes them
 *   durable. A failed directory fsync is like any failed call: its entries
 *   stay pending, and the next one that succeeds makes them durable.
 * - Injected errors. `failAt({ n, kind?, code, sticky, kill })` makes the
 *   n-th call from now (counting all calls, or only calls of one kind) throw
 *   an errno error (code 'EIO' or 'ENOSPC', with `errno`, `syscall`), once or
 *   for every later call of that count. A failed call has no effect, but for
 *   the failed file sync above. With `kill` the failure stands for the
 *   process being killed there, not for an I/O error: a failed file sync
 *   then loses nothing either (see FaultSpec). `ops` and `count(kind)` count
 *   calls, so a test can measure a workload and then fail or crash at each
 *   of its operations in turn.
 *
 * What it does not simulate
 * - It never calls the real fsync (durability is only modelled): fast, but
 *   the files on disk are only as durable as the OS makes them.
 * - Partial success of a failed call (a failing write writes nothing), a
 *   short read, a read of data that the OS lost (after a failed fsync the
 *   page cache keeps serving the lost writes; a real kernel may evict them
 *   and serve the old disk content instead), and silent corruption of synced
 *   data (tests flip bits by hand for that).
 * - Any ordering guarantee: every file, directory and pending operation is
 *   decided on its own, which is more pessimistic than ext4's journal (e.g.
 *   a rename may survive while the create before it did not, and of two
 *   unlinks the later may survive alone).
 * - Files it does not know: everything under `root` at construction is taken
 *   as durable; files made behind its back (the store's lock file, made with
 *   node:fs directly) are left alone by crash() unless their directory goes.
 * - closeSync is neither counted nor failed. Only flags r, r+, w, w+, wx, wx+
 *   are supported, and renames only within one directory.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FileIO } from '../../src/lbs/fileio.js';
import type { Rng } from './rng.js';

export type OpKind =
  | 'open'
  | 'read'
  | 'write' // write and writeSync
  | 'fdatasync' // fdatasync and fsyncSync
  | 'fsyncDir' // fsyncDir and fsyncDirSync
  | 'truncate'
  | 'size'
  | 'readdir'
  | 'stat'
  | 'mkdir'
  | 'rename'
  | 'unlink';

export interface FaultSpec {
  /** 1-based: the n-th call (of `kind`, or of any kind) from now fails. */
  n: number;
  kind?: OpKind;
  code?: 'EIO' | 'ENOSPC';
  /** true: that call and every later one (of `kind`) fail. Default false. */
  sticky?: boolean;
  /**
   * true: the failure stands for the process going down (killed), not for an
   * I/O error: the call throws (so the code under test stops), but the
   * kernel is fine, so a failed file sync loses nothing; the page cache stays
   * for whoever opens the files next. Default false: an I/O error.
   */
  kill?: boolean;
}

type FileOp = { op: 'write'; pos: number; data: Buffer } | { op: 'truncate'; len: number };
/**
 * An operation made since the durable image: 'pending' until an fsync of
 * the file; then 'synced' if that succeeded, or, for a write, 'lost' if it
 * failed (a failed fsync leaves truncates pending).
 */
interface FileLogEntry {
  op: FileOp;
  state: 'pending' | 'synced' | 'lost';
}
interface FileNode {
  type: 'file';
  /** The content up to the first operation not known to be durable. */
  durable: Buffer;
  /** Every operation since, in order; the first is never 'synced'. */
  log: FileLogEntry[];
}
type DirOp =
  | { op: 'link'; name: string; node: Node }
  | { op: 'unlink'; name: string; node: Node }
  | { op: 'rename'; from: string; to: string; node: Node };
interface DirNode {
  type: 'dir';
  live: Map<string, Node>;
  durable: Map<string, Node>;
  pending: DirOp[];
}
type Node = FileNode | DirNode;

interface Rule {
  base: number;
  spec: FaultSpec;
}

const FLAGS = new Set(['r', 'r+', 'w', 'w+', 'wx', 'wx+']);
const SECTOR = 512;

export function errnoError(code: 'EIO' | 'ENOSPC', syscall: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${syscall}`);
  err.code = code;
  err.errno = -os.constants.errno[code];
  err.syscall = syscall;
  return err;
}

export class FaultFS implements FileIO {
  readonly root: string;
  private readonly top: DirNode;
  private readonly fds = new Map<number, FileNode>();
  private rules: Rule[] = [];
  private total = 0;
  private readonly perKind = new Map<OpKind, number>();
  private dead = false;
  private busy = 0;
  /** Every call made, in order, as `kind` (for debugging a failing test). */
  readonly trace: OpKind[] = [];

  /** Track everything under `root` (which must exist); all of it counts as durable. */
  constructor(root: string) {
    this.root = path.resolve(root);
    this.top = scan(this.root);
  }

  /** Calls made so far (closeSync excluded). */
  get ops(): number {
    return this.total;
  }

  count(kind: OpKind): number {
    return this.perKind.get(kind) ?? 0;
  }

  /** File descriptors opened through this FaultFS and not yet closed. */
  get openFds(): number {
    return this.fds.size;
  }

  get crashed(): boolean {
    return this.dead;
  }

  failAt(spec: FaultSpec): void {
    if (!Number.isInteger(spec.n) || spec.n < 1) throw new Error(`failAt: n must be >= 1, got ${spec.n}`);
    const base = spec.kind === undefined ? this.total : this.count(spec.kind);
    this.rules.push({ base, spec });
  }

  clearFaults(): void {
    this.rules = [];
  }

  /** Count a call; throw if a fault is due, after handing its spec to `onFault`. */
  private tick(kind: OpKind, syscall: string, onFault?: (spec: FaultSpec) => void): void {
    if (this.dead) throw new Error(`FaultFS: ${syscall} after crash()`);
    this.total++;
    const k = this.count(kind) + 1;
    this.perKind.set(kind, k);
    this.trace.push(kind);
    for (const { base, spec } of this.rules) {
      if (spec.kind !== undefined && spec.kind !== kind) continue;
      const i = (spec.kind === undefined ? this.total : k) - base;
      if (i === spec.n || (spec.sticky === true && i > spec.n)) {
        onFault?.(spec);
        throw errnoError(spec.code ?? 'EIO', syscall);
      }
    }
  }

  // ---- the model's lookups

  private nodeAt(p: string): Node | undefined {
    const rel = path.relative(this.root, path.resolve(p));
    if (rel === '') return this.top;
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`FaultFS: ${p} is outside ${this.root}`);
    let node: Node | undefined = this.top;
    for (const part of rel.split(path.sep)) {
      if (node?.type !== 'dir') return undefined;
      node = node.live.get(part);
    }
    return node;
  }

  private dirAt(p: string): DirNode {
    const node = this.nodeAt(p);
    if (node?.type !== 'dir') throw new Error(`FaultFS: ${p} is not a directory it tracks`);
    return node;
  }

  private fileOf(fd: number): FileNode {
    const node = this.fds.get(fd);
    if (node === undefined) throw new Error(`FaultFS: fd ${fd} was not opened through it`);
    return node;
  }

  private async yieldAround<T>(fn: () => T | Promise<T>): Promise<T> {
    this.busy++;
    try {
      await new Promise((r) => setImmediate(r));
      return await fn();
    } finally {
      this.busy--;
    }
  }

  // ---- FileIO

  openSync(p: string, flags: string): number {
    this.tick('open', 'open');
    if (!FLAGS.has(flags)) throw new Error(`FaultFS: flags ${flags} not supported`);
    const dir = this.dirAt(path.dirname(p));
    const name = path.basename(p);
    const fd = fs.openSync(p, flags, 0o644);
    let node = dir.live.get(name);
    if (node?.type === 'dir') {
      fs.closeSync(fd);
      throw new Error(`FaultFS: open of directory ${p}`);
    }
    if (node === undefined) {
      node = { type: 'file', durable: Buffer.alloc(0), log: [] };
      dir.live.set(name, node);
      dir.pending.push({ op: 'link', name, node });
    } else if (flags.startsWith('w')) {
      node.log.push({ op: { op: 'truncate', len: 0 }, state: 'pending' });
    }
    this.fds.set(fd, node);
    return fd;
  }

  closeSync(fd: number): void {
    this.fileOf(fd);
    this.fds.delete(fd);
    fs.closeSync(fd);
  }

  readSync(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    this.tick('read', 'read');
    this.fileOf(fd);
    return fs.readSync(fd, buf, offset, length, position);
  }

  async write(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<void> {
    this.tick('write', 'write');
    const node = this.fileOf(fd);
    const data = Buffer.from(buf.subarray(offset, offset + length));
    await this.yieldAround(async () => {
      let done = 0;
      while (done < length) {
        done += await new Promise<number>((resolve, reject) =>
          fs.write(fd, data, done, length - done, position + done, (err, n) => (err ? reject(err) : resolve(n))),
        );
      }
      node.log.push({ op: { op: 'write', pos: position, data }, state: 'pending' });
    });
  }

  writeSync(fd: number, buf: Buffer, offset: number, length: number, position: number): void {
    this.tick('write', 'write');
    const node = this.fileOf(fd);
    const data = Buffer.from(buf.subarray(offset, offset + length));
    let done = 0;
    while (done < length) done += fs.writeSync(fd, data, done, length - done, position + done);
    node.log.push({ op: { op: 'write', pos: position, data }, state: 'pending' });
  }

  async fdatasync(fd: number): Promise<void> {
    this.tickFileSync(fd, 'fdatasync');
    const node = this.fileOf(fd);
    await this.yieldAround(() => syncFile(node));
  }

  fsyncSync(fd: number): void {
    this.tickFileSync(fd, 'fsync');
    syncFile(this.fileOf(fd));
  }

  /** Count a file sync; when an I/O error fails it, the file's unsynced writes are lost (see the top). */
  private tickFileSync(fd: number, syscall: string): void {
    this.tick('fdatasync', syscall, (spec) => {
      const node = this.fds.get(fd);
      if (spec.kill !== true && node !== undefined) failFileSync(node);
    });
  }

  async fsyncDir(dir: string): Promise<void> {
    this.tick('fsyncDir', 'fsync');
    const node = this.dirAt(dir);
    await this.yieldAround(() => syncDir(node));
  }

  fsyncDirSync(dir: string): void {
    this.tick('fsyncDir', 'fsync');
    syncDir(this.dirAt(dir));
  }

  ftruncateSync(fd: number, length: number): void {
    this.tick('truncate', 'ftruncate');
    const node = this.fileOf(fd);
    fs.ftruncateSync(fd, length);
    node.log.push({ op: { op: 'truncate', len: length }, state: 'pending' });
  }

  sizeSync(fd: number): number {
    this.tick('size', 'fstat');
    this.fileOf(fd);
    return fs.fstatSync(fd).size;
  }

  readdirSync(dir: string): string[] {
    this.tick('readdir', 'scandir');
    return fs.readdirSync(dir);
  }

  statSync(p: string): { isDirectory: boolean } | undefined {
    this.tick('stat', 'stat');
    const st = fs.statSync(p, { throwIfNoEntry: false });
    return st === undefined ? undefined : { isDirectory: st.isDirectory() };
  }

  mkdirSync(dir: string): void {
    this.tick('mkdir', 'mkdir');
    const rel = path.relative(this.root, path.resolve(dir));
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`FaultFS: ${dir} is outside ${this.root}`);
    let parent = this.top;
    let at = this.root;
    for (const part of rel === '' ? [] : rel.split(path.sep)) {
      at = path.join(at, part);
      const child = parent.live.get(part);
      if (child?.type === 'file') throw new Error(`FaultFS: mkdir over file ${at}`);
      if (child !== undefined) {
        parent = child;
        continue;
      }
      fs.mkdirSync(at);
      const node: DirNode = { type: 'dir', live: new Map(), durable: new Map(), pending: [] };
      parent.live.set(part, node);
      parent.pending.push({ op: 'link', name: part, node });
      parent = node;
    }
  }

  renameSync(from: string, to: string): void {
    this.tick('rename', 'rename');
    if (path.resolve(path.dirname(from)) !== path.resolve(path.dirname(to))) {
      throw new Error('FaultFS: rename across directories not supported');
    }
    const dir = this.dirAt(path.dirname(from));
    const f = path.basename(from);
    const t = path.basename(to);
    fs.renameSync(from, to);
    const node = dir.live.get(f);
    if (node === undefined) throw new Error(`FaultFS: renamed untracked ${from}`);
    dir.live.delete(f);
    dir.live.set(t, node);
    dir.pending.push({ op: 'rename', from: f, to: t, node });
  }

  async unlink(p: string): Promise<void> {
    this.tick('unlink', 'unlink');
    const dir = this.dirAt(path.dirname(p));
    const name = path.basename(p);
    await this.yieldAround(async () => {
      await fs.promises.unlink(p);
      const node = dir.live.get(name);
      if (node === undefined) throw new Error(`FaultFS: unlinked untracked ${p}`);
      dir.live.delete(name);
      dir.pending.push({ op: 'unlink', name, node });
    });
  }

  // ---- power loss

  /**
   * Power loss now: rewrite the real files under root into one state the
   * disk could hold (see the top of this file), chosen by `rng`. The
   * instance is dead afterwards. Throws if a call is still in flight.
   */
  crash(rng: Rng): void {
    if (this.dead) throw new Error('FaultFS: crash() twice');
    if (this.busy > 0) throw new Error('FaultFS: crash() while a call is in flight; await the workload first');
    this.dead = true;
    const images = new Map<FileNode, Buffer>();
    const image = (f: FileNode): Buffer => {
      let b = images.get(f);
      if (b === undefined) images.set(f, (b = afterCrash(f, rng)));
      return b;
    };
    this.materialize(this.root, this.top, rng, image);
  }

  private materialize(at: string, dir: DirNode, rng: Rng, image: (f: FileNode) => Buffer): void {
    const final = new Map(dir.durable);
    const touched = new Set([...dir.live.keys(), ...dir.durable.keys()]);
    for (const op of dir.pending) {
      if (op.op === 'rename') {
        touched.add(op.from).add(op.to);
      } else {
        touched.add(op.name);
      }
      if (!rng.bool()) continue;
      if (op.op === 'link') {
        final.set(op.name, op.node);
      } else if (op.op === 'unlink') {
        if (final.get(op.name) === op.node) final.delete(op.name);
      } else {
        if (final.get(op.from) === op.node) final.delete(op.from);
        final.set(op.to, op.node);
      }
    }
    for (const name of touched) {
      const keep = final.get(name);
      const now = dir.live.get(name);
      if (keep !== undefined && now !== undefined && (keep === now || (keep.type === 'file' && now.type === 'file'))) {
        continue; // stays a file (content set below) or the same directory (recursed into below)
      }
      fs.rmSync(path.join(at, name), { recursive: true, force: true });
    }
    for (const [name, node] of final) {
      const p = path.join(at, name);
      if (node.type === 'file') {
        setContent(p, image(node));
      } else {
        if (node !== dir.live.get(name)) fs.mkdirSync(p);
        this.materialize(p, node, rng, image);
      }
    }
  }
}

/** Make `p` hold exactly `buf`, without O_TRUNC (on ext4 that makes close() wait for writeback). */
export function setContent(p: string, buf: Buffer): void {
  const fd = fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  try {
    let done = 0;
    while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, done);
    fs.ftruncateSync(fd, buf.length);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A file sync that succeeded: every pending operation is durable now (the
 * real file is the durable image with the whole log applied in order).
 * Synced operations at the front of the log join the durable image; those
 * after a lost write stay in the log behind it.
 */
function syncFile(node: FileNode): void {
  for (const e of node.log) if (e.state === 'pending') e.state = 'synced';
  let n = 0;
  while (n < node.log.length && node.log[n]!.state === 'synced') n++;
  if (n === 0) return;
  node.durable = applyOps(node.durable, node.log.slice(0, n).map((e) => e.op));
  node.log = node.log.slice(n);
}

/** A file sync that failed: no later sync will make the unsynced writes durable. */
function failFileSync(node: FileNode): void {
  for (const e of node.log) if (e.state === 'pending' && e.op.op === 'write') e.state = 'lost';
}

function syncDir(node: DirNode): void {
  node.durable = new Map(node.live);
  node.pending = [];
}

/** Build the model of an existing tree: everything in it is durable. */
function scan(dir: string): DirNode {
  const node: DirNode = { type: 'dir', live: new Map(), durable: new Map(), pending: [] };
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    let child: Node;
    if (ent.isDirectory()) child = scan(p);
    else if (ent.isFile()) child = { type: 'file', durable: fs.readFileSync(p), log: [] };
    else continue;
    node.live.set(ent.name, child);
    node.durable.set(ent.name, child);
  }
  return node;
}

/**
 * One content a power loss may leave for file `f`: its durable image, then
 * its log in order, where a synced operation is applied as it is, and each
 * run of unsynced ones (pending, or lost to a failed sync) is decided op by
 * op (whatReached) and applied in a random order.
 */
function afterCrash(f: FileNode, rng: Rng): Buffer {
  let image = f.durable;
  let run: FileOp[] = [];
  let runState: FileLogEntry['state'] | undefined;
  for (const e of f.log) {
    if (e.state !== runState) {
      image = applyOps(image, rng.shuffle(run));
      run = [];
      runState = e.state;
    }
    if (e.state === 'synced') image = applyOps(image, [e.op]);
    else run.push(...whatReached(e.op, rng));
  }
  return applyOps(image, rng.shuffle(run));
}

/** What of one unsynced operation reached the disk: nothing, all of it, or a torn part. */
function whatReached(op: FileOp, rng: Rng): FileOp[] {
  if (op.op === 'truncate') return rng.bool() ? [op] : [];
  const chosen: FileOp[] = [];
  const len = op.data.length;
  switch (rng.int(5)) {
    case 0: // dropped
      break;
    case 1: // kept whole
      chosen.push(op);
      break;
    case 2: // torn: only a prefix reached the disk
      chosen.push({ op: 'write', pos: op.pos, data: op.data.subarray(0, rng.int(len + 1)) });
      break;
    case 3: // torn out of order: each 512-byte sector made it or not
      for (let at = op.pos; at < op.pos + len; at = (Math.floor(at / SECTOR) + 1) * SECTOR) {
        const end = Math.min(op.pos + len, (Math.floor(at / SECTOR) + 1) * SECTOR);
        if (rng.bool()) chosen.push({ op: 'write', pos: at, data: op.data.subarray(at - op.pos, end - op.pos) });
      }
      break;
    default: {
      // torn out of order: a random part of it holds garbage
      const data = Buffer.from(op.data);
      const a = rng.int(len + 1);
      const b = a + rng.int(len - a + 1);
      if (rng.bool()) data.fill(0, a, b);
      else rng.bytes(b - a).copy(data, a);
      chosen.push({ op: 'write', pos: op.pos, data });
    }
  }
  return chosen;
}

function applyOps(image: Buffer, ops: readonly FileOp[]): Buffer {
  let buf: Buffer = Buffer.from(image);
  for (const op of ops) {
    if (op.op === 'truncate') {
      buf = resize(buf, op.len);
    } else {
      if (op.pos + op.data.length > buf.length) buf = resize(buf, op.pos + op.data.length);
      op.data.copy(buf, op.pos);
    }
  }
  return buf;
}

function resize(buf: Buffer, len: number): Buffer {
  if (len <= buf.length) return buf.subarray(0, len);
  const out = Buffer.alloc(len);
  buf.copy(out);
  return out;
}

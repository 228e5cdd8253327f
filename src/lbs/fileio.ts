/**
 * The door through which the block store touches its files.
 *
 * Every operation on the store's directory, meta file and segment files
 * goes through a `FileIO`, so that tests can substitute an implementation
 * that injects faults (drops or tears unsynced writes on a simulated power
 * loss, fails the Nth call with EIO or ENOSPC). The real implementation,
 * `nodeFileIO`, maps each call onto node:fs. The one exception is the lock
 * file (lock.ts), opened with node:fs directly: flock needs a real
 * descriptor, and a simulated power loss has nothing to model in an empty
 * file. Reads are synchronous (a B+tree lookup must not yield); writes and
 * syncs are asynchronous so that an fsync never blocks the event loop.
 *
 * @internal
 */
import * as fs from 'node:fs';

export interface FileIO {
  /** Open `path` with node:fs `flags` ('r', 'r+', 'wx', ...); returns an fd. */
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  /** Read up to `length` bytes at `position`; returns the count read (short at EOF). */
  readSync(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
  /** Write all of buf[offset, offset+length) at `position`. */
  write(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<void>;
  /** Make the file's data durable (fdatasync). */
  fdatasync(fd: number): Promise<void>;
  /** Make the directory's entries (created, removed, renamed files) durable. */
  fsyncDir(dir: string): Promise<void>;
  fsyncDirSync(dir: string): void;
  writeSync(fd: number, buf: Buffer, offset: number, length: number, position: number): void;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
  sizeSync(fd: number): number;
  readdirSync(dir: string): string[];
  /** Whether `path` exists, and whether it is a directory. */
  statSync(path: string): { isDirectory: boolean } | undefined;
  mkdirSync(dir: string): void;
  renameSync(from: string, to: string): void;
  unlink(path: string): Promise<void>;
}

function fullWriteSync(fd: number, buf: Buffer, offset: number, length: number, position: number): void {
  while (length > 0) {
    const n = fs.writeSync(fd, buf, offset, length, position);
    offset += n;
    position += n;
    length -= n;
  }
}

function writeOnce(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

export const nodeFileIO: FileIO = {
  openSync: (path, flags) => fs.openSync(path, flags, 0o644),
  closeSync: (fd) => fs.closeSync(fd),
  readSync: (fd, buf, offset, length, position) => fs.readSync(fd, buf, offset, length, position),
  async write(fd, buf, offset, length, position) {
    while (length > 0) {
      const n = await writeOnce(fd, buf, offset, length, position);
      offset += n;
      position += n;
      length -= n;
    }
  },
  fdatasync: (fd) =>
    new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()))),
  async fsyncDir(dir) {
    const fh = await fs.promises.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  fsyncDirSync(dir) {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  writeSync: fullWriteSync,
  fsyncSync: (fd) => fs.fsyncSync(fd),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  sizeSync: (fd) => fs.fstatSync(fd).size,
  readdirSync: (dir) => fs.readdirSync(dir),
  statSync(path) {
    const st = fs.statSync(path, { throwIfNoEntry: false });
    return st === undefined ? undefined : { isDirectory: st.isDirectory() };
  },
  mkdirSync: (dir) => void fs.mkdirSync(dir, { recursive: true }),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlink: (path) => fs.promises.unlink(path),
};

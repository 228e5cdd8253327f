/**
 * The store's exclusive lock: flock(LOCK_EX | LOCK_NB) on `birch.lock`.
 *
 * flock locks belong to an open file description, so a second open of the
 * same store fails at once whether it comes from this process or another, and
 * the kernel drops the lock when the holder closes the file or dies: there is
 * never a stale lock to clean up. The lock file itself is never deleted
 * (deleting it would let two holders lock two different inodes).
 *
 * @internal
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flockSync } from 'fs-ext';
import { BirchError, ioError } from '../errors.js';
import { LOCK_FILE } from './format.js';

export class DirLock {
  private fd: number | undefined;

  private constructor(fd: number) {
    this.fd = fd;
  }

  static acquire(dir: string): DirLock {
    const file = path.join(dir, LOCK_FILE);
    let fd: number;
    try {
      fd = fs.openSync(file, 'a', 0o644);
    } catch (err) {
      throw ioError('opening the lock file', file, err);
    }
    try {
      flockSync(fd, 'exnb');
    } catch (err) {
      fs.closeSync(fd);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
        throw new BirchError('BIRCH_LOCKED', `store ${dir} is locked by another handle`, { file });
      }
      throw ioError('locking', file, err);
    }
    return new DirLock(fd);
  }

  release(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    fs.closeSync(fd); // closing the last descriptor releases the flock
  }
}

// Block store append throughput with fsync (issue: the block store).
//   npm run build && node bench/internal/lbs-append.mjs [seconds-per-size]
// For each append size (blocks of 4096 bytes), appends back to back, each
// awaited (one write + one fdatasync each), for the given seconds, in a
// fresh store in the OS temp dir; prints appends/s and MiB/s of payload.
// Plain JS over dist/ because the block store is internal (not exported).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BlockStore } from '../../dist/lbs/index.js';

const seconds = Number(process.argv[2] ?? 3);
console.log('blocks/append\tappends/s\tMiB/s\tfsync');
for (const sync of [true, false]) {
  for (const n of [1, 4, 16, 64, 256]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'birch-append-'));
    const lbs = BlockStore.open(dir, { blockSize: 4096, sync });
    const pages = Array.from({ length: n }, (_, i) => Buffer.alloc(lbs.pageCapacity, i));
    let appends = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await lbs.append(pages);
      appends++;
    }
    const s = (performance.now() - t0) / 1000;
    await lbs.close();
    fs.rmSync(dir, { recursive: true, force: true });
    const mib = (appends * n * 4096) / s / (1024 * 1024);
    console.log(`${n}\t${Math.round(appends / s)}\t${mib.toFixed(1)}\t${sync ? 'on' : 'OFF (data-loss mode)'}`);
  }
}

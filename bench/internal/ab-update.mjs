// Same-process A/B of update passes: node bench/internal/ab-update.mjs <distA> <distB>
// (two builds' dist/ directories). Loads 2^18 of the bench's pairs into a store of each
// (no fsync: CPU only), then times seven update passes over each, alternating
// builds, and prints the medians and their ratio B/A.
import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
const [A, B] = process.argv.slice(2); const N = 1 << 18;
const { Dataset } = await import(path.join(A, 'bench/data.js'));
const data = new Dataset(N);
const dbs = [];
for (const D of [A, B]) { const { open } = await import(path.join(D, 'index.js')); const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'birch-abu-')); const db = open(dir, { sync: false }); for (let i = 0; i < N; i += 4096) { const ps = []; for (let j = i; j < i + 4096; j++) ps.push(db.put(data.key(j), data.value(j))); await Promise.all(ps); } dbs.push({ db, dir }); }
const res = [[], []];
for (let r = 0; r < 7; r++) for (let s = 0; s < 2; s++) {
  const db = dbs[s].db; const t = performance.now();
  for (let i = 0; i < N; i += 4096) { const ps = []; for (let j = i; j < i + 4096; j++) ps.push(db.put(data.key(j), data.updateValue(j, r + 1))); await Promise.all(ps); }
  res[s].push(N / (performance.now() - t) * 1000);
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`update: A ${Math.round(med(res[0]))} B ${Math.round(med(res[1]))} B/A ${(med(res[1]) / med(res[0])).toFixed(3)} (A ${res[0].map(Math.round)} | B ${res[1].map(Math.round)})`);
for (const s of dbs) { await s.db.close(); fs.rmSync(s.dir, { recursive: true, force: true }); }

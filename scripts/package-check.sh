#!/usr/bin/env bash
# The package as a user gets it: pack birchdb, install the tarball into an
# empty project, and use it there as an application would.
#
#   - node_modules holds birchdb and its own dependencies only (@msgpack/msgpack,
#     commander, crc-32, fs-ext and theirs): none of the bench's peers or dev tools;
#   - `import { open } from 'birchdb'` works from plain ESM (.mjs), and from
#     TypeScript: the types resolve under tsc --strict with NodeNext
#     resolution (the repository's own tsc and @types/node, nothing new
#     downloaded), and the compiled file runs;
#   - `import { serve } from 'birchdb/server'` serves a store over the Redis
#     protocol (a PING over a socket);
#   - `npx birch check` and `npx birch stats` work on a store made there;
#   - `npx birch bench` runs birch alone, with a note that the peers are
#     not installed;
#     `--engine lmdb` is an error that says how to add it.
#
# Needs the repository's devDependencies (npm ci) and the npm registry (to
# install the four dependencies, or npm's cache). Run by .ci/run after the
# tests; takes about half a minute here, most of it npm install (fs-ext builds
# a native addon).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/birch-package-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS
step() { printf '\n== %s (%ds)\n' "$*" $((SECONDS - start)); }
fail() { printf 'package-check: FAILED: %s\n' "$*" >&2; exit 1; }

step "npm pack (runs the prepare script: a fresh build)"
(cd "$repo" && npm pack --pack-destination "$work" --silent >/dev/null)
tgz=$(ls "$work"/birchdb-*.tgz)
echo "$tgz: $(du -k "$tgz" | cut -f1) KiB"

app="$work/app"
mkdir "$app"
cd "$app"
cat > package.json <<'JSON'
{ "name": "birch-package-check-app", "version": "1.0.0", "private": true, "type": "module" }
JSON

step "npm install the tarball into an empty project"
npm install --no-audit --no-fund "$tgz"

step "node_modules holds birchdb's own dependencies only"
node - <<'JS'
const fs = require('node:fs');
const path = require('node:path');
// Every installed package (node_modules/x, node_modules/@s/x, nested ones).
const installed = new Map();
(function walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir)) {
    if (e.startsWith('.')) continue;
    const names = e.startsWith('@') ? fs.readdirSync(path.join(dir, e)).map((s) => `${e}/${s}`) : [e];
    for (const name of names) {
      const at = path.join(dir, name);
      const pkg = JSON.parse(fs.readFileSync(path.join(at, 'package.json'), 'utf8'));
      installed.set(name, pkg);
      walk(path.join(at, 'node_modules'));
    }
  }
})('node_modules');
// What birchdb needs: its dependencies and theirs (optional ones if present).
const needed = new Set();
const visit = (name) => {
  if (needed.has(name) || !installed.has(name)) return;
  needed.add(name);
  const p = installed.get(name);
  for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) visit(d);
};
const birch = installed.get('birchdb');
if (birch === undefined) throw new Error('birchdb is not installed');
const deps = Object.keys(birch.dependencies ?? {}).sort();
console.log(`birchdb ${birch.version} dependencies: ${deps.join(', ')}`);
if (deps.join() !== '@msgpack/msgpack,commander,crc-32,fs-ext') throw new Error(`unexpected dependencies: ${deps.join(', ')}`);
for (const key of ['optionalDependencies', 'peerDependencies']) {
  if (Object.keys(birch[key] ?? {}).length > 0) throw new Error(`birchdb has ${key}: ${Object.keys(birch[key]).join(', ')}`);
}
visit('birchdb');
for (const d of deps) if (!installed.has(d)) throw new Error(`dependency ${d} is not installed`);
const names = [...installed.keys()].sort();
console.log(`installed: ${names.join(', ')}`);
const extra = names.filter((n) => !needed.has(n));
if (extra.length > 0) throw new Error(`installed but not needed by birchdb: ${extra.join(', ')}`);
const forbidden = ['lmdb', 'classic-level', 'msgpackr', 'msgpackr-extract', 'tinybench', 'vitest', 'typescript', '@types/node', 'ioredis', 'redis'];
const found = forbidden.filter((n) => installed.has(n));
if (found.length > 0) throw new Error(`dev-only packages installed: ${found.join(', ')}`);
JS

step "import { open } from 'birchdb' in plain ESM (.mjs)"
cat > use.mjs <<'JS'
import { open, BirchError, VERSION } from 'birchdb';
const db = open('./store');
await db.put('user:42', 'Ada');
await Promise.all(Array.from({ length: 1000 }, (_, i) => db.put(`k${String(i).padStart(4, '0')}`, `v${i}`)));
if (db.get('user:42')?.toString() !== 'Ada') throw new Error('get did not return what put wrote');
const n = [...db.range({ prefix: 'k' })].length;
if (n !== 1000) throw new Error(`range returned ${n} pairs`);
if (typeof BirchError !== 'function') throw new Error('no BirchError');
await db.close();
console.log(`birchdb ${VERSION} from ESM: wrote and read back 1001 pairs in ./store`);
JS
node use.mjs

step "import { serve } from 'birchdb/server': a PING over the Redis protocol"
cat > serve.mjs <<'JS'
import { open } from 'birchdb';
import { serve } from 'birchdb/server';
import * as net from 'node:net';
const db = open('./store-serve');
const server = await serve(db, { port: 0 });
const reply = await new Promise((resolve, reject) => {
  const s = net.connect(server.address().port, '127.0.0.1', () => s.write('*1\r\n$4\r\nPING\r\n'));
  s.once('data', (d) => { resolve(d.toString()); s.destroy(); });
  s.once('error', reject);
});
await server.close();
await db.close();
if (reply !== '+PONG\r\n') throw new Error(`PING answered ${JSON.stringify(reply)}`);
console.log('birchdb/server from ESM: PING answered +PONG');
JS
node serve.mjs

step "import { open } from 'birchdb' in TypeScript (tsc --strict, NodeNext)"
cat > tsconfig.json <<JSON
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "skipLibCheck": false,
    "outDir": "out",
    "typeRoots": ["$repo/node_modules/@types"],
    "types": ["node"]
  },
  "files": ["use.ts"]
}
JSON
cat > use.ts <<'TS'
import { open, BirchError, type OpenOptions, type StoreStats } from 'birchdb';

const options: OpenOptions = { cacheSize: 1 << 20 };
const db = open('./store-ts', options);
await db.put('user:42', 'Ada');
const value: Buffer | undefined = db.get('user:42');
const stats: StoreStats = db.stats();
// The declarations are real types, not any: a call with the wrong argument
// types must not compile (never called).
export function wrongTypes(): Promise<void> {
  // @ts-expect-error: put takes a key and a value
  return db.put(42);
}
try {
  open('./store-ts');
} catch (e) {
  if (!(e instanceof BirchError) || e.code !== 'BIRCH_LOCKED') throw e;
}
await db.close();
console.log(`birchdb from TypeScript: got ${value?.toString()}, ${stats.keys} key(s)`);
TS
"$repo/node_modules/.bin/tsc" -p tsconfig.json
node out/use.js

step "npx birch check / stats on the store made above"
npx --no -- birch --version
npx --no -- birch check store
npx --no -- birch stats store
npx --no -- birch --help | grep -q '^  bench ' || fail "birch --help does not list bench"
npx --no -- birch --help | grep -q '^  serve ' || fail "birch --help does not list serve"

step "npx birch bench: birch alone; a peer named in --engine is an error"
npx --no -- birch bench tokyo --pairs 2000 --seconds 0.2 --windows 2 2>"$work/bench.err"
cat "$work/bench.err"
grep -q 'not comparing with lmdb or level: not installed (npm install lmdb classic-level' "$work/bench.err" ||
  fail "birch bench does not say the peers are left out"
set +e
out=$(npx --no -- birch bench tokyo --pairs 2000 --engine lmdb 2>&1)
code=$?
set -e
echo "$out"
[ "$code" -ne 0 ] || fail "birch bench --engine lmdb exited 0 without lmdb installed"
grep -q 'npm install lmdb' <<<"$out" || fail "birch bench --engine lmdb does not say how to install lmdb"

step "package-check: OK"

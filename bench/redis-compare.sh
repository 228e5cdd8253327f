#!/usr/bin/env bash
# birch serve against redis-server, with redis-benchmark, in one run.
#
#   npm run build && bench/redis-compare.sh
#
# Each round starts three fresh servers, each on its own port and data
# directory, and runs the same redis-benchmark commands against each in
# turn (never at the same time):
#   birch       `birch serve` (every write fsynced before its reply)
#   always      redis-server --appendonly yes --appendfsync always
#               (the only Redis setting that, like birch, fsyncs before replying)
#   everysec    redis-server --appendonly yes --appendfsync everysec (for context:
#               up to a second of acknowledged writes can be lost)
# Tests run one per redis-benchmark invocation, because -e stops a run at the
# first error reply (a test that stopped on one reports n/a). The table gives
# the median of the rounds and the ratios.
#
# Environment (defaults in brackets):
#   ROUNDS [3]  TESTS [set,get,incr,mset]  CLIENTS [50]  KEYSPACE [1000000]
#   N16 [1000000]  requests per test with -P 16 (the issue's command)
#   N1  [100000]   requests per test with -P 1
#   NMSET16, NMSET1  requests for MSET (10 keys each) if smaller than N16/N1
#   PORT [7600] (three consecutive ports)  WORK [a temporary directory]
#   BIRCH [dist/bin/birch.js]  REDIS_SERVER [redis-server]  REDIS_BENCHMARK [redis-benchmark]
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
TESTS=${TESTS:-set,get,incr,mset}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-1000000}
N16=${N16:-1000000}
N1=${N1:-100000}
NMSET16=${NMSET16:-$N16}
NMSET1=${NMSET1:-$N1}
PORT=${PORT:-7600}
BIRCH=${BIRCH:-dist/bin/birch.js}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
WORK=${WORK:-$(mktemp -d -t birch-redis-compare-XXXXXX)}

for tool in "$REDIS_SERVER" "$REDIS_BENCHMARK" node; do
  command -v "$tool" >/dev/null || { echo "redis-compare: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 2; }
done
[ -f "$BIRCH" ] || { echo "redis-compare: $BIRCH not found: run npm run build" >&2; exit 2; }

TARGETS=(birch always everysec)
declare -A PORTS=([birch]=$PORT [always]=$((PORT + 1)) [everysec]=$((PORT + 2)))
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_ready() { # port
  for _ in $(seq 1 200); do
    if redis-cli -p "$1" ping >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "redis-compare: nothing answers on port $1" >&2
  exit 1
}

start_servers() { # round
  local d="$WORK/round$1"
  mkdir -p "$d/always" "$d/everysec"
  node "$BIRCH" serve "$d/birch" --port "${PORTS[birch]}" >"$d/birch.log" 2>&1 &
  PIDS+=($!)
  "$REDIS_SERVER" --port "${PORTS[always]}" --dir "$d/always" --appendonly yes --appendfsync always --save '' >"$d/always.log" 2>&1 &
  PIDS+=($!)
  "$REDIS_SERVER" --port "${PORTS[everysec]}" --dir "$d/everysec" --appendonly yes --appendfsync everysec --save '' >"$d/everysec.log" 2>&1 &
  PIDS+=($!)
  for t in "${TARGETS[@]}"; do wait_ready "${PORTS[$t]}"; done
}

stop_servers() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

# Requests per second of one test, or n/a (an error reply stops redis-benchmark -e).
bench() { # port test pipeline n
  local out
  out=$("$REDIS_BENCHMARK" -p "$1" -t "$2" -P "$3" -c "$CLIENTS" -n "$4" -r "$KEYSPACE" -e -q 2>&1 | tr '\r' '\n' || true)
  local rps
  rps=$(printf '%s\n' "$out" | grep 'requests per second' | tail -1 | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
  if [ -z "$rps" ]; then
    printf '%s\n' "$out" | grep -m1 -E 'Error from server|ERR' | sed 's/^/  /' >&2 || true
    echo n/a
  else
    echo "$rps"
  fi
}

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
echo "redis-compare: $ROUNDS rounds; $("$REDIS_SERVER" --version | cut -d' ' -f3); node $(node --version); work in $WORK" >&2
for round in $(seq 1 "$ROUNDS"); do
  start_servers "$round"
  for P in 16 1; do
    for test in ${TESTS//,/ }; do
      if [ "$P" = 16 ]; then n=$N16; else n=$N1; fi
      if [ "$test" = mset ]; then
        if [ "$P" = 16 ]; then n=$NMSET16; else n=$NMSET1; fi
      fi
      for t in "${TARGETS[@]}"; do
        rps=$(bench "${PORTS[$t]}" "$test" "$P" "$n")
        printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$P" "$test" "$t" "$rps" >>"$RESULTS"
        printf 'round %s  -P %-2s %-5s %-8s %s\n' "$round" "$P" "$test" "$t" "$rps" >&2
      done
    done
  done
  stop_servers
done

# The table: medians over the rounds, and ratios.
node - "$RESULTS" "$ROUNDS" "$CLIENTS" "$KEYSPACE" "$N16" "$N1" "$NMSET16" "$NMSET1" <<'EOF'
const fs = require('node:fs');
const [file, rounds, clients, keyspace, n16, n1, nm16, nm1] = process.argv.slice(2);
const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('\t'));
const med = (xs) => {
  const v = xs.filter((x) => x !== 'n/a').map(Number).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const fmt = (x) => (Number.isNaN(x) ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? 'n/a' : `${(a / b).toFixed(2)}x`);
for (const P of ['16', '1']) {
  const n = P === '16' ? n16 : n1;
  const nm = P === '16' ? nm16 : nm1;
  console.log(`\n-P ${P} -c ${clients} -r ${keyspace} -n ${n}${nm !== n ? ` (MSET: -n ${nm})` : ''} -e, requests per second, median of ${rounds}:\n`);
  console.log('| test | birch | redis always | redis everysec | birch / always | birch / everysec |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const tests = [...new Set(rows.filter((r) => r[1] === P).map((r) => r[2]))];
  for (const t of tests) {
    const m = (target) => med(rows.filter((r) => r[1] === P && r[2] === t && r[3] === target).map((r) => r[4]));
    const [b, a, e] = [m('birch'), m('always'), m('everysec')];
    console.log(`| ${t.toUpperCase()} | ${fmt(b)} | ${fmt(a)} | ${fmt(e)} | ${ratio(b, a)} | ${ratio(b, e)} |`);
  }
}
console.log(`\nEvery round, in order: ${file}`);
EOF

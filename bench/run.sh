#!/usr/bin/env bash
# Load test (bench/README.md): GraphQL vs a bare JSON handler vs /healthz, on SQLite and
# PostgreSQL, from the release build, with wrk (64 connections, 20 s each by default).
# Also start-up-to-ready time and idle RSS of the real binary.
# INTEGRATIONS=100000 seeds that many (issue 12); RATE_LOAD=1 then also runs
# `patchbay-load graphql` against the same server: the plain and the filtered page, flat out
# and at RATE req/s (1000), GraphQL and bare side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-64}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
TARGET="${CARGO_TARGET_DIR:-target}"
INTEGRATIONS="${INTEGRATIONS:-1000}"
RATE_LOAD="${RATE_LOAD:-0}"
RATE="${RATE:-1000}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
# One invocation for both packages: built separately, features unify differently and
# every shared dependency is compiled twice.
cargo build --release --quiet -p patchbay -p patchbay-load --bins --example bench_server
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# wrk's "Requests/sec" and p99 (in ms) of one run.
measure() { # name url [lua]
  local out
  if [ -n "${3:-}" ]; then out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$3" "$2"); else out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$2"); fi
  local rps p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  printf '  %-8s %10s req/s   p99 %8s ms   %s\n' "$1" "$rps" "$p99" "$errors"
  echo "$rps"  > "$work/$1.rps"
}

run_backend() { # name [database url]
  local name=$1 url=${2:-}
  local dir="$work/$name"
  mkdir -p "$dir"
  local db_name=""
  if [ -n "$url" ]; then
    db_name="patchbay_bench_$$"
    psql "$PG_URL" -qc "CREATE DATABASE $db_name"
    export PATCHBAY_DATABASE_URL="${PG_URL%/*}/$db_name"
  else
    unset PATCHBAY_DATABASE_URL
  fi
  echo "== $name: $INTEGRATIONS integrations, $CONNECTIONS connections, $DURATION per run"
  "$TARGET"/release/examples/bench_server "$dir" "$INTEGRATIONS" > "$dir/info.json" &
  local pid=$!
  for _ in $(seq 1 36000); do [ -s "$dir/info.json" ] && break; sleep 0.1; done
  local info; info=$(cat "$dir/info.json")
  # Planner statistics, as autovacuum gathers them after a bulk load (the PostgreSQL here
  # runs with autovacuum = off; without statistics the filtered page's plan is guesswork).
  [ -n "$url" ] && psql "$PATCHBAY_DATABASE_URL" -qc "ANALYZE" 
  local graphql bare healthz
  graphql=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["graphql"])' "$info")
  bare=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["bare"])' "$info")
  healthz=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["healthz"])' "$info")
  export PATCHBAY_TOKEN; PATCHBAY_TOKEN=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$info")
  echo "  store: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["store"])' "$info")"
  # Sanity: both return 50 rows.
  curl -sf "$bare" | python3 -c 'import json,sys; assert len(json.load(sys.stdin)["integrations"]) == 50'
  curl -sf "$graphql" -H "Authorization: Bearer $PATCHBAY_TOKEN" -H 'Content-Type: application/json' \
    -d '{"query":"{ integrations(first: 50) { edges { node { id name status } } } }"}' \
    | python3 -c 'import json,sys; assert len(json.load(sys.stdin)["data"]["integrations"]["edges"]) == 50'
  measure graphql "$graphql" bench/graphql.lua
  measure bare "$bare"
  measure healthz "$healthz"
  python3 -c 'import sys; g,b=float(open(sys.argv[1]).read()),float(open(sys.argv[2]).read()); print(f"  ratio GraphQL/bare = {g/b:.2f}")' "$work/graphql.rps" "$work/bare.rps"
  if [ "$RATE_LOAD" = 1 ]; then
    "$TARGET"/release/patchbay-load --url "${graphql%/graphql}" --token "$PATCHBAY_TOKEN" --pid "$pid" \
      graphql --integrations "$INTEGRATIONS" --connections "$CONNECTIONS" --duration "${DURATION%s}" \
      --rate "$RATE" --bare "${bare%/bare}"
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$db_name" ] && psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)"
  unset PATCHBAY_DATABASE_URL
}

startup() { # start-up-to-ready time and idle RSS of the real binary on a fresh SQLite store
  local dir="$work/startup"
  mkdir -p "$dir"
  local start end
  start=$(date +%s%N)
  "$TARGET"/release/patchbay --data-dir "$dir" --listen 127.0.0.1:18099 --log-level warn > "$dir/out" 2>&1 &
  local pid=$!
  until curl -sf http://127.0.0.1:18099/readyz >/dev/null; do sleep 0.005; done
  end=$(date +%s%N)
  sleep 2
  echo "== start-up (fresh SQLite store, migrations included): $(( (end - start) / 1000000 )) ms to /readyz 200"
  echo "== idle RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

startup
run_backend sqlite
run_backend postgres "$PG_URL"

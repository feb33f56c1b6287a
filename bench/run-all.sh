#!/usr/bin/env bash
# Every load-tool scenario (bench/README.md, "Load tool") on SQLite, then on PostgreSQL,
# from the release build: about 10 minutes on the 2-core machine. Each scenario starts the
# server on a fresh store (a temp dir, or a fresh PostgreSQL database dropped afterwards)
# and prints one table (progress goes to stderr).
#
#   bash bench/run-all.sh
#   SERVER_BIN=/path/to/patchbay bash bench/run-all.sh     # measure another build
#   BACKENDS=sqlite bash bench/run-all.sh                  # one backend only
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres     # the default; must allow CREATE DATABASE
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BACKENDS="${BACKENDS:-sqlite postgres}"
HEALTH_INTEGRATIONS="${HEALTH_INTEGRATIONS:-10000}"
SUBSCRIBERS="${SUBSCRIBERS:-1000}"
# sync: SYNC_RECORDS (default 100000) records in pages of 500.

if [ -z "${SERVER_BIN:-}" ]; then
  cargo build --release --quiet -p patchbay -p patchbay-load --bins
  SERVER_BIN=target/release/patchbay
else
  cargo build --release --quiet -p patchbay-load
fi
LOAD=target/release/patchbay-load
export PATCHBAY_LOAD_SERVER_BIN="$SERVER_BIN"

started=$(date +%s)
for backend in $BACKENDS; do
  if [ "$backend" = postgres ]; then
    psql "$PG_URL" -Atqc 'select 1' >/dev/null || { echo "PostgreSQL at $PG_URL is not reachable" >&2; exit 1; }
    export PATCHBAY_LOAD_PG="$PG_URL"
  else
    unset PATCHBAY_LOAD_PG
  fi
  echo
  echo "## $backend ($SERVER_BIN, $(date -u +%FT%TZ))"
  "$LOAD" graphql --connections 64 --duration 10
  "$LOAD" webhooks --endpoints 1
  "$LOAD" webhooks --endpoints 10
  "$LOAD" webhooks --endpoints 100
  "$LOAD" webhooks --endpoints 1 --rate 200 --events 2000
  "$LOAD" webhooks --endpoints 10 --via integration-changes
  "$LOAD" incoming --requests 4000
  "$LOAD" subscribers --count "$SUBSCRIBERS" --events 10 --floor
  "$LOAD" health --integrations "$HEALTH_INTEGRATIONS" --interval 60 --warmup 60 --duration 60
  "$LOAD" sync --records "${SYNC_RECORDS:-100000}" --page-size 500
done
echo
echo "run-all: $(( $(date +%s) - started )) s"

#!/usr/bin/env bash
# Key rotation rate on SQLite and PostgreSQL, release build (bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${COUNT:-5000}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo build --release --quiet --example rotation_rate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
env -u PATCHBAY_DATABASE_URL ./target/release/examples/rotation_rate "$work/sqlite" "$COUNT"
db="patchbay_rotation_$$"
psql "$PG_URL" -qc "CREATE DATABASE $db"
PATCHBAY_DATABASE_URL="${PG_URL%/*}/$db" ./target/release/examples/rotation_rate "$work/pg" "$COUNT"
psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"

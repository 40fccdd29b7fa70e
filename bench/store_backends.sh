#!/usr/bin/env bash
# bench/store_backends.sh: the same poll on SQLite and on PostgreSQL. Serves FEEDS feeds of
# LISTED entries (bench/soak_farm.py, loopback), then runs `tributary poll` twice per backend:
# cold (empty store: every entry stored, article pages fetched) and warm (every feed answers
# 304). Prints wall seconds and the entries stored. PostgreSQL is a throw-away cluster in a
# temporary folder on a loopback port (run as the postgres user when root), stopped at the end.
#
# Usage: bench/store_backends.sh   FEEDS=300 LISTED=20 PORT=18591 PGPORT=18592
#   TRIBUTARY=target/release/tributary (default: target/debug/tributary; build it first)
set -euo pipefail
cd "$(dirname "$0")/.."
FEEDS=${FEEDS:-300}
LISTED=${LISTED:-20}
PORT=${PORT:-18591}
PGPORT=${PGPORT:-18592}
TRIBUTARY=${TRIBUTARY:-$PWD/target/debug/tributary}
[ -x "$TRIBUTARY" ] || { echo "build $TRIBUTARY first" >&2; exit 1; }
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /tmp/tributary-bench-XXXXXX)
chmod 755 "$WORK"
RUN=""
[ "$(id -u)" -eq 0 ] && RUN="runuser -u postgres --" && chown postgres: "$WORK"
FARM_PID=""
cleanup() {
  set +e
  [ -n "$FARM_PID" ] && kill "$FARM_PID" 2>/dev/null
  $RUN "$BIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start=$(( $(date +%s) - 30 * 86400 ))
python3 bench/soak_farm.py "$PORT" "$FEEDS" 3600 3600 "$LISTED" "$start" "$WORK/freeze" \
  >/dev/null 2>&1 &
FARM_PID=$!
$RUN "$BIN/initdb" -A trust -U postgres -D "$WORK/pg" >/dev/null
$RUN "$BIN/pg_ctl" -w -D "$WORK/pg" -l "$WORK/pg.log" \
  -o "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1" start >/dev/null
$RUN "$BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres bench
date +%s > "$WORK/freeze"

config() { # $1: database
  printf 'database = "%s"\n[fetch]\nallow_private_networks = true\nper_host_concurrency = 16\nmax_concurrency = 32\nper_host_delay = "0ms"\n' "$1"
  for n in $(seq 0 $((FEEDS - 1))); do
    printf '[[sources]]\nname = "f%s"\nurl = "http://127.0.0.1:%s/feed/%s.xml"\n' "$n" "$PORT" "$n"
  done
}
config "$WORK/sqlite.db" > "$WORK/sqlite.toml"
config "postgres://postgres@127.0.0.1:$PGPORT/bench" > "$WORK/postgres.toml"

printf 'backend\tpass\tseconds\tsummary\n'
for backend in sqlite postgres; do
  for pass in cold warm; do
    t0=$(date +%s.%N)
    summary=$(TRIBUTARY_LOG=error "$TRIBUTARY" --config "$WORK/$backend.toml" poll | grep "sources polled" || true)
    t1=$(date +%s.%N)
    printf '%s\t%s\t%.2f\t%s\n' "$backend" "$pass" "$(echo "$t1 - $t0" | bc)" "$summary"
  done
done

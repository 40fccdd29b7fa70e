#!/bin/bash
# A/B serving benchmark of two tributary binaries (e.g. before and after a change to serve/):
# wrk -t1 -c16 -d10s on /feed.atom, wrk on CPU 0 and the server on CPU 1 (as bench/polling.sh
# measures serving), the two binaries interleaved for ROUNDS rounds. Prints req/s and the
# server's CPU time per request (utime+stime from /proc over wrk's request count): on a shared,
# loaded machine req/s swings by 10-20 % between rounds, CPU per request much less.
#
# Usage: bench/serving_ab.sh BASE_BIN NEW_BIN   (ROUNDS=3 ENTRIES=200 FEEDS=40 PORT=18491)
# Builds its store once under target/bench-serving: a farm of FEEDS feeds from
# ../shared/poll-farm/make_farm.py served by python3 -m http.server, polled by BASE_BIN (the
# older binary: the newer one migrates a copy of the store when it opens it; an older binary may
# not read a newer schema).
# Needs wrk, curl, taskset (util-linux), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=$(realpath "$1"); NEW=$(realpath "$2")
ROUNDS=${ROUNDS:-3}; ENTRIES=${ENTRIES:-200}; FEEDS=${FEEDS:-40}; PORT=${PORT:-18491}
SERVE_PORT=$((PORT + 1))
WORK=$PWD/target/bench-serving
mkdir -p "$WORK"
config() { # database max_entries
    printf 'database = "%s"\nlisten = "127.0.0.1:%s"\ndefault_schedule = "0 0 1 1 *"\n' "$1" "$SERVE_PORT"
    printf '\n[fetch]\nallow_private_networks = true\nmax_concurrency = 16\n'
    printf 'per_host_concurrency = 16\nper_host_delay = "0ms"\n\n[output]\nmax_entries = %s\n' "$2"
    while read -r url; do
        local name=${url##*/}; name=f${name%%.*}
        printf '\n[[sources]]\nname = "%s"\nurl = "%s"\nfull_text = false\n' "$name" "$url"
    done <"$WORK/farm/urls.txt"
}
if [ ! -f "$WORK/store.db" ]; then
    rm -rf "$WORK/farm"
    python3 ../shared/poll-farm/make_farm.py --feeds "$FEEDS" --items 20 --out "$WORK/farm" \
        --base "http://127.0.0.1:$PORT" >/dev/null
    (cd "$WORK/farm" && exec python3 -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
    farm=$!
    sleep 1
    config "$WORK/store.db" 200 >"$WORK/poll.toml"
    "$BASE" --config "$WORK/poll.toml" poll >/dev/null
    kill "$farm" 2>/dev/null || true
fi
config "$WORK/serve.db" "$ENTRIES" >"$WORK/serve.toml"
for round in $(seq "$ROUNDS"); do
    for which in base new; do
        bin=$BASE; [ "$which" = new ] && bin=$NEW
        cp "$WORK/store.db" "$WORK/serve.db"; rm -f "$WORK/serve.db-wal" "$WORK/serve.db-shm"
        taskset -c 1 "$bin" --config "$WORK/serve.toml" run 2>"$WORK/run-$which.err" &
        pid=$!
        for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SERVE_PORT/healthz" >/dev/null && break; sleep 0.1; done
        bytes=$(curl -sf "http://127.0.0.1:$SERVE_PORT/feed.atom" | wc -c)
        load=$(cut -d' ' -f1 /proc/loadavg)
        cpu0=$(awk '{print $14+$15}' "/proc/$pid/stat")
        out=$(taskset -c 0 wrk -t1 -c16 -d10s "http://127.0.0.1:$SERVE_PORT/feed.atom")
        cpu1=$(awk '{print $14+$15}' "/proc/$pid/stat")
        kill "$pid"; wait "$pid" 2>/dev/null || true
        rate=$(awk '/Requests\/sec/{print $2}' <<<"$out")
        total=$(awk '/requests in/{print $1}' <<<"$out")
        us=$(python3 -c "print(round(($cpu1-$cpu0)*1e6/$(getconf CLK_TCK)/$total,1))")
        echo "round $round $which: $rate req/s, $us us server CPU/request ($bytes bytes, load $load)"
    done
done

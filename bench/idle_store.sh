#!/usr/bin/env bash
# bench/idle_store.sh TEMPLATE_DB CONFIG LABEL BIN...: `tributary run` idle on a copy of a
# store (the 10,000-feed store of bench/polling.sh's BIG_FEEDS run, 200,000 stories, built by a
# cold `poll` of the farm), nothing due, each binary in turn (interleaved: pass several binaries,
# and ROUNDS=N rounds of all of them). For each: VmRSS, RssAnon, RssFile (KiB) once the process
# has used no CPU for 3 s then 2 s more ("soon", like polling.sh's idle_rss), and 12 s later
# ("settled"); and /proc/PID/smaps_rollup's Anonymous and the largest anonymous mappings at the
# settled reading into target/memwork/LABEL-N-*.smaps. Pinned to CPU 0 like polling.sh's client.
# Run it under the benchmark lock.
set -u
TEMPLATE=$1; CONFIG=$2; LABEL=$3; shift 3
ROUNDS=${ROUNDS:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/target/memwork/idle-$LABEL; mkdir -p "$OUT"
db=$(sed -n 's/^database = "\(.*\)"$/\1/p' "$CONFIG")
figures() { awk '/^VmRSS|^RssAnon|^RssFile/{printf "%s %s ", $1, $2}' "/proc/$1/status"; }
quiet() {
    local last=-1 now q=0
    while [ $q -lt 3 ]; do
        sleep 1; now=$(awk '{print $14 + $15}' "/proc/$1/stat"); 
        if [ "$now" = "$last" ]; then q=$((q + 1)); else q=0; fi; last=$now
    done
    sleep 2
}
for round in $(seq "$ROUNDS"); do
    for bin in "$@"; do
        name=$(basename "$bin")
        rm -f "$db" "$db-wal" "$db-shm"; cp "$TEMPLATE" "$db"
        taskset -c 0 "$bin" --config "$CONFIG" run 2>"$OUT/$name-$round.err" &
        pid=$!
        quiet $pid; soon=$(figures $pid)
        sleep 12; settled=$(figures $pid)
        cp "/proc/$pid/smaps" "$OUT/$name-$round.smaps"
        kill $pid; wait $pid 2>/dev/null
        echo "$name round $round: soon $soon| settled $settled| load $(cut -d' ' -f1 /proc/loadavg)"
    done
done

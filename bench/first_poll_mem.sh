#!/usr/bin/env bash
# bench/first_poll_mem.sh CONFIG ACCESS_LOG BIN...: issue 11's "daemon back within 20 % of its
# pre-poll RSS", each binary in turn (ROUNDS=N rounds, interleaved). `run` on an empty store
# (every source due at start-up) until nginx's access log shows every source requested and the
# process has used no CPU for 3 s, then 2 s: RSS "after"; 12 s later, "after, settled"; then
# `run` again on that store, nothing due: "before" (soon and settled). Prints VmRSS/RssAnon in
# KiB and the ratios. Pinned to CPU 0 like polling.sh's client; run it under the benchmark lock.
set -u
CONFIG=$1; LOG=$2; shift 2
ROUNDS=${ROUNDS:-1}
db=$(sed -n 's/^database = "\(.*\)"$/\1/p' "$CONFIG")
sources=$(grep -c '^\[\[sources\]\]' "$CONFIG")
nginx_pid=$(cat "$(dirname "$LOG")/nginx.pid")
lines() { kill -USR1 "$nginx_pid"; sleep 0.3; wc -l <"$LOG"; }
rss() { awk '/^VmRSS/{r=$2} /^RssAnon/{a=$2} END{print r, a}' "/proc/$1/status"; }
quiet() {
    local last=-1 now q=0
    while [ $q -lt 3 ]; do
        sleep 1; now=$(awk '{print $14 + $15}' "/proc/$1/stat")
        if [ "$now" = "$last" ]; then q=$((q + 1)); else q=0; fi; last=$now
    done
    sleep 2
}
for round in $(seq "$ROUNDS"); do
    for bin in "$@"; do
        rm -f "$db" "$db-wal" "$db-shm"
        start=$(lines)
        taskset -c 0 "$bin" --config "$CONFIG" run 2>/dev/null &
        pid=$!
        for _ in $(seq 300); do [ $(($(lines) - start)) -ge "$sources" ] && break; sleep 1; done
        quiet $pid; after=$(rss $pid); sleep 12; after_s=$(rss $pid)
        peak=$(awk '/^VmHWM/{print $2}' "/proc/$pid/status")
        kill $pid; wait $pid 2>/dev/null
        taskset -c 0 "$bin" --config "$CONFIG" run 2>/dev/null &
        pid=$!
        quiet $pid; before=$(rss $pid); sleep 12; before_s=$(rss $pid)
        kill $pid; wait $pid 2>/dev/null
        echo "$(basename "$bin") round $round: before $before (settled $before_s) after $after (settled $after_s) peak $peak ratio $(awk -v a="${after% *}" -v b="${before% *}" -v c="${after_s% *}" -v d="${before_s% *}" 'BEGIN{printf "%.2f settled %.2f", a/b, c/d}') load $(cut -d' ' -f1 /proc/loadavg)"
    done
done

#!/bin/bash
# bench/serving_vs_nginx.sh: nginx and two tributary builds serving the same bytes, interleaved
# case by case, with each server's CPU time per request. On the shared 2-core machine req/s
# follows whoever else is running; CPU per request much less, so it is the figure to compare.
#
# Usage: bench/serving_vs_nginx.sh BASE_BIN NEW_BIN   (ROUNDS=3 SECONDS_EACH=5 PORT=18671)
# Needs the store and the static copies that bench/polling.sh's serve part leaves in
# target/bench-farm/work (tributary.db, static/): run polling.sh (SKIP_ROUNDS=1 is enough) first.
# The three servers run at once on CPU 1 (an idle server costs nothing); wrk -t1 -c16 on CPU 0
# against one at a time, in an order rotated each round: /feed.atom and the river page `/`,
# plain, gzip and 304 (If-None-Match with the server's own ETag).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=$(realpath "$1"); NEW=$(realpath "$2")
ROUNDS=${ROUNDS:-3}; SECONDS_EACH=${SECONDS_EACH:-5}; PORT=${PORT:-18671}
WORK=$PWD/target/bench-farm/work
OUT=$WORK/serving-vs-nginx
[ -f "$WORK/tributary.db" ] && [ -f "$WORK/static/feed.atom.gz" ] \
    || { echo "run bench/polling.sh first (its serve part)" >&2; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT/nginx"
cp "$WORK"/static/* "$OUT/"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

. bench/static_nginx.sh
static_nginx "$OUT" "$PORT" "$OUT/nginx" 1
sleep 0.5
# nginx's worker: the process that serves (the master only forks it)
nginx_worker=$(pgrep -P "$(cat "$OUT/nginx/nginx.pid")" | head -1)
pids+=("$(cat "$OUT/nginx/nginx.pid")")

declare -A port pid
port[nginx]=$PORT; pid[nginx]=$nginx_worker
start_tributary() { # name binary port
    local db=$OUT/$1.db
    cp "$WORK/tributary.db" "$db"
    sed "s#^database = .*#database = \"$db\"#; s#^listen = .*#listen = \"127.0.0.1:$3\"#" \
        "$WORK/tributary.toml" >"$OUT/$1.toml"
    taskset -c 1 "$2" --config "$OUT/$1.toml" run 2>"$OUT/$1.err" &
    pid[$1]=$!; port[$1]=$3; pids+=("$!")
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$3/healthz" >/dev/null && return; sleep 0.1; done
    echo "$1 did not start (see $OUT/$1.err)" >&2; exit 1
}
start_tributary base "$BASE" $((PORT + 1))
start_tributary new "$NEW" $((PORT + 2))

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
results=$OUT/results.tsv; : >"$results"
servers=(nginx base new)
for round in $(seq "$ROUNDS"); do
    for case in atom-plain atom-gzip atom-304 river-plain river-gzip river-304; do
        path=/feed.atom; [ "${case%%-*}" = river ] && path=/
        for k in 0 1 2; do
            server=${servers[$(((k + round) % 3))]}
            url=http://127.0.0.1:${port[$server]}$path
            header="X-Plain: 1"
            case $case in
                *-gzip) header="Accept-Encoding: gzip" ;;
                *-304) header="If-None-Match: $(curl -sI "$url" | awk -F': ' \
                    'tolower($1)=="etag"{print $2}' | tr -d '\r')" ;;
            esac
            before=$(cpu_ticks "${pid[$server]}")
            out=$(taskset -c 0 wrk -t1 -c16 -d"${SECONDS_EACH}s" -H "$header" "$url")
            after=$(cpu_ticks "${pid[$server]}")
            rate=$(awk '/Requests\/sec/{print $2}' <<<"$out")
            total=$(awk '/requests in/{print $1}' <<<"$out")
            us=$(python3 -c "print(round(($after - $before) * 1e6 / $(getconf CLK_TCK) / $total, 2))")
            load=$(cut -d' ' -f1 /proc/loadavg)
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$case" "$server" "$rate" "$us" "$load" >>"$results"
            printf 'round %s %-11s %-5s %9s req/s %7s us CPU/request (load %s)\n' \
                "$round" "$case" "$server" "$rate" "$us" "$load"
        done
    done
done
python3 - "$results" <<'PY'
"""Medians per case and server; ratios of tributary to nginx (req/s: higher is better; CPU per
request: nginx's over tributary's, so also higher is better)."""
import statistics, sys
from collections import defaultdict
rates, cpus = defaultdict(list), defaultdict(list)
for line in open(sys.argv[1]):
    _, case, server, rate, us, _ = line.rstrip("\n").split("\t")
    rates[case, server].append(float(rate)); cpus[case, server].append(float(us))
m = lambda values: statistics.median(values)
print("| case | nginx req/s (µs CPU/req) | base req/s (µs) | new req/s (µs) | base : nginx req/s (CPU) | new : nginx req/s (CPU) |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for case in dict.fromkeys(c for c, _ in rates):
    n, b, w = (m(rates[case, s]) for s in ("nginx", "base", "new"))
    nc, bc, wc = (m(cpus[case, s]) for s in ("nginx", "base", "new"))
    print(f"| {case} | {n:,.0f} ({nc:.1f}) | {b:,.0f} ({bc:.1f}) | {w:,.0f} ({wc:.1f}) | "
          f"{b / n:.2f}× ({nc / bc:.2f}×) | {w / n:.2f}× ({nc / wc:.2f}×) |")
PY

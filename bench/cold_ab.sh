#!/usr/bin/env bash
# Cold-poll A/B of tributary builds: `tributary poll` of the 1000 feeds x 20 items farm on an
# empty store, each binary in turn, ROUNDS rounds interleaved (A B A B ...), median per binary.
#
#   bench/cold_ab.sh ROUNDS BIN...        e.g. bench/cold_ab.sh 3 /work/notes/tributary-main target/release/tributary
#
# The poll is pinned to CLIENT_CPU (0), nginx to SERVER_CPU (1); /usr/bin/time gives wall, user,
# sys and peak RSS. Each round checks that 20,000 entries were stored (a binary that stores fewer
# is not faster, it is wrong). Run it under the shared lock: `flock /work/notes/bench.lock ...`.
# WARM=1 also times a second poll of the same store right after each cold one (every feed
# answers 304), reported as "warm".
# Environment: FEEDS (1000), ITEMS (20), PORT (18691), WORK (a temporary folder, deleted after
# unless KEEP=1), FARM (reused when it matches), CLIENT_CPU, SERVER_CPU.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 ROUNDS BIN..." >&2; exit 2; }
ROUNDS=$1; shift
BINS=("$@")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/poll-farm}
FEEDS=${FEEDS:-1000}; ITEMS=${ITEMS:-20}; PORT=${PORT:-18691}
CLIENT_CPU=${CLIENT_CPU:-0}; SERVER_CPU=${SERVER_CPU:-1}
WORK=${WORK:-$(mktemp -d /tmp/cold_ab.XXXXXX)}
FARM=${FARM:-/tmp/cold_ab_farm_${FEEDS}x${ITEMS}_$PORT}
mkdir -p "$WORK"

die() { echo "cold_ab: $*" >&2; exit 1; }
for bin in "${BINS[@]}"; do [ -x "$bin" ] || die "not executable: $bin"; done

base="http://127.0.0.1:$PORT"
if ! { [ -f "$FARM/farm.json" ] && grep -q "\"feeds\": $FEEDS," "$FARM/farm.json" \
        && grep -q "\"base\": \"$base\"" "$FARM/farm.json"; }; then
    rm -rf "$FARM"
    python3 "$SHARED/make_farm.py" --feeds "$FEEDS" --items "$ITEMS" --out "$FARM" \
        --base "$base" >"$WORK/farm.log" || die "make_farm.py failed"
fi
NGINX_CPUS=$SERVER_CPU sh "$SHARED/serve_farm.sh" "$FARM" "$PORT" >/dev/null
cleanup() {
    sh "$SHARED/serve_farm.sh" "$FARM" "$PORT" stop >/dev/null 2>&1 || true
    [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

config() { # database
    echo "database = \"$1\""
    echo 'default_schedule = "0 0 1 1 *"'
    printf '\n[fetch]\nallow_private_networks = true\nmax_concurrency = 16\n'
    printf 'per_host_concurrency = 16\nper_host_delay = "0ms"\n'
    while read -r url; do
        local name=${url##*/}; name=f${name%%.*}
        printf '\n[[sources]]\nname = "%s"\nurl = "%s"\n' "$name" "$url"
    done <"$FARM/urls.txt"
}

RESULTS=$WORK/results.tsv
: >"$RESULTS"
for round in $(seq "$ROUNDS"); do
    for index in "${!BINS[@]}"; do
        bin=${BINS[$index]}
        db=$WORK/b$index.db
        rm -f "$db" "$db-wal" "$db-shm"
        config "$db" >"$WORK/b$index.toml"
        load=$(cut -d' ' -f1 /proc/loadavg)
        /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" taskset -c "$CLIENT_CPU" \
            "$bin" --config "$WORK/b$index.toml" poll >"$WORK/out" 2>"$WORK/err" \
            || die "$bin exited $? (see $WORK/err)"
        read -r wall user sys kib <"$WORK/time"
        entries=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
            "select count(*) from story_sources").fetchone()[0])' "$db")
        [ "$entries" = $((FEEDS * ITEMS)) ] || die "$bin stored $entries entries, not $((FEEDS * ITEMS))"
        cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$index" "$round" "$wall" "$cpu" "$kib" "$load" \
            "$bin" >>"$RESULTS"
        printf 'round %s  %-40s wall %6.2f s  cpu %6.2f s (user %s sys %s)  peak %6d KiB  load %s\n' \
            "$round" "$bin" "$wall" "$cpu" "$user" "$sys" "$kib" "$load"
        if [ "${WARM:-0}" = 1 ]; then
            /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" taskset -c "$CLIENT_CPU" \
                "$bin" --config "$WORK/b$index.toml" poll >"$WORK/out" 2>"$WORK/err" \
                || die "$bin exited $? on the warm poll (see $WORK/err)"
            read -r wall user sys kib <"$WORK/time"
            cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
            printf 'w%s\t%s\t%s\t%s\t%s\t%s\t%s (warm)\n' "$index" "$round" "$wall" "$cpu" "$kib" \
                "$load" "$bin" >>"$RESULTS"
            printf 'round %s  %-40s warm: wall %6.2f s  cpu %6.2f s  peak %6d KiB\n' \
                "$round" "$bin" "$wall" "$cpu" "$kib"
        fi
    done
done
echo "== medians of $ROUNDS (wall s, CPU s, peak KiB), $FEEDS x $ITEMS farm, poll on CPU $CLIENT_CPU"
for index in "${!BINS[@]}" $([ "${WARM:-0}" = 1 ] && for i in "${!BINS[@]}"; do echo "w$i"; done); do
    awk -F'\t' -v i="$index" '$1 == i { w[++n] = $3; c[n] = $4; m[n] = $5; b = $7 }
        function median(a, n,   s, k, t, j) {
            for (k = 1; k <= n; k++) s[k] = a[k]
            for (k = 1; k <= n; k++) for (j = k + 1; j <= n; j++)
                if (s[j] + 0 < s[k] + 0) { t = s[k]; s[k] = s[j]; s[j] = t }
            return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
        }
        END { printf "%-40s wall %6.2f  cpu %6.2f  peak %7d KiB  (cpu all: ", b, median(w, n), median(c, n), median(m, n)
              for (k = 1; k <= n; k++) printf "%s%s", c[k], k < n ? " " : ")\n" }' "$RESULTS"
done

#!/usr/bin/env bash
# bench/polling.sh: polls a loopback feed farm (1000 feeds x 20 items, served by nginx) with
# tributary, py_poller.py (httpx + feedparser + SQLite) and newsboat in one run, cold (empty
# store) and warm (second pass, every feed answers 304); median of RUNS rounds of wall time and
# peak RSS, clients pinned to one core and nginx to the other. Checks from nginx's access log
# that tributary's cold pass got 1000 x 200 and stored 20000 entries, and that its warm pass
# sent If-None-Match and got 1000 x 304. Then (unless SKIP_SERVE=1) wrk, 16 connections, 10 s,
# against `tributary run`'s /feed.atom (200 entries) and river page `/`, plain, gzip and 304,
# and against nginx serving the same bytes from files (gzip_static for the gzip answers).
# Issue 11 added, in the same run: the ceiling (examples/ceiling_client.rs, a plain reqwest
# client doing the same GETs and conditional GETs), the daemon's memory before and after a
# poll, the 10,000-feed run (cold, warm, `run` idle), the store-growth run (stories added by
# examples/store_gen.rs, then a warm poll, one source's new entries, `export`) and the full-text
# run (100 feeds x 20 items with article pages, against `extract --batch` on the same pages).
#
# Usage: bench/polling.sh          (from anywhere; works from the repo root)
#   RUNS=3 FEEDS=1000 ITEMS=20 PORT=18481 SERVE_PORT=18482 CLIENT_CPU=0 SERVER_CPU=1
#   SKIP_SERVE=1  skip the wrk measurements (SERVE_SECONDS=10 each)
#   BIG_FEEDS=10000 (SKIP_BIG=1 skips that run)  STORE_SIZES="10000 100000" (add 1000000 for the
#   1 M store: about 5.6 GB and 13 minutes to build; SKIP_GROWTH=1 skips; GROWTH_RUNS=5 rounds
#   of each timed step)  SKIP_FULLTEXT=1
#   SKIP_ROUNDS=1 skips the 1000-feed rounds (to measure the later runs again)
#   TRIBUTARY_BIN=PATH measures that binary instead and builds nothing (an A/B against another
#   commit's build; the examples, when the rounds or the growth run need them, must be built)
# Installs what it needs: Debian nginx, newsboat, time, wrk (apt-get, once); httpx and
# feedparser in a throw-away venv under target/bench-peers/poll-venv.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=$ROOT/../shared/poll-farm
RUNS=${RUNS:-3}
FEEDS=${FEEDS:-1000}
ITEMS=${ITEMS:-20}
PORT=${PORT:-18481}
SERVE_PORT=${SERVE_PORT:-18482}
CLIENT_CPU=${CLIENT_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
FARM=$ROOT/target/bench-farm/farm
WORK=$ROOT/target/bench-farm/work
PEERS=$ROOT/target/bench-peers
RESULTS=$WORK/results.tsv
ACCESS_LOG=$FARM/.nginx-$PORT/access.log
TRIBUTARY=${TRIBUTARY_BIN:-$ROOT/target/release/tributary}
CEILING=$ROOT/target/release/examples/ceiling_client
STORE_GEN=$ROOT/target/release/examples/store_gen
BIG_FEEDS=${BIG_FEEDS:-10000}
STORE_SIZES=${STORE_SIZES:-10000 100000}
GROWTH_RUNS=${GROWTH_RUNS:-5}
PIN="taskset -c $CLIENT_CPU"
TRIBUTARY_PID=""

die() { echo "error: $*" >&2; exit 1; }

# --- tools --------------------------------------------------------------------------------
install_debian_packages() {
    local missing=()
    [ -x /usr/sbin/nginx ] || missing+=(nginx)
    command -v newsboat >/dev/null || missing+=(newsboat)
    [ -x /usr/bin/time ] || missing+=(time)
    command -v taskset >/dev/null || missing+=(util-linux)
    [ -n "${SKIP_SERVE:-}" ] || command -v wrk >/dev/null || missing+=(wrk)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "== apt-get install ${missing[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    # Keep the nginx package from starting a system-wide server on port 80.
    local added_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod +x /usr/sbin/policy-rc.d; added_policy=1
    fi
    $sudo apt-get update -qq >"$WORK/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
        "${missing[@]}" >>"$WORK/apt.log" 2>&1 || echo "   apt-get install failed (see $WORK/apt.log)"
    [ -n "$added_policy" ] && $sudo rm -f /usr/sbin/policy-rc.d
    return 0
}

install_python_peer() {
    local venv=$PEERS/poll-venv
    if ! "$venv/bin/python" -c 'import httpx, feedparser' 2>/dev/null; then
        echo "== pip install httpx feedparser into $venv"
        [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || return 1
        "$venv/bin/pip" install -q httpx feedparser >"$PEERS/poll-pip.log" 2>&1 || return 1
    fi
    PYTHON_PEER=$venv/bin/python
}

# --- farm ---------------------------------------------------------------------------------
make_farm() {
    local base="http://127.0.0.1:$PORT"
    if [ -f "$FARM/farm.json" ] && grep -q "\"feeds\": $FEEDS," "$FARM/farm.json" \
        && grep -q "\"items_per_feed\": $ITEMS," "$FARM/farm.json" \
        && grep -q "\"base\": \"$base\"" "$FARM/farm.json"; then
        return 0
    fi
    echo "== generating the farm ($FEEDS feeds x $ITEMS items) in $FARM"
    [ -d "$FARM" ] && sh "$SHARED/serve_farm.sh" "$FARM" "$PORT" stop >/dev/null 2>&1
    rm -rf "$FARM"
    python3 "$SHARED/make_farm.py" --feeds "$FEEDS" --items "$ITEMS" --out "$FARM" \
        --base "$base" >"$WORK/farm.log" || die "make_farm.py failed"
}

cleanup() {
    [ -n "$TRIBUTARY_PID" ] && kill "$TRIBUTARY_PID" 2>/dev/null && wait "$TRIBUTARY_PID" 2>/dev/null
    sh "$SHARED/serve_farm.sh" "$FARM" "$PORT" stop >/dev/null 2>&1
}

# The 1000-source config: one host, so 16 requests in flight to it, like the peers.
write_tributary_config() {
    local file=$1 database=$2 max_entries=$3 full_text=${4:-false}
    {
        echo "database = \"$database\""
        echo "listen = \"127.0.0.1:$SERVE_PORT\""
        echo '# yearly: `poll` ignores it; `run` (serving test) then polls nothing'
        echo 'default_schedule = "0 0 1 1 *"'
        echo
        echo '[fetch]'
        echo 'allow_private_networks = true'
        echo 'max_concurrency = 16'
        echo 'per_host_concurrency = 16'
        echo 'per_host_delay = "0ms"'
        echo
        echo '[output]'
        echo "max_entries = $max_entries"
        while read -r url; do
            local name=${url##*/}; name=f${name%%.*}
            printf '\n[[sources]]\nname = "%s"\nurl = "%s"\nfull_text = %s\n' "$name" "$url" \
                "$full_text"
        done <"$FARM/urls.txt"
    } >"$file"
}

# --- measuring ----------------------------------------------------------------------------
# Lines in the access log once nginx has written out its buffer (reopen, until stable).
log_lines() {
    local lines previous=-1
    for _ in $(seq 20); do
        sh "$SHARED/serve_farm.sh" "$FARM" "$PORT" flush
        lines=$(wc -l <"$ACCESS_LOG")
        [ "$lines" = "$previous" ] && break
        previous=$lines
    done
    echo "$lines"
}

# access-log counts since line $1: "requests 200s 304s with-If-None-Match"
log_counts() {
    log_lines >/dev/null
    tail -n +"$(($1 + 1))" "$ACCESS_LOG" | awk -F'\t' \
        '{n++} $2==200{ok++} $2==304{nm++} $6!="" && $6!="-"{inm++}
         END{printf "%d %d %d %d", n, ok, nm, inm}'
}

# measure CLIENT PHASE ROUND CHECK_CMD -- COMMAND...: one timed, pinned run; appends to RESULTS
# "client phase round seconds peak_kib load1 requests 200s 304s inm items cpu_seconds".
measure() {
    local client=$1 phase=$2 round=$3 items_cmd=$4; shift 5
    local load before out=$WORK/$client-$phase-$round
    load=$(cut -d' ' -f1 /proc/loadavg)
    before=$(log_lines)
    python3 "$ROOT/bench/rusage.py" "$out.time" $PIN "$@" >"$out.out" 2>"$out.err"
    local status=$?
    local counts; counts=$(log_counts "$before")
    local items; items=$(eval "$items_cmd" 2>/dev/null || echo "?")
    read -r seconds kib user sys <"$out.time"
    local cpu; cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.4f", u + s }')
    [ $status -eq 0 ] || echo "   $client $phase exited $status (see $out.err)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$client" "$phase" "$round" "$seconds" "$kib" \
        "$load" "${counts// /	}" "$items" "$cpu" >>"$RESULTS"
    printf '   %-9s %s round %s: %7.3f s (cpu %6.3f s) %6d KiB  load %-4s [req 200 304 inm] %s  items %s\n' \
        "$client" "$phase" "$round" "$seconds" "$cpu" "$kib" "$load" "$counts" "$items"
}

count_rows() { # sqlite file, table
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
        "select count(*) from " + sys.argv[2]).fetchone()[0])' "$1" "$2"
}

status_entries() {
    "$TRIBUTARY" --config "$WORK/tributary.toml" status --json | python3 -c \
        'import json,sys; print(sum(s.get("entries") or 0 for s in json.load(sys.stdin)["sources"]))'
}

run_tributary() { # phase round
    local db=$WORK/tributary.db
    [ "$1" = cold ] && rm -f "$db" "$db-wal" "$db-shm"
    measure tributary "$1" "$2" status_entries -- "$TRIBUTARY" --config "$WORK/tributary.toml" poll
    # tributary's own summary lines: one per source, its outcome in the second column
    local out=$WORK/tributary-$1-$2.out
    local updated notmod failed
    updated=$(grep -cE '^f[0-9]+ +updated ' "$out"); notmod=$(grep -cE '^f[0-9]+ +not-modified ' "$out")
    failed=$(grep -cE '^f[0-9]+ +FAILED ' "$out")
    printf 'outcome\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$updated" "$notmod" "$failed" >>"$RESULTS"
    echo "   tributary's summary: $updated updated, $notmod not-modified, $failed failed; $(tail -1 "$out")"
}

# The ceiling: a plain reqwest client, the same GETs (cold) and conditional GETs (warm).
run_ceiling() {
    local validators=$WORK/ceiling-validators.tsv
    [ "$1" = cold ] && rm -f "$validators"
    measure ceiling "$1" "$2" "echo -" -- "$CEILING" "$FARM/urls.txt" "$validators" \
        --concurrency 16
}

run_py_poller() {
    local db=$WORK/py_poller.db
    [ "$1" = cold ] && rm -f "$db" "$db-wal" "$db-shm"
    measure py_poller "$1" "$2" "count_rows $db item" -- "$PYTHON_PEER" "$SHARED/py_poller.py" \
        "$FARM/urls.txt" "$db" --concurrency 16
}

run_newsboat() {
    local db=$WORK/newsboat.db
    [ "$1" = cold ] && rm -f "$db" "$db.lock"
    mkdir -p "$WORK/home"
    HOME=$WORK/home measure newsboat "$1" "$2" "count_rows $db rss_item" -- newsboat \
        -u "$FARM/urls.txt" -c "$db" -C "$SHARED/newsboat.conf" -x reload
}

# The merged feed as exported, counted: every stored story when max_entries is large.
exported_entries() {
    write_tributary_config "$WORK/export.toml" "$WORK/tributary.db" 1000000
    "$TRIBUTARY" --config "$WORK/export.toml" export --format json | python3 -c \
        'import json,sys; print(len(json.load(sys.stdin)["items"]))'
}

# --- serving ------------------------------------------------------------------------------
# wrk_rate URL [HEADER]: "req/s transfer/s" of wrk, 1 thread, 16 connections, SERVE_SECONDS.
wrk_rate() {
    local header=()
    [ -n "${2:-}" ] && header=(-H "$2")
    $PIN wrk -t1 -c16 -d"${SERVE_SECONDS:-10}"s "${header[@]}" "$1" \
        | awk '/Requests\/sec/{r=$2} /Transfer\/sec/{t=$2} END{print r, t}'
}

etag_of() { # url: the ETag of its plain answer
    curl -sfI "$1" | tr -d '\r' | awk 'tolower($1)=="etag:"{sub(/^[^:]*: */, ""); print}'
}

# static_nginx ROOT PORT RUN_DIR CPU (bench/static_nginx.sh).
. bench/static_nginx.sh

# serve_case LABEL URL_PATH HEADER: wrk against nginx's copy, then tributary's (HEADER "etag":
# If-None-Match with each server's own ETag); appends "serve LABEL-server req/s transfer/s bytes".
serve_case() {
    local label=$1 path=$2 header=$3 bytes server url rate transfer
    for server in nginx tributary; do
        url=http://127.0.0.1:$STATIC_PORT$path
        [ $server = tributary ] && url=http://127.0.0.1:$SERVE_PORT$path
        local h=$header
        [ "$h" = etag ] && h="If-None-Match: $(etag_of "$url")"
        bytes=$(curl -s ${h:+-H "$h"} "$url" | wc -c)
        read -r rate transfer < <(wrk_rate "$url" "$h")
        printf 'serve\t%s-%s\t%s\t%s\t%s\n' "$label" "$server" "$rate" "$transfer" "$bytes" >>"$RESULTS"
        printf '   %-9s %-12s %7s bytes: %9s req/s, %s/s  (load %s)\n' "$server" "$label" "$bytes" \
            "$rate" "$transfer" "$(cut -d' ' -f1 /proc/loadavg)"
    done
}

# `tributary run` on a copy of the cold pass's store (200 entries, the default), pinned to the
# server core; its /feed.atom and river page `/`, plain and gzip, copied into a folder nginx
# serves with gzip_static; then wrk against both for the feed and the page, plain, gzip and 304.
serve_benchmark() {
    echo "== serving: wrk -t1 -c16 -d${SERVE_SECONDS:-10}s (wrk on cpu $CLIENT_CPU, servers on cpu $SERVER_CPU)"
    if [ "$RUNS" = 0 ]; then  # no rounds (SKIP_ROUNDS): the store of one untimed cold poll
        rm -f "$WORK/tributary.db" "$WORK/tributary.db-wal" "$WORK/tributary.db-shm"
        "$TRIBUTARY" --config "$WORK/tributary.toml" poll >/dev/null 2>&1
    fi
    cp "$WORK/tributary.db" "$WORK/serve.db"
    rm -f "$WORK/serve.db-wal" "$WORK/serve.db-shm"
    write_tributary_config "$WORK/serve.toml" "$WORK/serve.db" 200
    taskset -c "$SERVER_CPU" "$TRIBUTARY" --config "$WORK/serve.toml" run 2>"$WORK/serve.err" &
    TRIBUTARY_PID=$!
    local url=http://127.0.0.1:$SERVE_PORT
    for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
    STATIC_PORT=$((SERVE_PORT + 1))
    local static=$WORK/static
    rm -rf "$static"; mkdir -p "$static"
    curl -sf -o "$static/feed.atom" "$url/feed.atom"
    curl -sf -H 'Accept-Encoding: gzip' -o "$static/feed.atom.gz" "$url/feed.atom"
    curl -sf -o "$static/index.html" "$url/"
    curl -sf -H 'Accept-Encoding: gzip' -o "$static/index.html.gz" "$url/"
    gzip -t "$static/feed.atom.gz" && gzip -t "$static/index.html.gz" \
        || die "tributary's gzip answers are not gzip"
    static_nginx "$static" "$STATIC_PORT" "$static/.nginx" "$SERVER_CPU"
    local before; before=$(log_lines)
    serve_case atom-plain /feed.atom ""
    serve_case atom-gzip /feed.atom "Accept-Encoding: gzip"
    serve_case atom-304 /feed.atom etag
    serve_case river-plain / ""
    serve_case river-gzip / "Accept-Encoding: gzip"
    serve_case river-304 / etag
    echo "   (farm requests by tributary meanwhile: $(log_counts "$before" | cut -d' ' -f1))"
    kill "$(cat "$static/.nginx/nginx.pid")"
    kill "$TRIBUTARY_PID"; wait "$TRIBUTARY_PID" 2>/dev/null; TRIBUTARY_PID=""
}

# --- memory of the daemon ----------------------------------------------------------------
# idle_rss PID: waits until the process has used no CPU for 3 s (the poll is over), then 2 s
# more; prints "VmRSS RssAnon" in KiB (RssAnon is the heap, without mapped files).
# settled_rss PID: the same figures SETTLE_SECONDS (12) later: jemalloc's background thread
# returns freed pages over its 10 s decay, so "after the poll" is read both soon and settled.
settled_rss() {
    sleep "${SETTLE_SECONDS:-12}"
    awk '/^VmRSS/{r=$2} /^RssAnon/{a=$2} END{print r, a}' "/proc/$1/status" 2>/dev/null
}
idle_rss() {
    local pid=$1 last=-1 now quiet=0
    while [ $quiet -lt 3 ] && kill -0 "$pid" 2>/dev/null; do
        sleep 1
        now=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null)
        if [ "$now" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0; fi
        last=$now
    done
    sleep 2
    awk '/^VmRSS/{r=$2} /^RssAnon/{a=$2} END{print r, a}' "/proc/$pid/status" 2>/dev/null
}

# daemon_rss LABEL CONFIG [idle-only]: `tributary run` (pinned like the clients) on an empty store,
# whose every source is due at start-up: RSS once that first poll is over; then `run` again
# on the same store, nothing due: the RSS the daemon idles at, its pre-poll figure. Appends
# "mem LABEL idle_rss idle_anon after_rss after_anon peak_kib".
daemon_rss() {
    local label=$1 config=$2 db after="- -" settled="- -" peak="-" before before_settled
    db=$(sed -n 's/^database = "\(.*\)"$/\1/p' "$config")
    if [ -z "${3:-}" ]; then
        rm -f "$db" "$db-wal" "$db-shm"
        local requested sources; requested=$(log_lines)
        sources=$(grep -c '^\[\[sources\]\]' "$config")
        $PIN "$TRIBUTARY" --config "$config" run 2>"$WORK/daemon-$label-1.err" &
        TRIBUTARY_PID=$!
        # Every feed requested first (a loaded machine can leave the poll without CPU for
        # seconds), then the quiet that ends the poll.
        for _ in $(seq 600); do
            [ $(($(log_lines) - requested)) -ge "$sources" ] && break
            sleep 1
        done
        after=$(idle_rss "$TRIBUTARY_PID")
        settled=$(settled_rss "$TRIBUTARY_PID")
        peak=$(awk '/^VmHWM/{print $2}' "/proc/$TRIBUTARY_PID/status")
        kill "$TRIBUTARY_PID"; wait "$TRIBUTARY_PID" 2>/dev/null; TRIBUTARY_PID=""
    fi
    $PIN "$TRIBUTARY" --config "$config" run 2>"$WORK/daemon-$label-2.err" &
    TRIBUTARY_PID=$!
    before=$(idle_rss "$TRIBUTARY_PID")
    before_settled=$(settled_rss "$TRIBUTARY_PID")
    kill "$TRIBUTARY_PID"; wait "$TRIBUTARY_PID" 2>/dev/null; TRIBUTARY_PID=""
    printf 'mem\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "${before// /	}" "${after// /	}" "$peak" \
        "${before_settled// /	}" "${settled// /	}" >>"$RESULTS"
    echo "   daemon $label: idle (nothing due) ${before% *} KiB RSS (${before_settled% *} settled); after its first poll ${after% *} KiB (${settled% *} settled; peak $peak KiB)"
}

daemon_memory() {
    echo "== the daemon's memory: RSS before (nothing due) and after its first poll of $FEEDS feeds"
    sed "s/^listen = .*/listen = \"127.0.0.1:$SERVE_PORT\"/; s#^database = .*#database = \"$WORK/daemon.db\"#" \
        "$WORK/tributary.toml" >"$WORK/daemon.toml"
    daemon_rss "$FEEDS" "$WORK/daemon.toml"
    rm -f "$WORK/daemon.db" "$WORK/daemon.db-wal" "$WORK/daemon.db-shm"
}

# --- other farms --------------------------------------------------------------------------
# with_farm DIR PORT FEEDS ITEMS [--articles] -- COMMAND...: generates the farm if needed, serves
# it, runs COMMAND with FARM, PORT and ACCESS_LOG pointing at it, stops it.
with_farm() {
    local dir=$1 port=$2 feeds=$3 items=$4 articles=""; shift 4
    [ "$1" = --articles ] && { articles=--articles; shift; }
    shift
    local base="http://127.0.0.1:$port"
    if ! { [ -f "$dir/farm.json" ] && grep -q "\"feeds\": $feeds," "$dir/farm.json" \
        && grep -q "\"base\": \"$base\"" "$dir/farm.json"; }; then
        echo "   generating $dir ($feeds feeds x $items items $articles)"
        rm -rf "$dir"
        python3 "$SHARED/make_farm.py" --feeds "$feeds" --items "$items" --out "$dir" \
            --base "$base" $articles >"$WORK/farm-$feeds.log" || die "make_farm.py failed"
    fi
    local saved_farm=$FARM saved_port=$PORT saved_log=$ACCESS_LOG
    FARM=$dir PORT=$port ACCESS_LOG=$dir/.nginx-$port/access.log
    NGINX_CPUS=$SERVER_CPU sh "$SHARED/serve_farm.sh" "$FARM" "$PORT" >/dev/null
    "$@"
    sh "$SHARED/serve_farm.sh" "$FARM" "$PORT" stop >/dev/null 2>&1
    FARM=$saved_farm PORT=$saved_port ACCESS_LOG=$saved_log
}

# The 10,000-feed run: one cold and one warm poll, then the daemon idle with nothing due.
big_polls() {
    write_tributary_config "$WORK/big.toml" "$WORK/big.db" 200
    rm -f "$WORK/big.db" "$WORK/big.db-wal" "$WORK/big.db-shm"
    measure "tributary-$BIG_FEEDS" cold 1 "count_rows $WORK/big.db stories" -- \
        "$TRIBUTARY" --config "$WORK/big.toml" poll
    measure "tributary-$BIG_FEEDS" warm 1 "count_rows $WORK/big.db stories" -- \
        "$TRIBUTARY" --config "$WORK/big.toml" poll
    sed -i "s/^listen = .*/listen = \"127.0.0.1:$SERVE_PORT\"/" "$WORK/big.toml"
    daemon_rss "$BIG_FEEDS" "$WORK/big.toml" idle-only
    rm -f "$WORK/big.db" "$WORK/big.db-wal" "$WORK/big.db-shm"
}

# fresh_feed FILE LABEL: an RSS feed of 20 entries no store has seen (for "one source's new
# entries committed").
fresh_feed() {
    {
        echo '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        echo "<title>fresh $2</title><link>http://127.0.0.1:$PORT/</link><description>d</description>"
        for n in $(seq 20); do
            printf '<item><guid>fresh-%s-%s</guid><title>Fresh story %s of run %s</title>' "$2" "$n" "$n" "$2"
            printf '<link>http://127.0.0.1:%s/fresh/%s/%s.html</link>' "$PORT" "$2" "$n"
            printf '<pubDate>Tue, 01 Dec 2026 10:%02d:00 GMT</pubDate>' "$n"
            printf '<description>&lt;p&gt;A new story, number %s, with enough words to be a story worth' "$n"
            # words of its own (run and number), so the 20 stories are new, not near-duplicates
            printf ' fingerprinting: %s&lt;/p&gt;</description></item>\n' \
                "$(for w in $(seq 60); do printf 'w%sn%sx%s ' "${2//-/r}" "$n" "$w"; done)"
        done
        echo '</channel></rss>'
    } >"$1"
}

# The store-growth run: for each size, STORE_SIZES synthetic stories built directly
# (examples/store_gen.rs: the store's own pass commit, 1000 sources), then the farm's cold
# poll on top; then timed: a warm poll (all 304), one source's 20 new entries committed
# (`poll` of a one-source config), `export` of the 200-entry merged feed (the re-render).
store_growth() {
    local db=$WORK/growth.db size
    for size in $STORE_SIZES; do
        rm -f "$db" "$db-wal" "$db-shm"
        local started; started=$(date +%s.%N)
        "$STORE_GEN" "$db" "$size" >"$WORK/growth-$size.gen" || die "store_gen failed"
        echo "   store of $size generated stories: $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}') s, $(du -m "$db" | cut -f1) MB"
        write_tributary_config "$WORK/growth.toml" "$db" 200
        "$TRIBUTARY" --config "$WORK/growth.toml" poll >/dev/null 2>&1
        mkdir -p "$FARM/fresh"
        local round
        for round in $(seq "$GROWTH_RUNS"); do
            measure "growth-$size" warm "$round" "count_rows $db stories" -- \
                "$TRIBUTARY" --config "$WORK/growth.toml" poll
            # a feed of 20 stories no store has seen, a new one each round
            fresh_feed "$FARM/fresh/$size-$round.rss" "$size-$round"
            { sed -n '1,/^\[\[sources\]\]/p' "$WORK/growth.toml" | sed '$d'
              printf '[[sources]]\nname = "fresh-%s"\nurl = "http://127.0.0.1:%s/fresh/%s-%s.rss"\nfull_text = false\n' \
                  "$round" "$PORT" "$size" "$round"; } >"$WORK/growth-fresh.toml"
            measure "growth-$size" new "$round" "count_rows $db stories" -- \
                "$TRIBUTARY" --config "$WORK/growth-fresh.toml" poll
            measure "growth-$size" export "$round" "echo -" -- \
                "$TRIBUTARY" --config "$WORK/growth.toml" export --format atom --output "$WORK/growth.atom"
        done
    done
    rm -f "$db" "$db-wal" "$db-shm"
}

# The full-text run: 100 feeds x 20 items whose article pages are fetched and extracted, then
# `extract --batch` over the same 2000 pages (symlinked into one folder).
full_text() {
    write_tributary_config "$WORK/fulltext.toml" "$WORK/fulltext.db" 200 true
    rm -f "$WORK/fulltext.db" "$WORK/fulltext.db-wal" "$WORK/fulltext.db-shm"
    measure fulltext cold 1 "count_rows $WORK/fulltext.db stories" -- \
        "$TRIBUTARY" --config "$WORK/fulltext.toml" poll
    local pages=$WORK/pages
    rm -rf "$pages" "$pages-out"; mkdir -p "$pages"
    for page in "$FARM"/a/*/*.html; do
        local feed=${page%/*}; feed=${feed##*/}
        ln -s "$page" "$pages/$feed-${page##*/}"
    done
    measure extract-batch cold 1 "ls $pages | wc -l" -- \
        "$TRIBUTARY" extract --batch "$pages" "$pages-out"
    rm -rf "$pages" "$pages-out" "$WORK/fulltext.db" "$WORK/fulltext.db-wal" "$WORK/fulltext.db-shm"
}

# --- main ---------------------------------------------------------------------------------
mkdir -p "$WORK" "$PEERS"
started=$(date +%s)
install_debian_packages
PYTHON_PEER=""
install_python_peer || echo "   httpx/feedparser could not be installed: py_poller skipped"
for tool in /usr/sbin/nginx /usr/bin/time; do [ -x "$tool" ] || die "$tool is missing"; done

if [ -z "${TRIBUTARY_BIN:-}" ]; then
    echo "== building tributary (release)"
    cargo build --release --quiet --bin tributary --example ceiling_client --example store_gen \
        || die "cargo build failed"
fi
echo "== tributary: $TRIBUTARY ($(stat -c %y "$TRIBUTARY" | cut -d. -f1))"
make_farm
trap cleanup EXIT
trap 'exit 130' INT TERM
NGINX_CPUS=$SERVER_CPU sh "$SHARED/serve_farm.sh" "$FARM" "$PORT" | sed 's/^/   /'
first_feed=$(head -1 "$FARM/urls.txt")
curl -sf -o /dev/null "$first_feed" && [ "$(log_lines)" -gt 0 ] \
    || die "nginx does not serve $first_feed, logged in $ACCESS_LOG (is port $PORT taken?)"
write_tributary_config "$WORK/tributary.toml" "$WORK/tributary.db" 200
"$TRIBUTARY" --config "$WORK/tributary.toml" check >/dev/null || die "generated config invalid"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "== $(newsboat --version | head -1); $("$PYTHON_PEER" -c \
    'import httpx,feedparser,sys; print("py_poller: Python", sys.version.split()[0], "httpx", httpx.__version__, "feedparser", feedparser.__version__)' 2>/dev/null)"
: >"$RESULTS"
clients=(tributary ceiling newsboat)
[ -n "$PYTHON_PEER" ] && clients=(tributary ceiling py_poller newsboat)
# Rounds interleave the clients, so machine load hits all of them alike.
[ -n "${SKIP_ROUNDS:-}" ] && RUNS=0
for round in $(seq "$RUNS"); do
    echo "== round $round/$RUNS"
    for client in "${clients[@]}"; do
        "run_$client" cold "$round"
        if [ "$client" = tributary ] && [ "$round" = 1 ]; then
            echo "   tributary export --format json (max_entries 1000000): $(exported_entries) entries"
        fi
        "run_$client" warm "$round"
    done
done
[ -n "${SKIP_SERVE:-}" ] || serve_benchmark
daemon_memory
if [ -z "${SKIP_GROWTH:-}" ]; then
    echo "== store growth: $STORE_SIZES generated stories, then the farm's cold poll on top"
    store_growth
fi
sh "$SHARED/serve_farm.sh" "$FARM" "$PORT" stop >/dev/null 2>&1
if [ -z "${SKIP_FULLTEXT:-}" ]; then
    echo "== full text: 100 feeds x 20 items with article pages"
    with_farm "$ROOT/target/bench-farm/farm-articles" $((PORT + 11)) 100 20 --articles -- full_text
fi
if [ -z "${SKIP_BIG:-}" ]; then
    echo "== $BIG_FEEDS feeds x $ITEMS items"
    with_farm "$ROOT/target/bench-farm/farm$BIG_FEEDS" $((PORT + 10)) "$BIG_FEEDS" "$ITEMS" -- big_polls
fi
echo "== summary ($(($(date +%s) - started)) s in all)"
python3 - "$RESULTS" "$FEEDS" "$ITEMS" <<'PY'
"""Medians per client and phase, ratios against the peers, and the correctness checks."""
import os, statistics, sys
from collections import defaultdict

path, feeds, items = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs, serve, outcomes, mem = defaultdict(list), {}, defaultdict(list), {}
for line in open(path):
    f = line.rstrip("\n").split("\t")
    if f[0] == "mem":
        mem[f[1]] = [None if x == "-" else int(x) for x in f[2:11]]
        continue
    if f[0] == "serve":
        serve[f[1]] = (float(f[2]), f[3], int(f[4]))
        continue
    if f[0] == "outcome":
        outcomes[f[1]].append(tuple(int(x) for x in f[3:6]))
        continue
    client, phase, _round, secs, kib, load, req, ok, nm, inm, stored, cpu = f
    runs[client, phase].append(dict(secs=float(secs), kib=int(kib), load=float(load), cpu=float(cpu),
                                    req=int(req), ok=int(ok), nm=int(nm), inm=int(inm), stored=stored))
base = ("tributary", "ceiling", "py_poller", "newsboat")
clients = [c for c in dict.fromkeys(c for c, _ in runs) if c in base]
med = {k: statistics.median(r["secs"] for r in v) for k, v in runs.items()}
cpu = {k: statistics.median(r["cpu"] for r in v) for k, v in runs.items()}
rss = {k: statistics.median(r["kib"] for r in v) / 1024 for k, v in runs.items()}
joined = lambda rs, key: "/".join(str(r[key]) for r in rs)
print("| client | cold: wall (CPU) | warm: wall (CPU) | peak RSS cold / warm | cold: 200s; stored | warm: 304s; If-None-Match sent | load (1-min avg) |")
print("| --- | ---: | ---: | ---: | --- | --- | --- |")
for c in clients:
    cold, warm = runs[c, "cold"], runs[c, "warm"]
    loads = [r["load"] for r in cold + warm]
    print(f"| {c} | {med[c, 'cold']:.2f} s ({cpu[c, 'cold']:.2f} s) | {med[c, 'warm']:.2f} s ({cpu[c, 'warm']:.2f} s)"
          f" | {rss[c, 'cold']:.0f} / {rss[c, 'warm']:.0f} MiB"
          f" | {joined(cold, 'ok')}; {joined(cold, 'stored')} | {joined(warm, 'nm')}; {joined(warm, 'inm')}"
          f" | {min(loads):.1f}-{max(loads):.1f} |")
print()
for peer in [c for c in clients[1:] if c != "ceiling"]:
    print(f"- tributary cold = {med['tributary', 'cold'] / med[peer, 'cold']:.2f}x {peer}'s wall time "
          f"({cpu['tributary', 'cold'] / cpu[peer, 'cold']:.2f}x its CPU), warm = "
          f"{med['tributary', 'warm'] / med[peer, 'warm']:.2f}x ({cpu['tributary', 'warm'] / cpu[peer, 'warm']:.2f}x CPU)")
print("- all runs, wall s: " + "; ".join(
    f"{c} {p} " + " ".join(f"{r['secs']:.2f}" for r in runs[c, p]) for c in clients for p in ("cold", "warm")))
peers = [c for c in clients if c not in ("tributary", "ceiling")]
if peers:
    for phase in ("cold", "warm"):
        fastest = min(peers, key=lambda c: med[c, phase])
        print(f"- {phase}: tributary is {med[fastest, phase] / med['tributary', phase]:.1f}x faster than the fastest peer "
              f"({fastest}, wall), {cpu[fastest, phase] / cpu['tributary', phase]:.1f}x in CPU")
if "ceiling" in clients:
    for phase in ("cold", "warm"):
        print(f"- {phase}: tributary / ceiling (plain reqwest client, same GETs) = "
              f"{med['tributary', phase] / med['ceiling', phase]:.1f}x wall ({med['tributary', phase]:.3f} s vs "
              f"{med['ceiling', phase]:.3f} s), {cpu['tributary', phase] / max(cpu['ceiling', phase], 0.01):.1f}x CPU")
if ("tributary", "cold") in rss:  # not with SKIP_ROUNDS
    print(f"- cold peak RSS: tributary {rss['tributary', 'cold']:.0f} MiB" + "".join(
        f", {c} {rss[c, 'cold']:.0f} MiB" for c in peers))
for label, figures in mem.items():
    idle, idle_anon, after, after_anon, peak = figures[:5]
    idle_settled, idle_settled_anon, after_settled, after_settled_anon = (figures[5:9] + [None] * 4)[:4]
    line = f"- daemon, {label} sources: idle with nothing due {idle / 1024:.1f} MiB RSS ({idle_anon / 1024:.1f} MiB anonymous)"
    if idle_settled:
        line += f", {idle_settled / 1024:.1f} MiB settled"
    if after:
        line += (f"; after its first poll {after / 1024:.1f} MiB ({after_anon / 1024:.1f} anonymous), "
                 f"peak {peak / 1024:.0f} MiB: {after / idle:.2f}x the idle figure, "
                 f"{after_anon / idle_anon:.2f}x in anonymous memory (the heap)")
    if after and after_settled and idle_settled:
        line += (f"; settled ({os.environ.get('SETTLE_SECONDS', '12')} s later) {after_settled / 1024:.1f} MiB"
                 f" against {idle_settled / 1024:.1f}: {after_settled / idle_settled:.2f}x; anonymous "
                 f"{after_settled_anon / 1024:.1f} against {idle_settled_anon / 1024:.1f} MiB: "
                 f"{after_settled_anon / idle_settled_anon:.2f}x")
    print(line)
one = lambda client, phase: (runs[client, phase] or [None])[0]
big = [c for c, _ in runs if c.startswith("tributary-")]
for client in dict.fromkeys(big):
    n = int(client.split("-")[1])
    for phase in ("cold", "warm"):
        r = one(client, phase)
        if r and ("tributary", phase) in med:
            print(f"- {n} feeds {phase}: {r['secs']:.2f} s wall ({r['cpu']:.2f} s CPU), peak {r['kib'] / 1024:.0f} MiB, "
                  f"{r['stored']} stories = {r['secs'] / med['tributary', phase]:.1f}x the wall, "
                  f"{r['cpu'] / cpu['tributary', phase]:.1f}x the CPU, {r['kib'] / 1024 / rss['tributary', phase]:.1f}x the peak RSS "
                  f"of {feeds} feeds (linear: {n / feeds:.0f}x)")
sizes = sorted({int(c.split("-")[1]) for c, _ in runs if c.startswith("growth-")})
if sizes:
    print("- store growth (generated stories + the farm's; wall s, CPU s):")
    first = sizes[0]
    median = lambda values: sorted(values)[len(values) // 2]
    for phase, what in (("warm", "warm poll"), ("new", "one source's 20 new entries"), ("export", "export, 200 entries")):
        cells = []
        c0 = median([r["cpu"] for r in runs[f"growth-{first}", phase]] or [0])
        w0 = median([r["secs"] for r in runs[f"growth-{first}", phase]] or [0])
        for size in sizes:
            rs = runs[f"growth-{size}", phase]
            if rs:
                c, w = median([r["cpu"] for r in rs]), median([r["secs"] for r in rs])
                cells.append(f"{size}: {w:.3f} s ({c:.3f} s CPU) = {w / max(w0, 1e-3):.2f}x wall, "
                             f"{c / max(c0, 1e-3):.2f}x CPU")
        print(f"  - {what} (median of {len(runs[f'growth-{first}', phase])}): " + "; ".join(cells))
ft, batch = one("fulltext", "cold"), one("extract-batch", "cold")
if ft and batch:
    pages = int(batch["stored"]) if batch["stored"].isdigit() else 0
    stored = int(ft["stored"]) if ft["stored"].isdigit() else 0
    if pages and stored:
        print(f"- full text: {stored} entries in {ft['secs']:.2f} s = {stored / ft['secs']:.0f} entries/s, "
              f"{ft['cpu'] / pages * 1000:.2f} ms CPU per page, peak {ft['kib'] / 1024:.0f} MiB; extract --batch "
              f"{batch['cpu'] / pages * 1000:.2f} ms per page: {ft['cpu'] / batch['cpu']:.2f}x")
for case in ("atom-plain", "atom-gzip", "atom-304", "river-plain", "river-gzip", "river-304"):
    if f"{case}-nginx" in serve and f"{case}-tributary" in serve:
        (nr, nt, nb), (tr, tt, tb) = serve[f"{case}-nginx"], serve[f"{case}-tributary"]
        print(f"- serving {case} (wrk, 16 connections; the same bytes from nginx's files): tributary "
              f"{tr:.0f} req/s ({tb} bytes, {tt}/s) = {tr / nr:.2f}x nginx's {nr:.0f} req/s ({nb} bytes, {nt}/s)")
cold, warm = runs.get(("tributary", "cold"), []), runs.get(("tributary", "warm"), [])
checks = {
    "cold: every feed requested once, 200": all(r["req"] == feeds == r["ok"] for r in cold),
    f"cold: {feeds * items} entries stored": all(r["stored"] == str(feeds * items) for r in cold),
    "cold: every source 'updated'": all(o == (feeds, 0, 0) for o in outcomes["cold"]),
    "warm: every feed requested once, 304, If-None-Match sent":
        all(r["req"] == feeds == r["nm"] == r["inm"] for r in warm),
    "warm: every source 'not-modified'": all(o == (0, feeds, 0) for o in outcomes["warm"]),
}
for name, passed in checks.items() if cold or warm else ():  # no rounds with SKIP_ROUNDS
    print(f"- tributary {name}: {'OK' if passed and cold and warm else 'FAILED'}")
PY

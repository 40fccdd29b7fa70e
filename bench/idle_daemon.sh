#!/usr/bin/env bash
# bench/idle_daemon.sh BINARY LABEL [SOURCES]: the idle daemon's memory with SOURCES (10,000)
# sources, nothing due. Config: every source on a closed loopback port, no per-host delay, so a
# first `run` fails each source once, quickly (none is due for a while after); then three more
# `run`s on that store, each measured once it has used no CPU for 5 s: VmHWM, VmRSS, RssAnon
# (KiB). Run it under the benchmark lock; compare two binaries in the same session.
set -u
BIN=$1; LABEL=$2; SOURCES=${3:-10000}
DIR=$(cd "$(dirname "$0")/.." && pwd)/target/idle/$LABEL
rm -rf "$DIR"; mkdir -p "$DIR"
{
    echo "database = \"$DIR/idle.db\""
    echo 'listen = "127.0.0.1:18777"'
    echo '[fetch]'
    echo 'allow_private_networks = true'
    echo 'per_host_delay = "0ms"'
    echo 'per_host_concurrency = 16'
    echo 'max_concurrency = 16'
    for i in $(seq "$SOURCES"); do
        printf '\n[[sources]]\nname = "s%05d"\nurl = "http://127.0.0.1:9/f%05d.xml"\n' "$i" "$i"
    done
} >"$DIR/c.toml"
quiet_status() { # pid: its memory once it has been quiet for 5 s
    local last=-1 now quiet=0
    while [ $quiet -lt 5 ]; do
        sleep 1
        now=$(awk '{print $14 + $15}' "/proc/$1/stat")
        if [ "$now" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0; fi
        last=$now
    done
    awk '/^VmRSS|^VmHWM|^RssAnon/{printf "%s %s ", $1, $2}' "/proc/$1/status"
}
"$BIN" --config "$DIR/c.toml" run 2>"$DIR/first.err" &
pid=$!
quiet_status $pid >"$DIR/first.txt"; kill $pid; wait $pid 2>/dev/null
for round in 1 2 3; do
    "$BIN" --config "$DIR/c.toml" run 2>"$DIR/idle.err" &
    pid=$!
    echo "$LABEL run $round: $(quiet_status $pid) load $(cut -d' ' -f1 /proc/loadavg)"
    kill $pid; wait $pid 2>/dev/null
done
polled=$(grep -c 'could not poll' "$DIR/idle.err")
echo "$LABEL: sources polled during the last measured run (should be 0): $polled"

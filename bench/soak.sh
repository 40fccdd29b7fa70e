#!/usr/bin/env bash
# bench/soak.sh: leaves `tributary run` polling a loopback farm whose feeds keep growing
# (bench/soak_farm.py) for DURATION seconds, with retention limits small enough to bite and a
# per-second schedule, and checks that storage levels off:
#   - every SAMPLE seconds: database file size (file + WAL), the process's RSS, stories,
#     entries and tombstones (printed as a table, also in $WORK/samples.tsv);
#   - the longest pruning batch of the whole run (from the daemon's "pruned" log lines): the
#     longest any poll or request waited on pruning; must stay under 50 ms;
#   - at the end the farm's clock is frozen, the daemon gets CATCHUP seconds to read the last
#     entries, and every entry each feed still lists must be stored exactly once: as a story's
#     entry, or (pruned while still listed) as a tombstone, never both, never twice, never
#     missing; and no story twice under one link.
# Exits non-zero when a check fails.
#
# Usage: bench/soak.sh     (from anywhere)
#   DURATION=600 SAMPLE=30 FEEDS=20 FAST=2 SLOW=10 LISTED=15 SCHEDULE="*/3 * * * * *"
#   MAX_AGE=30s KEEP=3 CAP=12 PRUNE_EVERY=20s CATCHUP=12 PORT=18791 SERVE_PORT=18792
#   NICE=-10 runs the daemon at that priority (root only): on a machine shared with compile
#   jobs, the batch times then measure pruning rather than the scheduler's preemption
#   PROFILE=release (or debug: the dev profile, whose dependencies, SQLite included, are
#   optimized; saves a release build on a busy machine)
# Needs python3 (standard library only).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-600}
SAMPLE=${SAMPLE:-30}
FEEDS=${FEEDS:-20}
FAST=${FAST:-2}
SLOW=${SLOW:-10}
LISTED=${LISTED:-15}
SCHEDULE=${SCHEDULE:-"*/3 * * * * *"}
MAX_AGE=${MAX_AGE:-30s}
KEEP=${KEEP:-3}
CAP=${CAP:-12}
PRUNE_EVERY=${PRUNE_EVERY:-20s}
CATCHUP=${CATCHUP:-12}
PORT=${PORT:-18791}
SERVE_PORT=${SERVE_PORT:-18792}
PROFILE=${PROFILE:-release}
NICE=${NICE:-}
WORK=$ROOT/target/soak
FARM_PID=""
TRIBUTARY_PID=""

die() { echo "error: $*" >&2; exit 1; }
cleanup() {
    [ -n "$TRIBUTARY_PID" ] && kill "$TRIBUTARY_PID" 2>/dev/null
    [ -n "$FARM_PID" ] && kill "$FARM_PID" 2>/dev/null
}
trap cleanup EXIT

if [ "$PROFILE" = release ]; then
    cargo build --release --quiet || die "build failed"
else
    cargo build --quiet || die "build failed"
fi
TRIBUTARY=$ROOT/target/$PROFILE/tributary
rm -rf "$WORK" && mkdir -p "$WORK"
DB=$WORK/soak.db
START=$(date +%s)

python3 bench/soak_farm.py "$PORT" "$FEEDS" "$FAST" "$SLOW" "$LISTED" "$START" "$WORK/freeze" &
FARM_PID=$!
# The farm must be ours: another server on the port would make every poll fail.
for _ in $(seq 50); do
    python3 -c "import urllib.request, sys; sys.exit(b'Soak feed 0' not in urllib.request.urlopen('http://127.0.0.1:$PORT/feed/0.xml').read())" 2>/dev/null && break
    kill -0 "$FARM_PID" 2>/dev/null || die "the farm did not start (port $PORT taken?)"
    sleep 0.1
done

{
    echo "database = \"$DB\""
    echo "listen = \"127.0.0.1:$SERVE_PORT\""
    echo "default_schedule = \"$SCHEDULE\""
    echo "[fetch]"
    echo "allow_private_networks = true"
    echo "per_host_concurrency = 8"
    echo "per_host_delay = \"1ms\""
    echo "[retention]"
    echo "max_age = \"$MAX_AGE\""
    echo "keep_per_source = $KEEP"
    echo "max_entries_per_source = $CAP"
    echo "interval = \"$PRUNE_EVERY\""
    for ((feed = 0; feed < FEEDS; feed++)); do
        echo "[[sources]]"
        echo "name = \"soak-$feed\""
        echo "url = \"http://127.0.0.1:$PORT/feed/$feed.xml\""
        echo "full_text = false"
    done
} > "$WORK/soak.toml"
"$TRIBUTARY" --config "$WORK/soak.toml" check >/dev/null || die "config rejected"

sleep 1
TRIBUTARY_LOG=${TRIBUTARY_LOG:-"info,tributary::daemon=debug,tributary::store=debug"} "$TRIBUTARY" --config "$WORK/soak.toml" run \
    2> "$WORK/daemon.log" &
TRIBUTARY_PID=$!
[ -n "$NICE" ] && renice -n "$NICE" -p "$TRIBUTARY_PID" >/dev/null

# One sample: elapsed seconds, file + WAL bytes, RSS KiB, stories, entries, tombstones.
sample() {
    local elapsed=$(( $(date +%s) - START ))
    local bytes=$(( $(stat -c %s "$DB" 2>/dev/null || echo 0) + $(stat -c %s "$DB-wal" 2>/dev/null || echo 0) ))
    local rss
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$TRIBUTARY_PID/status" 2>/dev/null || echo 0)
    local counts
    counts=$(python3 - "$DB" <<'PY'
import sqlite3, sys
try:
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=5)
    print("\t".join(str(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
                    for t in ("stories", "story_sources", "pruned_entries")))
except Exception:
    print("0\t0\t0")
PY
)
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    printf '%s\t%s\t%s\t%s\t%s\n' "$elapsed" "$bytes" "${rss:-0}" "$counts" "$load" >> "$WORK/samples.tsv"
}

printf 'seconds\tbytes\trss_kib\tstories\tentries\ttombstones\tload\n' > "$WORK/samples.tsv"
END=$((START + DURATION))
while [ "$(date +%s)" -lt "$END" ]; do
    kill -0 "$TRIBUTARY_PID" 2>/dev/null || die "tributary exited early (see $WORK/daemon.log)"
    sleep "$SAMPLE"
    sample
done

# Freeze the feeds, let the daemon read their last entries, then stop it.
FROZEN=$(date +%s)
echo "$FROZEN" > "$WORK/freeze"
sleep "$CATCHUP"
sample
kill -TERM "$TRIBUTARY_PID"
wait "$TRIBUTARY_PID"
TRIBUTARY_PID=""
python3 bench/soak_farm.py --listing "$FEEDS" "$FAST" "$SLOW" "$LISTED" "$START" "$FROZEN" \
    > "$WORK/listing.tsv"

python3 - "$WORK" "$DB" "$SCHEDULE" "$MAX_AGE" "$KEEP" "$CAP" "$PRUNE_EVERY" <<'PY'
import re, sqlite3, sys
work, db_path, schedule, max_age, keep, cap, every = sys.argv[1:8]
db = sqlite3.connect(db_path)
failures = []

# Every listed entry: exactly one of (stored entry, tombstone).
stored = tombstoned = 0
for line in open(f"{work}/listing.tsv"):
    feed, guid, link = line.rstrip("\n").split("\t")
    source, key = f"soak-{feed}", f"id:{guid}"
    rows = db.execute("SELECT COUNT(*) FROM story_sources WHERE source=? AND entry_key=?",
                      (source, key)).fetchone()[0]
    tombs = db.execute("SELECT COUNT(*) FROM pruned_entries WHERE source=? AND entry_key=?",
                       (source, key)).fetchone()[0]
    if rows + tombs != 1:
        failures.append(f"{source} {guid}: stored {rows} times, {tombs} tombstones")
    stored += rows
    tombstoned += tombs
doubles = db.execute("SELECT link, COUNT(*) FROM stories GROUP BY link HAVING COUNT(*) > 1").fetchall()
for link, count in doubles:
    failures.append(f"{link}: {count} stories")
merged = db.execute("SELECT COUNT(*) FROM (SELECT story_id FROM story_sources GROUP BY story_id "
                    "HAVING COUNT(*) > 1)").fetchone()[0]
orphans = db.execute("SELECT COUNT(*) FROM stories s WHERE NOT EXISTS "
                     "(SELECT 1 FROM story_sources ss WHERE ss.story_id = s.id)").fetchone()[0]
if orphans:
    failures.append(f"{orphans} stories without any source")

strip = re.compile(r"\x1b\[[0-9;]*m")
longest, passes, pruned, freed = 0.0, 0, 0, 0
for line in open(f"{work}/daemon.log", errors="replace"):
    line = strip.sub("", line)
    match = re.search(r"longest_batch_ms=([0-9.]+)", line)
    if not match:
        continue
    passes += 1
    longest = max(longest, float(match.group(1)))
    entries = re.search(r"entries=(\d+)", line)
    pruned += int(entries.group(1)) if entries else 0
    freed_match = re.search(r"bytes_freed=(\d+)", line)
    freed += int(freed_match.group(1)) if freed_match else 0
batches = []
for line in open(f"{work}/daemon.log", errors="replace"):
    match = re.search(r'pruning batch what="?(\w+)"? ms=([0-9.]+)', strip.sub("", line))
    if match:
        batches.append((float(match.group(2)), match.group(1)))
batches.sort(reverse=True)
if passes == 0:
    failures.append("no pruning pass was logged")
if longest > 50:
    failures.append(f"a pruning batch took {longest:.1f} ms (> 50 ms)")

print(f"retention: max_age {max_age}, keep_per_source {keep}, max_entries_per_source {cap}, "
      f"pruning every {every}; schedule {schedule!r}")
print()
print("| time | DB file + WAL | RSS | stories | entries | tombstones | load avg |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for line in list(open(f"{work}/samples.tsv"))[1:]:
    seconds, size, rss, stories, entries, tombs, load = line.split()
    print(f"| {int(seconds) // 60}:{int(seconds) % 60:02d} | {int(size) / 1048576:.2f} MiB | "
          f"{int(rss) / 1024:.1f} MiB | {stories} | {entries} | {tombs} | {load} |")
print()
print(f"pruning passes: {passes}, entries pruned: {pruned}, bytes given back: {freed / 1048576:.1f} MiB, "
      f"longest batch: {longest:.2f} ms")
if batches:
    median = batches[len(batches) // 2][0]
    p99 = batches[len(batches) // 100][0]
    print(f"pruning batches: {len(batches)}, median {median:.2f} ms, 99th percentile "
          f"{p99:.2f} ms, longest five: "
          + ", ".join(f"{ms:.1f} ms ({what})" for ms, what in batches[:5]))
print(f"listed at the end: {stored + tombstoned} entries: {stored} stored, {tombstoned} pruned "
      f"while still listed (tombstones); merged stories: {merged}; problems: {len(failures)}")
for failure in failures[:20]:
    print("FAIL:", failure)
sys.exit(1 if failures else 0)
PY

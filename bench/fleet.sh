#!/usr/bin/env bash
# bench/fleet.sh: a fleet of 1, 2 and 3 `run --role worker` instances on one PostgreSQL store,
# polling a farm of FEEDS feeds (../shared/poll-farm: make_farm.py, served by nginx with ETags)
# spread over HOSTS loopback addresses (127.0.0.1 ... 127.0.0.HOSTS, one nginx on one port):
# work is leased by host, so a farm on one address could only ever keep one worker busy.
#
# Each round starts with an empty database, starts the workers together, and measures the
# wall time until every source has a successful poll (a cold pass: every entry stored), the
# CPU seconds the workers and PostgreSQL spent, and the transactions PostgreSQL committed.
# Prints one tab-separated line per round. PostgreSQL is a throw-away cluster (Debian's
# package, run as the postgres user when root, default settings: fsync and synchronous_commit
# on) in a temporary folder on a loopback port; everything is removed at the end.
#
# Usage: bench/fleet.sh   FEEDS=20000 ITEMS=10 HOSTS=30 WORKERS="1 2 3" PORT=18681 PGPORT=18682
#   TRIBUTARY=target/release/tributary (default: target/debug/tributary; build it first)
#   PGOPTS="-c synchronous_commit=off" adds server settings; PGLOG=FILE keeps the server's log.
#   FARM=DIR reuses a farm made by make_farm.py --base http://127.0.0.1:$PORT (kept).
#   PROFILE_PG=1 loads pg_stat_statements and prints, after each round, PostgreSQL's CPU by
#   process kind (backends, autovacuum, WAL writer...) and the top statements by total time
#   and by calls (with calls and milliseconds per polled feed), to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
FEEDS=${FEEDS:-20000}
ITEMS=${ITEMS:-10}
HOSTS=${HOSTS:-30}
WORKERS=${WORKERS:-"1 2 3"}
PORT=${PORT:-18681}
PGPORT=${PGPORT:-18682}
LIMIT=${LIMIT:-1800}
TRIBUTARY=${TRIBUTARY:-$PWD/target/debug/tributary}
SHARED=${SHARED:-$PWD/../shared/poll-farm}
[ -x "$TRIBUTARY" ] || { echo "build $TRIBUTARY first" >&2; exit 1; }
[ -x /usr/sbin/nginx ] || { echo "install Debian's nginx" >&2; exit 1; }
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /tmp/tributary-fleet-XXXXXX)
chmod 755 "$WORK"
RUN=""
[ "$(id -u)" -eq 0 ] && RUN="runuser -u postgres --" && chown postgres: "$WORK"
PIDS=()
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  [ -n "${PGLOG:-}" ] && cp "$WORK/pg.log" "$PGLOG"
  [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")"
  $RUN "$BIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# The farm, and nginx listening on every host address of it.
FARM=${FARM:-}
if [ -z "$FARM" ]; then
  FARM=$WORK/farm
  python3 "$SHARED/make_farm.py" --feeds "$FEEDS" --items "$ITEMS" --out "$FARM" \
    --base "http://127.0.0.1:$PORT" >/dev/null
fi
mkdir -p "$WORK/nginx"
listens=""
for h in $(seq 1 "$HOSTS"); do listens="$listens listen 127.0.0.$h:$PORT backlog=4096;"; done
sed -e "s|@ROOT@|$FARM|g" -e "s|@RUN@|$WORK/nginx|g" -e "s|@WORKERS@|1|g" \
    -e "s|listen 127.0.0.1:@PORT@ backlog=4096;|$listens|" \
    "$SHARED/farm-nginx.conf" > "$WORK/nginx/nginx.conf"
chmod -R a+rX "$FARM"
/usr/sbin/nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf"

PGPROFILE=""
[ "${PROFILE_PG:-}" = 1 ] && PGPROFILE="-c shared_preload_libraries=pg_stat_statements \
  -c pg_stat_statements.track=all -c pg_stat_statements.max=1000"
$RUN "$BIN/initdb" -A trust -U postgres -D "$WORK/pg" >/dev/null
$RUN "$BIN/pg_ctl" -w -D "$WORK/pg" -l "$WORK/pg.log" \
  -o "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1 $PGPROFILE ${PGOPTS:-}" start >/dev/null
psql() { "$BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -At "$@"; }

config() { # $1: database URL, $2: listen port
  printf 'database = "%s"\nlisten = "127.0.0.1:%s"\ndefault_schedule = "0 0 1 1 *"\n' "$1" "$2"
  printf '[fetch]\nallow_private_networks = true\nrespect_robots = false\n'
  printf 'max_concurrency = 32\nper_host_concurrency = 8\nper_host_delay = "0ms"\n'
  head -n "$FEEDS" "$FARM/urls.txt" | awk -v hosts="$HOSTS" '{
    host = 1 + (NR - 1) % hosts
    sub("//127\\.0\\.0\\.1:", "//127.0.0." host ":")
    printf "[[sources]]\nname = \"f%d\"\nfull_text = false\nurl = \"%s\"\n", NR, $0
  }'
}

cpu_seconds() { # summed utime+stime (and of waited-for children) of the given pids, seconds
  local ticks=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    ticks=$(( ticks + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat") ))
  done
  echo "scale=2; $ticks / $(getconf CLK_TCK)" | bc
}

postgres_pids() { pgrep -u "$( [ -n "$RUN" ] && echo postgres || id -un )" -x postgres || true; }

postgres_cpu() { # every postgres process, the server's included
  cpu_seconds $(postgres_pids)
}

cpu_by_kind() { # "kind ticks" per postgres process: the kind is its title, backends as one
  local pid kind
  for pid in $(postgres_pids); do
    kind=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | sed -e 's/^postgres: //' \
      -e 's|^/.*/postgres .*|postmaster|' \
      -e 's/^postgres .*\(127.0.0.1.*\)/backend/' -e 's/ *$//' -e 's/ /_/g') || continue
    # Exited children (autovacuum workers, finished backends) count in their parent's.
    awk -v kind="$kind" '{print kind, $14 + $15; print "exited_children", $16 + $17}' \
      "/proc/$pid/stat" 2>/dev/null || true
  done
}

profile_report() { # $1: database, $2: feeds polled, $3: file of cpu_by_kind at the start
  local db=$1 feeds=$2
  {
    echo "-- PostgreSQL CPU by process kind (s), round on $db"
    cpu_by_kind | awk -v tck="$(getconf CLK_TCK)" 'NR == FNR {start[$1] += $2; next}
      {now[$1] += $2} END {for (k in now) printf "%-40s %8.2f\n", k, (now[k] - start[k]) / tck}' \
      "$3" - | sort -k2 -nr
    for order in total_exec_time calls; do
      echo "-- top statements by $order: calls, calls/feed, total ms, ms/feed, mean ms, rows"
      psql -d "$db" -F $'\t' -c "SELECT calls, round(calls::numeric / $feeds, 2),
          round(total_exec_time::numeric, 0), round(total_exec_time::numeric / $feeds, 3),
          round(mean_exec_time::numeric, 3), rows, left(regexp_replace(query, '\s+', ' ', 'g'), 150)
        FROM pg_stat_statements ORDER BY $order DESC LIMIT 20"
    done
    echo "-- dedupe band index: rows, distinct bands, the longest posting lists"
    psql -d "$db" -F $'\t' -c "SELECT COUNT(*), COUNT(DISTINCT band_hash) FROM story_bands"
    psql -d "$db" -F $'\t' -c "SELECT band_hash, COUNT(*) FROM story_bands GROUP BY 1
      ORDER BY 2 DESC LIMIT 5"
    psql -d "$db" -F $'\t' -c "SELECT 'all statements: calls/feed', round(sum(calls)::numeric / $feeds, 1),
        'exec ms/feed', round(sum(total_exec_time)::numeric / $feeds, 3) FROM pg_stat_statements"
  } >&2
}

printf 'workers\tfeeds\tseconds\tfeeds_per_s\tentries\ttributary_cpu_s\tpostgres_cpu_s\tcommits\n'
for n in $WORKERS; do
  db=fleet$n
  psql -d postgres -c "CREATE DATABASE $db" >/dev/null
  url="postgres://postgres@127.0.0.1:$PGPORT/$db"
  # Migrate once, so the workers start on a ready schema.
  config "$url" $((PGPORT + 1)) > "$WORK/w0.toml"
  TRIBUTARY_LOG=error "$TRIBUTARY" --config "$WORK/w0.toml" status >/dev/null
  if [ -n "$PGPROFILE" ]; then
    psql -d "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
    psql -d "$db" -c "SELECT pg_stat_statements_reset()" >/dev/null
    cpu_by_kind > "$WORK/kinds0"
  fi
  commits0=$(psql -d "$db" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'")
  pg0=$(postgres_cpu)
  PIDS=()
  t0=$(date +%s.%N)
  for i in $(seq 1 "$n"); do
    config "$url" $((PGPORT + 1 + i)) > "$WORK/w$i.toml"
    TRIBUTARY_LOG=${TRIBUTARY_LOG:-warn} "$TRIBUTARY" --config "$WORK/w$i.toml" run --role worker \
      2>"$WORK/w$i.log" &
    PIDS+=($!)
  done
  done_count=0
  while :; do
    done_count=$(psql -d "$db" -c "SELECT COUNT(*) FROM sources WHERE last_success IS NOT NULL")
    [ "$done_count" -ge "$FEEDS" ] && break
    if [ "$(echo "$(date +%s.%N) - $t0 > $LIMIT" | bc)" -eq 1 ]; then
      echo "round $n: only $done_count of $FEEDS polled after $LIMIT s" >&2; break
    fi
    sleep 0.5
  done
  t1=$(date +%s.%N)
  cpu=$(cpu_seconds "${PIDS[@]}")
  pg1=$(postgres_cpu)
  commits1=$(psql -d "$db" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'")
  entries=$(psql -d "$db" -c "SELECT COUNT(*) FROM story_sources")
  if [ -n "$PGPROFILE" ]; then
    profile_report "$db" "$done_count" "$WORK/kinds0"
    for pid in "${PIDS[@]}"; do printf 'worker %s CPU %s s\n' "$pid" "$(cpu_seconds "$pid")"; done >&2
    for i in $(seq 1 "$n"); do # what the workers warned about (lease losses, failures)
      echo "-- worker $i warnings: $(grep -c WARN "$WORK/w$i.log" || true)"
      { grep WARN "$WORK/w$i.log" || true; } | sed -e 's/.*WARN//' -e 's/host="[^"]*"/host=H/' \
        -e 's/source="[^"]*"/source=S/' | sort | uniq -c | sort -nr | head -5
    done >&2
    psql -d "$db" -F $'\t' -c "SELECT holder, COUNT(*) FROM host_leases GROUP BY 1" >&2
  fi
  for pid in "${PIDS[@]}"; do kill "$pid"; done
  for pid in "${PIDS[@]}"; do wait "$pid" || true; done
  PIDS=()
  seconds=$(echo "$t1 - $t0" | bc)
  printf '%s\t%s\t%.1f\t%.0f\t%s\t%s\t%.1f\t%s\n' "$n" "$done_count" "$seconds" \
    "$(echo "$done_count / $seconds" | bc -l)" "$entries" "$cpu" \
    "$(echo "$pg1 - $pg0" | bc)" "$((commits1 - commits0))"
  psql -d postgres -c "DROP DATABASE $db WITH (FORCE)" >/dev/null
done

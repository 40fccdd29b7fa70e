#!/usr/bin/env bash
# bench/extraction_speed.sh: pages per CPU-second of whole `extract --batch` processes on
# extraction-dev (start-up included), several binaries and the html5ever-parse-plus-text-walk
# baseline (`examples/extract_batch --baseline`) in the same run, rounds interleaved so machine
# load hits every binary alike. Prints each round and the median (min-max) per binary.
#
# Usage (from the repo root, after `cargo build --release --bin tributary --example extract_batch`):
#        bench/extraction_speed.sh [ROUNDS] BIN [BIN...]
# e.g.   bench/extraction_speed.sh 7 /work/notes/tributary-release-base target/release/tributary
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${DEV1:-$ROOT/../shared/extraction-dev}"
ROUNDS=5
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then ROUNDS="$1"; shift; fi
[ "$#" -ge 1 ] || { echo "usage: $0 [ROUNDS] BIN [BIN...]" >&2; exit 2; }
BASELINE="$ROOT/target/release/examples/extract_batch"
[ -x "$BASELINE" ] || { echo "build the baseline first: cargo build --release --example extract_batch" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/in"
for page in "$DATA"/*.html; do ln -s "$(cd "$(dirname "$page")" && pwd)/$(basename "$page")" "$WORK/in/"; done
PAGES=$(ls "$WORK/in" | wc -l)
# Runs happen inside $WORK, so a binary given by a relative path is resolved here, once; the
# label printed stays the path as given.
absolute() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        */*) printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")" ;;
        *) command -v "$1" ;;
    esac
}
BINARIES=()
LABELS=("$@")
for binary in "$@"; do
    path="$(absolute "$binary")" && [ -x "$path" ] || { echo "not an executable: $binary" >&2; exit 2; }
    BINARIES+=("$path")
done
# Each run writes into a fresh folder, outside the repo (`extract` reads ./config/ when present).
run() {
    local label="$1"; shift
    rm -rf "$WORK/out"
    local cpu
    cpu=$( cd "$WORK" && { /usr/bin/time -f "%U %S" "$@" "$WORK/in" "$WORK/out" >/dev/null 2>"$WORK/err"; } && tail -1 "$WORK/err" | awk '{print $1 + $2}')
    awk -v label="$label" -v pages="$PAGES" -v cpu="$cpu" \
        'BEGIN { printf "%s\t%.0f\n", label, pages / cpu }' | tee -a "$WORK/rounds.tsv"
}
for round in $(seq "$ROUNDS"); do
    echo "# round $round (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    for index in "${!BINARIES[@]}"; do
        run "${LABELS[index]}" "${BINARIES[index]}" extract --batch
    done
    run "baseline (parse + text walk)" "$BASELINE" --baseline
done
echo "# $PAGES pages; pages per CPU-second (user+sys of the whole process), median (min-max) of $ROUNDS rounds"
sort -t$'\t' -k1,1 -k2,2n "$WORK/rounds.tsv" | awk -F'\t' '
    { values[$1] = values[$1] " " $2; count[$1]++ }
    END { for (label in values) { n = split(substr(values[label], 2), v, " ");
          printf "%s\t%d (%d-%d)\n", label, v[int((n + 1) / 2)], v[1], v[n] } }'

#!/usr/bin/env bash
# Runs each cargo-fuzz target (libFuzzer) for a bounded time on a corpus seeded from fixtures.
#
# Usage: bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 60 s, all targets)
#
# Works on the stable toolchain: cargo-fuzz needs nightly-only rustc flags (-Zsanitizer...),
# which stable rustc accepts with RUSTC_BOOTSTRAP=1. Installs cargo-fuzz when missing.
# Seeds come from tests/fixtures/** and, when present, ../shared/feeds-dev and
# ../shared/extraction-dev; they are copied into a temporary directory (never committed), each
# prefixed with the byte 0 that means "no Content-Type header" (see fuzz/src/lib.rs). Inputs
# kept in tests/fixtures/fuzz-regressions/<target>/ are raw fuzz inputs and are used as they are.
# Exits non-zero on any crash (panic), timeout (an input taking over 10 s) or out-of-memory
# (RSS over 2 GB), and prints the path of the input that caused it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds_per_target="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(extract parse_feed)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz..." >&2
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
# No sanitizer by default: the code under test is safe Rust (#![forbid(unsafe_code)]), and
# AddressSanitizer costs about 2-3x in speed and build time. FUZZ_SANITIZER=address to add it.
sanitizer="${FUZZ_SANITIZER:-none}"
# A fixed random seed by default, so a CI failure can be replayed with the same mutations
# (timing still varies). FUZZ_SEED=0 lets libFuzzer pick one: use it for long local hunts.
fuzz_seed="${FUZZ_SEED:-20261124}"

# Fuzz the dependency versions that ship: start from the product's lock file (cargo then adds
# only what the fuzz crate itself needs, such as libfuzzer-sys).
cp Cargo.lock fuzz/Cargo.lock
build_started=$(date +%s)
cargo fuzz build --release --sanitizer "$sanitizer"
echo "fuzz build: $(($(date +%s) - build_started)) s" >&2

repo_root="$PWD"
seed_root=$(mktemp -d)
trap 'rm -rf "$seed_root"' EXIT

# Copies each file given on stdin (NUL-separated) into $1, prefixed with the byte 0.
seed_from_files() {
  local destination="$1" index=0 file
  mkdir -p "$destination"
  while IFS= read -r -d '' file; do
    index=$((index + 1))
    { printf '\0'; cat "$file"; } >"$destination/seed-$index"
  done
}

# Adds the raw regression inputs of target $1 (already in the input layout) into $2.
seed_from_regressions() {
  local regressions="tests/fixtures/fuzz-regressions/$1"
  if [ -d "$regressions" ]; then
    find "$regressions" -maxdepth 1 -type f -exec cp {} "$2/" \;
  fi
}

# Writes to stdout the byte 0 (no Content-Type), then $2 repeated $1 times, then $3.
repeated_seed() {
  printf '\0'
  yes "$2" | head -n "$1" | tr -d '\n'
  printf '%s' "$3"
}

# Documents no fixture has: very deep nesting and very many blocks (about 1 MB each).
seed_synthetic_pages() {
  repeated_seed 150000 '<div>' 'text' >"$1/synthetic-deep-div"
  repeated_seed 100000 '<table><tr><td>' 'cell' >"$1/synthetic-deep-table"
  repeated_seed 150000 '<b><i>' 'words' >"$1/synthetic-deep-inline"
  repeated_seed 20000 '<p>A sentence, with words. </p>' '' >"$1/synthetic-many-paragraphs"
}

seed_synthetic_feeds() {
  repeated_seed 100000 '<x>' '' >"$1/synthetic-deep-xml"
  { printf '\0<rss version="2.0"><channel><title>t</title>'
    yes '<item><title>a</title><link>https://e.example/a</link></item>' | head -n 15000 | tr -d '\n'
    printf '</channel></rss>'; } >"$1/synthetic-many-items"
}

seed_extract() {
  local destination="$seed_root/extract"
  {
    find tests/fixtures -type f \( -name '*.html' -o -name '*.htm' \) -print0
    if [ -d ../shared/extraction-dev ]; then
      find ../shared/extraction-dev -type f -name '*.html' -print0
    fi
  } | seed_from_files "$destination"
  seed_from_regressions extract "$destination"
  seed_synthetic_pages "$destination"
}

seed_parse_feed() {
  local destination="$seed_root/parse_feed"
  {
    # Feeds, and the HTML pages sites serve instead of a feed (autodiscovery).
    find tests/fixtures -type f -not -path '*/fuzz-regressions/*' -print0
    if [ -d ../shared/feeds-dev ]; then
      find ../shared/feeds-dev -type f -not -name 'README*' -print0
    fi
  } | seed_from_files "$destination"
  seed_from_regressions parse_feed "$destination"
  seed_synthetic_feeds "$destination"
}

# Largest input per target: real pages run to a few hundred KB, feeds (podcasts) to a few MB.
max_len_for() {
  case "$1" in
    extract) echo $((1024 * 1024)) ;;
    parse_feed) echo $((1024 * 1024)) ;;
    *) echo $((256 * 1024)) ;;
  esac
}

dictionary_for() {
  case "$1" in
    extract) echo "$repo_root/fuzz/dicts/html.dict" ;;
    parse_feed) echo "$repo_root/fuzz/dicts/feed.dict" ;;
  esac
}

# Runs target $1 for $seconds_per_target; returns libFuzzer's status.
run_target() {
  local target="$1" log="$seed_root/$1.log" status=0
  "seed_$target"
  local corpus="$repo_root/fuzz/corpus/$target"
  mkdir -p "$corpus"
  echo "== fuzzing $target for ${seconds_per_target}s ($(find "$seed_root/$target" -type f | wc -l) seeds)" >&2
  local guarded="$repo_root/fuzz/guarded/$target"
  TRIBUTARY_FUZZ_GUARDED_DIR="$guarded" \
    cargo fuzz run --release --sanitizer "$sanitizer" "$target" "$corpus" "$seed_root/$target" -- \
    -max_total_time="$seconds_per_target" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -timeout=10 -max_len="$(max_len_for "$target")" -dict="$(dictionary_for "$target")" \
    -print_final_stats=1 -close_fd_mask=1 -seed="$fuzz_seed" \
    >"$log" 2>&1 || status=$?
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' "$log" >&2 || true
  if [ "$status" -ne 0 ]; then
    # The panic message with the top of its stack, and libFuzzer's verdict (crash, timeout,
    # out-of-memory); the full log has more.
    grep -m 1 -A 40 'panicked at' "$log" | grep -vE '^\s+at |^\s+[0-9]+: +0x' | cut -c1-240 >&2 || true
    grep -E 'ERROR: libFuzzer|ALARM|SUMMARY: libFuzzer|out-of-memory|Test unit written' "$log" |
      cut -c1-240 >&2 || true
    echo "FUZZ FAILURE in $target (status $status); input: $(grep -oE 'Test unit written to [^ ]+' "$log" | sed 's/Test unit written to //' | tail -n 1)" >&2
    echo "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run $target <input>;" \
      "minimize: RUSTC_BOOTSTRAP=1 cargo fuzz tmin $target <input>" >&2
  fi
  report_guarded_panics "$log"
  return "$status"
}

# Panics that parse_feed caught itself (inside feed-rs): handled, so not a failure unless
# TRIBUTARY_FUZZ_STRICT=1, but listed so the owners can make the pre-pass avoid them.
report_guarded_panics() {
  if grep -q '^guarded panic at' "$1"; then
    echo "WARNING: panics caught inside the stage (handled as errors):" >&2
    grep '^guarded panic at' "$1" | sort -u >&2
  fi
}

failed=()
for target in "${targets[@]}"; do
  run_target "$target" || failed+=("$target")
done
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz: failures in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no crash, timeout or OOM in ${targets[*]} (${seconds_per_target}s each)" >&2

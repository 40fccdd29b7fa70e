#!/usr/bin/env bash
# The cost of checking a new entry with 10 k, 100 k and 1 M stories in the dedupe window
# (examples/dedupe_scale.rs). Needs about 5 GB free in $DIR for the 1 M store; deleted after.
# Usage: bench/dedupe_scale.sh [DIR] [SIZES]   (default: a temporary folder, 10000,100000,1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-$(mktemp -d)}"
sizes="${2:-10000,100000,1000000}"
cargo build --release --example dedupe_scale
trap 'rm -f "$dir"/dedupe-scale.db*' EXIT
./target/release/examples/dedupe_scale "$dir" "$sizes"

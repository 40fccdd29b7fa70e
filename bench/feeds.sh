#!/usr/bin/env bash
# Feed parsing benchmark: runs tributary's parser and raw feed-rs (no pre-pass) in-process over
# every file of the feeds-dev corpus and prints, per source folder, the share of recoverable
# files read, entry-field agreement (title, link, id, date, content: see BENCHMARKS.md), panics
# and silent-empty results, then throughput (feeds/s, MB/s) on clean feeds, best of ROUNDS
# rounds. CHECK=1 also fails (exit 1) when a floor is broken, as CI does.
#
# Usage: bench/feeds.sh [CORPUS_DIR]      (default ../shared/feeds-dev; ROUNDS=20)
# Files that are not feeds or are broken beyond repair are listed, with reasons, in
# tests/fixtures/parse/corpus-expectations.tsv and are left out of the read rate.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${1:-../shared/feeds-dev}"
rounds="${ROUNDS:-20}"
cargo build --release --quiet --example parse_corpus
target/release/examples/parse_corpus "$corpus" --failures --bench "$rounds" ${CHECK:+--check}

//! Benchmark: the cost of checking a new entry against 10 k, 100 k and 1 M stories in the
//! dedupe window, and what the index costs in the store and in memory.
//!
//! Builds a SQLite store of synthetic stories (pseudo-word texts, spread over the 14-day window)
//! in steps: the schema is the store's own (`Store::open` migrates it), the rows the lookups
//! read (stories with fingerprints, their band hashes) are written directly in large
//! transactions, as the pass commit would write them, so that a 1 M store builds in minutes.
//! At each size it times `find_match`, the store's own lookup, for new entries: half edited
//! copies of stored stories (which must be found), half unrelated texts.
//! Run with `bench/dedupe_scale.sh` (or `cargo run --example dedupe_scale -- DIR 10000,100000`).

use std::time::Instant;

use tributary::dedupe::{band_hashes, fingerprint};
use tributary::store::{DedupePolicy, Store, find_match};

const WORDS: usize = 200;
const CHECKS: usize = 400;
const BATCH: usize = 20_000;
const WINDOW_SECONDS: i64 = 14 * 86_400;

/// Pseudo-words from a deterministic generator, so every story differs everywhere.
fn text(seed: u64, words: usize) -> String {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..words)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            format!("w{}", state % 50_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes stories `from..to` as the pass commit would (the columns the lookups read).
fn insert_stories(
    connection: &mut rusqlite::Connection,
    from: u64,
    to: u64,
    time_of: impl Fn(u64) -> i64,
) {
    let transaction = connection.transaction().unwrap();
    {
        let mut story = transaction
            .prepare(
                "INSERT INTO stories (id, uid, title, published, updated, extraction, \
                 first_source, created, fingerprint, text_hash, dedupe) \
                 VALUES (?1, ?2, ?3, ?4, ?4, 'extracted', 'bench', ?4, ?5, ?6, 1)",
            )
            .unwrap();
        let mut band = transaction
            .prepare("INSERT INTO story_bands (band_hash, story_id, day) VALUES (?1, ?2, ?3)")
            .unwrap();
        for n in from..to {
            let print = fingerprint(&text(n, WORDS)).unwrap();
            let id = n as i64 + 1;
            let created = time_of(n);
            story
                .execute(rusqlite::params![
                    id,
                    format!("urn:bench:{n}"),
                    format!("story {n}"),
                    created,
                    print.to_bytes(),
                    print.exact_hash().map(|hash| hash as i64),
                ])
                .unwrap();
            for hash in band_hashes(&print) {
                band.execute(rusqlite::params![i64::from(hash), id, created / 86_400])
                    .unwrap();
            }
        }
    }
    transaction.commit().unwrap();
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let folder = std::path::PathBuf::from(arguments.get(1).expect("usage: DIR SIZES"));
    let sizes: Vec<u64> = arguments
        .get(2)
        .map_or("10000,100000,1000000", String::as_str)
        .split(',')
        .map(|size| size.parse().expect("a size"))
        .collect();
    let total = *sizes.iter().max().unwrap();
    let path = folder.join("dedupe-scale.db");
    // `DEDUPE_SCALE_REUSE=1`: check again with the store a previous run left (a second,
    // warm-cache round of checks without building it again).
    let reuse = std::env::var_os("DEDUPE_SCALE_REUSE").is_some();
    if !reuse {
        let _ = std::fs::remove_file(&path);
    }
    let store = Store::open(&path).unwrap();
    let mut writer = rusqlite::Connection::open(&path).unwrap();
    writer.pragma_update(None, "synchronous", "OFF").unwrap();
    let policy = DedupePolicy::default();
    let start_time: i64 = 1_800_000_000;
    // Stories spread evenly over the window, so the largest size fills all 14 days.
    let time_of = |n: u64| start_time + (n as i64 * WINDOW_SECONDS) / total as i64;
    let mut stored: u64 = if reuse {
        writer
            .query_row("SELECT COUNT(*) FROM stories", [], |row| {
                row.get::<_, i64>(0)
            })
            .unwrap() as u64
    } else {
        0
    };
    println!(
        "stories  build_s  check_us_median  check_us_p90  found  false  file_bytes_per_story  peak_rss_mib"
    );
    for size in sizes {
        let build = Instant::now();
        while stored < size {
            let end = (stored + BATCH as u64).min(size);
            insert_stories(&mut writer, stored, end, time_of);
            stored = end;
        }
        let build_seconds = build.elapsed().as_secs_f64();
        let now = chrono::DateTime::from_timestamp(time_of(stored - 1), 0).unwrap();
        let mut timings = Vec::with_capacity(CHECKS);
        let (mut found, mut false_matches) = (0, 0);
        for check in 0..CHECKS as u64 {
            let is_copy = check % 2 == 0;
            let original = (check * 7_919) % stored;
            let body = if is_copy {
                // An edited copy: a paragraph cut, a credit line added.
                let words: Vec<String> = text(original, WORDS)
                    .split(' ')
                    .take(WORDS * 4 / 5)
                    .map(String::from)
                    .collect();
                format!("{} (AFP)", words.join(" "))
            } else {
                text(10_000_000 + check, WORDS)
            };
            let print = fingerprint(&body).unwrap();
            let started = Instant::now();
            let answer = store
                .call_blocking(|connection| find_match(connection, &policy, &print, "t", now))
                .unwrap();
            timings.push(started.elapsed().as_secs_f64() * 1e6);
            match (is_copy, answer) {
                (true, Some(found_match)) if found_match.story_id == original as i64 + 1 => {
                    found += 1
                }
                (_, Some(_)) => false_matches += 1,
                _ => {}
            }
        }
        timings.sort_by(f64::total_cmp);
        let file_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(folder.join("dedupe-scale.db-wal"))
                .map(|m| m.len())
                .unwrap_or(0);
        println!(
            "{stored:>8}  {build_seconds:>7.1}  {:>15.0}  {:>12.0}  {found:>3}/{}  {false_matches:>5}  {:>20}  {:>12.1}",
            timings[timings.len() / 2],
            timings[timings.len() * 9 / 10],
            CHECKS / 2,
            file_bytes / stored,
            peak_rss_kib() as f64 / 1024.0,
        );
    }
}

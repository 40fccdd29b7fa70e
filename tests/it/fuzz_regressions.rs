//! Replays the inputs the fuzzers found (tests/fixtures/fuzz-regressions/, see its README) on
//! the stable toolchain, in the fuzz targets' input layout: no panic may escape a stage.

#[path = "../../fuzz/src/input.rs"]
mod fuzz_input;

use std::path::{Path, PathBuf};

use tributary::extract::{ExtractOptions, extract};
use tributary::parse::{ParseError, parse_feed};

/// The saved inputs of one fuzz target in `folder`, sorted so
/// failures read the same on each run.
fn regression_inputs(folder: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz-regressions")
        .join(folder);
    let Ok(entries) = std::fs::read_dir(&directory) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("regression input is readable");
            (path, bytes)
        })
        .collect()
}

#[test]
fn regression_inputs_are_present() {
    let folders = ["extract", "parse_feed"];
    let total: usize = folders
        .iter()
        .map(|folder| regression_inputs(folder).len())
        .sum();
    assert!(total > 0, "tests/fixtures/fuzz-regressions/ holds no input");
}

/// `None` when a panic escaped `extract`.
fn extract_outcome(bytes: &[u8]) -> Option<bool> {
    let page_url = url::Url::parse("https://news.example.com/2024/05/article.html").unwrap();
    let case = fuzz_input::split_case(bytes);
    let content_type = case.content_type.as_deref();
    std::panic::catch_unwind(|| {
        extract(
            case.body,
            content_type,
            &page_url,
            &ExtractOptions::default(),
        )
        .is_ok()
    })
    .ok()
}

/// `None` when a panic escaped `parse_feed`.
fn parse_feed_outcome(bytes: &[u8]) -> Option<Result<(), ParseError>> {
    let feed_url = url::Url::parse("https://news.example.com/feeds/all.xml").unwrap();
    let case = fuzz_input::split_case(bytes);
    let content_type = case.content_type.as_deref();
    std::panic::catch_unwind(|| parse_feed(case.body, content_type, &feed_url).map(|_| ())).ok()
}

#[test]
fn extract_regressions_never_panic() {
    for (path, bytes) in regression_inputs("extract") {
        let outcome = extract_outcome(&bytes);
        assert!(outcome.is_some(), "extract panicked on {}", path.display());
    }
}

/// No panic escapes `parse_feed`, and none happens inside it either: a caught panic is
/// handled, but the feed is lost, so the pre-pass keeps the parsers away from these inputs.
#[test]
fn parse_feed_regressions_never_panic() {
    for (path, bytes) in regression_inputs("parse_feed") {
        let outcome = parse_feed_outcome(&bytes);
        assert!(
            outcome.is_some(),
            "parse_feed let a panic escape on {}",
            path.display()
        );
        assert!(
            !matches!(outcome, Some(Err(ParseError::Panicked))),
            "a parser panicked inside parse_feed on {}",
            path.display()
        );
    }
}

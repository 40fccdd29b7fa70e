//! The labelled dedupe benchmark's scorer: reads pairs written by `bench/dedupe_pairs.py`,
//! decides each with the rules the store applies (`dedupe::decide`, default `[dedupe]`
//! threshold unless one is given) and prints precision, recall and the outcome per kind.
//!
//! `cargo run --example dedupe_pairs -- PAIRS.jsonl [THRESHOLD] [--check]`; with `--check` it
//! exits non-zero below the targets (precision 0.99, recall 0.95), as CI runs it.

use std::collections::BTreeMap;
use std::io::BufRead;

use tributary::dedupe::{Candidate, MatchRules, decide, fingerprint};

/// Whether the rules merge the two entries of a pair (a text too short to fingerprint is
/// never merged by its text: only a URL could merge it, and pairs have none).
fn merged(rules: &MatchRules, pair: &serde_json::Value) -> (bool, f64) {
    let side = |name: &str| {
        (
            pair[name]["title"].as_str().unwrap_or_default().to_string(),
            fingerprint(pair[name]["text"].as_str().unwrap_or_default()),
        )
    };
    let ((a_title, a_print), (b_title, b_print)) = (side("a"), side("b"));
    let (Some(a_print), Some(b_print)) = (a_print, b_print) else {
        return (false, 0.0);
    };
    let verdict = decide(
        rules,
        &Candidate {
            fingerprint: &b_print,
            title: &b_title,
        },
        &Candidate {
            fingerprint: &a_print,
            title: &a_title,
        },
    );
    (verdict.layer.is_some(), verdict.similarity)
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let path = arguments
        .get(1)
        .expect("usage: PAIRS.jsonl [THRESHOLD] [--check]");
    let check = arguments.iter().any(|argument| argument == "--check");
    let mut rules = MatchRules::default();
    if let Some(threshold) = arguments.get(2).filter(|argument| *argument != "--check") {
        rules.threshold = threshold.parse().expect("a threshold");
    }
    let file = std::fs::File::open(path).expect("the pairs file");
    // Per kind: (label, pairs, merged, lowest score, highest score).
    let mut kinds: BTreeMap<String, (bool, usize, usize, f64, f64)> = BTreeMap::new();
    for line in std::io::BufReader::new(file).lines() {
        let pair: serde_json::Value = serde_json::from_str(&line.unwrap()).expect("JSON");
        let (is_merged, score) = merged(&rules, &pair);
        let kind = pair["kind"].as_str().unwrap_or("?").to_string();
        let label = pair["same"].as_bool().unwrap_or(false);
        let counts = kinds.entry(kind).or_insert((label, 0, 0, f64::MAX, 0.0));
        counts.1 += 1;
        counts.2 += usize::from(is_merged);
        counts.3 = counts.3.min(score);
        counts.4 = counts.4.max(score);
    }
    let (mut true_positives, mut false_positives, mut positives) = (0, 0, 0);
    println!("threshold {:.2}", rules.threshold);
    println!(
        "{:<24} {:>5} {:>6} {:>7} {:>7}  label",
        "kind", "pairs", "merged", "min", "max"
    );
    for (kind, (label, pairs, merged, low, high)) in &kinds {
        println!(
            "{kind:<24} {pairs:>5} {merged:>6} {low:>7.3} {high:>7.3}  {}",
            if *label { "same" } else { "different" }
        );
        if *label {
            positives += pairs;
            true_positives += merged;
        } else {
            false_positives += merged;
        }
    }
    let precision = true_positives as f64 / (true_positives + false_positives).max(1) as f64;
    let recall = true_positives as f64 / positives.max(1) as f64;
    println!(
        "precision {precision:.4} ({true_positives} of {} merges right), recall {recall:.4} ({true_positives} of {positives} same-story pairs merged)",
        true_positives + false_positives
    );
    if check && (precision < 0.99 || recall < 0.95) {
        eprintln!("below the targets: precision 0.99, recall 0.95");
        std::process::exit(1);
    }
}

//! `store_gen DATABASE STORIES [--sources N]`: adds STORIES synthetic stories to a store, for
//! the polling benchmark's store-growth run (10 k, 100 k, 1 M stories stored). It goes through
//! the store's own pass commit (`store::commit_pass`), so every story has the rows, indexes and
//! source state a polled one has: N sources (`gen00000`...) each commit passes of up to 500
//! entries, with distinct links, about 1 KB of HTML and plain-text summaries, dates spread over
//! the last year. Each story's text has a fingerprint, as a polled story's has, so the store
//! holds its fingerprint and band-index rows and every new story is checked against them (the
//! dedupe check at 1 M stories is the real one): the words are drawn by hash from a vocabulary
//! of 100,000, so generated stories do not match each other. Prints the story count and time.

use std::time::Instant;

use chrono::{Duration, Utc};
use tributary::dedupe;
use tributary::model::ExtractionStatus;
use tributary::store::{self, DedupePolicy, NewItem, SourceState, Store};

const PASS: usize = 500;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(database), Some(stories)) = (args.first(), args.get(1)) else {
        eprintln!("usage: store_gen DATABASE STORIES [--sources N]");
        std::process::exit(2);
    };
    let stories: usize = stories.parse()?;
    let sources: usize = args
        .iter()
        .position(|arg| arg == "--sources")
        .and_then(|index| args.get(index + 1)?.parse().ok())
        .unwrap_or(1000);
    let store = Store::open(std::path::Path::new(database))?;
    let started = Instant::now();
    let now = Utc::now();
    let per_source = stories.div_ceil(sources.max(1));
    let mut made = 0;
    for source in 0..sources {
        let name = format!("gen{source:05}");
        let state = SourceState::new(&name, &format!("http://gen.invalid/{name}.xml"));
        let wanted = per_source.min(stories - made);
        for first in (0..wanted).step_by(PASS) {
            let items: Vec<NewItem> = (first..(first + PASS).min(wanted))
                .map(|number| {
                    item(
                        &name,
                        source,
                        number,
                        now - Duration::minutes((made + number) as i64),
                    )
                })
                .collect();
            store.call_blocking(|connection| {
                store::commit_pass(connection, &DedupePolicy::default(), &state, &items, now)
            })?;
        }
        made += wanted;
        if made >= stories {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{made} stories added in {seconds:.1} s");
    Ok(())
}

/// Words in the generated texts' vocabulary: large enough that two stories share few shingles.
const VOCABULARY: u64 = 100_000;

fn item(
    source: &str,
    source_index: usize,
    number: usize,
    published: chrono::DateTime<Utc>,
) -> NewItem {
    let link = format!("http://gen.invalid/{source}/{number}.html");
    let words: String = (0..120u64)
        .map(|word| {
            let seed = ((source_index as u64) << 40) ^ ((number as u64) << 8) ^ word;
            format!(
                "w{} ",
                dedupe::stable_hash(&seed.to_le_bytes()) % VOCABULARY
            )
        })
        .collect();
    let fingerprint = dedupe::fingerprint(&words);
    NewItem {
        entry_key: format!("id:{source}-{number}"),
        canonical_urls: vec![link.clone()],
        link: Some(link),
        title: format!("Generated story {number} of {source}"),
        published,
        updated: published,
        content_html: Some(format!("<p>{words}</p><p>{words}</p>")),
        summary: Some(words),
        text: None,
        authors: vec!["Generator".into()],
        categories: vec!["bench".into()],
        enclosures: Vec::new(),
        image: None,
        fingerprint,
        extraction: ExtractionStatus::NotRequested,
        version: None,
    }
}

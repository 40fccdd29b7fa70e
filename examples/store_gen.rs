//! `store_gen DATABASE STORIES [--sources N]`: adds STORIES synthetic stories to a store, for
//! the polling benchmark's store-growth run (10 k, 100 k, 1 M stories stored). It goes through
//! the store's own pass commit (`store::commit_pass`), so every story has the rows, indexes and
//! source state a polled one has: N sources (`gen00000`...) each commit passes of up to 500
//! entries, with distinct links, about 1 KB of HTML and plain-text summaries, dates spread over
//! the last year. No fingerprints: the in-memory fingerprint window is not what is measured,
//! and a story without one is matched by URL only. Prints the store's story count and the time.

use std::time::Instant;

use chrono::{Duration, Utc};
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

fn item(source: &str, number: usize, published: chrono::DateTime<Utc>) -> NewItem {
    let link = format!("http://gen.invalid/{source}/{number}.html");
    let words: String = (0..120)
        .map(|word| format!("w{} ", (number * 31 + word * 7) % 5000))
        .collect();
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
        fingerprint: None,
        extraction: ExtractionStatus::NotRequested,
        version: None,
    }
}

//! Feed parsing end to end: hand-written fixtures for each repair and each fidelity case (one
//! fixture per case, stating it), `tributary parse` on empty feeds and non-feeds, and a bounded
//! fuzz over pre-pass + parse. The feeds-dev corpus sweep is not here: it needs ../shared, so
//! it runs as `examples/parse_corpus.rs --check` in CI (see .ci/run).

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tributary::parse::{
    FeedKind, ParseError, Repair, parse_feed, parse_feed_unsanitized, read_feed_model, to_json,
};
use url::Url;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/parse")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

#[test]
fn latin1_feed_without_declaration_or_version_is_read() {
    let bytes = fixture("latin1_no_declaration.rss");
    let feed = parse_feed(&bytes, None, &url("https://journal.example.fr/rss")).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Le Journal du Matin"));
    let entry = &feed.entries[0];
    assert_eq!(
        entry.title.as_deref(),
        Some("Fête de la musique : le programme complet")
    );
    assert_eq!(
        entry.link.as_deref(),
        Some("https://journal.example.fr/culture/fete-musique.html")
    );
    assert_eq!(
        entry.published,
        Some(Utc.with_ymd_and_hms(2023, 6, 21, 6, 30, 0).unwrap())
    );
    assert_eq!(entry.id.as_deref(), Some("journal-2023-0621-1"));
    assert_eq!(entry.categories, vec!["Culture".to_string()]);
    assert_eq!(entry.authors, vec!["Hélène Dupré".to_string()]);
    assert!(
        entry
            .summary_html
            .as_deref()
            .unwrap()
            .contains("place de l'Hôtel-de-Ville")
    );
}

#[test]
fn latin1_feed_with_http_charset_is_read() {
    let bytes = fixture("latin1_no_declaration.rss");
    let feed = parse_feed(
        &bytes,
        Some("application/rss+xml; charset=ISO-8859-1"),
        &url("https://journal.example.fr/rss"),
    )
    .unwrap();
    assert_eq!(feed.entries[0].authors, vec!["Hélène Dupré".to_string()]);
}

#[test]
fn utf16be_with_bom_is_read() {
    let feed = parse_feed(
        &fixture("utf16be_bom.atom"),
        None,
        &url("https://news.example.gr/atom"),
    )
    .unwrap();
    assert_eq!(feed.title.as_deref(), Some("Ελληνικά νέα"));
    assert_eq!(feed.entries[0].title.as_deref(), Some("Καλημέρα κόσμε"));
}

#[test]
fn bare_ampersands_and_html_entities_are_repaired() {
    let bytes = fixture("broken_escapes.rss");
    let model = read_feed_model(&bytes, None, &url("http://blog.example.com/feed")).unwrap();
    assert!(
        model.repairs.contains(&Repair::Escapes),
        "{:?}",
        model.repairs
    );
    let feed = parse_feed(&bytes, None, &url("http://blog.example.com/feed")).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Tom & Jerry’s Blog"));
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("Café & crème"));
    assert_eq!(
        entry.link.as_deref(),
        Some("http://blog.example.com/?p=1&lang=en&ref=rss")
    );
    let summary = entry.summary_html.as_deref().unwrap();
    assert!(summary.contains("&lt; 5&nbsp;€ — "), "{summary}");
    assert!(summary.contains("<b>bold &amp; raw</b>"), "{summary}");
}

#[test]
fn raw_html_in_descriptions_and_control_characters_are_kept_readable() {
    let bytes = b"<rss version=\"2.0\"><channel><title>Raw\x01 HTML</title><item><title>x</title>\
        <link>https://raw.example/1</link><description>Hello <b>bold</b><br> world</description>\
        </item></channel></rss>";
    let feed = parse_feed(bytes, None, &url("https://raw.example/feed")).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Raw HTML"));
    let summary = feed.entries[0].summary_html.as_deref().unwrap();
    assert!(summary.contains("Hello <b>bold</b><br> world"), "{summary}");
}

#[test]
fn truncated_feed_keeps_its_complete_part() {
    let bytes = fixture("truncated.rss");
    let model = read_feed_model(&bytes, None, &url("https://cut.example.com/rss")).unwrap();
    assert!(model.repairs.contains(&Repair::TagsBalanced));
    let feed = parse_feed(&bytes, None, &url("https://cut.example.com/rss")).unwrap();
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(feed.entries[0].summary_html.as_deref(), Some("Complete."));
    assert_eq!(
        feed.entries[1].link.as_deref(),
        Some("https://cut.example.com/2")
    );
}

#[test]
fn atom_03_is_read_with_dates_and_content() {
    let bytes = fixture("atom03.xml");
    let feed = parse_feed(&bytes, None, &url("http://old.example.org/atom.xml")).unwrap();
    assert_eq!(feed.title.as_deref(), Some("Old Atom Blog"));
    assert_eq!(feed.site_link.as_deref(), Some("http://old.example.org/"));
    let entry = &feed.entries[0];
    assert_eq!(
        entry.link.as_deref(),
        Some("http://old.example.org/2004/05/hello")
    );
    assert_eq!(
        entry.published,
        Some(Utc.with_ymd_and_hms(2004, 5, 1, 12, 0, 0).unwrap())
    );
    assert_eq!(
        entry.updated,
        Some(Utc.with_ymd_and_hms(2004, 5, 1, 13, 0, 0).unwrap())
    );
    assert_eq!(
        entry.content_html.as_deref(),
        Some("<p>First <em>post</em>.</p>")
    );
    assert_eq!(entry.authors, vec!["Ada".to_string()]);
}

#[test]
fn xml_base_resolves_links_enclosures_and_content() {
    let feed = parse_feed(
        &fixture("xml_base.atom"),
        None,
        &url("https://feeds.example.net/atom"),
    )
    .unwrap();
    assert_eq!(
        feed.site_link.as_deref(),
        Some("https://base.example.net/blog/")
    );
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("Relative links"));
    assert_eq!(
        entry.link.as_deref(),
        Some("https://base.example.net/blog/posts/relative.html")
    );
    assert_eq!(entry.enclosures.len(), 1);
    assert_eq!(
        entry.enclosures[0].url,
        "https://base.example.net/media/episode.mp3"
    );
    assert_eq!(entry.enclosures[0].length, Some(12345));
    let content = entry.content_html.as_deref().unwrap();
    assert!(
        content.contains("href=\"https://base.example.net/blog/about.html\""),
        "{content}"
    );
    assert!(
        content.contains("src=\"https://base.example.net/blog/posts/img/x.png\""),
        "{content}"
    );
    assert!(!content.contains("script"), "{content}");
}

/// The daemon sanitizes only unseen entries: until then the markup is the feed's own, and
/// sanitizing later gives exactly what `parse_feed` gives at once.
#[test]
fn deferred_sanitizing_matches_parse_feed() {
    let feed_url = url("https://feeds.example.net/atom");
    let bytes = fixture("xml_base.atom");
    let unsanitized = parse_feed_unsanitized(&bytes, None, &feed_url).unwrap();
    assert!(unsanitized.feed.entries.is_empty());
    let raw = unsanitized.entries[0].unsanitized().content_html.clone();
    assert!(
        raw.unwrap().contains("script"),
        "raw markup is kept until sanitize"
    );
    assert_eq!(
        unsanitized.sanitize(),
        parse_feed(&bytes, None, &feed_url).unwrap()
    );
}

#[test]
fn podcast_keeps_media_categories_authors_and_schedule_hints() {
    let feed = parse_feed(
        &fixture("podcast.rss"),
        None,
        &url("https://pod.example.com/feed"),
    )
    .unwrap();
    assert_eq!(feed.ttl_minutes, Some(60));
    assert_eq!(feed.skip_hours, vec![0, 1]);
    assert_eq!(feed.skip_days, vec![6]);
    let latest = &feed.entries[0];
    assert_eq!(
        latest.published,
        Some(Utc.with_ymd_and_hms(2015, 1, 26, 13, 39, 16).unwrap())
    );
    assert_eq!(
        latest.categories,
        vec!["Tech".to_string(), "Science".to_string()]
    );
    assert!(!latest.authors.is_empty());
    assert_eq!(latest.enclosures[0].url, "https://cdn.example.com/ep2.mp3");
    assert_eq!(
        latest.enclosures[0].mime_type.as_deref(),
        Some("audio/mpeg")
    );
    assert_eq!(latest.enclosures[0].length, Some(34_216_300));
    let content = latest.content_html.as_deref().unwrap();
    assert!(
        content.contains("https://pod.example.com/links"),
        "{content}"
    );
    assert_eq!(latest.summary_html.as_deref(), Some("Short notes."));
    let first = &feed.entries[1];
    assert_eq!(
        first.link.as_deref(),
        Some("https://pod.example.com/1"),
        "guid as link"
    );
    assert_eq!(
        first.published,
        Some(Utc.with_ymd_and_hms(2015, 1, 19, 10, 0, 0).unwrap())
    );
    assert_eq!(first.enclosures[0].url, "https://pod.example.com/ep1.mp3");
    assert_eq!(first.enclosures[0].length, None);
}

#[test]
fn json_feed_with_old_version_is_read() {
    let bytes = fixture("jsonfeed_old_version.json");
    let model = read_feed_model(&bytes, None, &url("https://json.example.org/feed.json")).unwrap();
    assert_eq!(model.repairs, vec![Repair::JsonFeedVersion]);
    let feed = parse_feed(&bytes, None, &url("https://json.example.org/feed.json")).unwrap();
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(feed.entries[0].id.as_deref(), Some("1"));
    assert_eq!(
        feed.entries[0].content_html.as_deref(),
        Some("<p>Plain &lt;text&gt; &amp; more</p>")
    );
    assert_eq!(
        feed.entries[1].link.as_deref(),
        Some("https://json.example.org/2")
    );
    let enclosure = &feed.entries[1].enclosures[0];
    assert_eq!(enclosure.url, "https://json.example.org/audio/2.mp3");
    assert_eq!(enclosure.length, Some(1234));
    assert_eq!(enclosure.mime_type.as_deref(), Some("audio/mpeg"));
    let json = to_json(&feed);
    assert_eq!(json["title"], "JSON Example");
    assert_eq!(json["entries"][0]["published"], "2024-04-01T07:00:00+00:00");
    assert_eq!(json["entries"][1]["content"], "<p>Two</p>");
}

#[test]
fn gzip_without_header_is_inflated() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&fixture("podcast.rss")).unwrap();
    let compressed = encoder.finish().unwrap();
    let model = read_feed_model(&compressed, None, &url("https://pod.example.com/feed")).unwrap();
    assert_eq!(model.repairs, vec![Repair::Gunzipped]);
    assert_eq!(model.feed.entries.len(), 2);
}

#[test]
fn html_page_is_not_a_feed_and_names_its_feeds() {
    let error = parse_feed(
        &fixture("page_with_feeds.html"),
        Some("text/html"),
        &url("https://news.example.com/"),
    )
    .unwrap_err();
    let discovered = error.discovered_feeds();
    assert_eq!(discovered.len(), 2);
    assert_eq!(discovered[0].url, "https://news.example.com/rss/top.xml");
    assert_eq!(discovered[0].kind, FeedKind::Rss);
    assert_eq!(discovered[1].kind, FeedKind::Atom);
    let message = error.to_string();
    assert!(message.contains("HTML page"), "{message}");
    assert!(
        message.contains("https://news.example.com/rss/top.xml"),
        "{message}"
    );
}

#[test]
fn empty_files_and_meaningless_documents_fail_with_reasons() {
    let feed_url = url("https://example.org/feed");
    assert!(matches!(
        parse_feed(b"", None, &feed_url),
        Err(ParseError::EmptyDocument)
    ));
    assert!(matches!(
        parse_feed(b"  \n", None, &feed_url),
        Err(ParseError::EmptyDocument)
    ));
    assert!(matches!(
        parse_feed(b"<note><to>x</to></note>", None, &feed_url),
        Err(ParseError::NotAFeed { .. })
    ));
    // Empty only once its markup is repaired: broken, not a feed with no entries.
    assert!(matches!(
        parse_feed(
            b"<rss version=\"2.0\">\n<chan nel><<item>> <<<",
            None,
            &feed_url
        ),
        Err(ParseError::Malformed(_))
    ));
    assert!(matches!(
        parse_feed(b"hello", None, &feed_url),
        Err(ParseError::NotAFeed { .. })
    ));
    assert!(matches!(
        parse_feed(&[0x1f, 0x8b, 0, 1, 2], None, &feed_url),
        Err(ParseError::BadCompression(_))
    ));
}

// ---- Bounded fuzzing: random and mutated documents never panic or hang ----

/// Inputs per fuzz test; CI or a developer can raise it with TRIBUTARY_FUZZ_CASES.
fn fuzz_cases(default: usize) -> usize {
    std::env::var("TRIBUTARY_FUZZ_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Parses on a worker thread so a hang is reported with the input that caused it. The limit
/// is a hang detector (minutes), not a speed check.
fn assert_parses_without_panic_or_hang(bytes: Vec<u8>, label: &str) {
    let (sender, receiver) = mpsc::channel();
    let worker_bytes = bytes.clone();
    std::thread::spawn(move || {
        let feed_url = Url::parse("https://fuzz.example/feed").unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _ = parse_feed(&worker_bytes, None, &feed_url);
            let _ = parse_feed(&worker_bytes, Some("text/xml; charset=utf-16"), &feed_url);
            let _ = tributary::parse::discover_feeds(&worker_bytes, None, &feed_url);
        }));
        let _ = sender.send(outcome.is_ok());
    });
    match receiver.recv_timeout(Duration::from_secs(120)) {
        Ok(true) => {}
        Ok(false) => panic!("panic on {label}: {:?}", String::from_utf8_lossy(&bytes)),
        Err(_) => panic!(
            "no answer within two minutes on {label}: {:?}",
            String::from_utf8_lossy(&bytes)
        ),
    }
}

const INTERESTING_FRAGMENTS: &[&[u8]] = &[
    b"<",
    b">",
    b"&",
    b";",
    b"&eacute;",
    b"&#",
    b"&#xD800;",
    b"]]>",
    b"<![CDATA[",
    b"<!--",
    b"-->",
    b"<?xml version=\"1.0\" encoding=\"utf-16\"?>",
    b"<?xml",
    b"?>",
    b"\xfe\xff",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x00",
    b"\xc3",
    b"\x1f\x8b",
    b"<rss>",
    b"<rss version=\"0.94\">",
    b"<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\">",
    b"</item>",
    b"<item>",
    b"<entry>",
    b"</entry>",
    b"xml:base=\"../..\"",
    b"type=\"bogus\"",
    b"{",
    b"}",
    b"\"version\":",
    b"\"items\":[",
    b"<!DOCTYPE html>",
    b"<html>",
    b"<link rel=\"alternate\" type=\"application/rss+xml\" href=\"x\">",
    b"<pubDate>",
    b"Tue, 31 Feb 2003 25:61:61 +9999",
    b"<skipHours><hour>",
    b"'",
    b"\"",
];

fn mutate(bytes: &mut Vec<u8>, random: &mut fastrand::Rng) {
    for _ in 0..random.usize(1..8) {
        let position = random.usize(0..=bytes.len());
        match random.u8(0..6) {
            0 if !bytes.is_empty() => {
                let index = random.usize(0..bytes.len());
                bytes[index] = random.u8(..);
            }
            1 => {
                let fragment = INTERESTING_FRAGMENTS[random.usize(0..INTERESTING_FRAGMENTS.len())];
                bytes.splice(position..position, fragment.iter().copied());
            }
            2 => bytes.truncate(position),
            3 if !bytes.is_empty() => {
                let end = (position + random.usize(1..64)).min(bytes.len());
                bytes.drain(position.min(end)..end);
            }
            4 if position < bytes.len() => {
                let end = (position + random.usize(1..256)).min(bytes.len());
                let copy = bytes[position..end].to_vec();
                bytes.splice(position..position, copy);
            }
            _ => bytes.insert(position, b"<>&;\"'/"[random.usize(0..7)]),
        }
    }
}

fn seed_documents() -> Vec<Vec<u8>> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parse");
    // The project's own fixtures only: the suite must pass in a clone with nothing beside it.
    std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension != "tsv"))
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

#[test]
fn fuzz_random_bytes_never_panic() {
    let mut random = fastrand::Rng::with_seed(0x7a1b_2026);
    for case in 0..fuzz_cases(300) {
        let length = random.usize(0..2048);
        let mut bytes: Vec<u8> = (0..length).map(|_| random.u8(..)).collect();
        if random.bool() {
            // Start like a document so the deeper stages run.
            let prefix = INTERESTING_FRAGMENTS[random.usize(0..INTERESTING_FRAGMENTS.len())];
            bytes.splice(0..0, prefix.iter().copied());
        }
        assert_parses_without_panic_or_hang(bytes, &format!("random case {case}"));
    }
}

#[test]
fn fuzz_mutated_feeds_never_panic() {
    let seeds = seed_documents();
    assert!(seeds.len() > 25);
    let mut random = fastrand::Rng::with_seed(0x5eed_f00d);
    for case in 0..fuzz_cases(400) {
        let mut bytes = seeds[random.usize(0..seeds.len())].clone();
        mutate(&mut bytes, &mut random);
        if case % 16 == 0 {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(&bytes).unwrap();
            bytes = encoder.finish().unwrap();
        }
        assert_parses_without_panic_or_hang(bytes, &format!("mutation case {case}"));
    }
}

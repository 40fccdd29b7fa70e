//! Feed fidelity: every field a feed states, read as the feed meant it. One fixture per case
//! under tests/fixtures/parse/ (each says its case in a comment), one test per kind, each
//! asserting the exact values read; then `tributary parse` on empty feeds and non-feeds.

use chrono::{DateTime, TimeZone, Utc};
use tributary::model::{FeedEntry, ParsedFeed};
use tributary::parse::parse_feed;
use url::Url;

use crate::support::{fixtures, stderr, stdout, tributary};

fn parse_fixture(name: &str) -> ParsedFeed {
    let bytes = std::fs::read(fixtures().join("parse").join(name)).unwrap();
    let feed_url = Url::parse(&format!("https://fixtures.example/{name}")).unwrap();
    parse_feed(&bytes, None, &feed_url).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// (title, link, id) of every entry, for exact comparison.
fn identities(feed: &ParsedFeed) -> Vec<(Option<&str>, Option<&str>, Option<&str>)> {
    feed.entries
        .iter()
        .map(|entry| {
            (
                entry.title.as_deref(),
                entry.link.as_deref(),
                entry.id.as_deref(),
            )
        })
        .collect()
}

fn text_of(entry: &FeedEntry) -> Option<&str> {
    entry
        .content_html
        .as_deref()
        .or(entry.summary_html.as_deref())
}

#[test]
fn script_and_style_contents_never_become_title_text() {
    let feed = parse_fixture("title_script.rss");
    let titles: Vec<_> = feed.entries.iter().map(|e| e.title.as_deref()).collect();
    assert_eq!(titles, vec![Some("Safe title"), Some("Styled")]);
}

#[test]
fn atom_text_constructs_are_text_and_html_titles_are_flattened() {
    let feed = parse_fixture("atom_text_constructs.atom");
    let text = &feed.entries[0];
    assert_eq!(text.title.as_deref(), Some("a <blink> tag"));
    assert_eq!(
        text.content_html.as_deref(),
        Some("<p>a &lt;blink&gt; tag</p>")
    );
    assert_eq!(
        text.summary_html.as_deref(),
        Some("<p>1 &lt; 2 &amp; 3 &gt; 2</p>")
    );
    let html = &feed.entries[1];
    assert_eq!(html.title.as_deref(), Some("Real title"));
    assert_eq!(
        html.content_html.as_deref(),
        Some("<p>Kept <b>markup</b></p>")
    );
}

#[test]
fn only_a_permalink_guid_stands_in_for_the_link() {
    let feed = parse_fixture("guid_permalink.rss");
    assert_eq!(
        identities(&feed),
        vec![
            (
                Some("Not a permalink"),
                None,
                Some("https://guid.example/internal/42")
            ),
            (
                Some("Permalink by default"),
                Some("https://guid.example/posts/43"),
                Some("https://guid.example/posts/43")
            ),
            (
                Some("Permalink said"),
                Some("https://guid.example/posts/44"),
                Some("https://guid.example/posts/44")
            ),
        ]
    );
}

#[test]
fn dublin_core_terms_dates_are_read() {
    let feed = parse_fixture("dcterms_dates.rss");
    let dates: Vec<_> = feed
        .entries
        .iter()
        .map(|entry| (entry.published, entry.updated))
        .collect();
    assert_eq!(
        dates[0],
        (
            Some(utc("2021-04-05T06:07:08Z")),
            Some(utc("2021-05-06T05:08:09Z"))
        )
    );
    let created = Utc.with_ymd_and_hms(2020, 12, 31, 0, 0, 0).unwrap();
    assert_eq!(dates[1], (Some(created), None));
    // The RSS date wins over a Dublin Core Terms one.
    assert_eq!(dates[2].0, Some(utc("2021-02-01T00:00:00Z")));
}

#[test]
fn media_rss_title_and_description_fill_untitled_entries() {
    let feed = parse_fixture("media_text.rss");
    let read: Vec<_> = feed
        .entries
        .iter()
        .map(|entry| (entry.title.as_deref(), text_of(entry)))
        .collect();
    assert_eq!(
        read,
        vec![
            (Some("Media title"), Some("Media description")),
            (Some("Group title"), Some("Group description")),
        ]
    );
    assert_eq!(
        feed.entries[1].enclosures[0].url,
        "https://media.example/2.mp4"
    );
}

#[test]
fn itunes_summary_is_the_entry_text() {
    let feed = parse_fixture("itunes_summary.atom");
    assert_eq!(
        text_of(&feed.entries[0]),
        Some("We talk about rivers &amp; feeds.")
    );
}

#[test]
fn body_xhtml_body_and_fullitem_are_content() {
    let feed = parse_fixture("body_elements.rss");
    let contents: Vec<_> = feed
        .entries
        .iter()
        .map(|entry| entry.content_html.as_deref())
        .collect();
    assert_eq!(
        contents,
        vec![
            Some("<p>First <b>body</b></p>"),
            Some("<p>Second body</p>"),
            Some("<p>Third <i>body</i></p>"),
        ]
    );
}

#[test]
fn atom_03_base64_text_and_links_written_as_text_are_read() {
    let feed = parse_fixture("atom03_base64_and_text_link.xml");
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("Base 64 title"));
    assert_eq!(entry.link.as_deref(), Some("https://old.example/2004/b64"));
    assert_eq!(
        entry.content_html.as_deref(),
        Some("<p>Hello <b>world</b></p>")
    );
    assert_eq!(entry.published, Some(utc("2004-02-03T04:05:06Z")));
}

#[test]
fn rss_090_items_are_all_entries() {
    let feed = parse_fixture("rss090.rdf");
    assert_eq!(feed.title.as_deref(), Some("Netscape era"));
    assert_eq!(
        identities(&feed),
        vec![
            (Some("First item"), Some("https://n.example/1"), None),
            (Some("Second item"), None, None),
        ]
    );
}

#[test]
fn rss_10_items_without_link_are_kept_and_named_by_rdf_about() {
    let feed = parse_fixture("rss10_linkless.rdf");
    assert_eq!(
        identities(&feed),
        vec![
            (Some("Title only"), None, Some("https://r.example/about/1")),
            (
                Some("With link"),
                Some("https://r.example/2"),
                Some("https://r.example/2")
            ),
        ]
    );
    assert_eq!(feed.entries[0].published, Some(utc("2005-06-07T08:09:10Z")));
}

#[test]
fn feeds_in_old_atom_namespaces_are_read_as_atom() {
    let feed = parse_fixture("old_atom_namespace.xml");
    assert_eq!(feed.title.as_deref(), Some("Echo feed"));
    assert_eq!(
        identities(&feed),
        vec![(
            Some("Echo entry"),
            Some("https://echo.example/1"),
            Some("echo-1")
        )]
    );
    assert_eq!(feed.entries[0].published, Some(utc("2003-07-01T00:00:00Z")));
}

#[test]
fn empty_feeds_are_feeds_with_no_entries() {
    for (name, title) in [
        ("empty_channel.rss", None),
        ("empty_no_channel.rss", None),
        ("empty.atom", Some("Between seasons")),
        ("empty.json", Some("Nothing yet")),
    ] {
        let feed = parse_fixture(name);
        assert_eq!(feed.title.as_deref(), title, "{name}");
        assert!(feed.entries.is_empty(), "{name}");
    }
}

#[test]
fn utf32_with_and_without_bom_is_decoded() {
    let big_endian = parse_fixture("utf32be.rss");
    assert_eq!(big_endian.title.as_deref(), Some("Zweiunddreißig"));
    assert_eq!(big_endian.entries[0].title.as_deref(), Some("Grüße €"));
    let little_endian = parse_fixture("utf32le_bom.atom");
    assert_eq!(little_endian.title.as_deref(), Some("Trente-deux"));
    assert_eq!(little_endian.entries[0].title.as_deref(), Some("Été"));
}

#[test]
fn c1_code_points_become_the_windows_1252_punctuation_they_mean() {
    let feed = parse_fixture("c1_punctuation.rss");
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("It’s a “quote”"));
    assert_eq!(entry.summary_html.as_deref(), Some("Don’t – stop"));
}

#[test]
fn internal_dtd_entities_are_expanded() {
    let feed = parse_fixture("dtd_entities.rss");
    assert_eq!(feed.title.as_deref(), Some("Notes by Jane Roe"));
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("Written by Jane Roe"));
    assert_eq!(entry.summary_html.as_deref(), Some("© 2004 Jane Roe"));
}

// ---- `tributary parse` on empty feeds and on what is not a feed ----

fn parse_command(path: &std::path::Path) -> std::process::Output {
    tributary()
        .arg("parse")
        .arg(path)
        .arg("--json")
        .env("TRIBUTARY_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn parse_command_exits_0_on_every_well_formed_empty_feed() {
    for name in [
        "empty_channel.rss",
        "empty_no_channel.rss",
        "empty.atom",
        "empty.json",
    ] {
        let output = parse_command(&fixtures().join("parse").join(name));
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(json["entries"], serde_json::json!([]), "{name}");
    }
}

#[test]
fn parse_command_still_refuses_pages_other_vocabularies_and_empty_files() {
    let folder = tempfile::tempdir().unwrap();
    let note = folder.path().join("note.xml");
    std::fs::write(&note, "<?xml version=\"1.0\"?><note><to>x</to></note>").unwrap();
    let empty = folder.path().join("empty.xml");
    std::fs::write(&empty, "").unwrap();
    let page = fixtures().join("parse/page_with_feeds.html");
    for (path, expected) in [
        (note, "not a feed"),
        (empty, "the document is empty"),
        (
            page,
            "this is an HTML page; it links to feed https://news.example.com/",
        ),
    ] {
        let output = parse_command(&path);
        assert!(!output.status.success(), "{}", path.display());
        assert!(
            stderr(&output).contains(expected),
            "{}: {}",
            path.display(),
            stderr(&output)
        );
    }
}

// ---- Through the daemon's poll: empty feeds, future dates, entries without text ----

fn poll_one_feed(feed: &str) -> (tempfile::TempDir, std::path::PathBuf, crate::support::Site) {
    let site = crate::support::Site::start();
    site.set(
        "/feed.xml",
        crate::support::Page::ok("application/rss+xml", feed.to_string()),
    );
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("tributary.toml");
    let text = crate::end_to_end::newsroom_config(
        crate::support::free_port(),
        &[("solo", format!("{}/feed.xml", site.base()))],
    );
    std::fs::write(&config, text).unwrap();
    let poll = crate::support::run_tributary(folder.path(), &config, &["poll"]);
    assert!(poll.status.success(), "{}", stderr(&poll));
    (folder, config, site)
}

#[test]
fn a_source_serving_an_empty_feed_is_healthy() {
    let (folder, config, _site) =
        poll_one_feed("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel></channel></rss>");
    let status = stdout(&crate::support::run_tributary(
        folder.path(),
        &config,
        &["status", "--json"],
    ));
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let source = &status["sources"][0];
    assert_eq!(source["consecutive_failures"], 0, "{source}");
    assert_eq!(source["last_error"], serde_json::Value::Null, "{source}");
    assert_eq!(source["entries"], 0, "{source}");
}

/// A title-only entry dated 2099 whose page cannot be fetched: published when first seen,
/// and published with its title and a link instead of empty content.
#[test]
fn a_future_dated_title_only_entry_is_dated_when_seen_and_never_blank() {
    let before = Utc::now();
    let feed = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Clock skew</title>\
        <item><title>From 2099</title><link>http://127.0.0.1:9/gone</link>\
        <pubDate>Thu, 01 Jan 2099 00:00:00 GMT</pubDate></item></channel></rss>";
    let (folder, config, _site) = poll_one_feed(feed);
    let export = stdout(&crate::support::run_tributary(
        folder.path(),
        &config,
        &["export", "--format", "json"],
    ));
    let json: serde_json::Value = serde_json::from_str(&export).unwrap();
    let item = &json["items"][0];
    assert_eq!(
        item["content_html"], "<p><a href=\"http://127.0.0.1:9/gone\">From 2099</a></p>",
        "{item}"
    );
    let published = utc(item["date_published"].as_str().unwrap());
    assert!(
        published >= before - chrono::Duration::seconds(1) && published <= Utc::now(),
        "{item}"
    );
    let modified = utc(item["date_modified"].as_str().unwrap());
    assert!(modified <= Utc::now(), "{item}");
}

//! Dedupe as readers see it, through the binary: merged stories name every source in the three
//! formats, `explain` shows why, edits update a story, and the rules (short texts, opt-out,
//! threshold, canonical entry) hold.

use crate::dedupe::{OTHER_FR_SAME_TOPIC, WIRE_FR_SITE_A, WIRE_FR_SITE_B};
use crate::support::{Page, Site, free_port, run_tributary, stderr, stdout};

/// One entry of a source's RSS feed.
struct Entry<'a> {
    guid: &'a str,
    title: &'a str,
    text: &'a str,
    date: &'a str,
}

fn rss(site: &Site, name: &str, entries: &[Entry]) -> Page {
    let items: String = entries
        .iter()
        .map(|entry| {
            let paragraphs: String = entry
                .text
                .split('\n')
                .filter(|p| !p.trim().is_empty())
                .map(|p| format!("<p>{p}</p>"))
                .collect();
            format!(
                "<item><title>{}</title><link>{}/{name}/{}</link><guid>{}</guid>\
                 <pubDate>{}</pubDate><description><![CDATA[{paragraphs}]]></description></item>",
                entry.title,
                site.base(),
                entry.guid,
                entry.guid,
                entry.date
            )
        })
        .collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
         <title>{name} news</title><link>{}/{name}/</link><description>d</description>\
         {items}</channel></rss>",
        site.base()
    );
    Page::ok("application/rss+xml", body)
}

/// A folder with a config naming `sources` (name, extra keys) on `site`, and `[dedupe]` keys.
struct Reader {
    folder: tempfile::TempDir,
    config: std::path::PathBuf,
}

impl Reader {
    fn new(site: &Site, dedupe: &str, sources: &[(&str, &str)]) -> Reader {
        let folder = tempfile::tempdir().unwrap();
        let mut text = format!(
            "database = \"data/t.db\"\nlisten = \"127.0.0.1:{}\"\n\
             [fetch]\nallow_private_networks = true\nper_host_delay = \"1ms\"\n\
             [dedupe]\n{dedupe}\n",
            free_port()
        );
        for (name, extra) in sources {
            text.push_str(&format!(
                "[[sources]]\nname = \"{name}\"\nurl = \"{}/{name}/feed.xml\"\n\
                 full_text = false\n{extra}\n",
                site.base()
            ));
        }
        let config = folder.path().join("tributary.toml");
        std::fs::write(&config, text).unwrap();
        Reader { folder, config }
    }

    fn run(&self, args: &[&str]) -> String {
        let output = run_tributary(self.folder.path(), &self.config, args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    }

    fn items(&self) -> Vec<serde_json::Value> {
        let json: serde_json::Value =
            serde_json::from_str(&self.run(&["export", "--format", "json"])).unwrap();
        json["items"].as_array().unwrap().clone()
    }
}

const DATE: &str = "Tue, 24 Nov 2026 08:00:00 GMT";
const LATER: &str = "Tue, 24 Nov 2026 09:00:00 GMT";

fn one_entry<'a>(guid: &'a str, title: &'a str, text: &'a str, date: &'a str) -> [Entry<'a>; 1] {
    [Entry {
        guid,
        title,
        text,
        date,
    }]
}

#[test]
fn a_merged_story_names_every_source_in_the_three_formats_and_explain_says_why() {
    let site = Site::start();
    let truncated: String = WIRE_FR_SITE_B
        .split('\n')
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    // a published first: the entry shown (`canonical = "earliest"`), whoever is polled first.
    for (name, title, text, date) in [
        (
            "a",
            "Retraites agricoles : le texte adopté",
            WIRE_FR_SITE_A,
            DATE,
        ),
        (
            "b",
            "Les députés votent la revalorisation",
            WIRE_FR_SITE_B,
            LATER,
        ),
        (
            "c",
            "Petites retraites agricoles",
            truncated.as_str(),
            LATER,
        ),
    ] {
        site.set(
            &format!("/{name}/feed.xml"),
            rss(&site, name, &one_entry("1", title, text, date)),
        );
    }
    let reader = Reader::new(&site, "", &[("a", ""), ("b", ""), ("c", "")]);
    reader.run(&["poll"]);
    let items = reader.items();
    assert_eq!(items.len(), 1, "{items:#?}");
    let mut names: Vec<&str> = items[0]["_tributary"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|source| source["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names[0],
        "a",
        "the canonical entry's source comes first: {}",
        reader.run(&["explain", "1"])
    );
    names.sort_unstable();
    assert_eq!(names, ["a", "b", "c"]);
    let atom = reader.run(&["export", "--format", "atom"]);
    let feed = atom_syndication::Feed::read_from(atom.as_bytes()).unwrap();
    let entry = &feed.entries()[0];
    assert_eq!(entry.source().unwrap().title().as_str(), "a news");
    let related: Vec<&str> = entry
        .links()
        .iter()
        .filter(|link| link.rel() == "related")
        .map(|link| link.href())
        .collect();
    assert_eq!(related.len(), 2, "{related:?}");
    assert!(related.iter().any(|link| link.ends_with("/b/1")));
    assert!(related.iter().any(|link| link.ends_with("/c/1")));
    let rss = reader.run(&["export", "--format", "rss"]);
    let channel = rss::Channel::read_from(rss.as_bytes()).unwrap();
    let item = &channel.items()[0];
    assert_eq!(item.source().unwrap().title(), Some("a news"));
    let encoded = item.content().unwrap();
    assert!(encoded.contains("Also reported by") && encoded.contains("b news"));
    assert!(encoded.contains("c news"), "{encoded}");
    // `explain` by a member's URL: every member, its layer and similarity.
    let explained = reader.run(&["explain", &format!("{}/c/1", site.base())]);
    assert!(explained.contains("members (3)"), "{explained}");
    assert_eq!(explained.matches("layer first").count(), 1, "{explained}");
    let text_lines = explained
        .lines()
        .filter(|line| line.contains("layer text similarity") || line.contains("layer exact"))
        .count();
    assert_eq!(text_lines, 2, "{explained}");
    assert!(
        explained.contains("nearest other story: none"),
        "{explained}"
    );
}

#[test]
fn explain_names_the_near_miss_and_an_unknown_story_fails() {
    let site = Site::start();
    // The two copies differ a little, more than this threshold allows.
    let entry = |title, text| one_entry("1", title, text, DATE);
    site.set(
        "/a/feed.xml",
        rss(&site, "a", &entry("Vote", WIRE_FR_SITE_A)),
    );
    site.set(
        "/b/feed.xml",
        rss(&site, "b", &entry("Vote", WIRE_FR_SITE_B)),
    );
    site.set(
        "/c/feed.xml",
        rss(&site, "c", &entry("Campagnes", OTHER_FR_SAME_TOPIC)),
    );
    let sources = [("a", ""), ("b", ""), ("c", "")];
    let reader = Reader::new(&site, "threshold = 0.99", &sources);
    reader.run(&["poll"]);
    assert_eq!(reader.items().len(), 3);
    let explained = reader.run(&["explain", &format!("{}/b/1", site.base())]);
    assert!(explained.contains("members (1)"), "{explained}");
    let near_miss = explained
        .lines()
        .find(|line| line.contains("nearest other story: "))
        .unwrap();
    let score: f64 = near_miss
        .split("\"Vote\" similarity ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("{explained}"));
    assert!((0.6..0.99).contains(&score), "{explained}");
    assert!(near_miss.contains("threshold 0.99") && near_miss.contains("not the same story"));
    // A story sharing no text with any other says so.
    let alone = reader.run(&["explain", &format!("{}/c/1", site.base())]);
    assert!(alone.contains("nearest other story: none"), "{alone}");
    let output = run_tributary(reader.folder.path(), &reader.config, &["explain", "999"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no stored story"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_edit_by_its_own_feed_updates_the_story_and_a_growing_live_blog_stays_one() {
    let site = Site::start();
    let first: String = WIRE_FR_SITE_A
        .split("\n\n")
        .take(3)
        .collect::<Vec<_>>()
        .join("\n\n");
    site.set(
        "/a/feed.xml",
        rss(&site, "a", &one_entry("live", "En direct", &first, DATE)),
    );
    let reader = Reader::new(&site, "", &[("a", "")]);
    reader.run(&["poll"]);
    let before = reader.items();
    assert_eq!(before.len(), 1);
    // The live blog grows by two paragraphs and a new title, under the same guid.
    site.set(
        "/a/feed.xml",
        rss(
            &site,
            "a",
            &one_entry("live", "En direct : le vote", WIRE_FR_SITE_A, LATER),
        ),
    );
    reader.run(&["poll"]);
    let after = reader.items();
    assert_eq!(after.len(), 1, "{after:#?}");
    assert_eq!(after[0]["id"], before[0]["id"]);
    assert_eq!(after[0]["title"], "En direct : le vote");
    assert!(after[0]["content_html"].as_str().unwrap().contains("350"));
    assert!(after[0]["date_modified"].as_str() > before[0]["date_modified"].as_str());
    // A correction (one word) is an update too, never a second story.
    let corrected = WIRE_FR_SITE_A.replace("350", "360");
    site.set(
        "/a/feed.xml",
        rss(
            &site,
            "a",
            &one_entry("live", "En direct : le vote", &corrected, LATER),
        ),
    );
    reader.run(&["poll"]);
    let corrected_items = reader.items();
    assert_eq!(corrected_items.len(), 1);
    assert!(
        corrected_items[0]["content_html"]
            .as_str()
            .unwrap()
            .contains("360")
    );
}

#[test]
fn short_texts_are_not_merged_on_their_text_alone() {
    let site = Site::start();
    // About 60 words: long enough to fingerprint, short enough to need titles that agree.
    let brief: String = WIRE_FR_SITE_A
        .split_whitespace()
        .take(60)
        .collect::<Vec<_>>()
        .join(" ");
    for (name, title) in [
        ("a", "Retraites agricoles adoptées"),
        ("b", "Le point du jour"),
        ("c", "Retraites agricoles : adoptées"),
    ] {
        site.set(
            &format!("/{name}/feed.xml"),
            rss(&site, name, &one_entry("1", title, &brief, DATE)),
        );
    }
    let reader = Reader::new(&site, "", &[("a", ""), ("b", ""), ("c", "")]);
    reader.run(&["poll"]);
    let items = reader.items();
    // a and c agree on the title: one story; b's title says nothing of it: its own story.
    assert_eq!(items.len(), 2, "{items:#?}");
}

#[test]
fn a_source_with_dedupe_false_is_never_merged() {
    let site = Site::start();
    for name in ["a", "b", "c"] {
        site.set(
            &format!("/{name}/feed.xml"),
            rss(&site, name, &one_entry("1", "Vote", WIRE_FR_SITE_A, DATE)),
        );
    }
    let reader = Reader::new(&site, "", &[("a", ""), ("b", "dedupe = false"), ("c", "")]);
    reader.run(&["poll"]);
    let items = reader.items();
    assert_eq!(items.len(), 2, "{items:#?}");
    let counts: Vec<usize> = items
        .iter()
        .map(|item| item["_tributary"]["sources"].as_array().unwrap().len())
        .collect();
    assert!(counts.contains(&1) && counts.contains(&2), "{counts:?}");
}

#[test]
fn the_threshold_decides_near_duplicates() {
    for (threshold, stories) in [("0.6", 1), ("0.99", 2)] {
        let site = Site::start();
        site.set(
            "/a/feed.xml",
            rss(&site, "a", &one_entry("1", "Vote", WIRE_FR_SITE_A, DATE)),
        );
        site.set(
            "/b/feed.xml",
            rss(&site, "b", &one_entry("1", "Vote", WIRE_FR_SITE_B, DATE)),
        );
        let reader = Reader::new(
            &site,
            &format!("threshold = {threshold}"),
            &[("a", ""), ("b", "")],
        );
        reader.run(&["poll"]);
        assert_eq!(reader.items().len(), stories, "threshold {threshold}");
    }
}

#[test]
fn the_canonical_rule_picks_the_entry_shown() {
    for (rule, shown) in [("earliest", "a"), ("priority", "b"), ("complete", "b")] {
        let site = Site::start();
        // a publishes first with two paragraphs; b later, complete, from a preferred source.
        let teaser: String = WIRE_FR_SITE_A
            .split("\n\n")
            .take(2)
            .collect::<Vec<_>>()
            .join("\n\n");
        site.set(
            "/a/feed.xml",
            rss(&site, "a", &one_entry("1", "Titre A", &teaser, DATE)),
        );
        site.set(
            "/b/feed.xml",
            rss(
                &site,
                "b",
                &one_entry("1", "Titre B", WIRE_FR_SITE_A, LATER),
            ),
        );
        let reader = Reader::new(
            &site,
            &format!("canonical = \"{rule}\""),
            &[("a", ""), ("b", "priority = 5")],
        );
        reader.run(&["poll"]);
        let items = reader.items();
        assert_eq!(items.len(), 1, "{rule}");
        let origin = &items[0]["_tributary"]["sources"][0]["name"];
        assert_eq!(origin, shown, "{rule}");
        assert_eq!(
            items[0]["title"],
            format!("Titre {}", shown.to_uppercase()),
            "{rule}"
        );
    }
}

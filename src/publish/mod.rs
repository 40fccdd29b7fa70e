//! The Atom / RSS 2.0 / JSON Feed writers of the merged feed. Pure. The web pages' templates
//! live beside them in `html/`.
//!
//! The store picks and orders the entries (newest first, capped, by one indexed query: see
//! `store::latest_stories`); [`render`] writes them in one format. The three
//! writers share `content` (the final HTML of an entry, re-sanitized, with the list of sites that
//! carried it) so every format publishes the same thing. Output is meant to pass the W3C feed
//! validator without errors: absolute links only, RFC 3339 / RFC 822 dates, self links, an author
//! for every entry, and no character XML forbids.

pub mod archive;
mod atom;
mod content;
pub mod html;
mod json;
mod rss;
pub mod snippet;
pub(crate) mod xml;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::config::OutputFormat;
use crate::model::Enclosure;

/// Feed-level fields of the merged feed.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    pub title: String,
    pub description: Option<String>,
    /// Base URL the feeds are served from (no trailing slash); self links are built on it.
    pub public_url: String,
    /// Newest change among the entries (or now, when there are none).
    pub updated: DateTime<Utc>,
    /// The topic this feed is about (`/tags/{tag}.atom`), or `None` for the merged feed.
    pub topic: Option<String>,
    /// Where this document is served and its links to others (archives, hub); by default the
    /// merged feed's.
    pub links: FeedLinks,
}

/// A feed document's own address and its links beyond the merged feed's: RFC 5005 archives
/// and a WebSub hub. Paths are relative to `public_url`.
#[derive(Debug, Clone, Default)]
pub struct FeedLinks {
    /// The path this document is served at, replacing `feed.atom` / `feed.rss` / `feed.json`
    /// (e.g. `search.atom?q=loire`, `archive/3.atom`).
    pub self_path: Option<String>,
    /// RFC 5005 `prev-archive`: the newest archive page older than this document.
    pub prev_archive: Option<String>,
    /// RFC 5005 `next-archive`: on an archive page, the next newer one.
    pub next_archive: Option<String>,
    /// RFC 5005 `current`: on an archive page, the feed a reader subscribes to.
    pub current: Option<String>,
    /// RFC 5005 `fh:archive`: this document is an archive page, complete and unchanging.
    pub archive: bool,
    /// WebSub: the hub that relays this feed's updates (an absolute URL).
    pub hub: Option<String>,
}

impl FeedMeta {
    /// The absolute URL of a file the server serves, e.g. `feed_url("feed.atom")`.
    pub fn feed_url(&self, file_name: &str) -> String {
        format!("{}/{file_name}", self.public_url.trim_end_matches('/'))
    }

    /// This document's own absolute URL in one format (`extension`: `atom`, `rss`, `json`):
    /// its `links.self_path` when set (a search feed, an archive page), else `feed.atom` for
    /// the merged feed and `tags/{tag}.atom` for a topic's.
    pub fn self_url(&self, extension: &str) -> String {
        if let Some(path) = &self.links.self_path {
            return self.feed_url(path);
        }
        match &self.topic {
            Some(tag) => self.feed_url(&format!("tags/{}.{extension}", html::tag_segment(tag))),
            None => self.feed_url(&format!("feed.{extension}")),
        }
    }

    /// The feed's home page: the river page at the server's root, or the topic's.
    pub fn home_page_url(&self) -> String {
        match &self.topic {
            Some(tag) => self.feed_url(html::tag_path(tag).trim_start_matches('/')),
            None => self.feed_url(""),
        }
    }
}

/// One source that carried a story.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRef {
    /// The configured source name.
    pub name: String,
    /// The source's feed URL.
    pub feed_url: String,
    /// The source feed's title, when known.
    pub feed_title: Option<String>,
    /// The source feed's site link, when known.
    pub site_link: Option<String>,
    /// The story's page on that source.
    pub link: Option<String>,
}

/// One merged story, ready to be written.
#[derive(Debug, Clone)]
pub struct PublishedEntry {
    /// Stable, unique id (a `urn:` or `tag:` URI).
    pub id: String,
    pub title: String,
    /// The story's page on its first source (canonical).
    pub link: Option<String>,
    pub published: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Sanitized HTML of the full text (or the feed's content / summary).
    pub content_html: Option<String>,
    /// Short plain-text summary.
    pub summary: Option<String>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
    pub image: Option<String>,
    /// The first source that carried the story.
    pub origin: SourceRef,
    /// Every other source that carried it.
    pub also: Vec<SourceRef>,
}

/// Renders the merged feed. Entries are expected newest first and already capped. The last
/// sanitizing pass keeps no `<iframe>`; see [`render_with`] to keep video embeds.
pub fn render(meta: &FeedMeta, entries: &[PublishedEntry], format: OutputFormat) -> String {
    render_with(meta, entries, format, &[])
}

/// [`render`], keeping `<iframe>` embeds from `video_hosts` (the config's
/// `extract.video_hosts`) through the last sanitizing pass.
pub fn render_with(
    meta: &FeedMeta,
    entries: &[PublishedEntry],
    format: OutputFormat,
    video_hosts: &[String],
) -> String {
    match format {
        OutputFormat::Atom => atom::render(meta, entries, video_hosts),
        OutputFormat::Rss => rss::render(meta, entries, video_hosts),
        OutputFormat::Json => json::render(meta, entries, video_hosts),
    }
}

/// The MIME type each format is served with.
pub fn content_type(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Atom => "application/atom+xml; charset=utf-8",
        OutputFormat::Rss => "application/rss+xml; charset=utf-8",
        OutputFormat::Json => "application/feed+json; charset=utf-8",
    }
}

/// RFC 3339 in UTC with a `Z`, as Atom and JSON Feed want.
pub(crate) fn rfc3339(date: DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// RFC 822 with a four-digit year and a two-digit day, the form every RSS reader parses.
fn rfc822(date: DateTime<Utc>) -> String {
    date.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(id: &str, day: u32) -> PublishedEntry {
        let date = Utc.with_ymd_and_hms(2024, 5, day, 9, 0, 0).unwrap();
        PublishedEntry {
            id: id.to_string(),
            title: id.to_string(),
            link: None,
            published: date,
            updated: date,
            content_html: None,
            summary: None,
            authors: Vec::new(),
            categories: Vec::new(),
            enclosures: Vec::new(),
            image: None,
            origin: SourceRef {
                name: "a".into(),
                feed_url: "https://a.example/rss".into(),
                feed_title: None,
                site_link: None,
                link: None,
            },
            also: Vec::new(),
        }
    }

    /// A title-only entry whose page could not be fetched: every format carries its title and a
    /// link to the original, never empty content.
    #[test]
    fn an_entry_without_text_publishes_its_title_and_link_in_every_format() {
        let mut untexted = entry("urn:bare", 4);
        untexted.title = "Bare & titled".into();
        untexted.link = Some("https://a.example/bare?x=1&y=2".into());
        let meta = FeedMeta {
            title: "t".into(),
            description: None,
            public_url: "http://127.0.0.1:8080/".into(),
            updated: Utc::now(),
            topic: None,
            links: FeedLinks::default(),
        };
        let expected =
            "<p><a href=\"https://a.example/bare?x=1&amp;y=2\">Bare &amp; titled</a></p>";
        assert_eq!(content::content_html(&untexted, &[]), expected);
        let json: serde_json::Value = serde_json::from_str(&render(
            &meta,
            std::slice::from_ref(&untexted),
            OutputFormat::Json,
        ))
        .unwrap();
        assert_eq!(json["items"][0]["content_html"], expected);
        let atom = render(&meta, std::slice::from_ref(&untexted), OutputFormat::Atom);
        assert!(
            atom.contains("&lt;p&gt;&lt;a href=\"https://a.example/bare?x=1&amp;amp;y=2\"&gt;"),
            "{atom}"
        );
        let rss = render(&meta, std::slice::from_ref(&untexted), OutputFormat::Rss);
        assert!(rss.contains("Bare &amp;amp; titled&lt;/a&gt;"), "{rss}");
        untexted.link = None;
        assert_eq!(
            content::content_html(&untexted, &[]),
            "<p>Bare &amp; titled</p>"
        );
    }

    #[test]
    fn dates_use_rfc_3339_and_rfc_822() {
        let date = Utc.with_ymd_and_hms(2024, 5, 3, 7, 8, 9).unwrap();
        assert_eq!(rfc3339(date), "2024-05-03T07:08:09Z");
        assert_eq!(rfc822(date), "Fri, 03 May 2024 07:08:09 +0000");
    }

    #[test]
    fn feed_urls_are_built_on_the_public_url() {
        let meta = FeedMeta {
            title: "t".into(),
            description: None,
            public_url: "http://127.0.0.1:8080/".into(),
            updated: Utc::now(),
            topic: None,
            links: FeedLinks::default(),
        };
        assert_eq!(
            meta.feed_url("feed.atom"),
            "http://127.0.0.1:8080/feed.atom"
        );
        assert_eq!(meta.home_page_url(), "http://127.0.0.1:8080/");
    }
}

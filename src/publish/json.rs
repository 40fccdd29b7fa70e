//! The JSON Feed 1.1 writer, with a `_tributary` extension listing every source of each item.

use serde::Serialize;

use super::content::{self, is_web_url, source_display_name, valid_mime_type};
use super::xml::strip_invalid_chars;
use super::{FeedMeta, PublishedEntry, SourceRef, rfc3339};

#[derive(Serialize)]
struct JsonFeed {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// JSON Feed's paging link: the older entries, which here is RFC 5005's `prev-archive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    /// JSON Feed 1.1's WebSub hubs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<JsonHub>,
    authors: Vec<JsonAuthor>,
    items: Vec<JsonItem>,
    /// RFC 5005 for JSON Feed, which has no archive vocabulary of its own.
    #[serde(skip_serializing_if = "JsonHistory::is_empty")]
    _feed_history: JsonHistory,
}

#[derive(Serialize)]
struct JsonHub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

/// `_feed_history`: `current` and `archive` as RFC 5005 defines them for Atom.
#[derive(Serialize)]
struct JsonHistory {
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_archive: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    archive: bool,
}

impl JsonHistory {
    fn is_empty(&self) -> bool {
        self.current.is_none() && self.prev_archive.is_none() && !self.archive
    }
}

#[derive(Serialize)]
struct JsonAuthor {
    name: String,
}

#[derive(Serialize)]
struct JsonItem {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    title: String,
    content_html: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    date_published: String,
    date_modified: String,
    authors: Vec<JsonAuthor>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<JsonAttachment>,
    _tributary: JsonExtension,
}

#[derive(Serialize)]
struct JsonAttachment {
    url: String,
    mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
}

/// JSON Feed extensions start with an underscore; readers that do not know ours ignore it.
#[derive(Serialize)]
struct JsonExtension {
    /// Every site that carried the story, the origin first.
    sources: Vec<JsonSource>,
}

#[derive(Serialize)]
struct JsonSource {
    name: String,
    title: String,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    home_page_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

pub fn render(meta: &FeedMeta, entries: &[PublishedEntry], video_hosts: &[String]) -> String {
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: clean(&meta.title),
        home_page_url: meta.home_page_url(),
        feed_url: meta.self_url("json"),
        description: meta
            .description
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(clean),
        next_url: meta.links.prev_archive.as_deref().map(|p| meta.feed_url(p)),
        hubs: meta
            .links
            .hub
            .iter()
            .map(|hub| JsonHub {
                kind: "WebSub",
                url: hub.clone(),
            })
            .collect(),
        _feed_history: JsonHistory {
            current: meta.links.current.as_deref().map(|p| meta.feed_url(p)),
            prev_archive: meta.links.prev_archive.as_deref().map(|p| meta.feed_url(p)),
            archive: meta.links.archive,
        },
        authors: vec![JsonAuthor {
            name: clean(&meta.title),
        }],
        items: entries
            .iter()
            .map(|entry| item(entry, video_hosts))
            .collect(),
    };
    let mut json = serde_json::to_string_pretty(&feed).expect("plain data always serializes");
    json.push('\n');
    json
}

fn item(entry: &PublishedEntry, video_hosts: &[String]) -> JsonItem {
    let web_url = |value: Option<&str>| value.filter(|url| is_web_url(url)).map(clean);
    let sources = std::iter::once(&entry.origin)
        .chain(&entry.also)
        .map(source)
        .collect();
    JsonItem {
        id: clean(&entry.id),
        url: web_url(entry.link.as_deref()),
        title: clean(&content::title(entry)),
        content_html: clean(&content::content_html(entry, video_hosts)),
        summary: entry
            .summary
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| clean(s.trim())),
        image: web_url(entry.image.as_deref()),
        date_published: rfc3339(entry.published),
        date_modified: rfc3339(entry.updated.max(entry.published)),
        authors: content::authors(entry)
            .iter()
            .map(|name| JsonAuthor { name: clean(name) })
            .collect(),
        tags: content::categories(entry)
            .iter()
            .map(|t| clean(t))
            .collect(),
        attachments: attachments(entry),
        _tributary: JsonExtension { sources },
    }
}

fn attachments(entry: &PublishedEntry) -> Vec<JsonAttachment> {
    entry
        .enclosures
        .iter()
        .filter(|enclosure| is_web_url(&enclosure.url))
        .map(|enclosure| JsonAttachment {
            url: clean(&enclosure.url),
            // Required by JSON Feed; the generic type when the source did not say.
            mime_type: enclosure
                .mime_type
                .as_deref()
                .filter(|mime| valid_mime_type(mime))
                .unwrap_or("application/octet-stream")
                .to_string(),
            size_in_bytes: enclosure.length.filter(|length| *length > 0),
        })
        .collect()
}

fn source(source: &SourceRef) -> JsonSource {
    let web_url = |value: Option<&str>| value.filter(|url| is_web_url(url)).map(clean);
    JsonSource {
        name: clean(&source.name),
        title: clean(source_display_name(source)),
        feed_url: clean(&source.feed_url),
        home_page_url: web_url(source.site_link.as_deref()),
        url: web_url(source.link.as_deref()),
    }
}

/// The same character hygiene as the XML formats, so all three carry identical text.
fn clean(text: &str) -> String {
    strip_invalid_chars(text).into_owned()
}

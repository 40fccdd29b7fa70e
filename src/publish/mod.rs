//! Which entries make the merged feed, and the Atom / RSS 2.0 / JSON Feed writers. Pure.
//!
//! (Skeleton: the writers land in this module.)

use chrono::{DateTime, Utc};

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

/// Renders the merged feed. Entries are expected newest first and already capped.
pub fn render(meta: &FeedMeta, entries: &[PublishedEntry], format: OutputFormat) -> String {
    let _ = (meta, entries, format);
    String::new()
}

/// The MIME type each format is served with.
pub fn content_type(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Atom => "application/atom+xml; charset=utf-8",
        OutputFormat::Rss => "application/rss+xml; charset=utf-8",
        OutputFormat::Json => "application/feed+json; charset=utf-8",
    }
}

/// Newest first (ties by id), capped at `max`.
pub fn select(mut entries: Vec<PublishedEntry>, max: usize) -> Vec<PublishedEntry> {
    entries.sort_by(|a, b| b.published.cmp(&a.published).then(a.id.cmp(&b.id)));
    entries.truncate(max);
    entries
}

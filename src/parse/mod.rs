//! Feed bytes + URL -> normalised entries. Pure: no IO; a panic inside a parser fails that feed only.
//!
//! (Skeleton: the lenient pre-pass lands in this module; this interface is what the pipeline calls.)

use crate::model::{FeedEntry, ParsedFeed};

/// Why a document did not yield a feed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("the feed has no title and no entries")]
    Empty,
    #[error("the feed parser crashed on this document")]
    Panicked,
}

/// Parses a feed document fetched from `feed_url`.
pub fn parse_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    feed_url: &url::Url,
) -> Result<ParsedFeed, ParseError> {
    let _ = content_type;
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(feed_url.as_str()))
        .build();
    let feed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(bytes)))
        .map_err(|_| ParseError::Panicked)?
        .map_err(|error| ParseError::NotAFeed(error.to_string()))?;
    let entries: Vec<FeedEntry> = feed
        .entries
        .into_iter()
        .map(|entry| FeedEntry {
            id: Some(entry.id),
            title: entry.title.map(|t| t.content),
            link: entry.links.first().map(|l| l.href.clone()),
            published: entry.published,
            updated: entry.updated,
            content_html: entry.content.and_then(|c| c.body),
            summary_html: entry.summary.map(|s| s.content),
            ..Default::default()
        })
        .collect();
    let title = feed.title.map(|t| t.content);
    if title.is_none() && entries.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(ParsedFeed {
        title,
        site_link: feed.links.first().map(|l| l.href.clone()),
        entries,
        ..Default::default()
    })
}

/// The feed as `tributary parse --json` prints it.
pub fn to_json(feed: &ParsedFeed) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = feed
        .entries
        .iter()
        .map(|entry| {
            serde_json::json!({
                "id": entry.id,
                "title": entry.title,
                "link": entry.link,
                "published": entry.published.or(entry.updated).map(|d| d.to_rfc3339()),
                "content": entry.content_html.as_ref().or(entry.summary_html.as_ref()),
            })
        })
        .collect();
    serde_json::json!({ "title": feed.title, "entries": entries })
}

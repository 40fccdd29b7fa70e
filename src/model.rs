//! Plain data shared by the stages: what parse produces, what extract produces, what publish reads.
//!
//! These types carry no behaviour beyond small conveniences, so every stage can be tested by
//! building them by hand.

use chrono::{DateTime, Utc};

/// One feed as parsed: the feed-level fields the rest of the pipeline uses and its entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFeed {
    pub title: Option<String>,
    /// The site's home page, absolute.
    pub site_link: Option<String>,
    pub entries: Vec<FeedEntry>,
    /// RSS `<ttl>`, in minutes: a floor on the polling interval.
    pub ttl_minutes: Option<u32>,
    /// RSS `<skipHours>` (0-23, UTC).
    pub skip_hours: Vec<u32>,
    /// RSS `<skipDays>`, 0 = Monday .. 6 = Sunday.
    pub skip_days: Vec<u32>,
}

/// One entry of a feed, normalised: absolute links, UTC dates, HTML already sanitized.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedEntry {
    /// The feed's own id or guid, verbatim (trimmed). `None` when the feed gives none.
    pub id: Option<String>,
    pub title: Option<String>,
    /// The entry's article page, absolute.
    pub link: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Full content as sanitized HTML, when the feed carries it.
    pub content_html: Option<String>,
    /// Summary / description as sanitized HTML.
    pub summary_html: Option<String>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub enclosures: Vec<Enclosure>,
}

/// A media file attached to an entry (podcasts keep their audio).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Enclosure {
    pub url: String,
    pub mime_type: Option<String>,
    pub length: Option<u64>,
}

/// The article extracted from one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Article {
    /// The article's headline (from metadata or the page's `<h1>`/`<title>`).
    pub title: Option<String>,
    /// Clean, simple, sanitized HTML of the body: absolute URLs, no scripts or furniture.
    pub content_html: String,
    /// Plain text of the body, one block per paragraph separated by blank lines.
    pub text: String,
    pub metadata: PageMetadata,
}

/// Page metadata from JSON-LD, OpenGraph, `<meta>` and microdata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageMetadata {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    pub image: Option<String>,
    pub language: Option<String>,
    pub site_name: Option<String>,
    pub description: Option<String>,
    /// `<link rel="canonical">` (or `og:url`), absolute.
    pub canonical_url: Option<String>,
}

/// How an entry's text was obtained, recorded per entry for extraction health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractionStatus {
    /// The article page was fetched and a credible article extracted.
    Extracted,
    /// The page was missing or gave nothing credible: the feed's own content is used.
    FeedFallback,
    /// Full text was not asked for (`full_text = false`).
    NotRequested,
    /// The page could not be fetched or parsed at all; the feed's content is used.
    Failed,
}

impl ExtractionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExtractionStatus::Extracted => "extracted",
            ExtractionStatus::FeedFallback => "feed_fallback",
            ExtractionStatus::NotRequested => "not_requested",
            ExtractionStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "extracted" => Some(ExtractionStatus::Extracted),
            "feed_fallback" => Some(ExtractionStatus::FeedFallback),
            "not_requested" => Some(ExtractionStatus::NotRequested),
            "failed" => Some(ExtractionStatus::Failed),
            _ => None,
        }
    }
}

//! Feed bytes + URL -> normalised entries. Pure: no IO; a panic inside a parser fails that feed only.
//!
//! # Layout
//! - `prepass`: cheap repairs before feed-rs (gzip, charset via `charset`, junk before the
//!   prolog, internal DTD entities, RSS versions, Atom 0.3 and older namespaces, RSS 0.90,
//!   linkless RSS 1.0 items). A clean document passes through borrowed.
//! - `repair`: heavier text repairs (ampersands, HTML entities, unbalanced tags), tried only
//!   when feed-rs refuses a document; `json` does the same for JSON Feed.
//! - `normalize`: feed-rs's model -> `ParsedFeed` (absolute links, dates, sanitized HTML).
//! - `extras`: fields feed-rs does not read, scanned from the document when an entry lacks one.
//! - `dates`: the lenient date reader feed-rs is given.
//! - `discover`: feeds an HTML page links to, for "this is a page, not a feed" answers.

mod charset;
mod dates;
mod discover;
mod entities;
mod extras;
mod hubs;
mod json;
mod normalize;
mod prepass;
mod repair;

use std::panic::{AssertUnwindSafe, catch_unwind};

use url::Url;

pub use dates::parse_date;
pub use discover::{DiscoveredFeed, FeedKind, discover_feeds};
pub use hubs::{HubLinks, websub_links};
pub use json::to_json;
pub use prepass::Repair;
pub use repair::decode_html_entities;

use crate::model::ParsedFeed;
use normalize::SkipSchedule;
pub use normalize::{UnsanitizedEntry, UnsanitizedFeed};
use prepass::DocumentKind;

/// Why a document did not yield a feed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The document is something else: an HTML page (with the feeds it links to, if any),
    /// an XML document of another kind, plain text.
    #[error("not a feed: {}", describe_not_a_feed(reason, discovered))]
    NotAFeed {
        reason: String,
        discovered: Vec<DiscoveredFeed>,
    },
    #[error("the document is empty")]
    EmptyDocument,
    #[error("the document starts like gzip data but does not inflate: {0}")]
    BadCompression(String),
    #[error("the feed is malformed beyond repair: {0}")]
    Malformed(String),
    #[error("the feed parser crashed on this document")]
    Panicked,
}

impl ParseError {
    /// The feeds an HTML page links to, when the input was such a page.
    pub fn discovered_feeds(&self) -> &[DiscoveredFeed] {
        match self {
            ParseError::NotAFeed { discovered, .. } => discovered,
            _ => &[],
        }
    }
}

fn describe_not_a_feed(reason: &str, discovered: &[DiscoveredFeed]) -> String {
    match discovered {
        [] => reason.to_string(),
        [only] => format!("{reason}; it links to feed {only}"),
        [first, rest @ ..] => format!(
            "{reason}; it links to feed {first} (and {} more: {})",
            rest.len(),
            rest.iter()
                .map(|feed| feed.url.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Parses a feed document fetched from `feed_url`: every entry normalised, its HTML sanitized.
pub fn parse_feed(
    bytes: &[u8],
    content_type: Option<&str>,
    feed_url: &Url,
) -> Result<ParsedFeed, ParseError> {
    Ok(parse_feed_unsanitized(bytes, content_type, feed_url)?.sanitize())
}

/// `parse_feed` with the entries' HTML left to sanitize: the daemon sanitizes only the entries
/// it has not stored yet (see `UnsanitizedEntry`).
pub fn parse_feed_unsanitized(
    bytes: &[u8],
    content_type: Option<&str>,
    feed_url: &Url,
) -> Result<UnsanitizedFeed, ParseError> {
    let document = read_feed_model(bytes, content_type, feed_url)?;
    // Normalisation runs other libraries (url, entity decoding) on hostile input: guarded too.
    // A feed with no entries (a new blog, a podcast between seasons) is still a feed.
    catch_unwind(AssertUnwindSafe(|| {
        normalize::to_unsanitized_feed(document.feed, feed_url, document.skip, document.extras)
    }))
    .map_err(|_| ParseError::Panicked)
}

/// feed-rs's own model of a document after the pre-pass and repairs, before normalisation.
pub struct FeedModel {
    pub feed: feed_rs::model::Feed,
    /// What had to be repaired, in order.
    pub repairs: Vec<Repair>,
    skip: SkipSchedule,
    /// What the document scan found per entry, when feed-rs left something unread.
    extras: Option<Vec<extras::EntryExtras>>,
}

/// Pre-pass, repairs and feed-rs, without normalisation: for callers that want feed-rs's full
/// model, and for measuring what the pre-pass costs.
pub fn read_feed_model(
    bytes: &[u8],
    content_type: Option<&str>,
    feed_url: &Url,
) -> Result<FeedModel, ParseError> {
    let inflated = prepass::inflate_if_gzip(bytes)
        .map_err(|error| ParseError::BadCompression(error.to_string()))?;
    let mut repairs = Vec::new();
    if inflated.is_some() {
        repairs.push(Repair::Gunzipped);
    }
    let bytes = inflated.as_deref().unwrap_or(bytes);
    let tld = feed_url
        .domain()
        .and_then(|domain| domain.rsplit('.').next());
    let prepared = prepass::prepare(bytes, content_type, tld);
    repairs.extend(prepared.repairs.iter().copied());
    let text = prepared.text.as_ref();
    let Read { feed, extras } = match prepared.kind {
        DocumentKind::Blank => return Err(ParseError::EmptyDocument),
        DocumentKind::Html => return Err(html_page(bytes, content_type, feed_url)),
        DocumentKind::Unknown => return Err(not_a_feed("the document is neither XML nor JSON")),
        DocumentKind::Xml => read_xml(text, feed_url, &mut repairs)?,
        DocumentKind::Json => read_json(text, feed_url, &mut repairs)?,
    };
    let skip = if text.contains("<skip") {
        let (hours, days) = prepass::skip_schedule(text);
        SkipSchedule { hours, days }
    } else {
        SkipSchedule::default()
    };
    Ok(FeedModel {
        feed,
        repairs,
        skip,
        extras,
    })
}

fn not_a_feed(reason: &str) -> ParseError {
    ParseError::NotAFeed {
        reason: reason.to_string(),
        discovered: Vec::new(),
    }
}

fn html_page(bytes: &[u8], content_type: Option<&str>, page_url: &Url) -> ParseError {
    let discovered = discover_feeds(bytes, content_type, page_url);
    let reason = if discovered.is_empty() {
        "this is an HTML page and it links to no feed"
    } else {
        "this is an HTML page"
    };
    ParseError::NotAFeed {
        reason: reason.to_string(),
        discovered,
    }
}

/// feed-rs's reading of one attempt, with what the document scan found beside it.
struct Read {
    feed: feed_rs::model::Feed,
    extras: Option<Vec<extras::EntryExtras>>,
}

type FeedResult = Result<Read, ParseError>;

/// Tries the document as prepared, then with escapes and Atom types repaired, then with tags
/// balanced: each step runs only when the one before was refused or came out empty.
fn read_xml(text: &str, feed_url: &Url, repairs: &mut Vec<Repair>) -> FeedResult {
    // A second XML declaration makes quick-xml panic (caught, but the feed would be lost
    // before any repair): drop misplaced declarations first. One substring search when clean.
    let without_declarations;
    let text = if text.get(1..).is_some_and(|rest| rest.contains("<?xml")) {
        without_declarations = repair::remove_misplaced_declarations(text);
        if without_declarations != text {
            repairs.push(Repair::MisplacedDeclarations);
        }
        without_declarations.as_str()
    } else {
        text
    };
    let first = guarded_parse_xml(text, feed_url);
    if is_usable(&first) {
        return first;
    }
    let repaired = repair_markup_text(text, repairs);
    let mut outcomes = vec![first];
    if repaired != text {
        outcomes.push(guarded_parse_xml(&repaired, feed_url));
        if is_usable(outcomes.last().expect("just pushed")) {
            return outcomes.pop().expect("just pushed");
        }
    }
    let balanced = repair::balance_tags(&repaired);
    if balanced != repaired {
        repairs.push(Repair::TagsBalanced);
        outcomes.push(guarded_parse_xml(&balanced, feed_url));
    }
    // An empty feed is believed only as written: one that is empty only after its markup was
    // repaired (`<chan nel><<item>>`) is a broken document, not a feed with no entries.
    let outcomes = outcomes
        .into_iter()
        .enumerate()
        .filter(|(attempt, outcome)| *attempt == 0 || outcome.is_err() || is_usable(outcome))
        .map(|(_, outcome)| outcome)
        .collect();
    best_outcome(outcomes, root_is_feed_like(text))
}

/// Escapes, stray XML declarations, and for Atom the text construct types feed-rs refuses.
fn repair_markup_text(text: &str, repairs: &mut Vec<Repair>) -> String {
    let mut repaired = repair::repair_escapes(text);
    if repaired != text {
        repairs.push(Repair::Escapes);
    }
    let without_declarations = repair::remove_misplaced_declarations(&repaired);
    if without_declarations != repaired {
        repairs.push(Repair::MisplacedDeclarations);
        repaired = without_declarations;
    }
    if matches!(root_local_name(text).as_deref(), Some("feed" | "entry")) {
        let typed = repair::repair_text_construct_types(&repaired);
        if typed != repaired {
            repairs.push(Repair::TextConstructTypes);
            repaired = typed;
        }
    }
    repaired
}

fn read_json(text: &str, feed_url: &Url, repairs: &mut Vec<Repair>) -> FeedResult {
    let first = guarded_parse(text, feed_url);
    if is_usable(&first) {
        return first;
    }
    match json::repair_json_feed(text) {
        Some(repaired) => {
            repairs.push(Repair::JsonFeedVersion);
            best_outcome(vec![first, guarded_parse(&repaired, feed_url)], true)
        }
        None => first.map_err(|error| match error {
            ParseError::Malformed(message) => {
                not_a_feed(&format!("the JSON is not a JSON Feed ({message})"))
            }
            other => other,
        }),
    }
}

fn is_usable(outcome: &FeedResult) -> bool {
    outcome
        .as_ref()
        .is_ok_and(|read| !is_empty_feed(&read.feed))
}

fn is_empty_feed(feed: &feed_rs::model::Feed) -> bool {
    let has_title = feed
        .title
        .as_ref()
        .is_some_and(|title| !title.content.trim().is_empty());
    !has_title && feed.entries.is_empty()
}

/// The last usable outcome, else the first empty success (a well-formed feed with no entries),
/// else the first error, which describes the document as it was rather than after our repairs.
fn best_outcome(outcomes: Vec<FeedResult>, looks_like_a_feed: bool) -> FeedResult {
    if outcomes.iter().any(is_usable) {
        return outcomes.into_iter().rev().find(is_usable).expect("checked");
    }
    if outcomes.iter().any(Result::is_ok) {
        return outcomes.into_iter().find(Result::is_ok).expect("checked");
    }
    let first_error = outcomes.into_iter().find_map(Result::err);
    match first_error {
        Some(ParseError::Malformed(message)) if !looks_like_a_feed => Err(not_a_feed(&format!(
            "no RSS, Atom or JSON Feed root ({message})"
        ))),
        Some(error) => Err(error),
        None => Err(ParseError::Malformed("nothing was tried".to_string())),
    }
}

fn root_is_feed_like(text: &str) -> bool {
    matches!(
        root_local_name(text).as_deref(),
        Some("rss" | "feed" | "RDF" | "rdf" | "channel" | "entry")
    )
}

fn root_local_name(text: &str) -> Option<String> {
    prepass::root_element(text).map(|root| root.local_name().to_string())
}

/// `guarded_parse`, and when feed-rs read the document but left an entry without an id, a
/// link, a date, a title or a text, the scan for what it did not read.
fn guarded_parse_xml(text: &str, feed_url: &Url) -> FeedResult {
    let mut read = guarded_parse(text, feed_url)?;
    if extras::needed_for(&read.feed) && extras::worth_scanning(text) {
        read.extras = catch_unwind(AssertUnwindSafe(|| extras::scan(text)))
            .ok()
            .flatten();
    }
    Ok(read)
}

/// Runs feed-rs on UTF-8 text, turning a panic into `Panicked` for this feed only.
fn guarded_parse(text: &str, feed_url: &Url) -> FeedResult {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(feed_url.as_str()))
        .id_generator(|_links, _title, _uri| String::new())
        .timestamp_parser(parse_date)
        .build();
    catch_unwind(AssertUnwindSafe(|| parser.parse(text.as_bytes())))
        .map_err(|_| ParseError::Panicked)?
        .map(|feed| Read { feed, extras: None })
        .map_err(|error| ParseError::Malformed(error.to_string()))
}

//! feed-rs's model -> ours: absolute links, plain-text titles, authors, categories and
//! enclosures, one entry at a time so a bad entry never fails the feed. Entry HTML is kept as
//! the feed wrote it until `UnsanitizedEntry::sanitize`: sanitizing is most of the cost of a
//! parse, and a polled feed is mostly entries already stored, which never need it.

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed, FeedType, Link, Text};
use url::Url;

use super::dates::parse_date;
use super::extras::EntryExtras;
use super::repair::decode_html_entities;
use crate::model::{Enclosure, FeedEntry, ParsedFeed};
use crate::sanitize::clean_html;

/// Channel hints feed-rs does not keep, read from the document by the pre-pass.
#[derive(Debug, Default, Clone)]
pub struct SkipSchedule {
    pub hours: Vec<u32>,
    pub days: Vec<u32>,
}

/// One entry whose HTML (content, summary) is still the feed's own markup, trimmed.
///
/// The inner entry is private so raw markup cannot be mistaken for sanitized HTML: callers
/// read it through `unsanitized` (for identity keys) and get a `FeedEntry` only by `sanitize`.
#[derive(Debug, Clone)]
pub struct UnsanitizedEntry {
    entry: FeedEntry,
    content_is_plain: bool,
    summary_is_plain: bool,
    /// Relative URLs in the HTML resolve against this (the entry's link, or its xml:base).
    html_base: Url,
}

impl UnsanitizedEntry {
    /// The entry with `content_html` and `summary_html` holding the feed's raw markup: fit for
    /// ids, links, dates and hashing, never for output.
    pub fn unsanitized(&self) -> &FeedEntry {
        &self.entry
    }

    /// The entry with its HTML sanitized (ammonia; absolute URLs). A panic in the sanitizer
    /// drops that field only.
    pub fn sanitize(self) -> FeedEntry {
        let UnsanitizedEntry {
            mut entry,
            content_is_plain,
            summary_is_plain,
            html_base,
        } = self;
        entry.content_html = entry
            .content_html
            .take()
            .and_then(|body| guarded_sanitized(&body, content_is_plain, &html_base));
        entry.summary_html = entry
            .summary_html
            .take()
            .and_then(|body| guarded_sanitized(&body, summary_is_plain, &html_base));
        entry
    }
}

/// A feed mapped onto the pipeline's model, its entries' HTML not sanitized yet.
#[derive(Debug, Clone)]
pub struct UnsanitizedFeed {
    /// The feed-level fields; `entries` is empty (they are in `entries` below).
    pub feed: ParsedFeed,
    pub entries: Vec<UnsanitizedEntry>,
}

impl UnsanitizedFeed {
    /// Every entry sanitized: the whole feed as `parse_feed` returns it.
    pub fn sanitize(self) -> ParsedFeed {
        let mut feed = self.feed;
        feed.entries = self
            .entries
            .into_iter()
            .map(UnsanitizedEntry::sanitize)
            .collect();
        feed
    }
}

/// How a feed's format says its text fields are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// RSS (any version): text fields are HTML in practice, whatever they are labelled.
    Rss,
    /// RSS 1.0 / 0.90: items have no guid, `rdf:about` names them.
    Rdf,
    /// Atom: `type="text"` means text, to be escaped, never read as markup.
    Atom,
    /// JSON Feed: `content_text` and `content_html` say which is which.
    Json,
}

impl Format {
    fn of(feed_type: &FeedType) -> Format {
        match feed_type {
            FeedType::Atom => Format::Atom,
            FeedType::JSON => Format::Json,
            FeedType::RSS1 => Format::Rdf,
            FeedType::RSS0 | FeedType::RSS2 => Format::Rss,
        }
    }

    /// Whether a text construct labelled plain text is meant as text (Atom, JSON) rather
    /// than being HTML under a default label (RSS).
    fn trusts_plain_label(self) -> bool {
        matches!(self, Format::Atom | Format::Json)
    }
}

/// Maps a parsed feed onto the pipeline's model, resolving links against `feed_url`.
/// `extras` are what the document scan found per entry (see `extras`), in entry order.
pub fn to_unsanitized_feed(
    feed: Feed,
    feed_url: &Url,
    skip: SkipSchedule,
    extras: Option<Vec<EntryExtras>>,
) -> UnsanitizedFeed {
    let site_link = pick_page_link(&feed.links, feed_url);
    let feed_base = site_link
        .as_deref()
        .and_then(|link| Url::parse(link).ok())
        .unwrap_or_else(|| feed_url.clone());
    let format = Format::of(&feed.feed_type);
    let feed_authors = person_names(&feed.authors);
    let extras = extras.filter(|extras| extras.len() == feed.entries.len());
    let context = EntryContext {
        feed_url,
        feed_base: &feed_base,
        format,
        feed_authors: &feed_authors,
    };
    let entries = feed
        .entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let entry_extras = extras.as_ref().map(|extras| &extras[index]);
            to_feed_entry(entry, &context, entry_extras)
        })
        .collect();
    let feed = ParsedFeed {
        title: feed
            .title
            .as_ref()
            .and_then(|title| plain_text(title, format)),
        site_link,
        entries: Vec::new(),
        ttl_minutes: feed.ttl,
        skip_hours: skip.hours,
        skip_days: skip.days,
    };
    UnsanitizedFeed { feed, entries }
}

/// What every entry of one feed is normalised against.
struct EntryContext<'a> {
    feed_url: &'a Url,
    feed_base: &'a Url,
    format: Format,
    feed_authors: &'a [String],
}

fn to_feed_entry(
    entry: Entry,
    context: &EntryContext,
    extras: Option<&EntryExtras>,
) -> UnsanitizedEntry {
    let format = context.format;
    let entry_base = entry
        .base
        .as_deref()
        .and_then(|base| context.feed_base.join(base).ok())
        .unwrap_or_else(|| context.feed_url.clone());
    let about = extras.and_then(|extras| extras.about.clone());
    let id = Some(entry.id.trim().to_string())
        .filter(|id| !id.is_empty())
        .or(about);
    let is_json = format == Format::Json;
    let page_links: Vec<Link> = entry
        .links
        .iter()
        .filter(|link| !is_attachment(link, is_json))
        .cloned()
        .collect();
    // Only an RSS guid that is a permalink may stand in for the link: Atom ids, RSS 1.0
    // `rdf:about` and `isPermaLink="false"` guids name the entry, not its page.
    let guid_is_link = matches!(format, Format::Rss | Format::Json)
        && extras.is_none_or(|extras| extras.guid_is_permalink);
    let link = pick_page_link(&page_links, &entry_base)
        .or_else(|| guid_is_link.then(|| id_as_link(id.as_deref())).flatten());
    let html_base = link
        .as_deref()
        .and_then(|link| Url::parse(link).ok())
        .filter(|_| entry.base.is_none())
        .unwrap_or_else(|| entry_base.clone());
    let (content_html, content_is_plain) = content_of(&entry, extras, format);
    let summary = entry.summary.as_ref().or_else(|| {
        entry
            .media
            .iter()
            .find_map(|media| media.description.as_ref())
    });
    let summary_is_plain = summary.is_some_and(|summary| is_plain(summary, format));
    let summary_html = summary
        .and_then(|summary| trimmed(&summary.content))
        .or_else(|| extras.and_then(|extras| extras.description.as_deref().and_then(trimmed)));
    let mut authors = person_names(&entry.authors);
    if authors.is_empty() {
        authors = context.feed_authors.to_vec();
    }
    let (published, updated) = dates_of(&entry, extras);
    let title = entry
        .title
        .as_ref()
        .and_then(|title| plain_text(title, format))
        .or_else(|| {
            entry
                .media
                .iter()
                .filter_map(|media| media.title.as_ref())
                .find_map(|title| plain_text(title, format))
        })
        .or_else(|| {
            let media_title = extras?.media_title.as_deref()?;
            plain_text_of(media_title, false, Format::Rss)
        });
    let unsanitized = FeedEntry {
        id,
        title,
        link,
        published,
        updated,
        content_html,
        summary_html,
        authors,
        categories: categories(&entry),
        enclosures: enclosures(&entry, &entry_base, is_json),
    };
    UnsanitizedEntry {
        entry: unsanitized,
        content_is_plain,
        summary_is_plain,
        html_base,
    }
}

/// The entry's full content and whether it is plain text: feed-rs's, else a body only the
/// document scan found (`<xhtml:body>`, `<fullitem>`).
fn content_of(
    entry: &Entry,
    extras: Option<&EntryExtras>,
    format: Format,
) -> (Option<String>, bool) {
    let content = entry
        .content
        .as_ref()
        .and_then(|content| Some((content.body.as_deref()?, content.content_type.as_str())))
        .and_then(|(body, kind)| Some((trimmed(body)?, kind)));
    match content {
        Some((body, kind)) => (
            Some(body),
            format.trusts_plain_label() && kind == "text/plain",
        ),
        None => (
            extras.and_then(|extras| extras.body_html.as_deref().and_then(trimmed)),
            false,
        ),
    }
}

/// Publication and update dates, with Dublin Core Terms dates filling what feed-rs left empty.
/// Atom requires only `updated`: an entry's first known date stands in for publication.
fn dates_of(
    entry: &Entry,
    extras: Option<&EntryExtras>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let scanned = |field: fn(&EntryExtras) -> Option<&String>| {
        extras
            .and_then(field)
            .and_then(|text| parse_date(text.trim()))
    };
    let issued = scanned(|extras| extras.issued.as_ref());
    let modified = scanned(|extras| extras.modified.as_ref());
    // feed-rs copies an RSS item's publication date into `updated`: a stated
    // `dcterms:modified` is the better update date.
    let updated = modified.or(entry.updated);
    let published = entry.published.or(issued).or(updated);
    (published, updated)
}

fn trimmed(body: &str) -> Option<String> {
    let body = body.trim();
    (!body.is_empty()).then(|| body.to_string())
}

/// The page a feed or entry points to: an `alternate` (or rel-less) http(s) link, preferring
/// one typed as HTML, resolved against `base`.
fn pick_page_link(links: &[Link], base: &Url) -> Option<String> {
    let is_page_rel = |link: &&Link| matches!(link.rel.as_deref(), None | Some("alternate"));
    let is_html = |link: &&Link| {
        link.media_type
            .as_deref()
            .is_none_or(|media_type| media_type.contains("html"))
    };
    links
        .iter()
        .filter(is_page_rel)
        .filter(is_html)
        .chain(links.iter().filter(is_page_rel))
        .find_map(|link| absolute_http_url(&link.href, base))
}

/// An enclosure link: Atom's `rel="enclosure"`, or a JSON Feed attachment, which feed-rs
/// turns into a rel-less link carrying a MIME type (the item's own URLs carry none).
fn is_attachment(link: &Link, is_json: bool) -> bool {
    link.rel.as_deref() == Some("enclosure")
        || (is_json && link.rel.is_none() && link.media_type.is_some())
}

/// An RSS `<guid>` is often the article's URL; used when the entry has no link.
fn id_as_link(id: Option<&str>) -> Option<String> {
    let id = id?;
    let url = Url::parse(id).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

pub(crate) fn absolute_http_url(href: &str, base: &Url) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = base.join(href).ok()?;
    // A local file (`tributary parse FILE`) keeps its relative links, resolved as files.
    let same_file_scheme = base.scheme() == "file" && url.scheme() == "file";
    (matches!(url.scheme(), "http" | "https") || same_file_scheme).then(|| url.to_string())
}

/// Titles and names as plain text: markup flattened (titles are plain text by design) when the
/// feed says it is HTML, or, in RSS, where nothing says and it looks like HTML; script and
/// style contents dropped, never turned into text; HTML entities that XML left undecoded
/// (`&eacute;`) decoded. Atom and JSON text is text: `a <blink> tag` stays as written.
fn plain_text(text: &Text, format: Format) -> Option<String> {
    let labelled_html = text.content_type.as_str().contains("html");
    plain_text_of(&text.content, labelled_html, format)
}

fn plain_text_of(content: &str, labelled_html: bool, format: Format) -> Option<String> {
    let is_html = labelled_html || (!format.trusts_plain_label() && looks_like_html(content));
    let without_tags = if is_html {
        strip_tags(content)
    } else {
        content.to_string()
    };
    let decoded = without_control_characters(&decode_html_entities(&without_tags));
    let collapsed = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

/// A closing tag or a line break: RSS text that holds markup rather than a literal `<`.
fn looks_like_html(text: &str) -> bool {
    text.match_indices('<').any(|(index, _)| {
        let rest = &text[index + 1..];
        let closing = rest
            .strip_prefix('/')
            .is_some_and(|name| name.starts_with(|c: char| c.is_ascii_alphabetic()));
        let known_start = [
            "br", "script", "style", "img", "b>", "i>", "p>", "a ", "em>", "strong>", "span",
        ]
        .iter()
        .any(|tag| {
            rest.get(..tag.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(tag))
        });
        closing || known_start
    })
}

/// Text of HTML: tags removed, and the contents of `<script>` and `<style>` with them (they
/// are code, not words of the title).
fn strip_tags(html: &str) -> String {
    let mut result = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        result.push_str(&rest[..start]);
        let tag = &rest[start..];
        let Some(end) = tag.find('>') else {
            rest = "";
            break;
        };
        let name: String = tag[1..end]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        rest = &tag[end + 1..];
        if name == "script" || name == "style" {
            let closing = format!("</{name}");
            rest = match find_ignoring_case(rest, &closing) {
                Some(close) => rest[close..]
                    .find('>')
                    .map_or("", |end| &rest[close + end + 1..]),
                None => "",
            };
        }
    }
    result.push_str(rest);
    result
}

fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .char_indices()
        .map(|(index, _)| index)
        .find(|index| {
            haystack
                .get(*index..*index + needle.len())
                .is_some_and(|part| part.eq_ignore_ascii_case(needle))
        })
}

/// JSON Feed and Atom say which fields are plain text; RSS descriptions are HTML in practice
/// whatever feed-rs labels them, so they are sanitized as HTML.
fn is_plain(text: &Text, format: Format) -> bool {
    format.trusts_plain_label() && text.content_type.as_str() == "text/plain"
}

/// `sanitized`, with a panic inside the sanitizer (a third-party HTML parser on hostile
/// input) costing that field only.
fn guarded_sanitized(body: &str, is_plain_text: bool, base: &Url) -> Option<String> {
    std::panic::catch_unwind(|| sanitized(body, is_plain_text, base))
        .ok()
        .flatten()
}

fn sanitized(body: &str, is_plain_text: bool, base: &Url) -> Option<String> {
    let body = body.trim();
    if body.is_empty() {
        return None;
    }
    let html = if is_plain_text {
        escape_as_paragraphs(body)
    } else if !body.contains(['<', '&']) {
        // Text without markup or references is already safe HTML: skip the sanitizer's parse.
        body.to_string()
    } else {
        clean_html(body, Some(base), &[])
    };
    let html = without_control_characters(html.trim());
    (!html.is_empty()).then_some(html)
}

/// C0 control characters (other than tab, newline, carriage return) are invalid in XML: left
/// in, they would make every feed tributary publishes unreadable. C1 control characters
/// (U+0080-U+009F) are windows-1252 punctuation mislabelled as Latin-1 (`&#146;` for ’):
/// they become the character they mean, or go when windows-1252 has none there.
pub(crate) fn without_control_characters(text: &str) -> String {
    let is_control = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if !text.contains(is_control) {
        return text.to_string();
    }
    text.chars()
        .filter_map(|c| match c {
            '\u{80}'..='\u{9f}' => windows_1252_c1(c),
            _ if is_control(c) => None,
            _ => Some(c),
        })
        .collect()
}

/// The windows-1252 character at a C1 code point's byte value, if it has one.
fn windows_1252_c1(c: char) -> Option<char> {
    let byte = [c as u32 as u8];
    let (decoded, _, had_errors) = encoding_rs::WINDOWS_1252.decode(&byte);
    let mapped = decoded.chars().next()?;
    (!had_errors && !mapped.is_control()).then_some(mapped)
}

fn escape_as_paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| {
            let escaped = paragraph
                .trim()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            format!("<p>{escaped}</p>")
        })
        .collect()
}

fn person_names(people: &[feed_rs::model::Person]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for person in people {
        let name = person
            .name
            .as_deref()
            .map(|name| without_control_characters(&decode_html_entities(name)))
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .or_else(|| {
                person
                    .email
                    .clone()
                    .filter(|email| !email.trim().is_empty())
            });
        if let Some(name) = name.filter(|name| !names.contains(name)) {
            names.push(name);
        }
    }
    names
}

fn categories(entry: &Entry) -> Vec<String> {
    let mut categories: Vec<String> = Vec::new();
    for category in &entry.categories {
        let label = category.label.as_deref().unwrap_or(&category.term);
        let label = without_control_characters(&decode_html_entities(label.trim()));
        if !label.is_empty() && !categories.contains(&label) {
            categories.push(label);
        }
    }
    categories
}

/// Podcast media (RSS `<enclosure>`, Media RSS, Atom `rel="enclosure"` links), deduplicated.
fn enclosures(entry: &Entry, base: &Url, is_json: bool) -> Vec<Enclosure> {
    let mut enclosures: Vec<Enclosure> = Vec::new();
    let from_media = entry
        .media
        .iter()
        .flat_map(|media| &media.content)
        .filter_map(|content| {
            Some(Enclosure {
                url: absolute_http_url(content.url.as_ref()?.as_str(), base)?,
                mime_type: content.content_type.as_ref().map(|mime| mime.to_string()),
                length: content.size.filter(|size| *size > 0),
            })
        });
    let from_links = entry
        .links
        .iter()
        .filter(|link| is_attachment(link, is_json))
        .filter_map(|link| {
            Some(Enclosure {
                url: absolute_http_url(&link.href, base)?,
                mime_type: link.media_type.clone(),
                length: link.length.filter(|length| *length > 0),
            })
        });
    for enclosure in from_media.chain(from_links) {
        if !enclosures.iter().any(|known| known.url == enclosure.url) {
            enclosures.push(enclosure);
        }
    }
    enclosures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_resolve_against_the_base() {
        let base = Url::parse("http://example.com/blog/feed.xml").unwrap();
        assert_eq!(
            absolute_http_url("../a.html", &base).as_deref(),
            Some("http://example.com/a.html")
        );
        assert_eq!(absolute_http_url("tag:example.com,2005:1", &base), None);
        assert_eq!(absolute_http_url("javascript:alert(1)", &base), None);
        assert_eq!(absolute_http_url("  ", &base), None);
        let file = Url::parse("file:///tmp/feed.xml").unwrap();
        assert_eq!(
            absolute_http_url("a.html", &file).as_deref(),
            Some("file:///tmp/a.html")
        );
        assert_eq!(absolute_http_url("javascript:x()", &file), None);
    }

    #[test]
    fn html_titles_become_plain_text() {
        let text = Text {
            content_type: "text/html".parse().unwrap(),
            src: None,
            content: "<b>Caf&eacute;</b>  &amp;\n bar".to_string(),
        };
        assert_eq!(
            plain_text(&text, Format::Rss).as_deref(),
            Some("Café & bar")
        );
        let with_controls = Text {
            content: "a\u{1}b\u{b}c".to_string(),
            ..text
        };
        assert_eq!(
            plain_text(&with_controls, Format::Rss).as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn plain_json_text_is_escaped() {
        let base = Url::parse("http://example.com/").unwrap();
        assert_eq!(
            sanitized("a < b\n\nc", true, &base).as_deref(),
            Some("<p>a &lt; b</p><p>c</p>")
        );
    }

    #[test]
    fn content_is_sanitized_with_absolute_urls() {
        let base = Url::parse("http://example.com/posts/1").unwrap();
        let html = sanitized(
            "<p onclick=\"x()\">Hi <img src=\"/i.png\"><script>bad()</script></p>",
            false,
            &base,
        )
        .unwrap();
        assert!(html.contains("http://example.com/i.png"), "{html}");
        assert!(
            !html.contains("script") && !html.contains("onclick"),
            "{html}"
        );
    }
}

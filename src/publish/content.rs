//! What every format says about an entry: its final HTML, its authors, its source links.
//!
//! Kept apart from the writers so Atom, RSS and JSON Feed publish the same content, including the
//! "also reported by" paragraph that lets readers which ignore `atom:source` and extensions still
//! show every site that carried a story.

use super::{PublishedEntry, SourceRef};
use crate::dedupe::canonical_url;
use crate::sanitize::clean_html;

/// The name a source is shown under: its feed's title, else the admin's name for it.
pub fn source_display_name(source: &SourceRef) -> &str {
    source
        .feed_title
        .as_deref()
        .map(str::trim)
        .filter(|title| !title.is_empty())
        .unwrap_or(&source.name)
}

/// The best page to send a reader to for this source: the story there, else the site; an
/// absolute web URL in canonical form (without the tracking tags the source's feed added).
pub fn source_page(source: &SourceRef) -> Option<String> {
    [source.link.as_deref(), source.site_link.as_deref()]
        .into_iter()
        .flatten()
        .find_map(canonical_url)
}

/// The entry's title, never empty (a blank title makes some readers drop the entry).
pub fn title(entry: &PublishedEntry) -> String {
    let title = entry.title.trim();
    if title.is_empty() {
        "Untitled".to_string()
    } else {
        title.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// The entry's authors, falling back to the origin site so every entry names one.
pub fn authors(entry: &PublishedEntry) -> Vec<String> {
    let authors: Vec<String> = entry
        .authors
        .iter()
        .map(|author| author.trim().to_string())
        .filter(|author| !author.is_empty())
        .collect();
    if authors.is_empty() {
        vec![source_display_name(&entry.origin).to_string()]
    } else {
        authors
    }
}

/// Non-empty categories, each once, in their order.
pub fn categories(entry: &PublishedEntry) -> Vec<String> {
    let mut seen = Vec::new();
    for category in &entry.categories {
        let category = category.trim();
        if !category.is_empty() && !seen.iter().any(|known: &String| known == category) {
            seen.push(category.to_string());
        }
    }
    seen
}

/// The published HTML: the entry's content (or summary) sanitized once more as a last defence,
/// followed by the list of sources when several sites carried the story. Never empty: an entry
/// with no text at all (a title-only feed whose page could not be fetched) shows its title and
/// a link to the original, so readers never show a blank pane.
pub fn content_html(entry: &PublishedEntry, video_hosts: &[String]) -> String {
    let body = match (&entry.content_html, &entry.summary) {
        (Some(html), _) if !html.trim().is_empty() => clean_html(html, None, video_hosts),
        (_, Some(summary)) if !summary.trim().is_empty() => {
            format!("<p>{}</p>", escape_html(summary.trim()))
        }
        _ => String::new(),
    };
    let body = if body.trim().is_empty() {
        title_and_link(entry)
    } else {
        body
    };
    match sources_paragraph(entry) {
        Some(paragraph) => format!("{body}\n{paragraph}"),
        None => body,
    }
}

/// `<p><a href="LINK">TITLE</a></p>`, or the title alone when the entry has no web link.
fn title_and_link(entry: &PublishedEntry) -> String {
    let title = escape_html(&title(entry));
    match entry.link.as_deref().filter(|link| is_web_url(link)) {
        Some(link) => format!("<p><a href=\"{}\">{title}</a></p>", escape_html(link)),
        None => format!("<p>{title}</p>"),
    }
}

/// `<p>Source: A. Also reported by: B, C.</p>`, or `None` for a single-source story.
fn sources_paragraph(entry: &PublishedEntry) -> Option<String> {
    if entry.also.is_empty() {
        return None;
    }
    let others: Vec<String> = entry.also.iter().map(source_anchor).collect();
    Some(format!(
        "<p>Source: {}. Also reported by: {}.</p>",
        source_anchor(&entry.origin),
        others.join(", ")
    ))
}

fn source_anchor(source: &SourceRef) -> String {
    let name = escape_html(source_display_name(source));
    match source_page(source) {
        Some(page) => format!("<a href=\"{}\">{name}</a>", escape_html(&page)),
        None => name,
    }
}

/// Pages of the other sources worth linking as related: web URLs, not the entry's own page, each
/// once. Returned with the source each belongs to.
pub fn related_links(entry: &PublishedEntry) -> Vec<(String, &SourceRef)> {
    let mut seen: Vec<String> = entry
        .link
        .as_deref()
        .and_then(canonical_url)
        .into_iter()
        .collect();
    let mut links = Vec::new();
    for source in &entry.also {
        let Some(page) = source_page(source) else {
            continue;
        };
        if !seen.contains(&page) {
            seen.push(page.clone());
            links.push((page, source));
        }
    }
    links
}

/// Whether `value` is an absolute http(s) URL, the only links a feed should carry.
pub fn is_web_url(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
}

/// Escapes text for inclusion in HTML (element content or a double-quoted attribute).
pub fn escape_html(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => output.push_str("&amp;"),
            '<' => output.push_str("&lt;"),
            '>' => output.push_str("&gt;"),
            '"' => output.push_str("&quot;"),
            _ => output.push(character),
        }
    }
    output
}

/// Whether `value` is a bare `type/subtype` MIME type, as feed validators require.
pub fn valid_mime_type(value: &str) -> bool {
    let is_token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&byte))
    };
    match value.split_once('/') {
        Some((kind, subtype)) => is_token(kind) && is_token(subtype),
        None => false,
    }
}

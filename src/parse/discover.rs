//! Feed autodiscovery: the feeds an HTML page advertises with
//! `<link rel="alternate" type="application/rss+xml|atom+xml|feed+json" href=...>`.

use scraper::{Html, Selector};
use serde::Serialize;
use url::Url;

use super::charset;

/// Which format a discovered feed announces itself as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    Rss,
    Atom,
    Json,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Rss => "rss",
            FeedKind::Atom => "atom",
            FeedKind::Json => "json",
        }
    }

    fn from_media_type(media_type: &str) -> Option<FeedKind> {
        let essence = media_type.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/rss+xml" | "application/rdf+xml" => Some(FeedKind::Rss),
            "application/atom+xml" => Some(FeedKind::Atom),
            "application/feed+json" | "application/json" => Some(FeedKind::Json),
            _ => None,
        }
    }
}

/// A feed a page links to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveredFeed {
    /// Absolute URL of the feed.
    pub url: String,
    pub title: Option<String>,
    pub kind: FeedKind,
}

impl std::fmt::Display for DiscoveredFeed {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} ({})", self.url, self.kind.as_str())?;
        if let Some(title) = &self.title {
            write!(formatter, " \"{title}\"")?;
        }
        Ok(())
    }
}

/// The feeds `html` advertises, in page order, without duplicates; relative `href`s resolve
/// against `<base href>` when present, else `page_url`.
pub fn discover_feeds(
    html: &[u8],
    content_type: Option<&str>,
    page_url: &Url,
) -> Vec<DiscoveredFeed> {
    let tld = page_url
        .domain()
        .and_then(|domain| domain.rsplit('.').next());
    let text = charset::decode_to_utf8(html, content_type, tld).text;
    let document = Html::parse_document(&text);
    let base = base_url(&document, page_url);
    let selector = Selector::parse("link[rel][href][type]").expect("static selector");
    let mut feeds: Vec<DiscoveredFeed> = Vec::new();
    for element in document.select(&selector) {
        let attributes = element.value();
        let is_alternate = attributes.attr("rel").is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|word| word.eq_ignore_ascii_case("alternate"))
        });
        let kind = attributes.attr("type").and_then(FeedKind::from_media_type);
        let url = attributes
            .attr("href")
            .and_then(|href| base.join(href.trim()).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https"));
        let (true, Some(kind), Some(url)) = (is_alternate, kind, url) else {
            continue;
        };
        let url = url.to_string();
        if feeds.iter().all(|known| known.url != url) {
            let title = attributes
                .attr("title")
                .map(|title| title.trim().to_string())
                .filter(|title| !title.is_empty());
            feeds.push(DiscoveredFeed { url, title, kind });
        }
    }
    feeds
}

fn base_url(document: &Html, page_url: &Url) -> Url {
    let selector = Selector::parse("base[href]").expect("static selector");
    document
        .select(&selector)
        .next()
        .and_then(|base| base.value().attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .unwrap_or_else(|| page_url.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discover(html: &str) -> Vec<DiscoveredFeed> {
        discover_feeds(
            html.as_bytes(),
            None,
            &Url::parse("https://example.org/blog/").unwrap(),
        )
    }

    #[test]
    fn finds_rss_atom_and_json_feeds() {
        let feeds = discover(
            r#"<html><head>
            <link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
            <link rel="alternate" type="application/atom+xml" href="atom.xml">
            <link rel="alternate" type="application/feed+json" href="https://cdn.example.org/f.json">
            <link rel="stylesheet" type="text/css" href="/s.css">
            <link rel="alternate" type="application/rss+xml" href="/feed.xml">
            </head></html>"#,
        );
        assert_eq!(feeds.len(), 3);
        assert_eq!(feeds[0].url, "https://example.org/feed.xml");
        assert_eq!(feeds[0].title.as_deref(), Some("RSS"));
        assert_eq!(feeds[0].kind, FeedKind::Rss);
        assert_eq!(feeds[1].url, "https://example.org/blog/atom.xml");
        assert_eq!(feeds[1].kind, FeedKind::Atom);
        assert_eq!(feeds[2].kind, FeedKind::Json);
    }

    #[test]
    fn honours_base_href_and_odd_case() {
        let feeds = discover(
            r#"<HEAD><BASE HREF="https://other.example/x/"><LINK REL="Alternate" TYPE="Application/RSS+XML" HREF="rss"></HEAD>"#,
        );
        assert_eq!(feeds.len(), 1);
        assert_eq!(feeds[0].url, "https://other.example/x/rss");
    }

    #[test]
    fn pages_without_feeds_give_nothing() {
        assert!(discover("<html><body><a href='/feed.xml'>feed</a></body></html>").is_empty());
        assert!(discover("").is_empty());
    }
}

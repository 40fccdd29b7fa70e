//! The Atom 1.0 writer (RFC 4287), shaped to pass the W3C feed validator without errors.
//!
//! Every entry names its origin feed in `atom:source` and links the other sites' pages with
//! `rel="related"` (several `rel="alternate"` links of one type are an error).

use super::content::{self, is_web_url, related_links, source_display_name, valid_mime_type};
use super::xml::XmlWriter;
use super::{FeedMeta, PublishedEntry, rfc3339};

const ATOM_NAMESPACE: &str = "http://www.w3.org/2005/Atom";
const MEDIA_NAMESPACE: &str = "http://search.yahoo.com/mrss/";
pub(super) const FEED_HISTORY_NAMESPACE: &str = "http://purl.org/syndication/history/1.0";

pub fn render(meta: &FeedMeta, entries: &[PublishedEntry], video_hosts: &[String]) -> String {
    let mut xml = XmlWriter::new();
    let mut namespaces = vec![("xmlns", ATOM_NAMESPACE), ("xmlns:media", MEDIA_NAMESPACE)];
    if meta.links.archive {
        namespaces.push(("xmlns:fh", FEED_HISTORY_NAMESPACE));
    }
    xml.open("feed", &namespaces);
    write_feed_metadata(&mut xml, meta);
    for entry in entries {
        write_entry(&mut xml, entry, video_hosts);
    }
    xml.finish()
}

fn write_feed_metadata(xml: &mut XmlWriter, meta: &FeedMeta) {
    let self_url = meta.self_url("atom");
    xml.text("id", &[], &self_url);
    xml.text("title", &[("type", "text")], &meta.title);
    if let Some(description) = meta.description.as_deref().filter(|d| !d.trim().is_empty()) {
        xml.text("subtitle", &[("type", "text")], description);
    }
    xml.text("updated", &[], &rfc3339(meta.updated));
    xml.empty(
        "link",
        &[
            ("rel", "self"),
            ("type", "application/atom+xml"),
            ("href", &self_url),
        ],
    );
    xml.empty(
        "link",
        &[
            ("rel", "alternate"),
            ("type", "text/html"),
            ("href", &meta.home_page_url()),
        ],
    );
    write_history_links(xml, meta, true);
    // A feed-level author lets every entry inherit one, as RFC 4287 4.1.1 requires.
    xml.open("author", &[]);
    xml.text("name", &[], &meta.title);
    xml.close();
    xml.text(
        "generator",
        &[("version", env!("CARGO_PKG_VERSION"))],
        "tributary",
    );
}

/// RFC 5005's links and marker, and the WebSub hub, shared with the RSS writer's `atom:link`s
/// (`atom:link` there, pointing at RSS documents).
pub(super) fn write_history_links(xml: &mut XmlWriter, meta: &FeedMeta, in_atom: bool) {
    let (element, mime) = match in_atom {
        true => ("link", "application/atom+xml"),
        false => ("atom:link", "application/rss+xml"),
    };
    let links = &meta.links;
    for (rel, path) in [
        ("current", &links.current),
        ("prev-archive", &links.prev_archive),
        ("next-archive", &links.next_archive),
    ] {
        if let Some(path) = path {
            let href = meta.feed_url(path);
            xml.empty(element, &[("rel", rel), ("type", mime), ("href", &href)]);
        }
    }
    if let Some(hub) = links.hub.as_deref() {
        xml.empty(element, &[("rel", "hub"), ("href", hub)]);
    }
    if links.archive {
        xml.empty("fh:archive", &[]);
    }
}

fn write_entry(xml: &mut XmlWriter, entry: &PublishedEntry, video_hosts: &[String]) {
    xml.open("entry", &[]);
    xml.text("id", &[], &entry.id);
    xml.text("title", &[("type", "text")], &content::title(entry));
    xml.text("published", &[], &rfc3339(entry.published));
    xml.text("updated", &[], &rfc3339(entry.updated.max(entry.published)));
    write_links(xml, entry);
    for author in content::authors(entry) {
        xml.open("author", &[]);
        xml.text("name", &[], &author);
        xml.close();
    }
    for category in content::categories(entry) {
        xml.empty("category", &[("term", &category)]);
    }
    if let Some(summary) = entry.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        xml.text("summary", &[("type", "text")], summary.trim());
    }
    let html = content::content_html(entry, video_hosts);
    xml.text("content", &[("type", "html")], &html);
    write_source(xml, entry);
    if let Some(image) = entry.image.as_deref().filter(|url| is_web_url(url)) {
        xml.empty("media:thumbnail", &[("url", image)]);
    }
    xml.close();
}

fn write_links(xml: &mut XmlWriter, entry: &PublishedEntry) {
    if let Some(link) = entry.link.as_deref().filter(|url| is_web_url(url)) {
        xml.empty(
            "link",
            &[("rel", "alternate"), ("type", "text/html"), ("href", link)],
        );
    }
    for (page, source) in related_links(entry) {
        xml.empty(
            "link",
            &[
                ("rel", "related"),
                ("type", "text/html"),
                ("href", &page),
                ("title", source_display_name(source)),
            ],
        );
    }
    for enclosure in entry.enclosures.iter().filter(|e| is_web_url(&e.url)) {
        let length = enclosure
            .length
            .filter(|length| *length > 0)
            .map(|length| length.to_string());
        let mut attributes = vec![("rel", "enclosure"), ("href", enclosure.url.as_str())];
        if let Some(mime_type) = enclosure
            .mime_type
            .as_deref()
            .filter(|m| valid_mime_type(m))
        {
            attributes.push(("type", mime_type));
        }
        if let Some(length) = length.as_deref() {
            attributes.push(("length", length));
        }
        xml.empty("link", &attributes);
    }
}

/// `atom:source`: the origin feed's id (its URL), title, links and an update time, the metadata
/// the validator asks of a source (RFC 4287 4.2.11).
fn write_source(xml: &mut XmlWriter, entry: &PublishedEntry) {
    let origin = &entry.origin;
    xml.open("source", &[]);
    xml.text("id", &[], &origin.feed_url);
    xml.text("title", &[("type", "text")], source_display_name(origin));
    xml.text("updated", &[], &rfc3339(entry.updated.max(entry.published)));
    if is_web_url(&origin.feed_url) {
        xml.empty("link", &[("rel", "self"), ("href", &origin.feed_url)]);
    }
    if let Some(site) = origin.site_link.as_deref().filter(|url| is_web_url(url)) {
        xml.empty(
            "link",
            &[("rel", "alternate"), ("type", "text/html"), ("href", site)],
        );
    }
    xml.close();
}

//! The RSS 2.0 writer, with the Atom self link, `content:encoded` and `dc:creator` extensions the
//! W3C feed validator and common readers expect.

use super::content::{self, is_web_url, source_display_name, valid_mime_type};
use super::xml::XmlWriter;
use super::{FeedMeta, PublishedEntry, rfc822};
use crate::model::Enclosure;

pub fn render(meta: &FeedMeta, entries: &[PublishedEntry], video_hosts: &[String]) -> String {
    let mut xml = XmlWriter::new();
    let mut namespaces = vec![
        ("version", "2.0"),
        ("xmlns:atom", "http://www.w3.org/2005/Atom"),
        ("xmlns:content", "http://purl.org/rss/1.0/modules/content/"),
        ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
        ("xmlns:media", "http://search.yahoo.com/mrss/"),
    ];
    if meta.links.archive {
        namespaces.push(("xmlns:fh", super::atom::FEED_HISTORY_NAMESPACE));
    }
    xml.open("rss", &namespaces);
    xml.open("channel", &[]);
    write_channel_metadata(&mut xml, meta);
    for entry in entries {
        write_item(&mut xml, entry, video_hosts);
    }
    xml.finish()
}

fn write_channel_metadata(xml: &mut XmlWriter, meta: &FeedMeta) {
    xml.text("title", &[], &meta.title);
    xml.text("link", &[], &meta.home_page_url());
    let description = meta
        .description
        .as_deref()
        .filter(|description| !description.trim().is_empty())
        .unwrap_or(&meta.title);
    xml.text("description", &[], description);
    xml.empty(
        "atom:link",
        &[
            ("rel", "self"),
            ("type", "application/rss+xml"),
            ("href", &meta.self_url("rss")),
        ],
    );
    super::atom::write_history_links(xml, meta, false);
    xml.text("lastBuildDate", &[], &rfc822(meta.updated));
    xml.text(
        "generator",
        &[],
        &format!("tributary {}", env!("CARGO_PKG_VERSION")),
    );
    xml.text("docs", &[], "https://www.rssboard.org/rss-specification");
}

fn write_item(xml: &mut XmlWriter, entry: &PublishedEntry, video_hosts: &[String]) {
    xml.open("item", &[]);
    xml.text("title", &[], &content::title(entry));
    let link = entry.link.as_deref().filter(|url| is_web_url(url));
    if let Some(link) = link {
        xml.text("link", &[], link);
    }
    // A guid is a permalink only when it is the page's URL; ours are usually `urn:`/`tag:` ids.
    let is_permalink = link == Some(entry.id.as_str());
    let permalink_attribute = if is_permalink { "true" } else { "false" };
    xml.text("guid", &[("isPermaLink", permalink_attribute)], &entry.id);
    xml.text("pubDate", &[], &rfc822(entry.published));
    // RSS's own <author> must be an e-mail address; Dublin Core's creator takes a name.
    for author in content::authors(entry) {
        xml.text("dc:creator", &[], &author);
    }
    for category in content::categories(entry) {
        xml.text("category", &[], &category);
    }
    let html = content::content_html(entry, video_hosts);
    match entry.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(summary) => xml.text("description", &[], summary.trim()),
        None => xml.text("description", &[], &html),
    }
    xml.text("content:encoded", &[], &html);
    write_enclosures(xml, &entry.enclosures);
    let origin = &entry.origin;
    if is_web_url(&origin.feed_url) {
        xml.text(
            "source",
            &[("url", &origin.feed_url)],
            source_display_name(origin),
        );
    }
    if let Some(image) = entry.image.as_deref().filter(|url| is_web_url(url)) {
        xml.empty("media:thumbnail", &[("url", image)]);
    }
    xml.close();
}

/// RSS allows one `<enclosure>`, and it must state a positive length and a MIME type. The first
/// enclosure that can meets that; the others (and those of unknown length) go out as Media RSS
/// `media:content`, which has neither constraint, so no attachment is lost. The `<enclosure>` is
/// written last because some readers (newsboat) keep the last media element they see.
fn write_enclosures(xml: &mut XmlWriter, enclosures: &[Enclosure]) {
    let web_enclosures: Vec<&Enclosure> =
        enclosures.iter().filter(|e| is_web_url(&e.url)).collect();
    let primary = web_enclosures
        .iter()
        .position(|enclosure| enclosure.length.is_some_and(|length| length > 0));
    for (index, enclosure) in web_enclosures.iter().enumerate() {
        if Some(index) != primary {
            let size = enclosure
                .length
                .filter(|length| *length > 0)
                .map(|l| l.to_string());
            let mut attributes = vec![
                ("url", enclosure.url.as_str()),
                ("type", mime_type_or_default(enclosure)),
            ];
            if let Some(size) = size.as_deref() {
                attributes.push(("fileSize", size));
            }
            xml.empty("media:content", &attributes);
        }
    }
    if let Some(enclosure) = primary.map(|index| web_enclosures[index]) {
        let length = enclosure.length.unwrap_or_default().to_string();
        xml.empty(
            "enclosure",
            &[
                ("url", &enclosure.url),
                ("length", &length),
                ("type", mime_type_or_default(enclosure)),
            ],
        );
    }
}

fn mime_type_or_default(enclosure: &Enclosure) -> &str {
    enclosure
        .mime_type
        .as_deref()
        .filter(|mime| valid_mime_type(mime))
        .unwrap_or("application/octet-stream")
}

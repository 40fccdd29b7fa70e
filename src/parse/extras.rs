//! What feed-rs leaves unread, taken from the document itself: per entry, whether its RSS guid
//! is a permalink, its RSS 1.0 `rdf:about`, Dublin Core Terms dates and full-text bodies
//! (`<body>`, `<xhtml:body>`, `<fullitem>`).
//!
//! The scan walks the same text feed-rs parsed, in document order, and its records are matched
//! to feed-rs's entries by position; when the counts differ the scan is not used at all, so a
//! mismatch can only cost the extras, never attach one entry's fields to another.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::repair::decode_html_entities;

const DC_TERMS_NAMESPACE: &str = "http://purl.org/dc/terms/";
const MEDIA_NAMESPACE: &str = "http://search.yahoo.com/mrss/";
const ITUNES_NAMESPACE: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";

/// The fields of one `<item>` or `<entry>` that feed-rs does not read.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EntryExtras {
    /// `false` when the guid says `isPermaLink="false"`: it must not stand in for a link.
    pub guid_is_permalink: bool,
    /// RSS 1.0 `rdf:about`, the item's identifier.
    pub about: Option<String>,
    /// `dcterms:issued` or `dcterms:created`, as written.
    pub issued: Option<String>,
    /// `dcterms:modified`, as written.
    pub modified: Option<String>,
    /// `<body>` / `<xhtml:body>` markup, or `<fullitem>` HTML.
    pub body_html: Option<String>,
    /// `media:title` (also inside `media:group`), a title for entries without one.
    pub media_title: Option<String>,
    /// `media:description` (also inside `media:group`) or `itunes:summary`, as text.
    pub description: Option<String>,
}

/// Whether some entry lacks what the scan may supply: most feeds state every field feed-rs
/// reads, and then cost neither the scan nor a search of their text. An RSS guid is checked
/// for `isPermaLink` only where it would stand in for a missing link; RSS 1.0 items always
/// need their `rdf:about`.
pub fn needed_for(feed: &feed_rs::model::Feed) -> bool {
    feed.feed_type == feed_rs::model::FeedType::RSS1
        || feed.entries.iter().any(|entry| {
            entry.links.is_empty()
                || (entry.published.is_none() && entry.updated.is_none())
                || entry.title.is_none()
                || (entry.content.is_none() && entry.summary.is_none())
        })
}

/// Whether the document holds anything the scan would find: most feeds hold nothing, and
/// then cost these few substring searches.
pub fn worth_scanning(text: &str) -> bool {
    [
        "isPermaLink",
        "rdf:about",
        "purl.org/dc/terms",
        "body>",
        "fullitem",
        MEDIA_NAMESPACE,
        ITUNES_NAMESPACE,
    ]
    .iter()
    .any(|marker| text.contains(marker))
}

/// One record per entry, in document order; `None` when the text does not read as XML.
pub fn scan(text: &str) -> Option<Vec<EntryExtras>> {
    let mut reader = NsReader::from_str(text);
    let mut entries: Vec<EntryExtras> = Vec::new();
    let mut inside_entry = false;
    let mut depth_in_entry = 0usize;
    loop {
        let (namespace, event) = reader.read_resolved_event().ok()?;
        let namespace = match namespace {
            ResolveResult::Bound(namespace) => Some(namespace.as_ref().to_string()),
            _ => None,
        };
        let is_empty = matches!(event, Event::Empty(_));
        match event {
            Event::Eof => return Some(entries),
            Event::Start(start) | Event::Empty(start) if !inside_entry && is_entry(&start) => {
                entries.push(EntryExtras {
                    guid_is_permalink: true,
                    about: attribute(&start, "about"),
                    ..EntryExtras::default()
                });
                // An empty `<item/>` holds nothing more.
                inside_entry = !is_empty;
                depth_in_entry = 0;
            }
            _ if !inside_entry => {}
            Event::Start(start) => {
                let entry = entries.last_mut()?;
                let local = local_name(&start);
                let consumed = read_child(
                    &mut reader,
                    &start,
                    &local,
                    namespace.as_deref(),
                    text,
                    entry,
                )?;
                if !consumed {
                    depth_in_entry += 1;
                }
            }
            Event::Empty(start) if depth_in_entry == 0 => {
                if let Some(entry) = entries.last_mut() {
                    note_guid(&start, &local_name(&start), entry);
                }
            }
            Event::End(_) if inside_entry => {
                if depth_in_entry == 0 {
                    inside_entry = false;
                } else {
                    depth_in_entry -= 1;
                }
            }
            _ => {}
        }
    }
}

fn is_entry(start: &BytesStart) -> bool {
    matches!(local_name(start).as_str(), "item" | "entry")
}

fn local_name(start: &BytesStart) -> String {
    start.local_name().as_ref().to_string()
}

/// The value of the attribute whose local name is `name`, whatever its prefix.
fn attribute(start: &BytesStart, name: &str) -> Option<String> {
    start.attributes().flatten().find_map(|attribute| {
        let key: &str = attribute.key.as_ref();
        let local = key.rsplit(':').next()?;
        (local == name).then(|| decode_html_entities(attribute.value.trim()))
    })
}

fn note_guid(start: &BytesStart, local: &str, entry: &mut EntryExtras) {
    if local == "guid"
        && attribute(start, "isPermaLink").is_some_and(|value| value.eq_ignore_ascii_case("false"))
    {
        entry.guid_is_permalink = false;
    }
}

/// Reads one element inside an entry. Returns `true` when the element was consumed whole.
fn read_child(
    reader: &mut NsReader<&[u8]>,
    start: &BytesStart,
    local: &str,
    namespace: Option<&str>,
    text: &str,
    entry: &mut EntryExtras,
) -> Option<bool> {
    note_guid(start, local, entry);
    let field = match (namespace.unwrap_or(""), local) {
        (DC_TERMS_NAMESPACE, "issued" | "created" | "modified") => local,
        (MEDIA_NAMESPACE, "title") => "media_title",
        (MEDIA_NAMESPACE, "description") | (ITUNES_NAMESPACE, "summary") => "description",
        (DC_TERMS_NAMESPACE | MEDIA_NAMESPACE | ITUNES_NAMESPACE, _) => return Some(false),
        (_, "body" | "fullitem") => local,
        _ => return Some(false),
    };
    let span = reader.read_to_end(start.name()).ok()?;
    let inner = text.get(span.start as usize..span.end as usize)?;
    let value = if field == "body" {
        without_xhtml_prefixes(inner)
    } else {
        text_content(inner)
    };
    if value.is_empty() {
        return Some(true);
    }
    let slot = match field {
        "body" | "fullitem" => &mut entry.body_html,
        "modified" => &mut entry.modified,
        "issued" => &mut entry.issued,
        // `created` stands in for `issued` when there is none.
        "created" if entry.issued.is_some() => return Some(true),
        "created" => &mut entry.issued,
        "media_title" => &mut entry.media_title,
        _ => &mut entry.description,
    };
    if slot.is_none() || field == "issued" {
        *slot = Some(value);
    }
    Some(true)
}

/// An element's text: CDATA sections unwrapped, references decoded.
fn text_content(inner: &str) -> String {
    let mut result = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(start) = rest.find("<![CDATA[") {
        result.push_str(&decode_html_entities(&rest[..start]));
        let after = &rest[start + 9..];
        let end = after.find("]]>").unwrap_or(after.len());
        result.push_str(&after[..end]);
        rest = after.get(end + 3..).unwrap_or("");
    }
    result.push_str(&decode_html_entities(rest));
    result.trim().to_string()
}

/// XHTML written with a prefix (`<xhtml:p>`) read as plain HTML (`<p>`).
fn without_xhtml_prefixes(markup: &str) -> String {
    markup
        .replace("<xhtml:", "<")
        .replace("</xhtml:", "</")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_dates_and_bodies_are_found_per_entry() {
        let text = r#"<rss xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xhtml="http://www.w3.org/1999/xhtml"><channel>
            <item><guid isPermaLink="false">http://a/1</guid><dcterms:issued>2004-01-02</dcterms:issued>
              <xhtml:body><xhtml:p>Hi &amp; <xhtml:b>you</xhtml:b></xhtml:p></xhtml:body></item>
            <item><guid>http://a/2</guid><dcterms:created>2004-01-01</dcterms:created>
              <dcterms:modified>2004-02-01</dcterms:modified><fullitem>&lt;p&gt;Full&lt;/p&gt;</fullitem></item>
            <item/></channel></rss>"#;
        let entries = scan(text).unwrap();
        assert_eq!(entries.len(), 3);
        assert!(!entries[0].guid_is_permalink);
        assert_eq!(entries[0].issued.as_deref(), Some("2004-01-02"));
        assert_eq!(
            entries[0].body_html.as_deref(),
            Some("<p>Hi &amp; <b>you</b></p>")
        );
        assert!(entries[1].guid_is_permalink);
        assert_eq!(entries[1].issued.as_deref(), Some("2004-01-01"));
        assert_eq!(entries[1].modified.as_deref(), Some("2004-02-01"));
        assert_eq!(entries[1].body_html.as_deref(), Some("<p>Full</p>"));
        assert_eq!(
            entries[2],
            EntryExtras {
                guid_is_permalink: true,
                ..EntryExtras::default()
            }
        );
    }

    #[test]
    fn rdf_about_is_kept() {
        let text = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
            <item rdf:about="http://x/1"><title>t</title></item></rdf:RDF>"#;
        assert_eq!(scan(text).unwrap()[0].about.as_deref(), Some("http://x/1"));
    }
}

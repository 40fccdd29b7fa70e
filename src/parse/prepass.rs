//! The cheap first repairs, applied before feed-rs sees a document: gzip, charset, junk before
//! the prolog, and the root element (RSS version, Atom 0.3, RSS 0.90, foreign namespaces).
//!
//! Each check looks before it copies: a clean UTF-8 RSS 2.0 or Atom 1.0 document goes through
//! borrowed, having cost one UTF-8 validation and a look at its first element.

use std::borrow::Cow;
use std::io::Read;

use super::charset;
use super::repair::{
    add_links_to_linkless_items, decode_base64_constructs, expand_internal_entities,
    links_from_text, rename_element, wrap_raw_markup,
};

/// What kind of document the bytes hold, judged from their first significant character/element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Xml,
    Json,
    Html,
    /// Nothing but whitespace (or nothing at all).
    Blank,
    /// Text that is neither markup nor JSON.
    Unknown,
}

/// A repair the parser made, recorded so tests and diagnostics can tell what was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    Gunzipped,
    Transcoded,
    DeclarationRewritten,
    JunkBeforeProlog,
    RssVersion,
    ForeignDefaultNamespace,
    Atom03,
    Rss090,
    RawMarkupWrapped,
    Escapes,
    MisplacedDeclarations,
    TextConstructTypes,
    TagsBalanced,
    JsonFeedVersion,
    /// Entities declared in the document's internal DTD subset, expanded.
    InternalEntities,
    /// RSS 1.0 / 0.90 items without `<link>` given a placeholder so they are not dropped.
    LinklessItems,
    /// `<rss>` without a `<channel>` given an empty one.
    ChannelAdded,
    /// An Atom `<feed>` written without any namespace given Atom 1.0's.
    AtomNamespaceAdded,
    /// Base64-encoded Atom text constructs (`mode="base64"`) decoded.
    Base64Decoded,
}

/// The document after the cheap repairs, as UTF-8 text.
pub struct Prepared<'a> {
    pub text: Cow<'a, str>,
    pub kind: DocumentKind,
    pub repairs: Vec<Repair>,
}

/// Decompressed sizes above this are refused: a feed is never this big, a zip bomb is.
const MAX_INFLATED_BYTES: u64 = 64 * 1024 * 1024;

/// Inflates gzip bytes served without `Content-Encoding` (the magic number tells).
pub fn inflate_if_gzip(bytes: &[u8]) -> Result<Option<Vec<u8>>, std::io::Error> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(None);
    }
    let mut inflated = Vec::with_capacity(bytes.len() * 4);
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_INFLATED_BYTES)
        .read_to_end(&mut inflated)?;
    Ok(Some(inflated))
}

/// Decodes the document and repairs its prolog and root element.
pub fn prepare<'a>(
    bytes: &'a [u8],
    content_type: Option<&str>,
    tld_hint: Option<&str>,
) -> Prepared<'a> {
    let mut repairs = Vec::new();
    let decoded = charset::decode_to_utf8(bytes, content_type, tld_hint);
    if decoded.encoding != encoding_rs::UTF_8.name() {
        repairs.push(Repair::Transcoded);
    }
    let mut text = decoded.text;
    if let Some(start) = junk_before_document(&text) {
        text = slice_cow(text, start);
        repairs.push(Repair::JunkBeforeProlog);
    }
    if decoded.declaration_is_stale {
        text = Cow::Owned(rewrite_declaration(&text));
        repairs.push(Repair::DeclarationRewritten);
    }
    let kind = document_kind(&text);
    if kind == DocumentKind::Xml {
        if prolog_declares_entities(&text)
            && let Some(expanded) = expand_internal_entities(&text)
        {
            text = Cow::Owned(expanded);
            repairs.push(Repair::InternalEntities);
        }
        text = repair_root(text, &mut repairs);
    }
    Prepared {
        text,
        kind,
        repairs,
    }
}

/// Offset of the first `<` or `{` when something other than whitespace precedes it (a stray
/// BOM mark, PHP notices, a blank line printed by a template).
fn junk_before_document(text: &str) -> Option<usize> {
    // Anything before the XML declaration (even a comment) makes the document ill-formed.
    let start = match charset::xml_declaration_start(text.as_bytes()) {
        Some(declaration) => declaration,
        None => text.find(['<', '{'])?,
    };
    let junk = &text[..start];
    let only_whitespace = junk
        .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
        .is_empty();
    (start > 0 && !only_whitespace).then_some(start)
}

fn slice_cow(text: Cow<'_, str>, start: usize) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(&text[start..]),
        Cow::Owned(text) => Cow::Owned(text[start..].to_string()),
    }
}

/// Replaces the XML declaration with one naming UTF-8, since the text now is UTF-8.
fn rewrite_declaration(text: &str) -> String {
    let trimmed = text.trim_start();
    let rest = if trimmed.starts_with("<?xml") {
        trimmed
            .find("?>")
            .map_or(trimmed, |end| &trimmed[end + 2..])
    } else {
        trimmed
    };
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{rest}")
}

fn document_kind(text: &str) -> DocumentKind {
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if trimmed.is_empty() {
        return DocumentKind::Blank;
    }
    if trimmed.starts_with('{') {
        return DocumentKind::Json;
    }
    if !trimmed.starts_with('<') {
        return DocumentKind::Unknown;
    }
    match root_element(text) {
        Some(root) if is_html_root(&root.name) => DocumentKind::Html,
        None if starts_with_html_doctype(trimmed) => DocumentKind::Html,
        _ => DocumentKind::Xml,
    }
}

fn is_html_root(name: &str) -> bool {
    ["html", "head", "body"]
        .iter()
        .any(|html| name.eq_ignore_ascii_case(html))
}

fn starts_with_html_doctype(text: &str) -> bool {
    text.get(..14)
        .is_some_and(|start| start.eq_ignore_ascii_case("<!doctype html"))
}

/// The root element's start tag: its byte range in the text and its (possibly prefixed) name.
#[derive(Debug)]
pub struct RootElement {
    pub start: usize,
    pub end: usize,
    pub name: String,
}

impl RootElement {
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }
}

/// Finds the first element, skipping the declaration, processing instructions, comments and
/// a doctype (with its internal subset).
pub fn root_element(text: &str) -> Option<RootElement> {
    let mut position = 0;
    loop {
        let start = position + text[position..].find('<')?;
        let rest = &text[start..];
        let skip_to = if rest.starts_with("<?") {
            rest.find("?>").map(|end| end + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|end| end + 3)
        } else if rest.starts_with("<!") {
            doctype_length(rest)
        } else {
            let end = start + tag_length(rest)?;
            let name: String = rest[1..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
                .collect();
            return (!name.is_empty()).then_some(RootElement { start, end, name });
        };
        position = start + skip_to?;
    }
}

fn doctype_length(rest: &str) -> Option<usize> {
    let bracket = rest.find('[');
    let close = rest.find('>')?;
    match bracket {
        Some(bracket) if bracket < close => rest.find("]>").map(|end| end + 2),
        _ => Some(close + 1),
    }
}

/// Length of a start tag up to and including its `>`, honouring quoted attribute values.
fn tag_length(rest: &str) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (index, byte) in rest.bytes().enumerate() {
        match (quote, byte) {
            (Some(open), _) if byte == open => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(byte),
            (None, b'>') => return Some(index + 1),
            _ => {}
        }
    }
    None
}

/// The value of attribute `name` in a start tag, when present.
pub fn attribute_value<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    attribute_span(tag, name).map(|span| &tag[span.value_start..span.value_end])
}

/// Where an attribute sits in a start tag: its name's start and its value's bounds.
struct AttributeSpan {
    name_start: usize,
    value_start: usize,
    value_end: usize,
}

fn attribute_span(tag: &str, name: &str) -> Option<AttributeSpan> {
    let mut search_from = 0;
    while let Some(found) = tag[search_from..].find(name) {
        let name_start = search_from + found;
        search_from = name_start + name.len();
        let preceded_by_space = tag[..name_start].ends_with(|c: char| c.is_whitespace());
        let after_name = &tag[search_from..];
        let Some(after_equals) = after_name.trim_start().strip_prefix('=') else {
            continue;
        };
        if !preceded_by_space {
            continue;
        }
        let value_part = after_equals.trim_start();
        let quote = value_part.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let value_start = tag.len() - value_part.len() + 1;
        let value_length = tag[value_start..].find(quote)?;
        return Some(AttributeSpan {
            name_start,
            value_start,
            value_end: value_start + value_length,
        });
    }
    None
}

/// The start tag with attribute `name` (and its value) removed.
pub fn without_attribute(tag: &str, name: &str) -> String {
    match attribute_span(tag, name) {
        Some(span) => format!(
            "{}{}",
            tag[..span.name_start].trim_end(),
            &tag[span.value_end + 1..]
        ),
        None => tag.to_string(),
    }
}

const ATOM_03_NAMESPACE: &str = "http://purl.org/atom/ns#";
const ATOM_10_NAMESPACE: &str = "http://www.w3.org/2005/Atom";
const RSS_090_NAMESPACE: &str = "http://my.netscape.com/rdf/simple/0.9/";
const RSS_10_NAMESPACE: &str = "http://purl.org/rss/1.0/";
/// Namespaces of Atom's drafts and forerunners (Echo, Pie, "necho"): read as Atom 0.3.
const OLD_ATOM_NAMESPACES: [&str; 5] = [
    "http://example.com/newformat#",
    "http://example.com/necho",
    "http://purl.org/echo/",
    "uri/of/echo/namespace#",
    "http://purl.org/pie/",
];

/// Repairs the root element so feed-rs dispatches to the right reader.
fn repair_root<'a>(text: Cow<'a, str>, repairs: &mut Vec<Repair>) -> Cow<'a, str> {
    let Some(root) = root_element(&text) else {
        return text;
    };
    let tag = &text[root.start..root.end];
    let text = match root.local_name() {
        "rss" => repair_rss_root(&text, &root, repairs).map_or(text, Cow::Owned),
        "feed" if is_atom_03(tag) => {
            repairs.push(Repair::Atom03);
            let converted = convert_atom_03(&text);
            // `mode="base64"` exists only in Atom 0.3 (1.0 dropped `mode`).
            match decode_base64_constructs(&converted) {
                Some(decoded) => {
                    repairs.push(Repair::Base64Decoded);
                    Cow::Owned(decoded)
                }
                None => Cow::Owned(converted),
            }
        }
        "feed" if attribute_value(tag, "xmlns").is_none() && !tag.contains(ATOM_10_NAMESPACE) => {
            // An Atom feed without its namespace: feed-rs needs it to know the vocabulary.
            repairs.push(Repair::AtomNamespaceAdded);
            Cow::Owned(format!(
                "{}<{} xmlns=\"{ATOM_10_NAMESPACE}\"{}",
                &text[..root.start],
                root.name,
                &text[root.start + 1 + root.name.len()..]
            ))
        }
        "channel" => {
            // A bare RSS channel, its `<rss>` wrapper lost (or never written).
            repairs.push(Repair::RssVersion);
            Cow::Owned(format!(
                "{}<rss version=\"2.0\">{}</rss>",
                &text[..root.start],
                &text[root.start..]
            ))
        }
        "RDF" if text.contains(RSS_090_NAMESPACE) => {
            repairs.push(Repair::Rss090);
            Cow::Owned(text.replace(RSS_090_NAMESPACE, RSS_10_NAMESPACE))
        }
        _ => text,
    };
    // The root tag may have been rewritten above: find it again in the new text.
    let Some(root) = root_element(&text) else {
        return text;
    };
    let text = match root.local_name() {
        "RDF" => match add_links_to_linkless_items(&text) {
            Some(with_links) => {
                repairs.push(Repair::LinklessItems);
                Cow::Owned(with_links)
            }
            None => text,
        },
        "rss" if is_childless(&text, &root) => {
            repairs.push(Repair::ChannelAdded);
            Cow::Owned(with_empty_channel(&text))
        }
        _ => text,
    };
    if !matches!(root.local_name(), "rss" | "RDF" | "channel") {
        return text;
    }
    match wrap_raw_markup(&text) {
        Some(wrapped) => {
            repairs.push(Repair::RawMarkupWrapped);
            Cow::Owned(wrapped)
        }
        None => text,
    }
}

/// feed-rs reads `<rss>` only with version 2.0, 0.91 or 0.92, and only without a default
/// namespace; RSS 0.93, 0.94, 2.01 and version-less feeds are all read as RSS 2.0.
fn repair_rss_root(text: &str, root: &RootElement, repairs: &mut Vec<Repair>) -> Option<String> {
    let tag = &text[root.start..root.end];
    let version = attribute_value(tag, "version").map(str::trim);
    let version_is_known = matches!(version, Some("2.0" | "0.91" | "0.92"));
    let has_default_namespace = attribute_value(tag, "xmlns").is_some();
    if version_is_known && !has_default_namespace {
        return None;
    }
    let mut new_tag = tag.to_string();
    if has_default_namespace {
        new_tag = without_attribute(&new_tag, "xmlns");
        repairs.push(Repair::ForeignDefaultNamespace);
    }
    if !version_is_known {
        new_tag = without_attribute(&new_tag, "version");
        new_tag = new_tag.replacen(&format!("<{}", root.name), "<rss version=\"2.0\"", 1);
        repairs.push(Repair::RssVersion);
    }
    Some(format!(
        "{}{}{}",
        &text[..root.start],
        new_tag,
        &text[root.end..]
    ))
}

fn is_atom_03(tag: &str) -> bool {
    tag.contains(ATOM_03_NAMESPACE)
        || OLD_ATOM_NAMESPACES
            .iter()
            .any(|namespace| tag.contains(namespace))
        || (attribute_value(tag, "version").is_some_and(|v| v.trim() == "0.3")
            && !tag.contains(ATOM_10_NAMESPACE))
}

/// An internal DTD subset comes before the root element: only that prolog is searched.
fn prolog_declares_entities(text: &str) -> bool {
    root_element(text).is_some_and(|root| text[..root.start].contains("<!ENTITY"))
}

/// `<rss/>`, or `<rss>` holding nothing but whitespace before `</rss>`: nothing may be lost
/// by giving it a channel.
fn is_childless(text: &str, root: &RootElement) -> bool {
    let tag = &text[root.start..root.end];
    let after = text[root.end..].trim_start();
    tag.ends_with("/>") || after.starts_with(&format!("</{}", root.name))
}

/// `<rss/>` or `<rss></rss>` with no channel: an empty feed, written as one feed-rs reads.
fn with_empty_channel(text: &str) -> String {
    let Some(root) = root_element(text) else {
        return text.to_string();
    };
    let tag = &text[root.start..root.end];
    let open = tag
        .strip_suffix("/>")
        .map_or(tag.to_string(), |open| format!("{open}>"));
    format!(
        "{}{open}<channel></channel></{}>",
        &text[..root.start],
        root.name
    )
}

/// Atom 0.3 differs from 1.0 mostly in names: its namespace, `issued`/`modified`,
/// `tagline`, `copyright`, and `mode="escaped"` content.
fn convert_atom_03(text: &str) -> String {
    let mut converted = text.replace(ATOM_03_NAMESPACE, ATOM_10_NAMESPACE);
    for old in OLD_ATOM_NAMESPACES {
        converted = converted.replace(old, ATOM_10_NAMESPACE);
    }
    converted = links_from_text(&converted);
    let has_issued = converted.contains("<issued");
    for (old, new) in [
        ("issued", "published"),
        ("modified", "updated"),
        ("tagline", "subtitle"),
        ("copyright", "rights"),
    ] {
        converted = rename_element(&converted, old, new);
    }
    if !has_issued {
        converted = rename_element(&converted, "created", "published");
    }
    converted
        .replace("mode=\"escaped\"", "")
        .replace("type=\"text/html\"", "type=\"html\"")
        .replace("type=\"text/plain\"", "type=\"text\"")
        .replace("type=\"application/xhtml+xml\"", "type=\"xhtml\"")
}

/// Copies `<skipHours>` / `<skipDays>` and `<ttl>`-like channel hints feed-rs does not keep.
pub fn skip_schedule(text: &str) -> (Vec<u32>, Vec<u32>) {
    let hours = element_texts(text, "skipHours", "hour")
        .filter_map(|hour| hour.trim().parse::<u32>().ok())
        .map(|hour| hour % 24)
        .collect();
    let days = element_texts(text, "skipDays", "day")
        .filter_map(|day| weekday_number(day.trim()))
        .collect();
    (hours, days)
}

fn weekday_number(day: &str) -> Option<u32> {
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let lowered = day.to_ascii_lowercase();
    days.iter()
        .position(|name| *name == lowered)
        .map(|index| index as u32)
}

/// Texts of `<child>` elements inside the first `<container>` (plain, unprefixed names).
fn element_texts<'t>(
    text: &'t str,
    container: &str,
    child: &'t str,
) -> impl Iterator<Item = &'t str> + 't {
    let inner = text.find(&format!("<{container}>")).and_then(|start| {
        let body = &text[start..];
        body.find(&format!("</{container}>"))
            .map(|end| &body[container.len() + 2..end])
    });
    let open = format!("<{child}>");
    let close = format!("</{child}>");
    inner.into_iter().flat_map(move |inner| {
        inner
            .split(open.as_str())
            .skip(1)
            .filter_map(|part| part.find(close.as_str()).map(|end| &part[..end]))
            .collect::<Vec<_>>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(text: &str) -> (String, Vec<Repair>) {
        let prepared = prepare(text.as_bytes(), None, None);
        (prepared.text.into_owned(), prepared.repairs)
    }

    #[test]
    fn clean_documents_are_borrowed() {
        let text = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel/></rss>";
        let prepared = prepare(text.as_bytes(), None, None);
        assert!(matches!(prepared.text, Cow::Borrowed(_)));
        assert!(prepared.repairs.is_empty());
    }

    #[test]
    fn missing_rss_version_becomes_2_0() {
        let (text, repairs) = prepared("<rss><channel><title>t</title></channel></rss>");
        assert!(text.starts_with("<rss version=\"2.0\">"), "{text}");
        assert_eq!(repairs, vec![Repair::RssVersion]);
    }

    #[test]
    fn bare_channel_is_wrapped_in_rss() {
        let (text, repairs) =
            prepared("<?xml version=\"1.0\"?>\n<channel><title>t</title></channel>");
        assert_eq!(
            text,
            "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>t</title></channel></rss>"
        );
        assert_eq!(repairs, vec![Repair::RssVersion]);
    }

    #[test]
    fn only_an_rss_root_with_nothing_inside_is_given_a_channel() {
        let (text, repairs) = prepared("<rss version=\"2.0\"/>");
        assert_eq!(text, "<rss version=\"2.0\"><channel></channel></rss>");
        assert_eq!(repairs, vec![Repair::ChannelAdded]);
        let (text, _) = prepared("<rss version=\"2.0\">\n </rss>");
        assert_eq!(text, "<rss version=\"2.0\"><channel></channel></rss>");
        let items = "<rss version=\"2.0\"><item><title>t</title></item></rss>";
        assert_eq!(prepared(items), (items.to_string(), vec![]));
    }

    #[test]
    fn atom_without_namespace_and_old_atom_namespaces_become_atom() {
        let (text, repairs) = prepared("<feed><title>t</title></feed>");
        assert_eq!(
            text,
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title></feed>"
        );
        assert_eq!(repairs, vec![Repair::AtomNamespaceAdded]);
        let (text, repairs) =
            prepared("<feed xmlns=\"http://purl.org/pie/\"><title>t</title></feed>");
        assert!(text.contains(ATOM_10_NAMESPACE), "{text}");
        assert_eq!(repairs, vec![Repair::Atom03]);
    }

    #[test]
    fn rss_0_94_becomes_2_0() {
        let (text, _) = prepared("<?xml version=\"1.0\"?>\n<rss version=\"0.94\" xml:base=\"x\">");
        assert!(
            text.contains("<rss version=\"2.0\" xml:base=\"x\">"),
            "{text}"
        );
    }

    #[test]
    fn foreign_default_namespace_on_rss_is_dropped() {
        let (text, repairs) =
            prepared("<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\"><channel/>");
        assert_eq!(text, "<rss version=\"2.0\"><channel/>");
        assert_eq!(repairs, vec![Repair::ForeignDefaultNamespace]);
    }

    #[test]
    fn atom_03_is_converted() {
        let (text, repairs) = prepared(
            "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><entry><issued>2003-12-13T08:29:29-04:00</issued><modified>x</modified><content type=\"text/html\" mode=\"escaped\">a</content></entry></feed>",
        );
        assert!(text.contains(ATOM_10_NAMESPACE));
        assert!(text.contains("<published>2003-12-13T08:29:29-04:00</published>"));
        assert!(text.contains("<updated>x</updated>"));
        assert!(text.contains("type=\"html\""));
        assert_eq!(repairs, vec![Repair::Atom03]);
    }

    #[test]
    fn rss_090_namespace_is_mapped_to_rss_1_0() {
        let (text, repairs) = prepared(
            "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://my.netscape.com/rdf/simple/0.9/\">",
        );
        assert!(text.contains(RSS_10_NAMESPACE));
        assert_eq!(repairs, vec![Repair::Rss090]);
    }

    #[test]
    fn junk_before_the_prolog_is_dropped() {
        let (text, repairs) =
            prepared("Warning: x in y.php\n<?xml version=\"1.0\"?><rss><channel/></rss>");
        assert_eq!(
            text,
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel/></rss>"
        );
        assert_eq!(repairs, vec![Repair::JunkBeforeProlog, Repair::RssVersion]);
    }

    #[test]
    fn comments_before_the_declaration_are_dropped() {
        let (text, repairs) =
            prepared("<!-- by X -->\n<?xml version=\"1.0\"?><rss version=\"2.0\"><channel/></rss>");
        assert_eq!(
            text,
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel/></rss>"
        );
        assert_eq!(repairs, vec![Repair::JunkBeforeProlog]);
    }

    #[test]
    fn stale_declaration_is_rewritten() {
        let (text, repairs) =
            prepared("<?xml version=\"1.0\" encoding=\"bogus\"?><feed xmlns=\"x\"/>");
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"x\"/>"
        );
        assert_eq!(repairs, vec![Repair::DeclarationRewritten]);
    }

    #[test]
    fn kinds_are_recognised() {
        let kind = |text: &str| prepare(text.as_bytes(), None, None).kind;
        assert_eq!(kind(""), DocumentKind::Blank);
        assert_eq!(kind("  \n"), DocumentKind::Blank);
        assert_eq!(kind(" {\"version\":1}"), DocumentKind::Json);
        assert_eq!(kind("<!DOCTYPE html><html><head>"), DocumentKind::Html);
        assert_eq!(
            kind("<head><title>Moved</title></head>"),
            DocumentKind::Html
        );
        assert_eq!(
            kind("<?xml version=\"1.0\"?><!-- c --><!DOCTYPE rss [<!ENTITY a \"b\">]><rss/>"),
            DocumentKind::Xml
        );
    }

    #[test]
    fn gzip_is_inflated() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"<rss/>").unwrap();
        let compressed = encoder.finish().unwrap();
        assert_eq!(inflate_if_gzip(&compressed).unwrap().unwrap(), b"<rss/>");
        assert!(inflate_if_gzip(b"<rss/>").unwrap().is_none());
        assert!(inflate_if_gzip(&[0x1f, 0x8b, 1, 2, 3]).is_err());
    }

    #[test]
    fn skip_hours_and_days_are_read() {
        let text = "<rss><channel><skipHours><hour>1</hour><hour> 23 </hour></skipHours>\
                    <skipDays><day>Saturday</day><day>Sunday</day></skipDays></channel></rss>";
        assert_eq!(skip_schedule(text), (vec![1, 23], vec![5, 6]));
        assert_eq!(skip_schedule("<rss/>"), (vec![], vec![]));
    }

    #[test]
    fn attributes_are_removed_by_exact_name() {
        let tag = "<rss xml:version=\"a\" version=\"0.94\">";
        assert_eq!(without_attribute(tag, "version"), "<rss xml:version=\"a\">");
        assert_eq!(without_attribute("<rss>", "version"), "<rss>");
    }

    #[test]
    fn attribute_values_are_found() {
        let tag = "<rss xmlns:x=\"a\" version='0.91' xml:version=\"no\">";
        assert_eq!(attribute_value(tag, "version"), Some("0.91"));
        assert_eq!(attribute_value(tag, "xmlns"), None);
    }
}

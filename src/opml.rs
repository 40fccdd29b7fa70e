//! OPML subscription lists: read leniently (what other readers export), written as OPML 2.0; pure.
//!
//! Readers disagree on the details: OPML 1.0 or 2.0, `xmlUrl` spelled `xmlurl` or `XMLURL`,
//! categories as nested outlines or as a `category` attribute, HTML entities such as `&eacute;`
//! that XML does not define, the same feed listed twice. Parsing accepts all of that and keeps
//! every feed outline in document order (duplicates included: deciding what is a duplicate is
//! the importer's job, which knows the config). A file that is not OPML at all is refused.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};

use crate::config::Config;
use crate::publish::xml::XmlWriter;

/// One feed outline of an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The outline's `text`, else its `title` (whitespace collapsed, entities decoded).
    pub title: Option<String>,
    /// The feed's URL as written (`xmlUrl`, any letter case), trimmed.
    pub xml_url: String,
    /// The site's URL (`htmlUrl`), when given and not empty.
    pub html_url: Option<String>,
    /// The enclosing category outlines as a path ("Tech / Rust"), else the `category`
    /// attribute; `None` at the top level.
    pub category: Option<String>,
}

/// Why a file could not be read as OPML.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpmlError {
    #[error("not an OPML file: {0}")]
    NotOpml(String),
    #[error("malformed XML at line {line}: {message}")]
    Malformed { line: usize, message: String },
}

/// Reads an OPML document's feed outlines, in document order.
pub fn parse(bytes: &[u8]) -> Result<Vec<Subscription>, OpmlError> {
    let text = decode(bytes);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut root_seen = false;
    // One entry per open `<outline>`: the category name it opens, if it is a category.
    let mut open_outlines: Vec<Option<String>> = Vec::new();
    let mut subscriptions = Vec::new();
    loop {
        let event = reader.read_event().map_err(|error| OpmlError::Malformed {
            line: line_of(&text, reader.error_position()),
            message: error.to_string(),
        })?;
        match event {
            Event::Text(text) if !root_seen && !text.as_ref().trim().is_empty() => {
                return Err(not_xml(text.as_ref()));
            }
            Event::Start(tag) | Event::Empty(tag) if !root_seen => {
                check_root(&tag)?;
                root_seen = true;
            }
            Event::Start(tag) if is_outline(&tag) => {
                let outline = Outline::read(&tag);
                let category = outline.category_name();
                subscriptions.extend(outline.subscription(&open_outlines));
                open_outlines.push(category);
            }
            Event::Empty(tag) if is_outline(&tag) => {
                subscriptions.extend(Outline::read(&tag).subscription(&open_outlines));
            }
            Event::End(tag) if tag.local_name().as_ref().eq_ignore_ascii_case("outline") => {
                open_outlines.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(OpmlError::NotOpml("no XML element in it".into()));
    }
    Ok(subscriptions)
}

/// The text of the file: UTF-8 (a BOM dropped), else the encoding its XML declaration names,
/// else Windows-1252, which is what an undeclared 8-bit file almost always is.
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).to_ascii_lowercase();
    let declared = head
        .split_once("encoding=")
        .and_then(|(_, rest)| rest.get(1..))
        .and_then(|rest| rest.split(['"', '\'']).next())
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()));
    let encoding = declared.unwrap_or(encoding_rs::WINDOWS_1252);
    encoding.decode(bytes).0.into_owned()
}

/// Text before the first element: a plain list of URLs, a TOML or JSON file, not XML at all.
fn not_xml(text: &str) -> OpmlError {
    let start: String = text.trim().chars().take(40).collect();
    OpmlError::NotOpml(format!(
        "it does not start with XML markup but with {start:?}"
    ))
}

fn line_of(text: &str, offset: u64) -> usize {
    let offset = (offset as usize).min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

/// The first element must be `<opml>`; naming what it is instead tells the admin which file
/// they picked by mistake (a feed, a web page).
fn check_root(tag: &BytesStart<'_>) -> Result<(), OpmlError> {
    let name = tag.local_name().as_ref().to_string();
    if name.eq_ignore_ascii_case("opml") {
        return Ok(());
    }
    let hint = match name.to_ascii_lowercase().as_str() {
        "rss" | "feed" | "rdf" => " (this is a feed: add it as a source instead)",
        "html" => " (this is a web page)",
        _ => "",
    };
    Err(OpmlError::NotOpml(format!(
        "its root element is <{name}>, expected <opml>{hint}"
    )))
}

fn is_outline(tag: &BytesStart<'_>) -> bool {
    tag.local_name().as_ref().eq_ignore_ascii_case("outline")
}

/// The attributes of one `<outline>` that matter here, decoded.
#[derive(Default)]
struct Outline {
    text: Option<String>,
    title: Option<String>,
    xml_url: Option<String>,
    html_url: Option<String>,
    category: Option<String>,
}

impl Outline {
    /// Attribute names are compared ignoring case, and values may hold HTML entities: both
    /// are common in files written by hand or by old readers.
    fn read(tag: &BytesStart<'_>) -> Outline {
        let mut outline = Outline::default();
        let mut attributes = tag.html_attributes();
        attributes.with_checks(false);
        for attribute in attributes.flatten() {
            let key = attribute.key.local_name().as_ref().to_lowercase();
            let value = crate::parse::decode_html_entities(&attribute.value);
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            let slot = match key.as_str() {
                "text" => &mut outline.text,
                "title" => &mut outline.title,
                "xmlurl" => &mut outline.xml_url,
                "htmlurl" => &mut outline.html_url,
                "category" => &mut outline.category,
                _ => continue,
            };
            *slot = Some(value).filter(|value| !value.is_empty());
        }
        outline
    }

    /// Some readers export the `feed:` scheme browsers once handed to feed readers:
    /// `feed://host/path` (plain http) or `feed:https://host/path`.
    fn feed_url(&self) -> Option<String> {
        let url = self.xml_url.clone()?;
        let Some(rest) = url
            .get(..5)
            .filter(|scheme| scheme.eq_ignore_ascii_case("feed:"))
        else {
            return Some(url);
        };
        let rest = &url[rest.len()..];
        Some(match rest.strip_prefix("//") {
            Some(host_and_path) => format!("http://{host_and_path}"),
            None => rest.to_string(),
        })
    }

    fn name(&self) -> Option<String> {
        self.text.clone().or_else(|| self.title.clone())
    }

    /// An outline without a feed URL groups its children under its name.
    fn category_name(&self) -> Option<String> {
        match self.xml_url {
            Some(_) => None,
            None => self.name(),
        }
    }

    fn subscription(&self, open_outlines: &[Option<String>]) -> Option<Subscription> {
        let xml_url = self.feed_url()?;
        let path: Vec<&str> = open_outlines.iter().flatten().map(String::as_str).collect();
        let category = if path.is_empty() {
            self.category.as_ref().map(|category| {
                category
                    .split(',')
                    .map(|one| one.trim().trim_matches('/').replace('/', " / "))
                    .filter(|one| !one.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        } else {
            Some(path.join(" / "))
        };
        Some(Subscription {
            title: self.name(),
            xml_url,
            html_url: self.html_url.clone(),
            category: category.filter(|category| !category.is_empty()),
        })
    }
}

/// Renders subscriptions as an OPML 2.0 document (flat: one outline per feed).
pub fn render(title: &str, subscriptions: &[Subscription]) -> String {
    let mut writer = XmlWriter::new();
    writer.open("opml", &[("version", "2.0")]);
    writer.open("head", &[]);
    writer.text("title", &[], title);
    writer.close();
    writer.open("body", &[]);
    for subscription in subscriptions {
        let name = subscription.title.as_deref().unwrap_or_default();
        let mut attributes = vec![
            ("type", "rss"),
            ("text", name),
            ("title", name),
            ("xmlUrl", subscription.xml_url.as_str()),
        ];
        if let Some(html_url) = &subscription.html_url {
            attributes.push(("htmlUrl", html_url));
        }
        writer.empty("outline", &attributes);
    }
    writer.finish()
}

/// The configured sources as subscriptions, titled by their names (so importing the export
/// gives the same names back), with the site link the store learned from each feed, if any.
pub fn from_config(config: &Config, site_links: &HashMap<String, String>) -> Vec<Subscription> {
    config
        .sources
        .iter()
        .map(|source| Subscription {
            title: Some(source.name.clone()),
            xml_url: source.url.to_string(),
            html_url: site_links.get(&source.name).cloned(),
            category: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(subscriptions: &[Subscription]) -> Vec<&str> {
        subscriptions.iter().map(|s| s.xml_url.as_str()).collect()
    }

    #[test]
    fn nested_categories_become_paths_and_urlless_outlines_are_recursed_into() {
        let opml = r#"<?xml version="1.0"?>
<opml version="2.0"><head><title>Mine</title></head><body>
  <outline text="Tech">
    <outline text="Rust" title="Rust">
      <outline type="rss" text="This Week in Rust" xmlUrl="https://this-week-in-rust.org/rss.xml"/>
    </outline>
    <outline type="link" text="A bookmark" url="https://example.org/"/>
    <outline type="rss" text="LWN" xmlUrl="https://lwn.net/headlines/rss" htmlUrl="https://lwn.net/"/>
  </outline>
  <outline text="Top level" xmlUrl="https://example.org/top.xml" category="/News/World,/Misc"/>
</body></opml>"#;
        let subscriptions = parse(opml.as_bytes()).unwrap();
        assert_eq!(
            urls(&subscriptions),
            [
                "https://this-week-in-rust.org/rss.xml",
                "https://lwn.net/headlines/rss",
                "https://example.org/top.xml"
            ]
        );
        assert_eq!(subscriptions[0].category.as_deref(), Some("Tech / Rust"));
        assert_eq!(subscriptions[0].title.as_deref(), Some("This Week in Rust"));
        assert_eq!(subscriptions[1].category.as_deref(), Some("Tech"));
        assert_eq!(
            subscriptions[1].html_url.as_deref(),
            Some("https://lwn.net/")
        );
        assert_eq!(
            subscriptions[2].category.as_deref(),
            Some("News / World, Misc")
        );
    }

    #[test]
    fn opml_1_with_odd_cases_entities_and_duplicates() {
        let opml = "<opml version=\"1.0\"><body>\
            <outline title=\"Caf&eacute; &amp; Cr&egrave;me\" XMLURL=\"http://a.example/feed?x=1&amp;y=2\" htmlUrl=\"\"/>\
            <OUTLINE TEXT=\"  Two\n  lines \" xmlurl=\" https://b.example/rss \"/>\
            <outline title=\"again\" xmlUrl=\"http://a.example/feed?x=1&amp;y=2\"/>\
            </body></opml>";
        let subscriptions = parse(opml.as_bytes()).unwrap();
        assert_eq!(
            urls(&subscriptions),
            [
                "http://a.example/feed?x=1&y=2",
                "https://b.example/rss",
                "http://a.example/feed?x=1&y=2"
            ]
        );
        assert_eq!(subscriptions[0].title.as_deref(), Some("Café & Crème"));
        assert_eq!(
            subscriptions[0].html_url, None,
            "an empty htmlUrl is unknown"
        );
        assert_eq!(subscriptions[1].title.as_deref(), Some("Two lines"));
        assert_eq!(subscriptions[1].category, None);
    }

    #[test]
    fn a_bare_ampersand_in_a_hand_written_file_is_kept() {
        let opml = r#"<opml><body><outline text="Q&A" xmlUrl="https://q.example/rss?a=1&b=2"/></body></opml>"#;
        let subscriptions = parse(opml.as_bytes()).unwrap();
        assert_eq!(urls(&subscriptions), ["https://q.example/rss?a=1&b=2"]);
        assert_eq!(subscriptions[0].title.as_deref(), Some("Q&A"));
    }

    #[test]
    fn the_feed_scheme_becomes_http() {
        let opml = r#"<opml><body><outline text="a" xmlUrl="feed://a.example/rss"/>
            <outline text="b" xmlUrl="FEED:https://b.example/atom"/></body></opml>"#;
        let subscriptions = parse(opml.as_bytes()).unwrap();
        assert_eq!(
            urls(&subscriptions),
            ["http://a.example/rss", "https://b.example/atom"]
        );
    }

    #[test]
    fn a_feed_outline_with_children_keeps_the_nesting_straight() {
        let opml = r#"<opml><body><outline text="Group">
            <outline text="Parent feed" xmlUrl="https://p.example/feed"><outline text="Child" xmlUrl="https://c.example/feed"/></outline>
            <outline text="Sibling" xmlUrl="https://s.example/feed"/></outline>
            <outline text="Outside" xmlUrl="https://o.example/feed"/></body></opml>"#;
        let subscriptions = parse(opml.as_bytes()).unwrap();
        let categories: Vec<_> = subscriptions
            .iter()
            .map(|s| s.category.as_deref())
            .collect();
        assert_eq!(
            categories,
            [Some("Group"), Some("Group"), Some("Group"), None]
        );
    }

    #[test]
    fn files_that_are_not_opml_are_refused_clearly() {
        let feed = parse(b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel/></rss>");
        assert!(
            matches!(&feed, Err(OpmlError::NotOpml(why)) if why.contains("<rss>") && why.contains("feed")),
            "{feed:?}"
        );
        let page = parse(b"<!doctype html><html><body>hi</body></html>");
        assert!(matches!(&page, Err(OpmlError::NotOpml(why)) if why.contains("<html>")));
        let text = parse(b"https://example.org/feed.xml\nhttps://example.net/rss\n");
        assert!(matches!(&text, Err(OpmlError::NotOpml(_))), "{text:?}");
        let toml = parse(b"# a <ttl> in a comment\n[[sources]]\n");
        assert!(
            matches!(&toml, Err(OpmlError::NotOpml(why)) if why.contains("does not start with XML")),
            "{toml:?}"
        );
        assert!(matches!(parse(b""), Err(OpmlError::NotOpml(_))));
        let broken = parse(b"<opml>\n<body>\n<outline text=\"a\"></body></opml>");
        assert!(
            matches!(&broken, Err(OpmlError::Malformed { line: 3, .. })),
            "{broken:?}"
        );
    }

    #[test]
    fn latin1_declared_files_are_decoded() {
        let mut opml =
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><opml><body><outline text=\"Caf"
                .to_vec();
        opml.extend_from_slice(b"\xE9\" xmlUrl=\"https://c.example/\"/></body></opml>");
        let subscriptions = parse(&opml).unwrap();
        assert_eq!(subscriptions[0].title.as_deref(), Some("Café"));
    }

    #[test]
    fn render_then_parse_gives_the_subscriptions_back() {
        let subscriptions = vec![
            Subscription {
                title: Some("tom & \"jerry\"".into()),
                xml_url: "https://e.example/feed?a=1&b=<2>".into(),
                html_url: Some("https://e.example/".into()),
                category: None,
            },
            Subscription {
                title: Some("plain".into()),
                xml_url: "https://p.example/rss".into(),
                html_url: None,
                category: None,
            },
        ];
        let xml = render("My sources", &subscriptions);
        assert!(xml.contains("<opml version=\"2.0\">"), "{xml}");
        assert!(xml.contains("<title>My sources</title>"), "{xml}");
        assert!(xml.contains("type=\"rss\""), "{xml}");
        assert!(!xml.contains("htmlUrl=\"\""), "no empty htmlUrl: {xml}");
        assert_eq!(parse(xml.as_bytes()).unwrap(), subscriptions);
    }
}

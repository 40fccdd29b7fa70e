//! The merged feed in Atom, RSS 2.0 and JSON Feed: snapshots of a fixture set of entries, read
//! back by feed-rs (and the strict atom_syndication / rss readers), well-formedness and the
//! validator's rules (self links, atom:source, dates, sanitized content).
//!
//! Snapshots live in tests/fixtures/publish/; `UPDATE_SNAPSHOTS=1 cargo test` rewrites them.

use chrono::{DateTime, TimeZone, Utc};
use tributary::config::OutputFormat;
use tributary::model::Enclosure;
use tributary::publish::{FeedMeta, PublishedEntry, SourceRef, content_type, render, render_with};

fn date(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, day, hour, 15, 0).unwrap()
}

fn meta() -> FeedMeta {
    FeedMeta {
        title: "Revue de presse".into(),
        description: Some("Toute l'actualité & plus encore".into()),
        public_url: "http://127.0.0.1:8080".into(),
        updated: date(6, 12),
        topic: None,
        links: Default::default(),
    }
}

fn source(name: &str, title: &str, link: Option<&str>) -> SourceRef {
    SourceRef {
        name: name.into(),
        feed_url: format!("https://{name}.example/rss.xml"),
        feed_title: Some(title.into()),
        site_link: Some(format!("https://{name}.example/")),
        link: link.map(String::from),
    }
}

fn base_entry(id: &str, title: &str, published: DateTime<Utc>) -> PublishedEntry {
    PublishedEntry {
        id: id.into(),
        title: title.into(),
        link: None,
        published,
        updated: published,
        content_html: None,
        summary: None,
        authors: Vec::new(),
        categories: Vec::new(),
        enclosures: Vec::new(),
        image: None,
        origin: source("quotidien", "Le Quotidien", None),
        also: Vec::new(),
    }
}

/// A wire story carried by three sites, one of them linking the same page with tracking tags.
fn merged_story() -> PublishedEntry {
    let link = "https://quotidien.example/politique/retraites-agricoles-1234.html";
    PublishedEntry {
        link: Some(link.into()),
        updated: date(6, 11),
        content_html: Some(
            "<p>Les députés ont adopté mardi le projet de loi sur les petites retraites \
             agricoles.</p><p>«\u{a0}C’est une mesure de justice\u{a0}», a déclaré le ministre.</p>"
                .into(),
        ),
        summary: Some("Les députés ont adopté le projet de loi.".into()),
        authors: vec!["Agence France-Presse".into()],
        categories: vec!["Politique".into(), "Agriculture".into(), "Politique".into()],
        image: Some("https://quotidien.example/img/hemicycle.jpg".into()),
        origin: source("quotidien", "Le Quotidien", Some(link)),
        also: vec![
            source(
                "gazette",
                "La Gazette régionale",
                Some("https://gazette.example/article/5678"),
            ),
            source(
                "hebdo",
                "L'Hebdo",
                Some(&format!("{link}?utm_source=atom&fbclid=1")),
            ),
        ],
        ..base_entry(
            "urn:tributary:entry:1",
            "Retraites agricoles : les députés adoptent la revalorisation",
            date(6, 9),
        )
    }
}

fn podcast() -> PublishedEntry {
    PublishedEntry {
        link: Some("https://radio.example/emissions/matinale-2024-03-05".into()),
        content_html: Some("<p>La matinale du 5 mars.</p>".into()),
        enclosures: vec![
            Enclosure {
                url: "https://radio.example/audio/matinale.mp3".into(),
                mime_type: Some("audio/mpeg".into()),
                length: Some(12_345_678),
            },
            Enclosure {
                url: "https://radio.example/audio/matinale.ogg".into(),
                mime_type: Some("audio/ogg".into()),
                length: None,
            },
        ],
        origin: source(
            "radio",
            "Radio Exemple",
            Some("https://radio.example/emissions/matinale-2024-03-05"),
        ),
        ..base_entry("urn:tributary:entry:2", "La matinale", date(5, 7))
    }
}

fn needs_escaping() -> PublishedEntry {
    PublishedEntry {
        link: Some("https://quotidien.example/search?q=tom&page=2".into()),
        content_html: Some("<p>Fish &amp; chips &lt;3 ]]&gt; done\u{1}.</p>".into()),
        summary: Some("<b>not markup</b> & \"quoted\" \u{b}".into()),
        authors: vec!["Tom & Jerry <tj@example.org>".into()],
        categories: vec!["R&D".into(), "  ".into()],
        ..base_entry(
            "tag:quotidien.example,2024:<&>",
            "Tom & Jerry <3 \"quotes\" ]]> \u{0}\u{1b}ok",
            date(4, 18),
        )
    }
}

fn hostile_content() -> PublishedEntry {
    PublishedEntry {
        link: Some("https://gazette.example/article/evil".into()),
        content_html: Some(
            "<p onclick=\"steal()\">Bonjour<script>alert(1)</script> \
             <a href=\"javascript:alert(2)\">lien</a><img src=\"https://gazette.example/i.png\" \
             onerror=\"alert(3)\"></p><iframe src=\"https://www.youtube.com/embed/abc\"></iframe>\
             <iframe src=\"https://evil.example/frame\"></iframe>"
                .into(),
        ),
        origin: source("gazette", "La Gazette régionale", None),
        ..base_entry("urn:tributary:entry:4", "Un article piégé", date(3, 8))
    }
}

fn summary_only() -> PublishedEntry {
    PublishedEntry {
        summary: Some("Résumé seul, sans page ni auteur.".into()),
        ..base_entry("urn:tributary:entry:5", "Brève", date(2, 6))
    }
}

fn fixture_entries() -> Vec<PublishedEntry> {
    // Newest first, as the store's query gives them (ties by id).
    let mut entries = vec![
        summary_only(),
        podcast(),
        merged_story(),
        hostile_content(),
        needs_escaping(),
    ];
    entries.sort_by(|left, right| (right.published, &left.id).cmp(&(left.published, &right.id)));
    entries
}

fn snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/publish")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(actual, expected, "snapshot {name} differs");
}

fn rendered(format: OutputFormat) -> String {
    let video_hosts = ["www.youtube.com".to_string()];
    render_with(&meta(), &fixture_entries(), format, &video_hosts)
}

#[test]
fn atom_matches_its_snapshot() {
    snapshot("merged.atom", &rendered(OutputFormat::Atom));
}

#[test]
fn rss_matches_its_snapshot() {
    snapshot("merged.rss", &rendered(OutputFormat::Rss));
}

#[test]
fn json_matches_its_snapshot() {
    snapshot("merged.json", &rendered(OutputFormat::Json));
}

/// Every format, read back by feed-rs, keeps each entry's title, link, date and content.
#[test]
fn every_format_reads_back_with_titles_links_dates_and_content() {
    let expected = fixture_entries();
    for format in [OutputFormat::Atom, OutputFormat::Rss, OutputFormat::Json] {
        let output = rendered(format);
        let feed = feed_rs::parser::parse(output.as_bytes())
            .unwrap_or_else(|error| panic!("{format:?} does not parse: {error}"));
        assert_eq!(feed.title.unwrap().content, "Revue de presse");
        assert_eq!(feed.entries.len(), expected.len(), "{format:?}");
        for (entry, want) in feed.entries.iter().zip(&expected) {
            let title = &entry.title.as_ref().expect("a title").content;
            assert_eq!(title, &expected_title(&want.title), "{format:?}");
            assert_eq!(entry.published, Some(want.published), "{format:?} {title}");
            let first_link = entry.links.first().map(|link| link.href.as_str());
            assert_eq!(first_link, want.link.as_deref(), "{format:?} {title}");
            let content = entry
                .content
                .as_ref()
                .and_then(|content| content.body.clone())
                .expect("content");
            let want_text = want
                .content_html
                .as_deref()
                .or(want.summary.as_deref())
                .unwrap();
            assert!(
                content.contains(first_words(want_text)),
                "{format:?} {title}: {content}"
            );
        }
    }
}

/// A title as published: characters XML forbids removed, whitespace collapsed.
fn expected_title(title: &str) -> String {
    let visible: String = title.chars().filter(|c| !c.is_control()).collect();
    visible.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first run of plain words of an HTML snippet, to look for in rendered content.
fn first_words(html: &str) -> &str {
    let mut text = html;
    while text.starts_with('<') {
        text = &text[text.find('>').map_or(text.len(), |end| end + 1)..];
    }
    let end = text.find(['<', '&', '.', ',']).unwrap_or(text.len());
    &text[..end]
}

#[test]
fn strict_atom_and_rss_readers_accept_the_output() {
    let atom = rendered(OutputFormat::Atom);
    let feed = atom_syndication::Feed::read_from(atom.as_bytes()).expect("valid Atom");
    assert_eq!(feed.entries().len(), 5);
    let rss = rendered(OutputFormat::Rss);
    let channel = rss::Channel::read_from(rss.as_bytes()).expect("valid RSS");
    assert_eq!(channel.items().len(), 5);
    let json: serde_json::Value = serde_json::from_str(&rendered(OutputFormat::Json)).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 5);
}

#[test]
fn xml_outputs_are_well_formed() {
    for format in [OutputFormat::Atom, OutputFormat::Rss] {
        let output = rendered(format);
        if let Err(problem) = check_well_formed(&output) {
            panic!("{format:?}: {problem}\n{output}");
        }
    }
}

#[test]
fn atom_has_self_link_author_and_a_source_for_every_entry() {
    let output = rendered(OutputFormat::Atom);
    assert!(output.contains(
        r#"<link rel="self" type="application/atom+xml" href="http://127.0.0.1:8080/feed.atom"/>"#
    ));
    let feed = atom_syndication::Feed::read_from(output.as_bytes()).unwrap();
    assert_eq!(feed.authors().len(), 1);
    for entry in feed.entries() {
        assert!(!entry.id().is_empty() && !entry.title().is_empty());
        assert!(!entry.authors().is_empty(), "{}", entry.title().as_str());
        let source = entry.source().expect("atom:source");
        assert!(source.id().starts_with("https://") && source.id().ends_with("/rss.xml"));
        assert!(!source.title().is_empty());
        assert!(source.links().iter().any(|link| link.rel() == "self"));
        assert!(DateTime::parse_from_rfc3339(&entry.updated().to_rfc3339()).is_ok());
    }
    for date in element_texts(&output, "updated")
        .iter()
        .chain(&element_texts(&output, "published"))
    {
        assert!(DateTime::parse_from_rfc3339(date).is_ok(), "{date}");
        assert!(date.ends_with('Z'), "{date}");
    }
}

#[test]
fn merged_story_names_and_links_every_source_in_every_format() {
    let story = merged_story();
    let entries = [story];
    let atom = render(&meta(), &entries, OutputFormat::Atom);
    let feed = atom_syndication::Feed::read_from(atom.as_bytes()).unwrap();
    let entry = &feed.entries()[0];
    assert_eq!(entry.source().unwrap().title().as_str(), "Le Quotidien");
    let related: Vec<&str> = entry
        .links()
        .iter()
        .filter(|link| link.rel() == "related")
        .map(|link| link.href())
        .collect();
    // The Hebdo linked the origin's own page (with tracking tags): not repeated as related.
    assert_eq!(related, ["https://gazette.example/article/5678"]);
    let alternates = entry
        .links()
        .iter()
        .filter(|link| link.rel() == "alternate")
        .count();
    assert_eq!(alternates, 1);

    let rss = render(&meta(), &entries, OutputFormat::Rss);
    let channel = rss::Channel::read_from(rss.as_bytes()).unwrap();
    let item = &channel.items()[0];
    assert_eq!(
        item.source().unwrap().url(),
        "https://quotidien.example/rss.xml"
    );
    assert_eq!(item.source().unwrap().title(), Some("Le Quotidien"));

    let json: serde_json::Value =
        serde_json::from_str(&render(&meta(), &entries, OutputFormat::Json)).unwrap();
    let sources = json["items"][0]["_tributary"]["sources"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = sources
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["quotidien", "gazette", "hebdo"]);

    for content in [
        entry.content().unwrap().value().unwrap().to_string(),
        item.content().unwrap().to_string(),
        json["items"][0]["content_html"]
            .as_str()
            .unwrap()
            .to_string(),
    ] {
        for name in [
            "Le Quotidien",
            "La Gazette régionale",
            "L'Hebdo",
            "Also reported by",
        ] {
            assert!(content.contains(name), "{name} missing in {content}");
        }
        assert!(content.contains(r#"<a href="https://gazette.example/article/5678">"#));
        assert!(
            !content.contains("utm_source"),
            "tracking tags are dropped from source links"
        );
    }
}

#[test]
fn rss_items_have_guid_rfc822_dates_content_and_one_enclosure() {
    let output = rendered(OutputFormat::Rss);
    assert!(output.contains(
        r#"<atom:link rel="self" type="application/rss+xml" href="http://127.0.0.1:8080/feed.rss"/>"#
    ));
    let channel = rss::Channel::read_from(output.as_bytes()).unwrap();
    assert!(DateTime::parse_from_rfc2822(channel.last_build_date().unwrap()).is_ok());
    for item in channel.items() {
        let guid = item.guid().expect("guid");
        assert!(!guid.is_permalink(), "{}", guid.value());
        assert!(DateTime::parse_from_rfc2822(item.pub_date().unwrap()).is_ok());
        assert!(item.description().is_some() && item.content().is_some());
        assert!(
            item.author().is_none(),
            "RSS author must be an e-mail address"
        );
    }
    let podcast = channel
        .items()
        .iter()
        .find(|i| i.title() == Some("La matinale"))
        .unwrap();
    let enclosure = podcast.enclosure().unwrap();
    assert_eq!(enclosure.url(), "https://radio.example/audio/matinale.mp3");
    assert_eq!(enclosure.length(), "12345678");
    assert_eq!(enclosure.mime_type(), "audio/mpeg");
    assert_eq!(output.matches("<enclosure ").count(), 1);
    assert!(output.contains(
        r#"<media:content url="https://radio.example/audio/matinale.ogg" type="audio/ogg"/>"#
    ));
}

#[test]
fn json_feed_has_the_1_1_fields() {
    let json: serde_json::Value = serde_json::from_str(&rendered(OutputFormat::Json)).unwrap();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["feed_url"], "http://127.0.0.1:8080/feed.json");
    assert_eq!(json["home_page_url"], "http://127.0.0.1:8080/");
    for item in json["items"].as_array().unwrap() {
        assert!(item["id"].is_string() && item["title"].is_string());
        assert!(DateTime::parse_from_rfc3339(item["date_published"].as_str().unwrap()).is_ok());
        assert!(DateTime::parse_from_rfc3339(item["date_modified"].as_str().unwrap()).is_ok());
        assert!(!item["authors"].as_array().unwrap().is_empty());
    }
    let podcast = &json["items"][1];
    assert_eq!(podcast["title"], "La matinale");
    let attachments = podcast["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0]["size_in_bytes"], 12_345_678);
    assert_eq!(attachments[1]["mime_type"], "audio/ogg");
    assert_eq!(
        json["items"][0]["tags"],
        serde_json::json!(["Politique", "Agriculture"])
    );
}

#[test]
fn scripts_handlers_and_javascript_urls_never_reach_the_output() {
    for format in [OutputFormat::Atom, OutputFormat::Rss, OutputFormat::Json] {
        let output = rendered(format);
        for forbidden in [
            "<script",
            "&lt;script",
            "\\u003cscript",
            "onclick",
            "onerror",
            "javascript:",
            "evil.example",
        ] {
            assert!(
                !output.contains(forbidden),
                "{format:?} contains {forbidden}"
            );
        }
        assert!(output.contains("Bonjour"), "{format:?} lost the text");
        assert!(
            output.contains("youtube.com/embed/abc"),
            "{format:?} lost the allowed video"
        );
    }
}

#[test]
fn forbidden_characters_are_stripped_everywhere() {
    for format in [OutputFormat::Atom, OutputFormat::Rss, OutputFormat::Json] {
        let output = rendered(format);
        let bad = output
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'));
        assert_eq!(bad, None, "{format:?}");
        assert!(
            !output.contains("\\u0000") && !output.contains("\\u001b"),
            "{format:?}"
        );
    }
}

#[test]
fn an_empty_feed_is_still_valid() {
    for format in [OutputFormat::Atom, OutputFormat::Rss, OutputFormat::Json] {
        let output = render(&meta(), &[], format);
        let feed = feed_rs::parser::parse(output.as_bytes()).unwrap();
        assert!(feed.entries.is_empty());
    }
    assert!(
        atom_syndication::Feed::read_from(render(&meta(), &[], OutputFormat::Atom).as_bytes())
            .is_ok()
    );
}

#[test]
fn content_types_name_each_format() {
    assert!(content_type(OutputFormat::Atom).starts_with("application/atom+xml"));
    assert!(content_type(OutputFormat::Rss).starts_with("application/rss+xml"));
    assert!(content_type(OutputFormat::Json).starts_with("application/feed+json"));
}

/// The text of every `<name>` element (no attributes), unescaped only as far as these tests need.
pub(crate) fn element_texts(xml: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    xml.match_indices(&open)
        .filter_map(|(start, _)| {
            let rest = &xml[start + open.len()..];
            rest.find(&close).map(|end| rest[..end].to_string())
        })
        .collect()
}

/// A small XML 1.0 well-formedness check: one root, properly nested and matched tags, quoted
/// attributes, only predefined or numeric entity references, no forbidden characters.
pub fn check_well_formed(xml: &str) -> Result<(), String> {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
        .ok_or("missing XML declaration")?;
    if let Some(bad) = body
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(format!("forbidden character {bad:?}"));
    }
    let mut open: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    while let Some(start) = rest.find(['<', '&']) {
        check_text(&rest[..start], &open)?;
        rest = &rest[start..];
        if rest.starts_with('&') {
            let end = rest.find(';').ok_or("unterminated entity")?;
            check_entity(&rest[1..end])?;
            rest = &rest[end + 1..];
            continue;
        }
        let end = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let expected = open.pop().ok_or("close without open")?;
            if expected != name {
                return Err(format!("</{name}> closes <{expected}>"));
            }
        } else {
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = check_start_tag(tag)?;
            if open.is_empty() {
                roots += 1;
            }
            if !self_closing {
                open.push(name);
            }
        }
    }
    check_text(rest, &open)?;
    match (open.is_empty(), roots) {
        (true, 1) => Ok(()),
        _ => Err(format!("unclosed {open:?} or {roots} roots")),
    }
}

fn check_text(text: &str, open: &[String]) -> Result<(), String> {
    if open.is_empty() && !text.trim().is_empty() {
        return Err(format!("text outside the root: {text:?}"));
    }
    if text.contains('>') && text.contains("]]>") {
        return Err("]]> in text".into());
    }
    Ok(())
}

fn check_entity(name: &str) -> Result<(), String> {
    let numeric = name
        .strip_prefix("#x")
        .map(|hex| u32::from_str_radix(hex, 16).is_ok())
        .or_else(|| name.strip_prefix('#').map(|dec| dec.parse::<u32>().is_ok()));
    match (numeric, name) {
        (Some(true), _) | (None, "amp" | "lt" | "gt" | "quot" | "apos") => Ok(()),
        _ => Err(format!("unknown entity &{name};")),
    }
}

/// Checks `name attr="value" ...` and returns the name.
fn check_start_tag(tag: &str) -> Result<String, String> {
    let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
    let name = &tag[..name_end];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || ":_-.".contains(c))
    {
        return Err(format!("bad element name in <{tag}>"));
    }
    let mut attributes = tag[name_end..].trim();
    while !attributes.is_empty() {
        let (attribute, rest) = attributes
            .split_once("=\"")
            .ok_or(format!("unquoted attribute in <{tag}>"))?;
        if attribute.trim().is_empty() || attribute.contains(char::is_whitespace) {
            return Err(format!("bad attribute in <{tag}>"));
        }
        let (value, rest) = rest
            .split_once('"')
            .ok_or(format!("unterminated attribute in <{tag}>"))?;
        if value.contains('<') {
            return Err(format!("< in attribute of <{tag}>"));
        }
        attributes = rest.trim_start();
    }
    Ok(name.to_string())
}

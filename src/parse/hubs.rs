//! WebSub discovery: the hub and the topic (`self` URL) a feed document advertises.
//!
//! feed-rs keeps neither RSS's `atom:link` nor JSON Feed's `hubs`, so the document is scanned
//! here: Atom and RSS `<link rel="hub">` / `<link rel="self">` at feed level (the scan stops at
//! the first entry, whose links are the entry's), JSON Feed's `hubs` and `feed_url`.

/// A feed's WebSub links, both absolute (resolved against the URL the feed came from).
#[derive(Debug, Clone, PartialEq)]
pub struct HubLinks {
    pub hub: String,
    /// The feed's canonical URL as it advertises it: the topic to subscribe to.
    pub topic: String,
}

/// The hub and topic `body` advertises, if it advertises both.
pub fn websub_links(body: &[u8], feed_url: &url::Url) -> Option<HubLinks> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace())?;
    let (hub, topic) = match first {
        b'{' => json_links(body)?,
        _ => xml_links(body),
    };
    let absolute = |link: Option<String>| -> Option<String> {
        let url = feed_url.join(link?.trim()).ok()?;
        matches!(url.scheme(), "http" | "https").then(|| url.to_string())
    };
    Some(HubLinks {
        hub: absolute(hub)?,
        topic: absolute(topic)?,
    })
}

fn json_links(body: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let feed: serde_json::Value = serde_json::from_slice(body).ok()?;
    let hub = feed["hubs"]
        .as_array()?
        .iter()
        .find(|hub| {
            hub["type"]
                .as_str()
                .is_none_or(|kind| kind.eq_ignore_ascii_case("websub"))
        })
        .and_then(|hub| hub["url"].as_str())
        .map(str::to_string);
    let topic = feed["feed_url"].as_str().map(str::to_string);
    Some((hub, topic))
}

/// Feed-level `link` elements of any namespace prefix (`link`, `atom:link`, `atom10:link`).
fn xml_links(body: &[u8]) -> (Option<String>, Option<String>) {
    use quick_xml::events::Event;
    let text = String::from_utf8_lossy(body);
    let mut reader = quick_xml::Reader::from_str(&text);
    let (mut hub, mut topic) = (None, None);
    loop {
        let tag = match reader.read_event() {
            Ok(Event::Start(tag)) | Ok(Event::Empty(tag)) => tag,
            Ok(Event::Eof) | Err(_) => break,
            _ => continue,
        };
        let name = tag.local_name();
        let name = name.as_ref();
        if name.eq_ignore_ascii_case("item") || name.eq_ignore_ascii_case("entry") {
            break;
        }
        if !name.eq_ignore_ascii_case("link") {
            continue;
        }
        let (mut rel, mut href) = (None, None);
        for attribute in tag.html_attributes().with_checks(false).flatten() {
            let value = crate::parse::decode_html_entities(&attribute.value);
            match attribute.key.local_name().as_ref() {
                "rel" => rel = Some(value.to_ascii_lowercase()),
                "href" => href = Some(value),
                _ => {}
            }
        }
        let rels = rel.unwrap_or_default();
        let mut rels = rels.split_ascii_whitespace();
        if rels.clone().any(|rel| rel == "hub") && hub.is_none() {
            hub = href;
        } else if rels.any(|rel| rel == "self") && topic.is_none() {
            topic = href;
        }
    }
    (hub, topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> url::Url {
        url::Url::parse("http://site.example/feeds/main.xml").unwrap()
    }

    #[test]
    fn atom_hub_and_self_are_found_and_resolved() {
        let atom = br#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
            <link rel="self" href="/feeds/main.xml"/><link rel="hub" href="https://hub.example/"/>
            <entry><link rel="hub" href="http://wrong.example/"/></entry></feed>"#;
        assert_eq!(
            websub_links(atom, &base()),
            Some(HubLinks {
                hub: "https://hub.example/".into(),
                topic: "http://site.example/feeds/main.xml".into()
            })
        );
    }

    #[test]
    fn rss_atom_links_are_found_and_entry_links_ignored() {
        let rss = br#"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
            <link>http://site.example/</link>
            <atom:link rel="self" href="http://site.example/rss?a=1&amp;b=2"/>
            <item><atom:link rel="hub" href="http://h.example/"/></item></channel></rss>"#;
        assert_eq!(
            websub_links(rss, &base()),
            None,
            "the item's hub is not the feed's"
        );
        let rss = br#"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
            <atom:link rel="hub" href="http://h.example/"/>
            <atom:link rel="self" href="http://site.example/rss?a=1&amp;b=2"/></channel></rss>"#;
        let links = websub_links(rss, &base()).unwrap();
        assert_eq!(links.topic, "http://site.example/rss?a=1&b=2");
        assert_eq!(links.hub, "http://h.example/");
    }

    #[test]
    fn json_feed_hubs_and_feed_url_are_found() {
        let json = br#"{"version":"https://jsonfeed.org/version/1.1","title":"t",
            "feed_url":"https://site.example/feed.json",
            "hubs":[{"type":"rssCloud","url":"http://cloud/"},{"type":"WebSub","url":"https://hub/"}],
            "items":[]}"#;
        let links = websub_links(json, &base()).unwrap();
        assert_eq!(links.hub, "https://hub/");
        assert_eq!(links.topic, "https://site.example/feed.json");
    }

    #[test]
    fn a_feed_without_a_hub_or_with_a_non_web_hub_has_none() {
        let atom =
            br#"<feed xmlns="http://www.w3.org/2005/Atom"><link rel="self" href="x"/></feed>"#;
        assert_eq!(websub_links(atom, &base()), None);
        let atom = br#"<feed><link rel="self" href="x"/><link rel="hub" href="ftp://h/"/></feed>"#;
        assert_eq!(websub_links(atom, &base()), None);
    }
}

//! HTML sanitizing shared by parse (feed content), extract (article output) and publish.
//!
//! One policy for the whole product: simple structural markup, absolute URLs, no scripts,
//! styles, event handlers, `javascript:` URLs or iframes except from allowed video hosts.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;

thread_local! {
    /// Building an ammonia policy costs about a third of a sanitize call, so each thread keeps
    /// the one it built for the last video-host list. Its relative-URL rewriting reads the
    /// base from `BASE`, set around each call, since the base changes with every document.
    static CLEANER: RefCell<Option<(Vec<String>, ammonia::Builder<'static>)>> =
        const { RefCell::new(None) };
    static BASE: RefCell<Option<url::Url>> = const { RefCell::new(None) };
}

/// Sanitizes `html`, resolving relative URLs against `base` when given.
pub fn clean_html(html: &str, base: Option<&url::Url>, video_hosts: &[String]) -> String {
    BASE.with(|current| *current.borrow_mut() = base.cloned());
    let cleaned = CLEANER.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached
            .as_ref()
            .is_none_or(|(hosts, _)| hosts != video_hosts)
        {
            *cached = Some((video_hosts.to_vec(), policy(video_hosts)));
        }
        let (_, builder) = cached.as_ref().expect("just built");
        builder.clean(html).to_string()
    });
    BASE.with(|current| *current.borrow_mut() = None);
    drop_empty_iframes(cleaned)
}

fn resolve_relative(url: &str) -> Option<Cow<'_, str>> {
    BASE.with(|current| match current.borrow().as_ref() {
        Some(base) => base
            .join(url)
            .ok()
            .map(|absolute| Cow::Owned(absolute.into())),
        None => Some(Cow::Borrowed(url)),
    })
}

fn policy(video_hosts: &[String]) -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags([
            "figure",
            "figcaption",
            "picture",
            "source",
            "iframe",
            "video",
            "audio",
        ])
        .add_tag_attributes("img", ["src", "alt", "title", "width", "height"])
        .add_tag_attributes("source", ["src", "type"])
        .add_tag_attributes("video", ["src", "controls", "poster"])
        .add_tag_attributes("audio", ["src", "controls"])
        .add_tag_attributes("iframe", ["src", "width", "height", "allowfullscreen"])
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::Custom(Box::new(resolve_relative)));
    let allowed_hosts: Vec<String> = video_hosts.to_vec();
    builder.attribute_filter(move |element, attribute, value| {
        if element == "iframe" && attribute == "src" {
            let host = url::Url::parse(value)
                .ok()
                .and_then(|url| url.host_str().map(str::to_string));
            return match host {
                Some(host) if allowed_hosts.contains(&host) => Some(value.into()),
                _ => None,
            };
        }
        Some(value.into())
    });
    builder
}

/// An iframe whose source was refused is an empty box: drop it.
fn drop_empty_iframes(html: String) -> String {
    if !html.contains("<iframe") {
        return html;
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<iframe") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let Some(end) = tail.find("</iframe>") else {
            out.push_str(tail);
            return out;
        };
        let element = &tail[..end + "</iframe>".len()];
        let open_tag = &element[..element.find('>').unwrap_or(element.len())];
        if open_tag.contains(" src=") {
            out.push_str(element);
        }
        rest = &tail[end + "</iframe>".len()..];
    }
    out.push_str(rest);
    out
}

/// Plain text of an HTML fragment, one block per line, for summaries and fingerprints.
pub fn plain_text(html: &str) -> String {
    let fragment = scraper::Html::parse_fragment(html);
    let mut text = String::new();
    for node in fragment.root_element().descendants() {
        match node.value() {
            scraper::Node::Text(chunk) => text.push_str(chunk),
            scraper::Node::Element(element) if is_block(element.name()) => text.push('\n'),
            _ => {}
        }
    }
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "tr"
            | "figcaption"
            | "pre"
            | "section"
            | "article"
    )
}

/// The first `max_chars` characters of `text`, cut at a word boundary, with an ellipsis.
pub fn truncate_words(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let at_word = cut
        .rfind(char::is_whitespace)
        .map_or(cut.as_str(), |end| &cut[..end]);
    format!("{}…", at_word.trim_end())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cached_policy_follows_each_calls_base_and_hosts() {
        let first = url::Url::parse("https://one.example/a/").unwrap();
        let second = url::Url::parse("https://two.example/b/").unwrap();
        assert!(
            clean_html("<a href=\"x\">x</a>", Some(&first), &[])
                .contains("https://one.example/a/x")
        );
        assert!(
            clean_html("<a href=\"x\">x</a>", Some(&second), &[])
                .contains("https://two.example/b/x")
        );
        assert!(clean_html("<a href=\"x\">x</a>", None, &[]).contains("href=\"x\""));
        let video = "<iframe src=\"https://v.example/1\"></iframe>";
        assert!(!clean_html(video, None, &[]).contains("v.example"));
        assert!(clean_html(video, None, &["v.example".to_string()]).contains("v.example"));
    }

    #[test]
    fn plain_text_keeps_block_boundaries() {
        assert_eq!(
            plain_text("<p>Un  deux</p><p>trois<br>quatre &amp; cinq</p>"),
            "Un deux\ntrois\nquatre & cinq"
        );
        assert_eq!(truncate_words("alpha beta gamma", 12), "alpha beta…");
        assert_eq!(truncate_words("alpha", 12), "alpha");
    }

    use super::*;

    #[test]
    fn removes_scripts_handlers_and_javascript_urls() {
        let dirty = r#"<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(1)">x</a></p>"#;
        let clean = clean_html(dirty, None, &[]);
        assert!(!clean.contains("script"));
        assert!(!clean.contains("onclick"));
        assert!(!clean.contains("javascript:"));
        assert!(clean.contains("Hi"));
    }

    #[test]
    fn resolves_relative_urls_and_filters_iframes() {
        let base = url::Url::parse("https://news.example/a/b.html").unwrap();
        let hosts = vec!["www.youtube.com".to_string()];
        let clean = clean_html(
            r#"<img src="/i.jpg"><iframe src="https://evil.example/x"></iframe><iframe src="https://www.youtube.com/embed/1"></iframe>"#,
            Some(&base),
            &hosts,
        );
        assert!(
            clean.contains(r#"src="https://news.example/i.jpg""#),
            "{clean}"
        );
        assert!(!clean.contains("evil.example"));
        assert_eq!(
            clean.matches("<iframe").count(),
            1,
            "the refused iframe is dropped: {clean}"
        );
        assert!(clean.contains("youtube.com/embed/1"));
    }
}

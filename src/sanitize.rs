//! HTML sanitizing shared by parse (feed content), extract (article output) and publish.
//!
//! One policy for the whole product: simple structural markup, absolute URLs, no scripts,
//! styles, event handlers, `javascript:` URLs or iframes except from allowed video hosts.

use std::collections::HashSet;

/// Sanitizes `html`, resolving relative URLs against `base` when given.
pub fn clean_html(html: &str, base: Option<&url::Url>, video_hosts: &[String]) -> String {
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
        .url_schemes(HashSet::from(["http", "https", "mailto"]));
    if let Some(base) = base {
        builder.url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()));
    } else {
        builder.url_relative(ammonia::UrlRelative::PassThrough);
    }
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
    builder.clean(html).to_string()
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
        assert!(clean.contains("youtube.com/embed/1"));
    }
}

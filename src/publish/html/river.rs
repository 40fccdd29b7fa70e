//! The river: merged stories newest first, each with every source that carried it, paged.
//!
//! A story's full text is its stored, already-sanitized HTML, cleaned once more here without
//! images, frames or media: the page loads nothing from another origin (see
//! `CONTENT_SECURITY_POLICY`). The lead image is the one picture shown, served by tributary
//! itself (`image_path`); a reader opens the original for the others.

use std::sync::LazyLock;

use maud::{Markup, PreEscaped, html};

use super::layout::{self, Alternate, Shell};
use crate::publish::PublishedEntry;
use crate::publish::content::{self, source_display_name, source_page};

/// Stories on one page of the river.
pub const PAGE_SIZE: usize = 20;

/// Characters of an excerpt before it is cut at a word.
const EXCERPT_CHARS: usize = 280;

/// One page of a river (the main one or a topic's).
#[derive(Debug, Clone)]
pub struct RiverPage<'a> {
    /// `<h1>`: the site's title, or `#tag`.
    pub heading: String,
    /// Where page 1 lives: `/` or `/tags/{tag}`; later pages are `{base}/page/{n}`.
    pub base: String,
    /// 1-based.
    pub number: usize,
    pub page_count: usize,
    /// The page's stories, each already rendered by [`story_html`] (a story shows on the river
    /// and on its topics' pages: it is rendered once per snapshot, not once per page).
    pub stories: &'a [String],
    pub alternates: Vec<Alternate>,
}

/// The path of page `number` of the river whose first page is `base`.
pub fn page_path(base: &str, number: usize) -> String {
    let base = base.trim_end_matches('/');
    match number {
        0 | 1 if base.is_empty() => "/".to_string(),
        0 | 1 => base.to_string(),
        _ => format!("{base}/page/{number}"),
    }
}

/// Renders one page of a river.
pub fn render(shell: &Shell, river: &RiverPage<'_>) -> String {
    let title = if river.number > 1 {
        format!("{} (page {})", river.heading, river.number)
    } else {
        river.heading.clone()
    };
    let body = html! {
        h1 { (title) }
        @if river.stories.is_empty() {
            p.empty { "No stories yet." }
        }
        @for story in river.stories {
            (PreEscaped(story))
        }
        (pagination(river))
    };
    layout::page(shell, &title, &river.alternates, body)
}

/// One story as an `<article>`, for [`RiverPage::stories`].
pub fn story_html(entry: &PublishedEntry) -> String {
    story(entry).into_string()
}

fn story(entry: &PublishedEntry) -> Markup {
    let title = content::title(entry);
    let link = entry
        .link
        .as_deref()
        .filter(|link| content::is_web_url(link));
    let full_text = full_text(entry);
    let excerpt = excerpt(entry, &full_text);
    let lead_image = entry
        .image
        .as_deref()
        .filter(|url| content::is_web_url(url))
        .map(super::image_path);
    html! {
        article.story {
            h2 {
                @if let Some(link) = link { a href=(link) { (title) } } @else { (title) }
            }
            p.meta {
                time datetime=(crate::publish::rfc3339(entry.published)) {
                    (entry.published.format("%-d %b %Y, %H:%M UTC"))
                }
                " · "
                span.sources {
                    @for (index, source) in std::iter::once(&entry.origin).chain(&entry.also).enumerate() {
                        @if index > 0 { ", " }
                        @if let Some(page) = source_page(source) {
                            a.source href=(page) { (source_display_name(source)) }
                        } @else {
                            span.source { (source_display_name(source)) }
                        }
                    }
                }
            }
            @if let Some(image) = lead_image {
                img.lead src=(image) alt=(title) loading="lazy";
            }
            @if !full_text.is_empty() {
                details {
                    summary { (excerpt) }
                    div.full { (PreEscaped(&full_text)) }
                }
            }
        }
    }
}

fn pagination(river: &RiverPage<'_>) -> Markup {
    html! {
        @if river.page_count > 1 {
            nav.pages aria-label="Pages" {
                @if river.number > 1 {
                    a rel="prev" href=(page_path(&river.base, river.number - 1)) { "← Newer stories" }
                }
                span { "Page " (river.number) " of " (river.page_count) }
                @if river.number < river.page_count {
                    a rel="next" href=(page_path(&river.base, river.number + 1)) { "Older stories →" }
                }
            }
        }
    }
}

/// The cleaner for the full text: the feeds' policy minus anything that loads a resource.
static TEXT_ONLY: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .rm_tags(["img"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect());
    builder
});

/// The story's full text as HTML without resources, or "" when it has none.
fn full_text(entry: &PublishedEntry) -> String {
    match (&entry.content_html, &entry.summary) {
        (Some(html), _) if !html.trim().is_empty() => TEXT_ONLY.clean(html).to_string(),
        (_, Some(summary)) if !summary.trim().is_empty() => {
            format!("<p>{}</p>", content::escape_html(summary.trim()))
        }
        _ => String::new(),
    }
}

/// The first words of the summary (or of the full text), cut at a word.
fn excerpt(entry: &PublishedEntry, full_text: &str) -> String {
    let text = match entry.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(summary) => summary.to_string(),
        None => plain_text(full_text),
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut excerpt = String::new();
    for word in words.iter() {
        if excerpt.chars().count() + word.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
            return excerpt;
        }
        if !excerpt.is_empty() {
            excerpt.push(' ');
        }
        excerpt.push_str(word);
    }
    if excerpt.is_empty() {
        "Read the text".to_string()
    } else {
        excerpt
    }
}

/// The text of sanitized HTML: tags dropped, the serializer's few entities decoded.
fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for character in html.chars() {
        match character {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::SourceRef;
    use chrono::{TimeZone, Utc};

    fn source(name: &str) -> SourceRef {
        SourceRef {
            name: name.into(),
            feed_url: format!("https://{name}.example/feed"),
            feed_title: Some(format!("{name} <News>")),
            site_link: None,
            link: Some(format!("https://{name}.example/story")),
        }
    }

    fn entry(html: Option<&str>) -> PublishedEntry {
        let date = Utc.with_ymd_and_hms(2026, 11, 30, 8, 5, 0).unwrap();
        PublishedEntry {
            id: "urn:x".into(),
            title: "Crabs & <lobsters>".into(),
            link: Some("https://a.example/story".into()),
            published: date,
            updated: date,
            content_html: html.map(String::from),
            summary: None,
            authors: vec![],
            categories: vec![],
            enclosures: vec![],
            image: None,
            origin: source("a"),
            also: vec![source("b")],
        }
    }

    fn shell() -> Shell {
        Shell {
            site_title: "Planet <Crab>".into(),
            description: None,
            tags: vec!["économie".into()],
        }
    }

    fn page(entries: &[PublishedEntry], number: usize, count: usize) -> String {
        let stories: Vec<String> = entries.iter().map(story_html).collect();
        render(
            &shell(),
            &RiverPage {
                heading: "Planet <Crab>".into(),
                base: "/".into(),
                number,
                page_count: count,
                stories: &stories,
                alternates: Alternate::three("Planet", "/feed"),
            },
        )
    }

    #[test]
    fn a_story_names_and_links_every_source_and_escapes_text() {
        let mut story = entry(Some("<p>Full <b>text</b></p>"));
        story.image = Some("https://a.example/lead.jpg".into());
        let html = page(&[story], 1, 1);
        let image = crate::publish::html::image_path("https://a.example/lead.jpg");
        assert!(
            html.contains(&format!(
                "<img class=\"lead\" src=\"{image}\" alt=\"Crabs &amp; &lt;lobsters&gt;\""
            )),
            "{html}"
        );
        assert!(html.contains("<html lang=\"en\">"), "{html}");
        assert!(html.contains("Crabs &amp; &lt;lobsters&gt;"), "{html}");
        assert!(
            html.contains(
                "<a class=\"source\" href=\"https://a.example/story\">a &lt;News&gt;</a>"
            ),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://b.example/story\">b &lt;News&gt;</a>"),
            "{html}"
        );
        assert!(
            html.contains("<details><summary>Full text</summary>"),
            "{html}"
        );
        assert!(
            html.contains("<time datetime=\"2026-11-30T08:05:00Z\">30 Nov 2026, 08:05 UTC</time>")
        );
        assert!(html.contains("<link rel=\"alternate\" type=\"application/atom+xml\""));
        assert!(
            html.contains("href=\"/tags/%C3%A9conomie\">#économie</a>"),
            "{html}"
        );
        assert!(
            !html.contains("<nav class=\"pages\""),
            "one page needs no pager"
        );
    }

    #[test]
    fn the_full_text_loads_nothing_and_runs_nothing() {
        let hostile = "<p>Hi<img src=\"https://tracker.example/p.gif\" alt=\"x\">\
                       <script>alert(1)</script><a href=\"javascript:alert(1)\">j</a>\
                       <iframe src=\"https://www.youtube.com/embed/x\"></iframe></p>";
        let html = page(&[entry(Some(hostile))], 1, 1);
        for forbidden in [
            "<img",
            "<script",
            "javascript:",
            "<iframe",
            "tracker.example",
        ] {
            assert!(!html.contains(forbidden), "{forbidden} in {html}");
        }
    }

    #[test]
    fn pages_link_newer_and_older() {
        let entries = [entry(None)];
        let middle = page(&entries, 2, 3);
        assert!(middle.contains("<a rel=\"prev\" href=\"/\">"), "{middle}");
        assert!(
            middle.contains("<a rel=\"next\" href=\"/page/3\">"),
            "{middle}"
        );
        let last = page(&entries, 3, 3);
        assert!(last.contains("rel=\"prev\" href=\"/page/2\""));
        assert!(!last.contains("rel=\"next\""));
        assert_eq!(page_path("/tags/rust", 2), "/tags/rust/page/2");
        assert_eq!(page_path("/tags/rust", 1), "/tags/rust");
    }

    #[test]
    fn excerpts_are_cut_at_a_word() {
        let long = format!("<p>{}</p>", "mot très long ".repeat(60));
        let story = entry(Some(&long));
        let cut = excerpt(&story, &full_text(&story));
        assert!(
            cut.ends_with('…') && cut.chars().count() <= EXCERPT_CHARS + 1,
            "{cut}"
        );
        assert!(cut.starts_with("mot très long mot"));
    }
}

//! Images (lazy-loading attributes, `srcset`, `<noscript>` fallbacks), embeds and data tables.

use scraper::{Html, Selector};

use super::dom::{Content, Dom};
use super::output::escape;
use super::stats::TextStats;

/// Attributes lazy-loading scripts read the real image URL from, most specific first.
const LAZY_SOURCE_ATTRIBUTES: &[&str] = &[
    "data-src",
    "data-lazy-src",
    "data-original",
    "data-lazy",
    "data-url",
    "data-full-src",
    "data-hi-res-src",
];

const LAZY_SRCSET_ATTRIBUTES: &[&str] = &["data-srcset", "data-lazy-srcset", "srcset"];

/// The real URL of an `<img>`: lazy attributes, then the widest `srcset` entry, then `src`
/// unless it is a placeholder (a data: URI or a tracking pixel).
pub fn image_source(dom: &Dom, index: usize) -> Option<String> {
    let usable = |value: &str| {
        let value = value.trim();
        !value.is_empty() && !value.starts_with("data:") && !value.starts_with("about:")
    };
    if is_pixel(dom, index) {
        return None;
    }
    for attribute in LAZY_SOURCE_ATTRIBUTES {
        if let Some(value) = dom.attr(index, attribute).filter(|value| usable(value)) {
            return Some(value.trim().to_string());
        }
    }
    for attribute in LAZY_SRCSET_ATTRIBUTES {
        if let Some(best) = dom.attr(index, attribute).and_then(widest_srcset_entry) {
            return Some(best);
        }
    }
    dom.attr(index, "src")
        .filter(|value| usable(value))
        .map(|value| value.trim().to_string())
}

fn is_pixel(dom: &Dom, index: usize) -> bool {
    let tiny = |name| {
        dom.attr(index, name)
            .and_then(|value| value.trim().parse::<u32>().ok())
            .is_some_and(|size| size <= 2)
    };
    tiny("width") || tiny("height")
}

/// The candidate with the largest width (or density) descriptor in a `srcset`.
pub fn widest_srcset_entry(srcset: &str) -> Option<String> {
    srcset
        .split(", ")
        .filter_map(|entry| {
            let mut parts = entry.split_whitespace();
            let url = parts.next()?;
            if url.starts_with("data:") {
                return None;
            }
            let size = parts
                .next()
                .and_then(|descriptor| {
                    descriptor
                        .trim_end_matches(char::is_alphabetic)
                        .parse::<f32>()
                        .ok()
                })
                .unwrap_or(1.0);
            Some((url.to_string(), size))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(url, _)| url)
}

/// Images inside a `<noscript>` (its content is raw text when parsed with scripting on).
pub fn noscript_images(dom: &Dom, index: usize) -> Vec<(String, Option<String>)> {
    let raw: String = (index + 1..dom.nodes[index].end)
        .filter_map(|node| match dom.nodes[node].content {
            Content::Text(text) => Some(text),
            _ => None,
        })
        .collect();
    if !raw.contains("<img") || raw.len() > 20_000 {
        return Vec::new();
    }
    let fragment = Html::parse_fragment(&raw);
    let selector = Selector::parse("img").expect("static selector");
    fragment
        .select(&selector)
        .filter_map(|image| {
            let source = image
                .attr("src")
                .filter(|src| !src.starts_with("data:"))
                .map(str::to_string)
                .or_else(|| image.attr("srcset").and_then(widest_srcset_entry))?;
            Some((source, image.attr("alt").map(str::to_string)))
        })
        .collect()
}

/// `<iframe>`/`<video>`/`<audio>` kept as simple HTML (iframes only from allowed hosts).
pub fn embedded_media(dom: &Dom, index: usize, video_hosts: &[String]) -> Option<String> {
    let tag = dom.tag(index);
    let source = dom
        .attr(index, "src")
        .or_else(|| dom.attr(index, "data-src"))
        .or_else(|| first_source_child(dom, index))?;
    let source = source.trim();
    if tag == "iframe" {
        let host = url::Url::parse(source)
            .ok()
            .or_else(|| url::Url::parse(&format!("https:{source}")).ok())?
            .host_str()?
            .to_string();
        if !video_hosts.contains(&host) {
            return None;
        }
        return Some(format!(
            "<iframe src=\"{}\" allowfullscreen></iframe>",
            escape(source)
        ));
    }
    Some(format!(
        "<{tag} src=\"{}\" controls></{tag}>",
        escape(source)
    ))
}

fn first_source_child<'a>(dom: &Dom<'a>, index: usize) -> Option<&'a str> {
    dom.children(index)
        .find(|&child| dom.tag(child) == "source")
        .and_then(|child| dom.attr(child, "src"))
}

/// A table of data (kept whole) rather than a layout grid (walked as blocks).
pub fn is_data_table(dom: &Dom, stats: &TextStats, index: usize) -> bool {
    let mut rows = 0;
    let mut header_cells = false;
    for node in index + 1..dom.nodes[index].end {
        match dom.tag(node) {
            "table" => return false,
            "tr" => rows += 1,
            "th" | "thead" | "caption" => header_cells = true,
            "p" | "div" | "section" | "article" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4"
                if stats.paragraph_chars[node] > 300 =>
            {
                return false;
            }
            _ => {}
        }
    }
    (rows >= 2 || header_cells) && stats.chars[index] < 20_000
}

/// A data table as `<table>` HTML (cell text only) and text with one line per row.
pub fn render_table(dom: &Dom, removed: &[bool], index: usize) -> (String, String) {
    let mut html = String::from("<table>");
    let mut lines = Vec::new();
    for row in (index + 1..dom.nodes[index].end).filter(|&node| dom.tag(node) == "tr") {
        if removed[row] {
            continue;
        }
        html.push_str("<tr>");
        let mut cells = Vec::new();
        for cell in dom.children(row) {
            let tag = dom.tag(cell);
            if tag != "td" && tag != "th" {
                continue;
            }
            let text = subtree_text(dom, removed, cell);
            html.push_str(&format!("<{tag}>{}</{tag}>", escape(&text)));
            cells.push(text);
        }
        html.push_str("</tr>");
        if cells.iter().any(|cell| !cell.is_empty()) {
            lines.push(cells.join("\t"));
        }
    }
    html.push_str("</table>");
    (html, lines.join("\n"))
}

/// The whitespace-collapsed text of a subtree.
pub fn subtree_text(dom: &Dom, removed: &[bool], index: usize) -> String {
    let end = dom.nodes[index].end;
    let mut words: Vec<&str> = Vec::new();
    for (node, is_removed) in dom.nodes[index..end].iter().zip(&removed[index..end]) {
        if let (Content::Text(text), false) = (node.content, *is_removed) {
            words.extend(text.split_whitespace());
        }
    }
    words.join(" ")
}

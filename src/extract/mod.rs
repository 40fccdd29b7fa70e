//! Page HTML -> article: clean HTML, plain text and metadata. Pure: no IO (except `batch`).
//!
//! # Layout
//! `charset` decodes bytes like a browser; `dom` copies the parsed page into a flat preorder
//! arena; `stats` counts text per node; `clean` flags boilerplate (furniture tags, hidden
//! copies, furniture classes and roles, in several languages; paragraphs of a run of prose
//! keep their place whatever their class); `score` picks the container of the article, its
//! sibling blocks and a standfirst kept outside them, and leaves out the short boxes that
//! follow the body; `teasers` finds runs of paragraphs led by links to other pages, which
//! `score` weighs as teasers; `output` renders the blocks (dropping link lists,
//! "read also" pointers, repeated paragraphs, the headline; captions become `<figcaption>`);
//! `media` resolves lazy images and data tables; `metadata` reads JSON-LD, OpenGraph, `<meta>`
//! and microdata; `batch` runs a folder of pages for benchmarks.

mod batch;
mod charset;
mod clean;
mod dom;
mod hints;
mod media;
mod metadata;
mod nesting;
mod output;
mod score;
mod site_furniture;
mod stats;
mod teasers;

use std::collections::HashSet;

use scraper::{ElementRef, Html, Selector};

use crate::model::Article;
pub use batch::{batch, batch_with};
pub use charset::decode_html;
use clean::Strictness;
use dom::{Content, Dom};
use metadata::PageFacts;
use output::{RenderInput, Rendered};
pub use site_furniture::{PageBlocks, SiteMemory};
use stats::TextStats;

/// Per-source tuning from the config.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// CSS selector of the article's container, when heuristics get the site wrong.
    pub content_selector: Option<String>,
    /// CSS selectors removed before extraction.
    pub remove_selectors: Vec<String>,
    /// Hosts whose iframes (videos) are kept.
    pub video_hosts: Vec<String>,
    /// The blocks of the site's earlier pages (from [`SiteMemory`]): what they repeat across
    /// stories is the site's furniture. Empty: the page is judged alone.
    pub site_pages: Vec<std::sync::Arc<PageBlocks>>,
}

/// Why nothing credible came out of a page.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("not an HTML page")]
    NotHtml,
    #[error("no credible article text found")]
    NothingCredible,
}

/// Below this many letters the result is a fragment, not an article.
const MIN_CREDIBLE_CHARS: usize = 60;

/// Pages are cut here before parsing, so memory stays bounded per page (a few hundred MB
/// Deeper element nesting is cut before parsing (see `nesting`): browsers cap it too, and the
/// parser's cost grows with the square of the depth.
const MAX_NESTING: usize = 512;

/// of DOM at most); article text sits far before this point on any real page.
const MAX_HTML_BYTES: usize = 8 * 1024 * 1024;

/// The structured `articleBody` is only read this far (it is a scoring signal).
const MAX_ARTICLE_BODY_CHARS: usize = 200_000;

/// Length of the opening a block must share with the structured body to be confirmed.
const CONFIRM_WINDOW_CHARS: usize = 24;

/// A strict pass this short is retried leniently (without class/id pruning).
const RETRY_BELOW_CHARS: usize = 300;

/// Extracts the article from raw page bytes.
pub fn extract(
    bytes: &[u8],
    content_type: Option<&str>,
    page_url: &url::Url,
    options: &ExtractOptions,
) -> Result<Article, ExtractError> {
    extract_for_site(bytes, content_type, page_url, options).map(|(article, _)| article)
}

/// NUL bytes early on mean an image, PDF or archive, not a page.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let has_bom = encoding_rs::Encoding::for_bom(bytes).is_some();
    !has_bom && head.iter().filter(|&&byte| byte == 0).count() > 8
}

/// [`extract`], plus the page's prose blocks for the site's memory ([`SiteMemory::remember`]).
pub fn extract_for_site(
    bytes: &[u8],
    content_type: Option<&str>,
    page_url: &url::Url,
    options: &ExtractOptions,
) -> Result<(Article, PageBlocks), ExtractError> {
    if looks_binary(bytes) {
        return Err(ExtractError::NotHtml);
    }
    let html = decode_html(bytes, content_type);
    article_and_blocks(&html, page_url, options)
}

/// Extracts the article from decoded HTML.
pub fn extract_html(
    html: &str,
    page_url: &url::Url,
    options: &ExtractOptions,
) -> Result<Article, ExtractError> {
    article_and_blocks(html, page_url, options).map(|(article, _)| article)
}

fn article_and_blocks(
    html: &str,
    page_url: &url::Url,
    options: &ExtractOptions,
) -> Result<(Article, PageBlocks), ExtractError> {
    let (facts, mut rendered) = render_article(html, page_url, options, Wanted::Html)?;
    let blocks = std::mem::take(&mut rendered.blocks);
    let article = Article {
        title: facts.metadata.title.clone(),
        content_html: crate::sanitize::clean_html(
            &rendered.html,
            Some(page_url),
            &options.video_hosts,
        ),
        text: rendered.text,
        metadata: facts.metadata,
    };
    Ok((article, blocks))
}

/// The article's plain text only: what `extract --batch` writes. It skips sanitizing the
/// article's HTML (a second parse and serialization), which only the HTML output needs.
pub fn extract_text(
    bytes: &[u8],
    content_type: Option<&str>,
    page_url: &url::Url,
    options: &ExtractOptions,
) -> Result<String, ExtractError> {
    if looks_binary(bytes) {
        return Err(ExtractError::NotHtml);
    }
    let html = decode_html(bytes, content_type);
    render_article(&html, page_url, options, Wanted::Text).map(|(_, rendered)| rendered.text)
}

/// What the caller reads of the rendered article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    /// HTML and text (`extract`, the daemon).
    Html,
    /// The text alone (`extract_text`): the HTML is never built.
    Text,
}

/// Parse, read the metadata, prune, score and render: everything but the sanitizer.
fn render_article(
    html: &str,
    page_url: &url::Url,
    options: &ExtractOptions,
    wanted: Wanted,
) -> Result<(PageFacts, Rendered), ExtractError> {
    let bounded = nesting::cap_nesting(truncate_at_char(html, MAX_HTML_BYTES), MAX_NESTING);
    let document = Html::parse_document(&bounded);
    let facts = metadata::read(&document, page_url);
    let (roots, skipped) = apply_user_selectors(&document, options);
    let dom = Dom::build(&document, &roots, &skipped);
    let forced = !roots.is_empty();
    // Counted once over the whole page: both passes prune from the same figures.
    let full_stats = TextStats::compute(&dom, &[]);
    let pass = |strictness| {
        let context = PassContext {
            dom: &dom,
            full_stats: &full_stats,
            facts: &facts,
            forced,
            options,
            wanted,
        };
        extract_pass(&context, strictness)
    };
    let mut rendered = pass(Strictness::Strict);
    if rendered.text_chars < RETRY_BELOW_CHARS && !forced {
        let lenient = pass(Strictness::Lenient);
        if lenient.text_chars > rendered.text_chars * 2 {
            rendered = lenient;
        }
    }
    if rendered.text_chars < MIN_CREDIBLE_CHARS {
        rendered = structured_body(&facts).ok_or(ExtractError::NothingCredible)?;
    }
    Ok((facts, rendered))
}

fn truncate_at_char(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What every pass over one page shares.
struct PassContext<'a, 'b> {
    dom: &'b Dom<'a>,
    full_stats: &'b TextStats,
    facts: &'b PageFacts,
    /// The source's `content_selector` chose the roots: no scoring.
    forced: bool,
    options: &'b ExtractOptions,
    wanted: Wanted,
}

/// One full pass: prune, score, render.
fn extract_pass(context: &PassContext, strictness: Strictness) -> Rendered {
    let PassContext {
        dom,
        full_stats,
        facts,
        forced,
        options,
        wanted,
    } = *context;
    let mut removed = clean::prune(dom, full_stats, strictness);
    let stats = TextStats::compute(dom, &removed);
    let roots = if forced {
        vec![0]
    } else {
        let signals = score::Signals {
            confirmed: confirmed_blocks(dom, &stats, facts.article_body.as_deref()),
        };
        let selection = score::select(dom, &stats, &removed, &signals);
        for node in selection.tail {
            removed[node..dom.nodes[node].end].fill(true);
        }
        selection.roots
    };
    let input = RenderInput {
        dom,
        stats: &stats,
        removed: &removed,
        headlines: headlines(facts),
        video_hosts: &options.video_hosts,
        text_only: wanted == Wanted::Text,
        earlier_pages: &options.site_pages,
    };
    output::render(&input, &roots)
}

/// The normalized headline variants the body must not repeat.
fn headlines(facts: &PageFacts) -> Vec<String> {
    [
        facts.metadata.title.as_deref(),
        facts.first_heading.as_deref(),
        facts.document_title.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(output::normalize)
    .filter(|headline| !headline.is_empty())
    .collect()
}

/// Marks blocks whose own text appears in the JSON-LD `articleBody`: a signal for scoring,
/// not a substitute for the page (the field is often truncated or stale).
fn confirmed_blocks(dom: &Dom, stats: &TextStats, article_body: Option<&str>) -> Vec<bool> {
    let Some(article_body) = article_body else {
        return Vec::new();
    };
    let body_key: String = output::normalize(article_body)
        .chars()
        .take(MAX_ARTICLE_BODY_CHARS)
        .collect();
    // Every window of the body, so each block is checked in constant time (a block is
    // confirmed when its opening appears in the structured body).
    let boundaries: Vec<usize> = body_key.char_indices().map(|(at, _)| at).collect();
    let windows: HashSet<&str> = boundaries
        .iter()
        .zip(boundaries.iter().skip(CONFIRM_WINDOW_CHARS))
        .map(|(&start, &end)| &body_key[start..end])
        .collect();
    let owners = stats::block_owners(dom);
    let mut own_text: Vec<String> = vec![String::new(); dom.len()];
    for (index, node) in dom.nodes.iter().enumerate() {
        if let Content::Text(text) = node.content {
            let owner = owners[index];
            if stats.direct_chars[owner] >= stats::PARAGRAPH_MIN_CHARS {
                own_text[owner].push_str(text);
            }
        }
    }
    own_text
        .iter()
        .map(|text| {
            let key = output::normalize(text);
            let opening_end = key
                .char_indices()
                .nth(CONFIRM_WINDOW_CHARS)
                .map(|(at, _)| at);
            opening_end.is_some_and(|end| windows.contains(&key[..end]))
        })
        .collect()
}

/// The JSON-LD `articleBody` as paragraphs: the last resort when the page's HTML has no text.
fn structured_body(facts: &PageFacts) -> Option<Rendered> {
    let body = facts.article_body.as_deref()?;
    let paragraphs: Vec<String> = body
        .split('\n')
        .map(metadata::collapse)
        .filter(|paragraph| !paragraph.is_empty())
        .collect();
    let text_chars = paragraphs
        .iter()
        .map(|paragraph| paragraph.chars().filter(|c| !c.is_whitespace()).count())
        .sum();
    (text_chars >= MIN_CREDIBLE_CHARS).then(|| Rendered {
        html: paragraphs
            .iter()
            .map(|paragraph| format!("<p>{}</p>", output::escape(paragraph)))
            .collect(),
        text: paragraphs.join("\n\n"),
        text_chars,
        ..Rendered::default()
    })
}

/// Resolves the source's `content_selector` (the subtrees to use as the article) and
/// `remove_selectors` (subtrees to drop). Invalid selectors are ignored: config validation
/// reports them, and a bad override must not lose the article.
fn apply_user_selectors<'a>(
    document: &'a Html,
    options: &ExtractOptions,
) -> (Vec<ElementRef<'a>>, HashSet<usize>) {
    let mut skipped = HashSet::new();
    for css in &options.remove_selectors {
        if let Ok(selector) = Selector::parse(css) {
            skipped.extend(
                document
                    .select(&selector)
                    .map(|element| dom::node_key((*element).value())),
            );
        }
    }
    let mut roots: Vec<ElementRef<'a>> = Vec::new();
    if let Some(selector) = options
        .content_selector
        .as_deref()
        .and_then(|css| Selector::parse(css).ok())
    {
        for element in document.select(&selector) {
            let nested = element
                .ancestors()
                .any(|ancestor| roots.iter().any(|root| root.id() == ancestor.id()));
            if !nested {
                roots.push(element);
            }
        }
    }
    (roots, skipped)
}

//! Boilerplate removal before scoring: furniture tags, hidden copies, furniture classes and roles.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use super::dom::{Content, Dom, NO_PARENT, is_inline_tag};
use super::hints::{self, ClassHints};
use super::stats::{PARAGRAPH_MIN_CHARS, TextStats};

/// Tags that are page furniture, removed unless they wrap most of the page's text.
fn is_furniture_tag(name: &str) -> bool {
    matches!(
        name,
        "nav"
            | "footer"
            | "aside"
            | "header"
            | "form"
            | "menu"
            | "dialog"
            | "button"
            | "input"
            | "select"
            | "textarea"
            | "option"
            | "fieldset"
            | "address"
    )
}

fn is_furniture_role(role: &str) -> bool {
    matches!(
        role,
        "navigation"
            | "banner"
            | "contentinfo"
            | "complementary"
            | "search"
            | "dialog"
            | "alertdialog"
            | "menu"
            | "menubar"
            | "toolbar"
            | "button"
    )
}

/// How aggressive the pruning is; the lenient pass is a retry when the strict one finds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    Strict,
    Lenient,
}

/// Flags the nodes to drop (a removed node's whole subtree is flagged).
pub fn prune(dom: &Dom, full_stats: &TextStats, strictness: Strictness) -> Vec<bool> {
    let total_paragraph_chars = full_stats.paragraph_chars[0].max(1) as f32;
    let protected = |index: usize, share: f32| {
        let chars = full_stats.paragraph_chars[index];
        chars >= 200 && chars as f32 >= share * total_paragraph_chars
    };
    // Built on first use: only pages with a furniture class on a paragraph need it.
    let prose_classes = OnceCell::new();
    let in_prose_run = |index: usize| {
        let classes = prose_classes.get_or_init(|| prose_run_classes(dom, full_stats));
        dom.attr(index, "class")
            .is_some_and(|class| classes.contains(class))
    };
    // Built on first use too: only pages with a furniture class on a wrapper need it.
    let article_holders = OnceCell::new();
    let holds_article =
        |index: usize| article_holders.get_or_init(|| article_holders_of(dom, full_stats))[index];
    let mut removed = vec![false; dom.len()];
    let mut index = 1;
    while index < dom.len() {
        // Top-level nodes are the document element or the source's `content_selector` matches.
        let top_level = dom.nodes[index].parent == 0;
        let drop = !top_level
            && dom.element(index).is_some()
            && is_boilerplate(
                dom,
                full_stats,
                index,
                strictness,
                &protected,
                &in_prose_run,
                &holds_article,
            );
        if drop {
            let end = dom.nodes[index].end;
            removed[index..end].iter_mut().for_each(|flag| *flag = true);
            index = end;
        } else {
            index += 1;
        }
    }
    removed
}

/// Whether one element is furniture, judged by tag, visibility, role and class/id.
fn is_boilerplate(
    dom: &Dom,
    full_stats: &TextStats,
    index: usize,
    strictness: Strictness,
    protected: &dyn Fn(usize, f32) -> bool,
    in_prose_run: &dyn Fn(usize) -> bool,
    holds_article: &dyn Fn(usize) -> bool,
) -> bool {
    let tag = dom.tag(index);
    if matches!(tag, "html" | "body" | "main") || dom.attr(index, "itemprop") == Some("articleBody")
    {
        return false;
    }
    if tag == "header" && inside_article(dom, index) {
        // An article's own header holds its standfirst; bylines inside go by their classes.
        return false;
    }
    if is_furniture_tag(tag) || (is_hidden(dom, index) && !is_hidden_page_of_series(dom, index)) {
        return !protected(index, 0.75);
    }
    if dom
        .attr(index, "role")
        .is_some_and(|role| is_furniture_role(role.trim()))
    {
        return !protected(index, 0.75);
    }
    if is_inline_tag(tag) {
        return false;
    }
    let hints = element_hints(dom, index);
    if strictness == Strictness::Lenient {
        // Comment sections go even in the lenient pass: they are the text most often
        // mistaken for the article on short pages.
        return hints.comments && !protected(index, 0.75);
    }
    if hints.strong_negative {
        // "article-content js-truncate-related": mixed hints on a block of real paragraphs.
        let kept_as_article = hints.positive
            && !hints.comments
            && full_stats.paragraph_chars[index] >= 300
            && full_stats.link_density(index) < 0.3;
        let in_prose_run = !hints.comments && tag == "p" && in_prose_run(index);
        let layout_wrapper = !hints.comments && holds_article(index);
        return !kept_as_article && !in_prose_run && !layout_wrapper && !protected(index, 0.75);
    }
    hints.weak_negative && !hints.positive && !holds_article(index) && !protected(index, 0.4)
}

/// Paragraph text of a block that is the article by its own markup.
const ARTICLE_BLOCK_MIN_CHARS: u32 = 500;

/// Link density under which such a block reads as an article, not a list of teasers.
const ARTICLE_BLOCK_MAX_LINK_DENSITY: f32 = 0.3;

/// For each node, whether one of its descendants is an article block by its own markup: an
/// `<article>`, a `<main>` or an element with a content class (`post-body`, `entry-content`;
/// a furniture class beside it does not outweigh it, as in pruning), not comments, holding 500+
/// characters of paragraphs with few links. A
/// furniture class on such a block's ancestor names the layout, not the block: the page's
/// wrapper "has-sidebar", "sticky-ads-container" or "header-offset" holds the article with
/// the furniture around it, and pruning it would lose the article or the part of it outside
/// the largest chunk. Computed bottom-up in one pass.
fn article_holders_of(dom: &Dom, stats: &TextStats) -> Vec<bool> {
    let mut holds = vec![false; dom.len()];
    for index in (1..dom.len()).rev() {
        let parent = dom.nodes[index].parent;
        if parent == NO_PARENT || !(holds[index] || is_article_block(dom, stats, index)) {
            continue;
        }
        holds[parent] = true;
    }
    holds
}

fn is_article_block(dom: &Dom, stats: &TextStats, index: usize) -> bool {
    if dom.element(index).is_none()
        || stats.paragraph_chars[index] < ARTICLE_BLOCK_MIN_CHARS
        || stats.link_density(index) >= ARTICLE_BLOCK_MAX_LINK_DENSITY
    {
        return false;
    }
    let hints = element_hints(dom, index);
    (matches!(dom.tag(index), "article" | "main") || hints.positive) && !hints.comments
}

/// Fewest paragraphs sharing one class that make a run of the article's prose.
const PROSE_RUN_MIN_PARAGRAPHS: u32 = 3;

/// Mean characters of the paragraphs of such a run: sentences, not labels or links (one short
/// paragraph, "X declined to comment.", is prose too).
const PROSE_MEAN_CHARS: u32 = 80;

/// The `class` values that mark runs of the article's own paragraphs: at least three `<p>` of
/// the page share the value, each a sentence or more, a paragraph of prose on average, with
/// few links. Such a class (`paywall` on the text behind a paywall, which the page ships whole;
/// a layout's paragraph class) marks the article's paragraphs, not furniture: a barrier, a pitch
/// or a notice is one block, and the article's paragraphs come in a run, often split across
/// the chunks of a body interleaved with ads, so the run is counted over the whole page.
fn prose_run_classes<'a>(dom: &Dom<'a>, stats: &TextStats) -> HashSet<&'a str> {
    // class -> (paragraphs, characters, link characters, shortest paragraph)
    let mut runs: HashMap<&'a str, (u32, u32, u32, u32)> = HashMap::new();
    for index in 1..dom.len() {
        if dom.tag(index) != "p" {
            continue;
        }
        let Some(class) = dom
            .attr(index, "class")
            .filter(|class| !class.trim().is_empty())
        else {
            continue;
        };
        let run = runs.entry(class).or_insert((0, 0, 0, u32::MAX));
        run.0 += 1;
        run.1 += stats.chars[index];
        run.2 += stats.link_chars[index];
        run.3 = run.3.min(stats.chars[index]);
    }
    runs.into_iter()
        .filter(|&(_, (paragraphs, chars, link_chars, shortest))| {
            paragraphs >= PROSE_RUN_MIN_PARAGRAPHS
                && shortest >= PARAGRAPH_MIN_CHARS
                && chars >= paragraphs * PROSE_MEAN_CHARS
                && (link_chars as f32) < 0.3 * chars as f32
        })
        .map(|(class, _)| class)
        .collect()
}

fn inside_article(dom: &Dom, index: usize) -> bool {
    dom.ancestors(index)
        .any(|ancestor| matches!(dom.tag(ancestor), "article" | "main"))
}

/// The class/id hints of an element.
///
/// An `id` that spells the section's own heading ("sharing-with-a-single-developer", made by
/// documentation and blog generators for anchors) says what the section is about, not what
/// role the block plays, so it gives no hint.
pub fn element_hints(dom: &Dom, index: usize) -> ClassHints {
    *dom.hints[index].get_or_init(|| read_element_hints(dom, index))
}

fn read_element_hints(dom: &Dom, index: usize) -> ClassHints {
    let class = dom.attr(index, "class").unwrap_or("");
    let id = dom.attr(index, "id").unwrap_or("");
    if class.is_empty() && id.is_empty() {
        return ClassHints::default();
    }
    if id.is_empty() {
        return *dom
            .hints_by_class
            .borrow_mut()
            .entry(class)
            .or_insert_with(|| hints::classify(class, ""));
    }
    let hints = hints::classify(class, id);
    let negative = hints.strong_negative || hints.weak_negative;
    if negative && !id.is_empty() && is_heading_anchor(dom, index, id) {
        return hints::classify(class, "");
    }
    hints
}

/// Whether every word of `id` appears in the heading that opens the element.
fn is_heading_anchor(dom: &Dom, index: usize, id: &str) -> bool {
    let Some(heading) = dom
        .children(index)
        .filter(|&child| dom.element(child).is_some())
        .take(2)
        .find(|&child| matches!(dom.tag(child), "h1" | "h2" | "h3" | "h4" | "h5" | "h6"))
    else {
        return false;
    };
    let heading_text: String = (heading..dom.nodes[heading].end)
        .filter_map(|node| match dom.nodes[node].content {
            Content::Text(text) => Some(text.to_lowercase()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ");
    let words: Vec<String> = id
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.chars().count() > 1)
        .map(str::to_lowercase)
        .collect();
    words.len() >= 2
        && words
            .iter()
            .all(|word| heading_text.contains(word.as_str()))
}

/// Fewest blocks of one class side by side that make a series of pages (slides).
const SERIES_MIN_BLOCKS: usize = 3;

/// Whether a hidden element is one page of a paginated article: one of a run of sibling blocks
/// with the same tag and leading class, at least one of them shown. Listicles and galleries
/// load every item and show one at a time with a script; the hidden items are the article's
/// rest, not a copy of it.
fn is_hidden_page_of_series(dom: &Dom, index: usize) -> bool {
    let Some(own_class) = leading_class(dom, index) else {
        return false;
    };
    let tag = dom.tag(index);
    let parent = dom.nodes[index].parent;
    let mut members = 0;
    let mut shown = false;
    for sibling in dom.children(parent) {
        if dom.tag(sibling) == tag && leading_class(dom, sibling) == Some(own_class) {
            members += 1;
            shown |= !is_hidden(dom, sibling);
        }
    }
    members >= SERIES_MIN_BLOCKS && shown
}

fn leading_class<'a>(dom: &Dom<'a>, index: usize) -> Option<&'a str> {
    dom.attr(index, "class")?.split_whitespace().next()
}

/// `hidden`, `display:none` and `visibility:hidden` elements: often a duplicate copy of the body.
fn is_hidden(dom: &Dom, index: usize) -> bool {
    if dom.attr(index, "hidden").is_some() {
        return true;
    }
    let Some(style) = dom.attr(index, "style") else {
        return false;
    };
    let compact: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    compact.contains("display:none") || compact.contains("visibility:hidden")
}

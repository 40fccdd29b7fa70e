//! Block scoring: finds the container (plus sibling blocks) that holds the article.
//!
//! Each run of sentence-like inline text scores its ancestors (Readability's scheme: length,
//! commas, link density), weighted by class/id hints; the best container wins and takes its
//! qualifying siblings along.

use super::clean::element_hints;
use super::dom::Dom;
use super::stats::{PARAGRAPH_MIN_CHARS, TextStats};

/// How many ancestor levels one paragraph's score reaches.
const ANCESTOR_LEVELS: usize = 5;

/// Outside signals that vouch for some paragraphs (JSON-LD `articleBody`).
#[derive(Debug, Default)]
pub struct Signals {
    /// For each node, whether its own text is confirmed by the page's structured data.
    pub confirmed: Vec<bool>,
}

fn tag_weight(tag: &str) -> f32 {
    match tag {
        "article" => 10.0,
        "main" | "div" | "section" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    }
}

/// A container's own prior: its tag, its class/id hints and `itemprop="articleBody"`.
fn initial_score(dom: &Dom, index: usize) -> f32 {
    let hints = element_hints(dom, index);
    let mut score = tag_weight(dom.tag(index));
    if hints.positive {
        score += 25.0;
    }
    if hints.strong_negative || hints.weak_negative || hints.caption {
        score -= 25.0;
    }
    if dom.attr(index, "itemprop") == Some("articleBody") {
        score += 30.0;
    }
    score
}

/// Whether a block's own text may score its ancestors (headings and captions may not).
fn is_scoring_block(dom: &Dom, stats: &TextStats, index: usize, removed: &[bool]) -> bool {
    if index == 0 || removed[index] || stats.direct_chars[index] < PARAGRAPH_MIN_CHARS {
        return false;
    }
    let tag = dom.tag(index);
    !matches!(
        tag,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "figcaption" | "caption" | "th"
    ) && !element_hints(dom, index).caption
}

/// Raw content scores of every container that received some.
fn content_scores(dom: &Dom, stats: &TextStats, removed: &[bool], signals: &Signals) -> Vec<f32> {
    let mut scores = vec![f32::NAN; dom.len()];
    for index in 0..dom.len() {
        if !is_scoring_block(dom, stats, index, removed) {
            continue;
        }
        let chars = stats.direct_chars[index] as f32;
        let link_share = stats.direct_link_chars[index] as f32 / chars;
        let mut points = 1.0 + stats.direct_commas[index] as f32 + (chars / 100.0).min(3.0);
        points *= 1.0 - link_share;
        // List items are often references, specs or link lists: they count, but less.
        if matches!(dom.tag(index), "li" | "dd" | "dt" | "td") {
            points *= 0.5;
        }
        if signals.confirmed.get(index).copied().unwrap_or(false) {
            points *= 2.0;
        }
        for (level, ancestor) in dom.ancestors(index).take(ANCESTOR_LEVELS).enumerate() {
            if scores[ancestor].is_nan() {
                scores[ancestor] = initial_score(dom, ancestor);
            }
            let divider = match level {
                0 => 1.0,
                1 => 2.0,
                _ => level as f32 * 3.0,
            };
            scores[ancestor] += points / divider;
        }
    }
    for (index, score) in scores.iter_mut().enumerate() {
        if !score.is_nan() {
            *score *= 1.0 - stats.link_density(index);
        }
    }
    scores
}

fn score_of(scores: &[f32], index: usize) -> Option<f32> {
    scores.get(index).copied().filter(|score| !score.is_nan())
}

/// Picks the article's container and the sibling blocks that belong with it, in page order.
pub fn select(dom: &Dom, stats: &TextStats, removed: &[bool], signals: &Signals) -> Vec<usize> {
    let scores = content_scores(dom, stats, removed, signals);
    let mut ranked: Vec<usize> = (0..dom.len())
        .filter(|&index| score_of(&scores, index).is_some())
        .collect();
    ranked.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let Some(&best) = ranked.first() else {
        return Vec::new();
    };
    let mut top = shared_ancestor(dom, &scores, &ranked).unwrap_or(best);
    top = climb_to_better_parent(dom, &scores, top);
    while let Some(parent) = only_child_parent(dom, top, removed) {
        top = parent;
    }
    with_siblings(dom, stats, removed, &scores, top)
}

/// When several strong candidates sit in one ancestor (a body split by ads), that ancestor.
fn shared_ancestor(dom: &Dom, scores: &[f32], ranked: &[usize]) -> Option<usize> {
    let best = ranked[0];
    let strong: Vec<usize> = ranked[1..]
        .iter()
        .take(5)
        .copied()
        .filter(|&index| scores[index] >= 0.5 * scores[best] && !dom.contains(index, best))
        .collect();
    // Only a close ancestor: far apart, strong candidates are separate articles.
    dom.ancestors(best).take(3).find(|&ancestor| {
        strong
            .iter()
            .filter(|&&index| dom.contains(ancestor, index))
            .count()
            >= 1
    })
}

/// Readability's climb: a parent scoring above its child holds more of the article.
fn climb_to_better_parent(dom: &Dom, scores: &[f32], top: usize) -> usize {
    let threshold = scores[top] / 3.0;
    let mut last_score = scores[top];
    for ancestor in dom.ancestors(top) {
        if matches!(dom.tag(ancestor), "body" | "html") {
            break;
        }
        let Some(score) = score_of(scores, ancestor) else {
            continue;
        };
        if score < threshold {
            break;
        }
        if score > last_score {
            return ancestor;
        }
        last_score = score;
    }
    top
}

/// The parent when `index` is its only kept element child (a wrapper adds nothing).
fn only_child_parent(dom: &Dom, index: usize, removed: &[bool]) -> Option<usize> {
    let parent = dom.nodes[index].parent;
    if parent == 0 || matches!(dom.tag(parent), "body" | "html" | "") {
        return None;
    }
    let element_children = dom
        .children(parent)
        .filter(|&child| !removed[child] && dom.element(child).is_some())
        .count();
    (element_children == 1).then_some(parent)
}

/// The winning container plus siblings that score well or read like paragraphs.
fn with_siblings(
    dom: &Dom,
    stats: &TextStats,
    removed: &[bool],
    scores: &[f32],
    top: usize,
) -> Vec<usize> {
    let parent = dom.nodes[top].parent;
    if parent == 0 {
        return vec![top];
    }
    let top_score = scores[top];
    let threshold = (top_score * 0.2).max(10.0);
    let top_class = dom.attr(top, "class").filter(|class| !class.is_empty());
    dom.children(parent)
        .filter(|&sibling| {
            if sibling == top {
                return true;
            }
            if removed[sibling] || dom.element(sibling).is_none() {
                return false;
            }
            let mut score = score_of(scores, sibling).unwrap_or(0.0);
            if top_class.is_some() && dom.attr(sibling, "class") == top_class {
                score += top_score * 0.2;
            }
            let chars = stats.chars[sibling];
            let link_density = stats.link_density(sibling);
            // A standfirst above the body reads like the body; below it, such blocks are
            // more often bios, disclaimers and notices.
            let mostly_paragraphs = stats.paragraph_chars[sibling] as f32 >= 0.7 * chars as f32;
            let paragraph_like = dom.tag(sibling) == "p" || (mostly_paragraphs && sibling < top);
            score >= threshold || (paragraph_like && chars > 80 && link_density < 0.25)
        })
        .collect()
}

//! Block scoring: finds the container (plus sibling blocks) that holds the article.
//!
//! Each run of sentence-like inline text scores its ancestors (Readability's scheme: length,
//! commas, link density), weighted by class/id hints; the best container wins and takes its
//! qualifying siblings along, and the standfirst nearest before them when the page keeps it
//! outside their container.

use super::clean::element_hints;
use super::dom::{Content, Dom};
use super::stats::{PARAGRAPH_MIN_CHARS, TextStats};
use super::teasers::Teasers;

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
fn content_scores(
    dom: &Dom,
    stats: &TextStats,
    paragraphs: &[usize],
    teasers: &Teasers,
    signals: &Signals,
) -> Vec<f32> {
    let mut scores = vec![f32::NAN; dom.len()];
    for &index in paragraphs {
        let chars = stats.direct_chars[index] as f32;
        let link_share = stats.direct_link_chars[index] as f32 / chars;
        let mut points = 1.0 + stats.direct_commas[index] as f32 + (chars / 100.0).min(3.0);
        points *= 1.0 - link_share;
        // List items are often references, specs or link lists: they count, but less.
        if matches!(dom.tag(index), "li" | "dd" | "dt" | "td") {
            points *= 0.5;
        }
        if teasers.contains(index) {
            points *= TEASER_WEIGHT;
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

/// How much a teaser's summary counts, against a paragraph of the same length.
const TEASER_WEIGHT: f32 = 0.2;

/// Above this many characters a block with a linked heading is an article, not a card.
const TEASER_MAX_CHARS: u32 = 500;

/// Whether a paragraph is the summary on a teaser card: its container is small and titled by
/// a block that links to another page: a heading, a `<div>` set as one, or a bare link. Many
/// such cards together can outweigh a short story (the "wrong block"), though each is a
/// pointer to another article.
fn is_teaser_summary(dom: &Dom, stats: &TextStats, index: usize) -> bool {
    let card = dom.nodes[index].parent;
    if card == 0 || stats.chars[card] > TEASER_MAX_CHARS {
        return false;
    }
    dom.children(card)
        .take_while(|&child| child != index)
        .any(|child| is_card_title(dom, stats, child) && links_elsewhere(dom, stats, child))
}

/// Characters of a card's title set as a block of its own: a headline, not a label or a name.
const CARD_TITLE_MIN_CHARS: u32 = 15;

/// A card's title: a heading, a block (`<div>`, `<p>`) holding a headline-length link, or
/// such a link on its own before the summary.
fn is_card_title(dom: &Dom, stats: &TextStats, index: usize) -> bool {
    is_heading(dom.tag(index))
        || (matches!(dom.tag(index), "div" | "p" | "span" | "a")
            && stats.chars[index] >= CARD_TITLE_MIN_CHARS)
}

/// Whether a heading's text is (almost) all a link to another page (not a `#fragment`
/// permalink, as documentation headings have).
fn links_elsewhere(dom: &Dom, stats: &TextStats, heading: usize) -> bool {
    let chars = stats.chars[heading];
    chars > 0
        && stats.link_chars[heading] as f32 >= 0.8 * chars as f32
        && (heading..dom.nodes[heading].end).any(|node| {
            dom.tag(node) == "a"
                && dom
                    .attr(node, "href")
                    .is_some_and(|href| !href.trim_start().starts_with('#'))
        })
}

fn score_of(scores: &[f32], index: usize) -> Option<f32> {
    scores.get(index).copied().filter(|score| !score.is_nan())
}

/// Picks the article's container and the sibling blocks that belong with it, in page order.
pub fn select(dom: &Dom, stats: &TextStats, removed: &[bool], signals: &Signals) -> Selection {
    let paragraphs: Vec<usize> = (0..dom.len())
        .filter(|&index| is_scoring_block(dom, stats, index, removed))
        .collect();
    let teasers = Teasers::find(dom, stats, removed, &paragraphs, |paragraph| {
        is_teaser_summary(dom, stats, paragraph)
    });
    let scores = content_scores(dom, stats, &paragraphs, &teasers, signals);
    let mut ranked: Vec<usize> = (0..dom.len())
        .filter(|&index| score_of(&scores, index).is_some())
        .collect();
    ranked.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let Some(&best) = ranked.first() else {
        return Selection::default();
    };
    let mut top = shared_ancestor(dom, &scores, &ranked).unwrap_or(best);
    top = climb_to_better_parent(dom, &scores, top);
    while let Some(parent) = only_child_parent(dom, top, removed) {
        top = parent;
    }
    let mut roots = with_siblings(dom, stats, removed, &scores, &teasers, top);
    if let Some(lead) = standfirst(dom, stats, removed, &teasers, &roots) {
        roots.insert(0, lead);
    }
    Selection {
        tail: boxes_after_the_body(dom, stats, removed, &teasers, &roots, top),
        roots,
    }
}

/// The article's blocks, and the boxes inside them that close it as furniture.
#[derive(Debug, Default)]
pub struct Selection {
    /// The container and its sibling blocks, in page order.
    pub roots: Vec<usize>,
    /// Boxes after the body inside the container (see [`boxes_after_the_body`]): left out.
    pub tail: Vec<usize>,
}

/// Share of the container's paragraph text the body block must hold.
const BODY_MIN_SHARE: f32 = 0.6;

/// Paragraph text of a body block: an article, not a teaser.
const BODY_MIN_CHARS: u32 = 500;

/// A box after the body longer than this is taken as more of the article.
const TAIL_BOX_MAX_CHARS: u32 = 300;

/// Short boxes that close the article as furniture, whatever their language (a call to
/// donate or follow, "found an error? tell us", a share line): from the container down, while
/// one child holds most of the paragraph text (the body), the short `<div>`/`<section>` boxes
/// after it that do not continue the article under a heading or belong to the body's family;
/// and such boxes kept as sibling blocks after the container. Blocks before the body (title, standfirst, byline) are left to
/// the other rules, and paragraphs, lists and headings are never taken for boxes.
fn boxes_after_the_body(
    dom: &Dom,
    stats: &TextStats,
    removed: &[bool],
    teasers: &Teasers,
    roots: &[usize],
    top: usize,
) -> Vec<usize> {
    let mut tail: Vec<usize> = roots
        .iter()
        .copied()
        .filter(|&root| {
            root > top
                && !same_family(dom, root, top)
                && is_tail_box(dom, stats, teasers, root, false)
        })
        .collect();
    let mut container = top;
    loop {
        let children: Vec<usize> = dom
            .children(container)
            .filter(|&child| !removed[child] && dom.element(child).is_some())
            .collect();
        if let Some(last_paragraph) = body_of_own_paragraphs(dom, stats, container, &children) {
            // The body is the container's own paragraphs: the boxes after the last one.
            tail.extend(children.iter().copied().filter(|&child| {
                child > last_paragraph && closes_article(dom, stats, teasers, child, false)
            }));
            break;
        }
        let Some(&body) = children
            .iter()
            .max_by_key(|&&child| stats.paragraph_chars[child])
        else {
            break;
        };
        let body_chars = stats.paragraph_chars[body];
        if body_chars < BODY_MIN_CHARS
            || (body_chars as f32) < BODY_MIN_SHARE * stats.paragraph_chars[container] as f32
            || !matches!(dom.tag(body), "div" | "section" | "article" | "main")
        {
            break;
        }
        for (position, &child) in children
            .iter()
            .enumerate()
            .filter(|&(_, &child)| child > body)
        {
            let after_heading = is_heading(dom.tag(children[position - 1]));
            if !same_family(dom, child, body)
                && closes_article(dom, stats, teasers, child, after_heading)
            {
                tail.push(child);
            }
        }
        container = body;
    }
    tail
}

/// Share of a container's paragraph text that its own paragraphs hold when they are its body:
/// the boxes after them are short, but there may be several.
const OWN_BODY_MIN_SHARE: f32 = 0.5;

/// The last of the container's own `<p>` children when those paragraphs are its body (most of
/// its paragraph text, a body's length): a layout that sets the article's paragraphs and the
/// boxes after them (a bio, a sign-up, an appeal, related cards) side by side in one `<div>`.
fn body_of_own_paragraphs(
    dom: &Dom,
    stats: &TextStats,
    container: usize,
    children: &[usize],
) -> Option<usize> {
    let paragraphs: Vec<usize> = children
        .iter()
        .copied()
        .filter(|&child| dom.tag(child) == "p")
        .collect();
    let own_chars: u32 = paragraphs
        .iter()
        .map(|&paragraph| stats.paragraph_chars[paragraph])
        .sum();
    let is_body = own_chars >= BODY_MIN_CHARS
        && own_chars as f32 >= OWN_BODY_MIN_SHARE * stats.paragraph_chars[container] as f32;
    paragraphs.last().copied().filter(|_| is_body)
}

/// A block after the body that closes the article as furniture: a short box
/// ([`is_tail_box`]) or a section of teasers of any length ([`is_teaser_section`]).
fn closes_article(
    dom: &Dom,
    stats: &TextStats,
    teasers: &Teasers,
    index: usize,
    after_heading: bool,
) -> bool {
    is_tail_box(dom, stats, teasers, index, after_heading)
        || is_teaser_section(dom, stats, teasers, index)
}

/// A section of teaser cards or a teaser run after the body, inside the article's container
/// ("More local news": linked titles with one-sentence summaries), of any length: every
/// paragraph in it points to another page. Short boxes are [`is_tail_box`]'s; this one is
/// judged by what it holds, not by its size.
fn is_teaser_section(dom: &Dom, stats: &TextStats, teasers: &Teasers, index: usize) -> bool {
    matches!(dom.tag(index), "div" | "section" | "aside" | "ul" | "ol")
        && stats.paragraph_chars[index] > 0
        && is_teaser_block(dom, stats, teasers, index)
}

/// Whether two blocks are of one family (same tag and class): the chunks of one body split
/// by ads, where a short last chunk is still the article.
fn same_family(dom: &Dom, a: usize, b: usize) -> bool {
    dom.tag(a) == dom.tag(b)
        && dom
            .attr(a, "class")
            .is_some_and(|class| !class.trim().is_empty() && dom.attr(b, "class") == Some(class))
}

/// A short generic box that does not continue the article. A box holding an `<h1>` is never
/// one: it is the page's title block, a short article that lost on points to a longer block
/// before it (a column of link-led teasers), and what would be cut is the article itself.
fn is_tail_box(
    dom: &Dom,
    stats: &TextStats,
    teasers: &Teasers,
    index: usize,
    after_heading: bool,
) -> bool {
    matches!(dom.tag(index), "div" | "section")
        && stats.chars[index] <= TAIL_BOX_MAX_CHARS
        && !continues_article(dom, stats, teasers, index, after_heading)
        && !(index..dom.nodes[index].end).any(|node| dom.tag(node) == "h1")
}

/// How many levels above the article's first block a standfirst is looked for: decks sit in
/// the article's header, often four or five wrappers away from the body's paragraphs.
const STANDFIRST_LEVELS: usize = 6;

/// Paragraph text of a standfirst: a sentence or two, not a body of its own.
const STANDFIRST_MIN_CHARS: u32 = 80;
const STANDFIRST_MAX_CHARS: u32 = 800;

/// The standfirst (lead, deck, excerpt) above the article's body when the page keeps it outside
/// the body's container: in the article's header, next to the title, or in a column of its
/// own. It opens the article, and scoring never reaches it (one short paragraph several
/// wrappers away from the body). Walking back from the body within a few ancestor levels,
/// bylines, dates, headings and captions are passed over; the first block of sentence-length
/// text is the standfirst if it reads like one (few links, not in a list, a table, a quote or
/// a link, no furniture class, not longer than the body), and nothing further back is
/// considered: teasers and summaries of other pages sit further away. A deck right under the
/// title counts even when set as a subtitle heading or shorter (`is_deck_under_title`).
fn standfirst(
    dom: &Dom,
    stats: &TextStats,
    removed: &[bool],
    teasers: &Teasers,
    roots: &[usize],
) -> Option<usize> {
    let first = *roots.first()?;
    let body_chars: u32 = roots.iter().map(|&root| stats.chars[root]).sum();
    let scope = dom
        .ancestors(first)
        .take(STANDFIRST_LEVELS)
        .take_while(|&ancestor| !matches!(dom.tag(ancestor), "body" | "html"))
        .last()?;
    let candidate = (scope + 1..first).rev().find(|&index| {
        !removed[index]
            && dom.element(index).is_some()
            && !dom.contains(index, first)
            && ((stats.direct_chars[index] >= STANDFIRST_MIN_CHARS
                && !is_heading_or_caption(dom, index))
                || is_deck_under_title(dom, stats, removed, index))
    })?;
    let chars = stats.direct_chars[candidate];
    let link_share = stats.direct_link_chars[candidate] as f32 / chars as f32;
    let in_list_or_furniture = std::iter::once(candidate)
        .chain(
            dom.ancestors(candidate)
                .take_while(|&ancestor| ancestor != scope),
        )
        .any(|node| {
            let hints = element_hints(dom, node);
            matches!(
                dom.tag(node),
                "li" | "ul" | "ol" | "dl" | "table" | "a" | "blockquote"
            ) || hints.strong_negative
        });
    // The summary on the last card of a teaser column set before the article is no standfirst.
    let reads_like_standfirst = chars <= STANDFIRST_MAX_CHARS
        && link_share < 0.2
        && !in_list_or_furniture
        && !teasers.contains(candidate)
        && chars <= body_chars;
    if !reads_like_standfirst {
        return None;
    }
    // A deck under the title is one block: the wrapper it shares with a date line or a
    // credit is not an introduction of several paragraphs.
    let title_deck = chars < STANDFIRST_MIN_CHARS || is_heading_or_caption(dom, candidate);
    let mut lead = candidate;
    while let parent = dom.nodes[lead].parent
        && !title_deck
        && parent != scope
        && !dom.contains(parent, first)
        && holds_only_an_introduction(dom, stats, parent, body_chars)
    {
        lead = parent;
    }
    Some(lead)
}

/// Whether a wrapper around the standfirst holds an introduction of several paragraphs (an
/// abstract, a two-paragraph lead) and nothing else: almost all of its text in paragraphs,
/// few links, shorter than half the body, and not the title's block (no `<h1>`: kickers and
/// bylines sit next to the title).
fn holds_only_an_introduction(
    dom: &Dom,
    stats: &TextStats,
    wrapper: usize,
    body_chars: u32,
) -> bool {
    let chars = stats.chars[wrapper];
    stats.paragraph_chars[wrapper] as f32 >= 0.9 * chars as f32
        && stats.link_density(wrapper) < 0.2
        && chars <= STANDFIRST_MAX_CHARS.max(body_chars / 2)
        && !(wrapper..dom.nodes[wrapper].end).any(|node| dom.tag(node) == "h1")
}

/// Characters from which a subtitle reads as a sentence even without closing punctuation.
const DECK_LONG_CHARS: u32 = 120;

/// A deck right under the title can be one short sentence.
const DECK_MIN_CHARS: u32 = 40;

/// Whether a block is the deck (standfirst) right under the title, set as a subtitle (`<h2>`,
/// `<h3>`) or as a short paragraph: its nearest text before it is the `<h1>`'s, and it reads
/// like a sentence (ends in `.`, `!`, `?` or `…`, or is long). A section heading is a short
/// label; a deck says what the article says, in a sentence, and opens it.
fn is_deck_under_title(dom: &Dom, stats: &TextStats, removed: &[bool], index: usize) -> bool {
    let chars = stats.direct_chars[index];
    if chars < DECK_MIN_CHARS
        || !matches!(dom.tag(index), "h2" | "h3" | "p")
        || element_hints(dom, index).caption
    {
        return false;
    }
    let ends_a_sentence = (index..dom.nodes[index].end)
        .rev()
        .find_map(|node| match dom.nodes[node].content {
            Content::Text(text) if !text.trim().is_empty() => text.trim_end().chars().last(),
            _ => None,
        })
        .is_some_and(|last| matches!(last, '.' | '!' | '?' | '…'));
    if !(ends_a_sentence || chars >= DECK_LONG_CHARS) {
        return false;
    }
    let previous_text = (1..index).rev().find(|&node| {
        !removed[node]
            && matches!(dom.nodes[node].content, Content::Text(text) if !text.trim().is_empty())
    });
    previous_text.is_some_and(|text| {
        dom.ancestors(text)
            .take(4)
            .any(|node| dom.tag(node) == "h1")
    })
}

/// Headings, captions and the elements inside them (titles and credits, not the standfirst).
fn is_heading_or_caption(dom: &Dom, index: usize) -> bool {
    std::iter::once(index)
        .chain(dom.ancestors(index).take(3))
        .any(|node| {
            matches!(
                dom.tag(node),
                "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "figcaption" | "caption" | "figure"
            ) || element_hints(dom, node).caption
        })
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

/// The winning container plus siblings that score well or read like paragraphs, then the
/// blocks that continue the article after it (see [`continues_article`]) and the headings
/// between kept blocks.
fn with_siblings(
    dom: &Dom,
    stats: &TextStats,
    removed: &[bool],
    scores: &[f32],
    teasers: &Teasers,
    top: usize,
) -> Vec<usize> {
    let parent = dom.nodes[top].parent;
    if parent == 0 {
        return vec![top];
    }
    let siblings: Vec<usize> = dom
        .children(parent)
        .filter(|&sibling| !removed[sibling] && dom.element(sibling).is_some())
        .collect();
    let mut keep: Vec<bool> = siblings
        .iter()
        .map(|&sibling| {
            sibling == top || scores_like_the_article(dom, stats, scores, teasers, top, sibling)
        })
        .collect();
    for position in 0..siblings.len() {
        let after_heading = position > 0 && is_heading(dom.tag(siblings[position - 1]));
        if !keep[position]
            && siblings[position] > top
            && continues_article(dom, stats, teasers, siblings[position], after_heading)
        {
            keep[position] = true;
        }
    }
    keep_headings_in_flow(dom, &siblings, &mut keep);
    siblings
        .iter()
        .zip(keep)
        .filter_map(|(&sibling, kept)| kept.then_some(sibling))
        .collect()
}

/// Readability's sibling test: a good score (or the container's own class), or a paragraph.
fn scores_like_the_article(
    dom: &Dom,
    stats: &TextStats,
    scores: &[f32],
    teasers: &Teasers,
    top: usize,
    sibling: usize,
) -> bool {
    let top_score = scores[top];
    let threshold = (top_score * 0.2).max(10.0);
    let top_class = dom.attr(top, "class").filter(|class| !class.is_empty());
    let mut score = score_of(scores, sibling).unwrap_or(0.0);
    if top_class.is_some() && dom.attr(sibling, "class") == top_class {
        score += top_score * 0.2;
    }
    let chars = stats.chars[sibling];
    let link_density = stats.link_density(sibling);
    // A standfirst above the body reads like the body; below it, such blocks are
    // more often bios, disclaimers and notices.
    let mostly_paragraphs = stats.paragraph_chars[sibling] as f32 >= 0.7 * chars as f32;
    // A column of teasers reads like paragraphs too, but each one points to another page.
    let paragraph_like = !is_teaser_block(dom, stats, teasers, sibling)
        && (dom.tag(sibling) == "p" || (mostly_paragraphs && sibling < top));
    score >= threshold || (paragraph_like && chars > 80 && link_density < 0.25)
}

/// Paragraph text a block after the container needs to count as a continuation.
const CONTINUATION_MIN_CHARS: u32 = 80;

/// A block after the container that continues the article in a list-shaped post (listicles,
/// round-ups, recipes): it opens with a heading or follows one, as the article's sections do,
/// and it holds sentences rather than links, and not teaser cards. Bios and notices rarely come
/// under a heading of the article's own flow; those that do are cut at the tail boundary when
/// rendering.
fn continues_article(
    dom: &Dom,
    stats: &TextStats,
    teasers: &Teasers,
    index: usize,
    after_heading: bool,
) -> bool {
    let opens_with_heading = dom
        .children(index)
        .find(|&child| dom.element(child).is_some())
        .is_some_and(|child| is_heading(dom.tag(child)));
    let paragraph_chars = stats.paragraph_chars[index];
    (opens_with_heading || after_heading)
        && paragraph_chars >= CONTINUATION_MIN_CHARS
        && paragraph_chars as f32 >= 0.5 * stats.chars[index] as f32
        && stats.link_density(index) < 0.3
        && !is_teaser_block(dom, stats, teasers, index)
}

/// Whether most of a block's paragraph text is teasers ([`Teasers`]): an "around the region"
/// or "more from the section" box of cards, or a column of link-led notes. It reads like
/// paragraphs, and under a heading like one more section of the article, but each of its
/// paragraphs points to another page.
fn is_teaser_block(dom: &Dom, stats: &TextStats, teasers: &Teasers, index: usize) -> bool {
    teasers.share_within(dom, stats, index) >= 0.5
}

/// A heading sibling stays when the block right after it stays (and a kept block precedes
/// it): it titles a part of the article.
fn keep_headings_in_flow(dom: &Dom, siblings: &[usize], keep: &mut [bool]) {
    let mut seen_kept = false;
    for position in 0..siblings.len() {
        if keep[position] {
            seen_kept = true;
            continue;
        }
        let next_kept = keep.get(position + 1).copied().unwrap_or(false);
        if seen_kept && next_kept && is_heading(dom.tag(siblings[position])) {
            keep[position] = true;
        }
    }
}

fn is_heading(tag: &str) -> bool {
    matches!(tag, "h2" | "h3" | "h4" | "h5" | "h6")
}

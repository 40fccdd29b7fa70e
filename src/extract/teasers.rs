//! Teaser runs: consecutive paragraphs each led by a link to a different page.
//!
//! A column of "more stories", "latest news" or notes on other pages is set as paragraphs
//! that open with the linked title of another page and go on with its summary. Many of them
//! together outweigh a short article on points (the "wrong block"), though each one points
//! away from the page. An article's own paragraphs are rarely led by a link, and hardly ever
//! several in a row, each to another page.

use std::collections::HashSet;

use super::dom::{Content, Dom};
use super::stats::{TextStats, block_owners, inside_links};

/// Consecutive link-led paragraphs that make a run: one or two are an article's own links.
const RUN_MIN_PARAGRAPHS: usize = 3;

/// Characters of the leading link: a title, not a name or a word linked in a sentence.
const LEAD_LINK_MIN_CHARS: u32 = 15;

/// Characters of prose after the leading link: the teaser's summary.
const SUMMARY_MIN_CHARS: u32 = 25;

/// The page's teaser paragraphs: those of its teaser runs, and the summaries on teaser cards
/// (`score::is_teaser_summary`), one notion for scoring and for the blocks kept beside the
/// article.
#[derive(Debug, Default)]
pub struct Teasers {
    /// For each node, whether it is a teaser paragraph.
    in_run: Vec<bool>,
    /// Own characters of teaser paragraphs before each node (page order): a subtree's
    /// teaser text in constant time.
    chars_before: Vec<u32>,
}

impl Teasers {
    /// Finds the runs among `paragraphs`, the page's scoring blocks (paragraphs of their own
    /// text) in page order, and adds the paragraphs `on_card` says are a card's summary.
    pub fn find(
        dom: &Dom,
        stats: &TextStats,
        removed: &[bool],
        paragraphs: &[usize],
        on_card: impl Fn(usize) -> bool,
    ) -> Self {
        let mut in_run = mark_runs(dom, stats, removed, paragraphs);
        for &paragraph in paragraphs {
            in_run[paragraph] |= on_card(paragraph);
        }
        let mut chars_before = Vec::with_capacity(dom.len() + 1);
        let mut total = 0;
        chars_before.push(0);
        for (index, &teaser) in in_run.iter().enumerate() {
            if teaser {
                total += stats.direct_chars[index];
            }
            chars_before.push(total);
        }
        Teasers {
            in_run,
            chars_before,
        }
    }

    /// Whether a paragraph is a teaser paragraph.
    pub fn contains(&self, paragraph: usize) -> bool {
        self.in_run.get(paragraph).copied().unwrap_or(false)
    }

    /// Own characters of the teaser paragraphs inside a subtree.
    pub fn share_within(&self, dom: &Dom, stats: &TextStats, index: usize) -> f32 {
        let teaser_chars = self.chars_within(dom, index);
        if teaser_chars == 0 {
            return 0.0;
        }
        teaser_chars as f32 / stats.paragraph_chars[index].max(1) as f32
    }

    /// Own characters of the teaser paragraphs inside a subtree.
    pub fn chars_within(&self, dom: &Dom, index: usize) -> u32 {
        match (
            self.chars_before.get(index),
            self.chars_before.get(dom.nodes[index].end),
        ) {
            (Some(&before), Some(&after)) => after - before,
            _ => 0,
        }
    }
}

/// For each node, whether it is a paragraph of a teaser run.
fn mark_runs(dom: &Dom, stats: &TextStats, removed: &[bool], paragraphs: &[usize]) -> Vec<bool> {
    let mut in_run = vec![false; dom.len()];
    let mut run: Vec<usize> = Vec::new();
    let mut targets: HashSet<&str> = HashSet::new();
    for &paragraph in paragraphs {
        match leading_link_target(dom, stats, removed, paragraph) {
            Some(target) if targets.insert(target) => run.push(paragraph),
            // The same page again starts a new run from this paragraph.
            Some(target) => {
                close_run(&mut run, &mut in_run);
                targets.clear();
                targets.insert(target);
                run.push(paragraph);
            }
            None => {
                close_run(&mut run, &mut in_run);
                targets.clear();
            }
        }
    }
    close_run(&mut run, &mut in_run);
    in_run
}

/// Marks the paragraphs of `run` when there are enough of them, and empties it.
fn close_run(run: &mut Vec<usize>, in_run: &mut [bool]) {
    if run.len() >= RUN_MIN_PARAGRAPHS {
        for &paragraph in run.iter() {
            in_run[paragraph] = true;
        }
    }
    run.clear();
}

/// The page a paragraph's leading link points to, when the paragraph opens with a link of
/// title length to another page (not a `#fragment`) and goes on with prose of its own.
fn leading_link_target<'a>(
    dom: &Dom<'a>,
    stats: &TextStats,
    removed: &[bool],
    paragraph: usize,
) -> Option<&'a str> {
    if stats.direct_chars[paragraph] < stats.direct_link_chars[paragraph] + SUMMARY_MIN_CHARS {
        return None;
    }
    let owners = block_owners(dom);
    let first_text = (paragraph + 1..dom.nodes[paragraph].end).find(|&node| {
        !removed[node]
            && owners[node] == paragraph
            && matches!(dom.nodes[node].content, Content::Text(text) if !text.trim().is_empty())
    })?;
    if !inside_links(dom)[first_text] {
        return None;
    }
    let link = dom
        .ancestors(first_text)
        .take_while(|&ancestor| ancestor != paragraph)
        .find(|&ancestor| dom.tag(ancestor) == "a")?;
    let target = dom.attr(link, "href")?.trim();
    let elsewhere = !target.is_empty() && !target.starts_with('#');
    (elsewhere && stats.chars[link] >= LEAD_LINK_MIN_CHARS).then_some(target)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use scraper::Html;

    use super::*;
    use crate::extract::stats::PARAGRAPH_MIN_CHARS;

    /// How many of a page's paragraphs are in teaser runs.
    fn teaser_count(body: &str) -> usize {
        let html = Html::parse_document(&format!("<html><body>{body}</body></html>"));
        let dom = Dom::build(&html, &[], &HashSet::new());
        let removed = vec![false; dom.len()];
        let stats = TextStats::compute(&dom, &removed);
        let paragraphs: Vec<usize> = (0..dom.len())
            .filter(|&index| {
                dom.tag(index) == "p" && stats.direct_chars[index] >= PARAGRAPH_MIN_CHARS
            })
            .collect();
        let runs = Teasers::find(&dom, &stats, &removed, &paragraphs, |_| false);
        paragraphs.iter().filter(|&&p| runs.contains(p)).count()
    }

    fn teaser(href: &str, title: &str) -> String {
        format!(
            "<p><a href=\"{href}\">{title}</a> and then a summary of the story, a sentence.</p>"
        )
    }

    #[test]
    fn three_paragraphs_led_by_links_to_other_pages_are_a_run() {
        let body: String = (0..3)
            .map(|n| teaser(&format!("/story/{n}"), "A headline of some length"))
            .collect();
        assert_eq!(teaser_count(&body), 3);
    }

    #[test]
    fn two_are_an_article_s_own_links() {
        let body: String = (0..2)
            .map(|n| teaser(&format!("/story/{n}"), "A headline of some length"))
            .collect();
        assert_eq!(teaser_count(&body), 0);
    }

    /// Round-ups lead items with a shop's or a product's name: a word, not a title.
    #[test]
    fn short_leading_links_are_names_in_a_sentence() {
        let body: String = ["/a", "/b", "/c"]
            .iter()
            .map(|href| teaser(href, "eBay"))
            .collect();
        assert_eq!(teaser_count(&body), 0);
    }

    #[test]
    fn fragments_and_one_repeated_page_are_not_other_pages() {
        let fragments: String = (0..3)
            .map(|n| teaser(&format!("#part-{n}"), "A section title of length"))
            .collect();
        assert_eq!(teaser_count(&fragments), 0);
        let same_page: String = (0..3)
            .map(|_| teaser("/glossary", "A glossary entry of length"))
            .collect();
        assert_eq!(teaser_count(&same_page), 0);
    }

    #[test]
    fn a_paragraph_of_prose_between_breaks_the_run() {
        let body = [
            teaser("/a", "A headline of some length"),
            teaser("/b", "A headline of some length"),
            "<p>A paragraph of the article's own prose, with no link at all.</p>".to_string(),
            teaser("/c", "A headline of some length"),
        ]
        .concat();
        assert_eq!(teaser_count(&body), 0);
    }
}

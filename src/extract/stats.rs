//! Per-node text counts (characters, link characters, commas, paragraph text) over the arena.

use super::dom::{Content, Dom, NO_PARENT, is_inline_tag};

/// Text measures for every arena node, summed over its subtree unless named `direct_*`.
#[derive(Debug, Clone, Default)]
pub struct TextStats {
    /// Non-whitespace characters.
    pub chars: Vec<u32>,
    /// Non-whitespace characters inside links.
    pub link_chars: Vec<u32>,
    /// Characters in paragraph-like runs (runs of inline text of 25+ characters).
    pub paragraph_chars: Vec<u32>,
    /// Inline text owned by this block element itself (text not inside a child block).
    pub direct_chars: Vec<u32>,
    pub direct_link_chars: Vec<u32>,
    pub direct_commas: Vec<u32>,
}

/// Inline runs shorter than this are labels and buttons rather than sentences.
pub const PARAGRAPH_MIN_CHARS: u32 = 25;

impl TextStats {
    /// Counts text over the nodes not flagged in `removed` (empty slice: nothing removed).
    pub fn compute(dom: &Dom, removed: &[bool]) -> Self {
        let count = dom.len();
        let mut stats = TextStats {
            chars: vec![0; count],
            link_chars: vec![0; count],
            paragraph_chars: vec![0; count],
            direct_chars: vec![0; count],
            direct_link_chars: vec![0; count],
            direct_commas: vec![0; count],
        };
        let is_removed = |index: usize| removed.get(index).copied().unwrap_or(false);
        let owners = block_owners(dom);
        let in_link = inside_links(dom);
        let text_counts = text_counts(dom);
        for index in 0..count {
            if !matches!(dom.nodes[index].content, Content::Text(_)) {
                continue;
            }
            // A <noscript>'s content is raw markup (the fallback image), not text.
            if is_removed(index) || dom.tag(dom.nodes[index].parent) == "noscript" {
                continue;
            }
            let (chars, commas) = text_counts[index];
            let owner = owners[index];
            stats.chars[index] = chars;
            stats.direct_chars[owner] += chars;
            stats.direct_commas[owner] += commas;
            if in_link[index] {
                stats.link_chars[index] = chars;
                stats.direct_link_chars[owner] += chars;
            }
        }
        for index in 0..count {
            if stats.direct_chars[index] >= PARAGRAPH_MIN_CHARS {
                stats.paragraph_chars[index] = stats.direct_chars[index];
            }
        }
        for index in (1..count).rev() {
            let parent = dom.nodes[index].parent;
            if parent == NO_PARENT || is_removed(index) {
                continue;
            }
            stats.chars[parent] += stats.chars[index];
            stats.link_chars[parent] += stats.link_chars[index];
            stats.paragraph_chars[parent] += stats.paragraph_chars[index];
        }
        stats
    }

    /// Share of this subtree's text that sits inside links.
    pub fn link_density(&self, index: usize) -> f32 {
        let chars = self.chars[index];
        if chars == 0 {
            return 0.0;
        }
        self.link_chars[index] as f32 / chars as f32
    }
}

/// Non-whitespace characters and commas (ASCII and CJK) in a text.
fn count_text(text: &str) -> (u32, u32) {
    let mut chars = 0;
    let mut commas = 0;
    for character in text.chars() {
        if !character.is_whitespace() {
            chars += 1;
            if matches!(character, ',' | '，' | '、' | '،') {
                commas += 1;
            }
        }
    }
    (chars, commas)
}

/// For each text node, its non-whitespace characters and commas (0 for other nodes).
fn text_counts<'d>(dom: &'d Dom) -> &'d [(u32, u32)] {
    dom.text_counts.get_or_init(|| {
        dom.nodes
            .iter()
            .map(|node| match node.content {
                Content::Text(text) => count_text(text),
                _ => (0, 0),
            })
            .collect()
    })
}

/// For each node, the nearest ancestor that is not an inline element: the block its text
/// belongs to.
pub fn block_owners<'d>(dom: &'d Dom) -> &'d [usize] {
    dom.owners.get_or_init(|| read_block_owners(dom))
}

fn read_block_owners(dom: &Dom) -> Vec<usize> {
    let mut owners = vec![0; dom.len()];
    for index in 1..dom.len() {
        let parent = dom.nodes[index].parent;
        owners[index] = if parent != 0 && is_inline_tag(dom.tag(parent)) {
            owners[parent]
        } else {
            parent
        };
    }
    owners
}

/// For each node, whether it is inside (or is) an `<a>` element.
pub fn inside_links<'d>(dom: &'d Dom) -> &'d [bool] {
    dom.in_link.get_or_init(|| read_inside_links(dom))
}

fn read_inside_links(dom: &Dom) -> Vec<bool> {
    let mut in_link = vec![false; dom.len()];
    for index in 1..dom.len() {
        let parent = dom.nodes[index].parent;
        in_link[index] = in_link[parent] || dom.tag(index) == "a";
    }
    in_link
}

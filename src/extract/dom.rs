//! A flat, preorder copy of the parsed page that the scoring passes can index cheaply.
//!
//! scraper's tree gives no integer node ids, and every pass here needs per-node arrays
//! (scores, removal flags, text counts). Nodes are stored in document order, so a node's
//! subtree is the contiguous range `index..end`. Building it is iterative and caps the depth,
//! so hostile nesting can neither overflow the stack nor make ancestor walks quadratic.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};

use scraper::node::Element;

use super::hints::ClassHints;
use scraper::{ElementRef, Html, Node};

/// Elements nested deeper than this become transparent: their text stays, their tag goes.
pub const MAX_DEPTH: usize = 200;

pub const NO_PARENT: usize = usize::MAX;

/// What one arena node holds: an element (borrowed from the scraper tree) or text.
#[derive(Debug, Clone, Copy)]
pub enum Content<'a> {
    Root,
    Element(&'a Element),
    Text(&'a str),
}

#[derive(Debug, Clone, Copy)]
pub struct DomNode<'a> {
    pub content: Content<'a>,
    pub parent: usize,
    /// One past the last node of this node's subtree.
    pub end: usize,
}

/// The page as a preorder arena; index 0 is a synthetic root.
pub struct Dom<'a> {
    pub nodes: Vec<DomNode<'a>>,
    /// Each element's class/id hints, read on first use: pruning, scoring and rendering all
    /// ask for them (classifying the tokens on every call was about 5 % of a batch's CPU).
    pub hints: Vec<OnceCell<ClassHints>>,
    /// Hints by `class` value for elements without an `id`: a page repeats a few class
    /// values on many elements.
    pub hints_by_class: RefCell<HashMap<&'a str, ClassHints>>,
    /// Per-node facts that do not depend on pruning, computed once per page by `stats` (each
    /// pass recounts its figures from them).
    pub owners: OnceCell<Vec<usize>>,
    pub in_link: OnceCell<Vec<bool>>,
    pub text_counts: OnceCell<Vec<(u32, u32)>>,
}

/// Tags whose content is never article text; they are not copied into the arena at all.
/// (`rt`/`rp` are ruby pronunciation annotations, printed above the text, not in it.)
fn is_dropped_tag(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "template"
            | "svg"
            | "math"
            | "head"
            | "link"
            | "meta"
            | "canvas"
            | "object"
            | "embed"
            | "map"
            | "base"
            | "rt"
            | "rp"
    )
}

/// Identity of a scraper node while its document lives (scraper does not re-export
/// `ego_tree::NodeId`, and this avoids a direct dependency on it).
pub fn node_key(node: &Node) -> usize {
    std::ptr::from_ref(node) as usize
}

impl<'a> Dom<'a> {
    /// Copies `roots` (the whole document when empty) into an arena, leaving out the
    /// `skipped` subtrees (the source's `remove_selectors`, as [`node_key`]s).
    pub fn build(document: &'a Html, roots: &[ElementRef<'a>], skipped: &HashSet<usize>) -> Self {
        let mut dom = Dom {
            nodes: vec![DomNode {
                content: Content::Root,
                parent: NO_PARENT,
                end: 1,
            }],
            hints: Vec::new(),
            hints_by_class: RefCell::default(),
            owners: OnceCell::new(),
            in_link: OnceCell::new(),
            text_counts: OnceCell::new(),
        };
        if roots.is_empty() {
            dom.copy_subtree(document.root_element(), skipped);
        }
        for root in roots {
            dom.copy_subtree(*root, skipped);
        }
        dom.nodes[0].end = dom.nodes.len();
        dom.hints = vec![OnceCell::new(); dom.nodes.len()];
        dom
    }

    /// Iterative preorder copy. A stack entry without a node is an exit marker that closes
    /// the range of the arena node it names once that node's children are done.
    fn copy_subtree(&mut self, top: ElementRef<'a>, skipped: &HashSet<usize>) {
        let mut stack = vec![(Some(*top), 0, 0)];
        while let Some((node, parent, depth)) = stack.pop() {
            let Some(node) = node else {
                self.nodes[parent].end = self.nodes.len();
                continue;
            };
            if !skipped.is_empty() && skipped.contains(&node_key(node.value())) {
                continue;
            }
            let mut child_parent = parent;
            match node.value() {
                Node::Text(text) => {
                    self.push(Content::Text(&text.text), parent);
                }
                Node::Element(element) => {
                    if is_dropped_tag(element.name()) {
                        continue;
                    }
                    if depth < MAX_DEPTH {
                        child_parent = self.push(Content::Element(element), parent);
                        stack.push((None, child_parent, depth));
                    }
                }
                Node::Document | Node::Fragment => {}
                _ => continue,
            };
            let next_depth = depth + usize::from(child_parent != parent);
            let first = stack.len();
            for child in node.children() {
                stack.push((Some(child), child_parent, next_depth));
            }
            stack[first..].reverse();
        }
    }

    fn push(&mut self, content: Content<'a>, parent: usize) -> usize {
        let index = self.nodes.len();
        self.nodes.push(DomNode {
            content,
            parent,
            end: index + 1,
        });
        index
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn element(&self, index: usize) -> Option<&'a Element> {
        match self.nodes[index].content {
            Content::Element(element) => Some(element),
            _ => None,
        }
    }

    /// Lowercase tag name, or "" for text and the root.
    pub fn tag(&self, index: usize) -> &'a str {
        self.element(index).map_or("", |element| element.name())
    }

    pub fn attr(&self, index: usize, name: &str) -> Option<&'a str> {
        self.element(index).and_then(|element| element.attr(name))
    }

    /// Direct children, in order (skipping over each child's subtree).
    pub fn children(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        let end = self.nodes[index].end;
        let mut next = index + 1;
        std::iter::from_fn(move || {
            if next >= end {
                return None;
            }
            let child = next;
            next = self.nodes[child].end;
            Some(child)
        })
    }

    /// Ancestors from the parent upwards, excluding the synthetic root.
    pub fn ancestors(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        let mut current = self.nodes[index].parent;
        std::iter::from_fn(move || {
            if current == NO_PARENT || current == 0 {
                return None;
            }
            let ancestor = current;
            current = self.nodes[ancestor].parent;
            Some(ancestor)
        })
    }

    pub fn contains(&self, ancestor: usize, descendant: usize) -> bool {
        ancestor <= descendant && descendant < self.nodes[ancestor].end
    }
}

/// Inline (phrasing) elements: they never start a new block of text.
pub fn is_inline_tag(name: &str) -> bool {
    matches!(
        name,
        "a" | "abbr"
            | "b"
            | "bdi"
            | "bdo"
            | "cite"
            | "code"
            | "data"
            | "dfn"
            | "em"
            | "font"
            | "i"
            | "kbd"
            | "mark"
            | "q"
            | "s"
            | "samp"
            | "small"
            | "span"
            | "strike"
            | "strong"
            | "sub"
            | "sup"
            | "time"
            | "tt"
            | "u"
            | "var"
            | "wbr"
            | "img"
            | "picture"
            | "source"
            | "label"
            | "nobr"
            | "ins"
            | "del"
            | "big"
            | "acronym"
            | "ruby"
            | "rb"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preorder_ranges_cover_subtrees() {
        let html = Html::parse_document("<div><p>a<b>b</b></p><p>c</p></div>");
        let dom = Dom::build(&html, &[], &HashSet::new());
        let div = (0..dom.len()).find(|&i| dom.tag(i) == "div").unwrap();
        let paragraphs: Vec<usize> = dom.children(div).collect();
        assert_eq!(paragraphs.len(), 2);
        assert!(dom.contains(div, paragraphs[1]));
        assert_eq!(dom.ancestors(paragraphs[0]).next(), Some(div));
    }

    #[test]
    fn deep_nesting_is_capped_but_text_kept() {
        let page = "<div>".repeat(5000) + "deep text" + &"</div>".repeat(5000);
        let html = Html::parse_document(&page);
        let dom = Dom::build(&html, &[], &HashSet::new());
        let deepest = (0..dom.len())
            .map(|i| dom.ancestors(i).count())
            .max()
            .unwrap();
        assert!(deepest <= MAX_DEPTH + 1);
        assert!(
            dom.nodes
                .iter()
                .any(|n| matches!(n.content, Content::Text("deep text")))
        );
    }
}

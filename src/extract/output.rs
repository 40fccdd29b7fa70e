//! Renders the selected containers into simple HTML and plain text, block by block, dropping
//! link lists, "read also" pointers, furniture labels, repeated paragraphs and the headline.

use std::collections::HashSet;
use std::sync::Arc;

use super::dom::{Content, Dom, is_inline_tag};
use super::hints;
use super::media;
use super::site_furniture::{self, PageBlocks};
use super::stats::TextStats;

/// What the renderer needs besides the tree.
pub struct RenderInput<'a, 'b> {
    pub dom: &'b Dom<'a>,
    pub stats: &'b TextStats,
    pub removed: &'b [bool],
    /// Normalized forms of the page headline, so the body does not repeat it.
    pub headlines: Vec<String>,
    pub video_hosts: &'b [String],
    /// Only the text is wanted (`extract --batch`): no HTML is built at all.
    pub text_only: bool,
    /// The blocks of the site's earlier pages (the daemon's `SiteMemory`): blocks that
    /// pages of other stories repeat are the site's furniture and are dropped.
    pub earlier_pages: &'b [Arc<PageBlocks>],
}

/// The article body: HTML (not yet sanitized) and text with blank lines between blocks.
#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub text: String,
    pub text_chars: usize,
    /// The page's prose blocks, before the site's furniture was dropped: what the site's
    /// memory keeps of this page.
    pub blocks: PageBlocks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Paragraph,
    Heading(u8),
    ListItem,
    Preformatted,
    Caption,
    /// Finished HTML with its own text (tables, media).
    Raw,
}

/// One piece of output: a wrapper tag opening/closing, or a block of content.
#[derive(Debug)]
enum Item {
    Open(&'static str),
    Close(&'static str),
    Block {
        kind: BlockKind,
        html: String,
        text: String,
        chars: u32,
        link_chars: u32,
        media: bool,
    },
}

/// Inline content being accumulated until the next block boundary.
#[derive(Debug, Default)]
struct InlineRun {
    html: String,
    text: String,
    chars: u32,
    link_chars: u32,
    media: bool,
    pending_space: bool,
    /// Skips building `html` (see [`RenderInput::text_only`]).
    text_only: bool,
}

impl InlineRun {
    fn new(text_only: bool) -> Self {
        InlineRun {
            text_only,
            ..InlineRun::default()
        }
    }

    /// Appends a text node, collapsing whitespace runs to one space as a browser would.
    fn push_text(&mut self, text: &str, in_link: bool, preformatted: bool) {
        if preformatted {
            self.text.push_str(text);
            if !self.text_only {
                self.html.push_str(&escape(text));
            }
            self.chars += text.chars().filter(|c| !c.is_whitespace()).count() as u32;
            return;
        }
        if text.starts_with(char::is_whitespace) {
            self.pending_space = true;
        }
        for (position, word) in text.split_whitespace().enumerate() {
            if position > 0 || self.pending_space {
                self.add_space();
            }
            self.pending_space = false;
            let word = strip_invisible(word);
            self.text.push_str(&word);
            if !self.text_only {
                self.html.push_str(&escape(&word));
            }
            let count = word.chars().count() as u32;
            self.chars += count;
            if in_link {
                self.link_chars += count;
            }
        }
        if text.ends_with(char::is_whitespace) {
            self.pending_space = true;
        }
    }

    fn add_space(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with([' ', '\n']) {
            self.text.push(' ');
            if !self.text_only {
                self.html.push(' ');
            }
        }
    }

    fn push_break(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            let trimmed = self.text.trim_end_matches(' ').len();
            self.text.truncate(trimmed);
            self.text.push('\n');
            if !self.text_only {
                self.html.push_str("<br>");
            }
        }
        self.pending_space = false;
    }

    fn is_empty(&self) -> bool {
        self.text.trim().is_empty() && !self.media
    }
}

/// Walk state: where we are and what has been produced.
struct Walker<'a, 'b, 'c> {
    input: &'c RenderInput<'a, 'b>,
    items: Vec<Item>,
    run: InlineRun,
    in_link: Vec<bool>,
    caption_depth: usize,
    figure_depth: usize,
    preformatted_depth: usize,
    block_kinds: Vec<BlockKind>,
    seen_images: HashSet<String>,
    /// The last prose block of the article's roots (see [`last_prose_block`]).
    last_prose: usize,
}

/// Renders the subtrees at `roots` (in page order).
pub fn render(input: &RenderInput, roots: &[usize]) -> Rendered {
    let mut walker = Walker {
        input,
        items: Vec::new(),
        run: InlineRun::new(input.text_only),
        in_link: links_for_rendering(input.dom),
        caption_depth: 0,
        figure_depth: 0,
        preformatted_depth: 0,
        block_kinds: vec![BlockKind::Paragraph],
        seen_images: HashSet::new(),
        last_prose: last_prose_block(input, roots),
    };
    let mut is_root = vec![false; input.dom.len()];
    for &root in roots {
        is_root[root] = true;
    }
    for &root in roots {
        walker.walk(root, &is_root);
        walker.flush();
    }
    assemble(walker.items, input)
}

/// A block of prose: a sentence or more of its own text, mostly not link text.
const PROSE_BLOCK_MIN_CHARS: u32 = 80;

/// The last node, in page order, of the roots' kept prose blocks (0 when there is none): what
/// comes before it is inside the article's flow.
fn last_prose_block(input: &RenderInput, roots: &[usize]) -> usize {
    let stats = input.stats;
    roots
        .iter()
        .filter_map(|&root| {
            (root..input.dom.nodes[root].end).rev().find(|&node| {
                let chars = stats.direct_chars[node];
                !input.removed[node]
                    && chars >= PROSE_BLOCK_MIN_CHARS
                    && (stats.direct_link_chars[node] as f32) < 0.3 * chars as f32
            })
        })
        .max()
        .unwrap_or(0)
}

/// Which nodes read as link text when judging a block. A heading whose text is a link to its
/// own `#fragment` (the permalink anchors of documentation and blog generators) titles a section
/// of this page: it is a heading, not a pointer elsewhere, so its text is not link text.
fn links_for_rendering(dom: &Dom) -> Vec<bool> {
    let mut in_link = super::stats::inside_links(dom).to_vec();
    for index in 1..dom.len() {
        let is_section_anchor = dom.tag(index) == "a"
            && dom
                .attr(index, "href")
                .is_some_and(|href| href.trim_start().starts_with('#'))
            && dom.ancestors(index).take(3).any(|ancestor| {
                matches!(dom.tag(ancestor), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
            });
        if is_section_anchor {
            in_link[index..dom.nodes[index].end].fill(false);
        }
    }
    in_link
}

enum Step {
    Enter(usize),
    Exit(usize),
}

impl Walker<'_, '_, '_> {
    fn walk(&mut self, root: usize, is_root: &[bool]) {
        let dom = self.input.dom;
        let mut stack = vec![Step::Enter(root)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Exit(index) => self.exit(index),
                Step::Enter(index) => {
                    if self.input.removed[index] {
                        continue;
                    }
                    if let Content::Text(text) = dom.nodes[index].content {
                        let preformatted = self.preformatted_depth > 0;
                        self.run.push_text(text, self.in_link[index], preformatted);
                        continue;
                    }
                    if !self.enter(index, is_root[index]) {
                        continue;
                    }
                    stack.push(Step::Exit(index));
                    let first_child = stack.len();
                    stack.extend(dom.children(index).map(Step::Enter));
                    stack[first_child..].reverse();
                }
            }
        }
    }

    /// Handles an element's start; returns whether to descend into it.
    fn enter(&mut self, index: usize, is_root: bool) -> bool {
        let dom = self.input.dom;
        let tag = dom.tag(index);
        match tag {
            "br" => {
                self.run.push_break();
                return false;
            }
            "img" => {
                self.image(media::image_source(dom, index), dom.attr(index, "alt"));
                return false;
            }
            "noscript" => {
                self.noscript_images(index);
                return false;
            }
            "iframe" | "video" | "audio" => {
                self.embedded_media(index);
                return false;
            }
            "hr" | "source" | "track" | "wbr" => return false,
            _ => {}
        }
        if !is_root && self.is_link_list(index) {
            return false;
        }
        if tag == "table" && media::is_data_table(self.input.dom, self.input.stats, index) {
            self.flush();
            self.data_table(index);
            return false;
        }
        if self.acts_inline(index) {
            self.open_inline(index, tag);
            return true;
        }
        self.flush();
        self.open_block(index, tag);
        true
    }

    fn exit(&mut self, index: usize) {
        let tag = self.input.dom.tag(index);
        if self.acts_inline(index) {
            if let Some(name) = kept_inline_tag(tag).filter(|_| !self.input.text_only) {
                self.run.html.push_str(&format!("</{name}>"));
            }
            return;
        }
        self.flush();
        self.block_kinds.pop();
        if self.is_caption(index) {
            self.caption_depth -= 1;
        }
        if tag == "pre" {
            self.preformatted_depth -= 1;
        }
        if tag == "figure" {
            self.figure_depth -= 1;
        }
        if let Some(wrapper) = wrapper_tag(tag) {
            self.items.push(Item::Close(wrapper));
        }
    }

    fn open_inline(&mut self, index: usize, tag: &str) {
        let Some(name) = kept_inline_tag(tag).filter(|_| !self.input.text_only) else {
            return;
        };
        if name == "a" {
            let href = self.input.dom.attr(index, "href").unwrap_or("");
            self.run
                .html
                .push_str(&format!("<a href=\"{}\">", escape(href.trim())));
        } else {
            self.run.html.push_str(&format!("<{name}>"));
        }
    }

    fn open_block(&mut self, index: usize, tag: &str) {
        if let Some(wrapper) = wrapper_tag(tag) {
            self.items.push(Item::Open(wrapper));
        }
        if self.is_caption(index) {
            self.caption_depth += 1;
        }
        if tag == "pre" {
            self.preformatted_depth += 1;
        }
        if tag == "figure" {
            self.figure_depth += 1;
        }
        let kind = match tag {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => BlockKind::Heading(tag.as_bytes()[1] - b'0'),
            "li" | "dt" | "dd" => BlockKind::ListItem,
            "pre" => BlockKind::Preformatted,
            _ => BlockKind::Paragraph,
        };
        self.block_kinds.push(kind);
    }

    /// Inline elements stay in their paragraph, except captions and credits (a
    /// `<span class="caption">` inside a `<p>` still becomes a caption block).
    fn acts_inline(&self, index: usize) -> bool {
        is_inline_tag(self.input.dom.tag(index)) && !self.is_caption(index)
    }

    fn is_caption(&self, index: usize) -> bool {
        let dom = self.input.dom;
        matches!(dom.tag(index), "figcaption" | "caption" | "figure")
            || super::clean::element_hints(dom, index).caption
    }

    /// Lists and boxes made mostly of links ("other articles", tag clouds, menus), except a
    /// list the article cites in its flow (see [`Self::cited_in_flow`]).
    fn is_link_list(&self, index: usize) -> bool {
        let stats = self.input.stats;
        let tag = self.input.dom.tag(index);
        if is_inline_tag(tag) || matches!(tag, "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
            return false;
        }
        let limit = if matches!(tag, "ul" | "ol" | "dl") {
            0.4
        } else {
            0.5
        };
        stats.link_chars[index] > 0
            && stats.link_density(index) > limit
            && !self.cited_in_flow(index)
    }

    /// A list of links with words of their own ("11 December: <a>Le Monde, the strike
    /// fund</a>", "<a>Budget 2026</a>, the council's summary") between the article's
    /// paragraphs: a press review, sources, documents the text introduces and goes on after.
    /// Related-story boxes, tables of contents and menus are links and nothing else, and
    /// "more stories" lists come after the last paragraph.
    fn cited_in_flow(&self, index: usize) -> bool {
        const MAX_LINK_DENSITY: f32 = 0.8;
        self.input.dom.nodes[index].end <= self.last_prose
            && self.input.stats.link_density(index) <= MAX_LINK_DENSITY
    }

    /// Closes the current inline run as a block.
    fn flush(&mut self) {
        let run = std::mem::replace(&mut self.run, InlineRun::new(self.input.text_only));
        if run.is_empty() {
            return;
        }
        let kind = if self.caption_depth > 0 && !run.text.trim().is_empty() {
            BlockKind::Caption
        } else {
            *self.block_kinds.last().unwrap_or(&BlockKind::Paragraph)
        };
        let mut html = run.html.trim().to_string();
        if kind == BlockKind::Caption {
            html = if self.figure_depth > 0 {
                format!("<figcaption>{html}</figcaption>")
            } else {
                format!("<figure><figcaption>{html}</figcaption></figure>")
            };
        }
        let text = if kind == BlockKind::Preformatted {
            run.text.trim_matches('\n').to_string()
        } else {
            run.text.trim().to_string()
        };
        self.items.push(Item::Block {
            kind,
            html,
            text,
            chars: run.chars,
            link_chars: run.link_chars,
            media: run.media,
        });
    }

    fn image(&mut self, source: Option<String>, alt: Option<&str>) {
        let Some(source) = source else {
            return;
        };
        if !self.seen_images.insert(source.clone()) {
            return;
        }
        self.run.media = true;
        if self.input.text_only {
            return;
        }
        let alt = alt
            .map(|alt| format!(" alt=\"{}\"", escape(alt)))
            .unwrap_or_default();
        self.run
            .html
            .push_str(&format!("<img src=\"{}\"{alt}>", escape(&source)));
    }

    /// `<noscript>` fallbacks of lazy-loading scripts hold the real `<img>`.
    fn noscript_images(&mut self, index: usize) {
        for (source, alt) in media::noscript_images(self.input.dom, index) {
            self.image(Some(source), alt.as_deref());
        }
    }

    fn embedded_media(&mut self, index: usize) {
        if let Some(html) = media::embedded_media(self.input.dom, index, self.input.video_hosts) {
            self.flush();
            self.items.push(Item::Block {
                kind: BlockKind::Raw,
                html,
                text: String::new(),
                chars: 0,
                link_chars: 0,
                media: true,
            });
        }
    }

    fn data_table(&mut self, index: usize) {
        let (html, text) = media::render_table(self.input.dom, self.input.removed, index);
        let chars = text.chars().filter(|c| !c.is_whitespace()).count() as u32;
        self.items.push(Item::Block {
            kind: BlockKind::Raw,
            html,
            text,
            chars,
            link_chars: 0,
            media: false,
        });
    }
}

/// Inline tags kept in the output HTML (others are unwrapped).
fn kept_inline_tag(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "a" => "a",
        "b" | "strong" => "strong",
        "i" | "em" | "cite" => "em",
        "code" | "kbd" | "samp" | "tt" => "code",
        "sub" => "sub",
        "sup" => "sup",
        "q" => "q",
        _ => return None,
    })
}

/// Block tags kept as wrappers around the blocks they contain.
fn wrapper_tag(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "ul" => "ul",
        "ol" => "ol",
        "dl" => "ul",
        "blockquote" => "blockquote",
        "figure" => "figure",
        _ => return None,
    })
}

/// Whether a block (not a heading or caption) is a pointer or label rather than text.
fn is_noise(text: &str, chars: u32, link_chars: u32, kind: BlockKind) -> bool {
    let link_share = if chars == 0 {
        0.0
    } else {
        link_chars as f32 / chars as f32
    };
    if hints::is_furniture_label(text)
        || hints::is_credit_line(text)
        || hints::is_imperative_call_to_action(text)
    {
        return true;
    }
    if hints::opens_like_read_also(text) && (link_chars > 0 || chars < 100) {
        return true;
    }
    // A link with a short lead-in ("Read: <a>...</a>") points elsewhere; a sentence that
    // merely contains a long link is still text.
    let lead_in_chars = chars - link_chars.min(chars);
    // "Former commander: <a>Russia is dangerous</a>": a teaser headline, not a sentence.
    let ends_like_sentence = text
        .trim_end()
        .ends_with(['.', '!', '?', '"', '»', '”', ')', ':']);
    if chars < 100 && link_share >= 0.3 && !ends_like_sentence && kind != BlockKind::ListItem {
        return true;
    }
    match kind {
        BlockKind::ListItem => false,
        _ => link_share > 0.9 || (link_share > 0.5 && lead_in_chars < 30),
    }
}

/// Lowercase letters and digits only: the identity of a paragraph for deduplication.
pub fn normalize(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for character in text.chars() {
        // ASCII first: most text is, and its lowercase needs no table lookup.
        if character.is_ascii() {
            if character.is_ascii_alphanumeric() {
                key.push(character.to_ascii_lowercase());
            }
        } else if character.is_alphanumeric() {
            key.extend(character.to_lowercase());
        }
    }
    key
}

fn is_headline(text: &str, headlines: &[String]) -> bool {
    let key = normalize(text);
    !key.is_empty()
        && headlines.iter().any(|headline| {
            *headline == key || (headline.contains(&key) && key.len() * 2 >= headline.len())
        })
}

/// Filters and deduplicates blocks, drops the site's repeated blocks, trims trailing
/// furniture, then writes HTML and text.
fn assemble(items: Vec<Item>, input: &RenderInput) -> Rendered {
    let headlines = &input.headlines;
    let mut seen = HashSet::new();
    let mut kept: Vec<Item> = Vec::with_capacity(items.len());
    // (position in `kept`, key, characters) of the prose blocks the site's memory compares.
    let mut prose: Vec<(usize, u64, u32)> = Vec::new();
    for item in items {
        if let Item::Block {
            kind,
            text,
            chars,
            link_chars,
            media,
            ..
        } = &item
        {
            let key = normalize(text);
            let prose_key = (matches!(
                kind,
                BlockKind::Paragraph | BlockKind::Heading(_) | BlockKind::Caption
            ) && !key.is_empty())
            .then(|| (kept.len(), site_furniture::block_key(&key), *chars));
            let keep = match kind {
                BlockKind::Caption | BlockKind::Raw => key.is_empty() || seen.insert(key),
                BlockKind::Heading(_) if is_headline(text, headlines) => false,
                _ if *chars == 0 => *media,
                _ => !is_noise(text, *chars, *link_chars, *kind) && seen.insert(key),
            };
            if !keep {
                continue;
            }
            prose.extend(prose_key);
        }
        kept.push(item);
    }
    let blocks = PageBlocks::new(prose.iter().map(|&(_, key, chars)| (key, chars)));
    drop_site_furniture(&mut kept, &prose, &blocks, input.earlier_pages);
    cut_at_tail_boundary(&mut kept);
    trim_trailing_furniture(&mut kept);
    let mut rendered = write_out(kept, input.text_only);
    rendered.blocks = blocks;
    rendered
}

/// Drops the blocks that the site's earlier pages of other stories repeat (see
/// [`site_furniture`]). Wrapper tags stay, so the HTML stays balanced.
fn drop_site_furniture(
    kept: &mut Vec<Item>,
    prose: &[(usize, u64, u32)],
    blocks: &PageBlocks,
    earlier: &[Arc<PageBlocks>],
) {
    let repeated = site_furniture::repeated_blocks(blocks, earlier);
    if repeated.is_empty() {
        return;
    }
    let mut drop = vec![false; kept.len()];
    for &(position, key, _) in prose {
        drop[position] = repeated.contains(&key);
    }
    let mut position = 0;
    kept.retain(|_| {
        position += 1;
        !drop[position - 1]
    });
}

/// Share of the article's text that must come before a tail boundary: a boundary phrase
/// early on is more likely a section of the article itself ("About the company" in a profile).
const TAIL_BOUNDARY_MIN_SHARE: f32 = 0.5;

/// Drops everything from the first tail boundary (an "about us" heading, a press contact, a
/// legal notice: see [`hints::opens_tail_boundary`]) in the second half of the text.
fn cut_at_tail_boundary(items: &mut Vec<Item>) {
    let total: u32 = items.iter().map(block_chars).sum();
    let mut before = 0;
    let mut cut = None;
    for (position, item) in items.iter().enumerate() {
        if let Item::Block { kind, text, .. } = item
            // List items are entries of a list (references, steps), not section boundaries.
            && (matches!(kind, BlockKind::Heading(_))
                || (*kind == BlockKind::Paragraph && is_label_like(text)))
            && before as f32 >= TAIL_BOUNDARY_MIN_SHARE * total as f32
            && hints::opens_tail_boundary(text)
        {
            cut = Some(position);
            break;
        }
        before += block_chars(item);
    }
    if let Some(cut) = cut {
        // Closings of wrappers opened before the cut stay, so the HTML stays balanced.
        let mut opened_in_tail = 0usize;
        for item in items.split_off(cut) {
            match item {
                Item::Open(_) => opened_in_tail += 1,
                Item::Close(_) if opened_in_tail > 0 => opened_in_tail -= 1,
                Item::Close(_) => items.push(item),
                Item::Block { .. } => {}
            }
        }
    }
}

/// A paragraph that reads as a label ("À propos de la Région", "Pressekontakt: Max Muster")
/// rather than a sentence: short, without a sentence's closing punctuation. Only such a
/// paragraph may mark the tail, so an article sentence that merely opens with "À propos de"
/// or "Acerca de" never cuts the text after it.
fn is_label_like(text: &str) -> bool {
    const LABEL_MAX_CHARS: usize = 80;
    let text = text.trim();
    text.chars().count() <= LABEL_MAX_CHARS && !text.ends_with(['.', '!', '?', '…', ';'])
}

fn block_chars(item: &Item) -> u32 {
    match item {
        Item::Block { chars, .. } => *chars,
        _ => 0,
    }
}

/// Drops calls to action, credits, metadata lines and orphan headings at the end of the
/// article (where paywall notices, "follow us" lines, permalinks and copyright lines sit),
/// and a short closing section under a heading that is a call to action ("We are hiring",
/// "Get the briefing in your inbox").
fn trim_trailing_furniture(items: &mut Vec<Item>) {
    let mut index = items.len();
    // Positions of the blocks passed over above the dropped tail, kept unless a
    // call-to-action heading turns out to title them.
    let mut section: Vec<usize> = Vec::new();
    let mut section_chars = 0;
    while index > 0 {
        index -= 1;
        let Item::Block {
            kind, text, chars, ..
        } = &items[index]
        else {
            continue;
        };
        if is_trailing_noise(&items[index]) {
            if section.is_empty() {
                items.remove(index);
                continue;
            }
            if matches!(kind, BlockKind::Heading(_)) && hints::is_call_to_action(text) {
                // The heading and the pitch under it; positions descend, so each removal
                // leaves the next position valid.
                for position in section.drain(..) {
                    items.remove(position);
                }
                items.remove(index);
                section_chars = 0;
                continue;
            }
            break;
        }
        let text_block = matches!(kind, BlockKind::Paragraph | BlockKind::ListItem);
        if !text_block || section_chars + chars > CLOSING_SECTION_MAX_CHARS {
            break;
        }
        section_chars += chars;
        section.push(index);
    }
}

/// Text under a call-to-action heading at the end that is still the pitch, not the article.
const CLOSING_SECTION_MAX_CHARS: u32 = 300;

/// Whether a block at the end of the text is furniture (see [`trim_trailing_furniture`]).
fn is_trailing_noise(item: &Item) -> bool {
    let Item::Block {
        kind, text, media, ..
    } = item
    else {
        return false;
    };
    match kind {
        BlockKind::Heading(_) => true,
        BlockKind::Caption | BlockKind::Raw => false,
        _ => {
            !*media
                && (hints::is_call_to_action(text)
                    || hints::is_credit_line(text)
                    || hints::is_metadata_line(text))
        }
    }
}

fn write_out(items: Vec<Item>, text_only: bool) -> Rendered {
    let mut rendered = Rendered::default();
    let mut text_blocks: Vec<String> = Vec::new();
    for item in items {
        match item {
            Item::Open(_) | Item::Close(_) if text_only => {}
            Item::Open(tag) => rendered.html.push_str(&format!("<{tag}>")),
            Item::Close(tag) => close_wrapper(&mut rendered.html, tag),
            Item::Block {
                kind,
                html,
                text,
                chars,
                ..
            } => {
                if !text_only {
                    rendered.html.push_str(&block_html(kind, &html));
                }
                if kind != BlockKind::Caption && !text.is_empty() {
                    rendered.text_chars += chars as usize;
                    text_blocks.push(text);
                }
            }
        }
    }
    rendered.text = text_blocks.join("\n\n");
    rendered
}

/// Closes a wrapper, or removes its opening tag when nothing was kept inside it.
fn close_wrapper(html: &mut String, tag: &str) {
    let opening = format!("<{tag}>");
    if html.ends_with(&opening) {
        html.truncate(html.len() - opening.len());
    } else {
        html.push_str(&format!("</{tag}>"));
    }
}

fn block_html(kind: BlockKind, html: &str) -> String {
    match kind {
        BlockKind::Paragraph => format!("<p>{html}</p>"),
        BlockKind::Heading(level) => format!("<h{level}>{html}</h{level}>"),
        BlockKind::ListItem => format!("<li>{html}</li>"),
        BlockKind::Preformatted => format!("<pre>{html}</pre>"),
        BlockKind::Caption | BlockKind::Raw => html.to_string(),
    }
}

/// Removes soft hyphens and zero-width spaces: invisible in a browser, so not in the text.
fn strip_invisible(word: &str) -> std::borrow::Cow<'_, str> {
    let invisible = |c: char| matches!(c, '\u{ad}' | '\u{200b}' | '\u{feff}');
    if word.contains(invisible) {
        word.replace(invisible, "").into()
    } else {
        word.into()
    }
}

pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            _ => escaped.push(character),
        }
    }
    escaped
}

//! Caps element nesting before html5ever sees a page, in one linear pass.
//!
//! html5ever rescans its stack of open elements on many start tags, so parsing time grows with
//! the square of the nesting depth: a 150,000-deep `<div>` chain takes minutes. Browsers cap
//! nesting too (Chromium at 512). No real article is nested hundreds of elements deep, so start
//! tags beyond `max_depth` (and their matching end tags) are dropped; their text is kept.

use std::borrow::Cow;

/// How far back an end tag looks for its start tag; bounds the work per tag.
const MATCH_WINDOW: usize = 16;

/// Returns `html` unchanged when it does not nest deeper than `max_depth`, else a copy with
/// the start tags beyond that depth, and their end tags, removed.
///
/// Real pages have thousands of tags but never nest that deep, so a first walk only checks
/// (no copy, no allocation per tag); the copying walk runs on the rare page that needs it.
pub fn cap_nesting(html: &str, max_depth: usize) -> Cow<'_, str> {
    if !walk(html, max_depth, None) {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    walk(html, max_depth, Some(&mut out));
    Cow::Owned(out)
}

/// Walks the tags of `html`, dropping start tags beyond `max_depth` and their end tags.
/// With `out`, writes the kept text there; without, stops at the first tag it would drop.
/// Returns whether a tag was (or would be) dropped.
fn walk(html: &str, max_depth: usize, mut out: Option<&mut String>) -> bool {
    // Open counted elements: (name as written, whether its start tag was dropped).
    let mut open: Vec<(&str, bool)> = Vec::new();
    let mut kept_depth = 0usize;
    let mut rest = html;
    let mut changed = false;
    while let Some(lt) = rest.find('<') {
        if let Some(out) = out.as_deref_mut() {
            out.push_str(&rest[..lt]);
        }
        let tag_text = &rest[lt..];
        let Some(tag) = read_tag(tag_text) else {
            if let Some(out) = out.as_deref_mut() {
                out.push('<');
            }
            rest = &rest[lt + 1..];
            continue;
        };
        let keep = match tag.kind {
            TagKind::Start(name) if counts(name) && !tag.self_closing => {
                let keep = kept_depth < max_depth;
                kept_depth += usize::from(keep);
                open.push((name, !keep));
                keep
            }
            TagKind::End(name) if counts(name) => close(&mut open, &mut kept_depth, name),
            _ => true,
        };
        match out.as_deref_mut() {
            Some(out) if keep => out.push_str(&tag_text[..tag.length]),
            None if !keep => return true,
            _ => {}
        }
        changed |= !keep;
        rest = &tag_text[tag.length..];
    }
    if let Some(out) = out {
        out.push_str(rest);
    }
    changed
}

/// Whether an element deepens the tree. Elements that have no end tag, or whose end tag is
/// implied by what follows, never deepen it for long, so they are not counted.
fn counts(name: &str) -> bool {
    // Every name in the list is at most 8 bytes: a longer name counts without a comparison.
    const LONGEST: usize = 8;
    if name.len() > LONGEST {
        return true;
    }
    let mut lowercase = [0u8; LONGEST];
    lowercase[..name.len()].copy_from_slice(name.as_bytes());
    lowercase.make_ascii_lowercase();
    // A `match` on byte strings compiles to a few length and byte comparisons per tag.
    !matches!(
        &lowercase[..name.len()],
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
            | b"p"
            | b"li"
            | b"dt"
            | b"dd"
            | b"option"
            | b"optgroup"
            | b"tr"
            | b"td"
            | b"th"
            | b"tbody"
            | b"thead"
            | b"tfoot"
            | b"colgroup"
            | b"rb"
            | b"rt"
            | b"rp"
            | b"html"
            | b"head"
            | b"body"
    )
}

/// Pops the most recent open element named `name` (and whatever was left open above it);
/// returns whether the end tag is kept (its start tag was).
fn close(open: &mut Vec<(&str, bool)>, kept_depth: &mut usize, name: &str) -> bool {
    let window_start = open.len().saturating_sub(MATCH_WINDOW);
    let Some(index) = open[window_start..]
        .iter()
        .rposition(|(open_name, _)| open_name.eq_ignore_ascii_case(name))
        .map(|offset| window_start + offset)
    else {
        return true;
    };
    let mut kept = true;
    for (position, (_, dropped)) in open.drain(index..).enumerate() {
        if !dropped {
            *kept_depth -= 1;
        }
        if position == 0 {
            kept = !dropped;
        }
    }
    kept
}

enum TagKind<'a> {
    /// The name as written (compared without regard to ASCII case).
    Start(&'a str),
    End(&'a str),
    /// Comments, doctypes, processing instructions.
    Other,
}

struct Tag<'a> {
    kind: TagKind<'a>,
    /// Bytes from `<` to the closing `>` included.
    length: usize,
    self_closing: bool,
}

/// Reads the tag at the start of `text` (which starts with `<`); `None` when it is not a tag.
fn read_tag(text: &str) -> Option<Tag<'_>> {
    let bytes = text.as_bytes();
    if let Some(comment) = text.strip_prefix("<!--") {
        let end = comment.find("-->").map_or(text.len(), |end| end + 7);
        return Some(Tag {
            kind: TagKind::Other,
            length: end,
            self_closing: false,
        });
    }
    let (is_end, name_start) = match bytes.get(1) {
        Some(b'/') => (true, 2),
        Some(b'!' | b'?') => {
            let end = text.find('>').map_or(text.len(), |end| end + 1);
            return Some(Tag {
                kind: TagKind::Other,
                length: end,
                self_closing: false,
            });
        }
        _ => (false, 1),
    };
    let name_length = text[name_start..]
        .bytes()
        .take_while(|byte| byte.is_ascii_alphanumeric() || *byte == b'-' || *byte == b':')
        .count();
    if name_length == 0 || !bytes[name_start].is_ascii_alphabetic() {
        return None;
    }
    let name = &text[name_start..name_start + name_length];
    let end = text.find('>').map_or(text.len(), |end| end + 1);
    let self_closing = text[..end].ends_with("/>");
    let kind = if is_end {
        TagKind::End(name)
    } else {
        TagKind::Start(name)
    };
    Some(Tag {
        kind,
        length: end,
        self_closing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_pages_are_borrowed_untouched() {
        let page = "<html><body><div><p>One<p>Two</div></body></html>";
        assert!(matches!(cap_nesting(page, 512), Cow::Borrowed(_)));
        assert!(
            matches!(cap_nesting(page, 3), Cow::Borrowed(_)),
            "depth 1 only"
        );
    }

    #[test]
    fn deep_chains_are_cut_to_the_cap_keeping_the_text() {
        let depth = 2000;
        let page = format!(
            "{}deep text{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let capped = cap_nesting(&page, 100);
        assert_eq!(capped.matches("<div>").count(), 100);
        assert_eq!(capped.matches("</div>").count(), 100);
        assert!(capped.contains("deep text"));
    }

    #[test]
    fn implied_end_tags_and_void_elements_do_not_count() {
        let paragraphs = "<p>para".repeat(3000);
        let page = format!("<div>{paragraphs}<br><img src=x></div>");
        assert!(matches!(cap_nesting(&page, 10), Cow::Borrowed(_)));
    }

    #[test]
    fn comments_and_stray_brackets_pass_through() {
        let page = format!(
            "{}<!-- <div> -->a < b{}",
            "<span>".repeat(50),
            "</span>".repeat(50)
        );
        let capped = cap_nesting(&page, 10);
        assert!(capped.contains("<!-- <div> -->a < b"), "{capped}");
        assert_eq!(capped.matches("<span>").count(), 10);
        assert_eq!(capped.matches("</span>").count(), 10);
    }

    #[test]
    fn a_deep_page_extracts_quickly_enough_to_finish() {
        // 150,000 nested divs took minutes before the cap; the test only checks it finishes
        // and keeps the text (time is for the benchmarks, not the tests).
        let depth = 150_000;
        let page = format!(
            "<html><body>{}<p>The only paragraph of this page, long enough to be an article \
             body for the extractor to keep it.</p>{}</body></html>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let capped = cap_nesting(&page, 512);
        assert!(capped.len() < 10_000);
    }
}

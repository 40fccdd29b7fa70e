//! The web pages, rendered as HTML with compile-time templates (maud). Pure.
//!
//! `layout` is the page shell every page shares (head, feed links, navigation, the one
//! stylesheet); `river` the merged stories, paged; `sources` every source's health for a
//! person; `search` a search's results. Pages are rendered once per change beside the feeds (`site.rs`), except `/sources`,
//! whose data (next poll, last error) changes with every poll and is cheap to read.

pub mod layout;
pub mod river;
pub mod search;
pub mod sources;

pub use layout::{Alternate, Shell};

/// The one stylesheet, served at `/style.css`: light and dark, phone and desktop.
pub const STYLESHEET: &str = include_str!("style.css");

/// The Content-Security-Policy every page is served with: nothing from another origin.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'";

/// `tag` as a URL path segment: tags are letters, digits, `-` and `_`, so only non-ASCII
/// letters need percent-encoding.
pub fn tag_segment(tag: &str) -> String {
    let mut segment = String::with_capacity(tag.len());
    for byte in tag.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            segment.push(byte as char);
        } else {
            segment.push_str(&format!("%{byte:02X}"));
        }
    }
    segment
}

/// Where the river serves a story's lead image from (`/images/{hash}`): the page's own
/// origin, so a reader's browser never contacts the site (see `fetch::images`).
pub fn image_path(url: &str) -> String {
    format!(
        "/images/{:016x}",
        crate::dedupe::stable_hash(url.as_bytes())
    )
}

/// The path of a topic's river page, e.g. `/tags/rust`.
pub fn tag_path(tag: &str) -> String {
    format!("/tags/{}", tag_segment(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_path_segments() {
        assert_eq!(tag_path("rust-lang_2"), "/tags/rust-lang_2");
        assert_eq!(tag_path("économie"), "/tags/%C3%A9conomie");
        assert_eq!(tag_segment("日本"), "%E6%97%A5%E6%9C%AC");
    }
}

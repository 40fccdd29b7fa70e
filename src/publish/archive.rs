//! Catch-up archives (RFC 5005): which stories each archive page holds and how the pages link.
//! Pure.
//!
//! Page `n` (from 1) holds the stories whose id is in `(n-1)·PAGE_SIZE+1 ..= n·PAGE_SIZE`.
//! Story ids follow the order stories were stored and never move, so a page's members are
//! fixed: once a story with a higher id exists, the page is complete and never gains a story.
//! The newest page is open (still filling) until then: the merged feed's `prev-archive` points
//! to it, and it is served without `fh:archive` and with a short cache lifetime. Walking
//! `prev-archive` from the merged feed therefore meets every stored story exactly once.
//! Pruning removes stories from their pages: a complete page then holds fewer stories (or
//! none); its links never change.

use crate::config::OutputFormat;

use super::FeedLinks;

/// Stories per archive page.
pub const PAGE_SIZE: i64 = 100;

/// One archive page's place among the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchivePage {
    pub number: i64,
    /// The first and last story ids it holds.
    pub first_id: i64,
    pub last_id: i64,
    /// Whether a newer page exists, so this one never changes again (pruning aside).
    pub complete: bool,
}

/// How many pages `max_id` (the highest story id) spreads over.
pub fn page_count(max_id: i64) -> i64 {
    (max_id.max(0) + PAGE_SIZE - 1) / PAGE_SIZE
}

/// Page `number`, if it exists while the highest story id is `max_id`.
pub fn page(number: i64, max_id: i64) -> Option<ArchivePage> {
    (1..=page_count(max_id))
        .contains(&number)
        .then(|| ArchivePage {
            number,
            first_id: (number - 1) * PAGE_SIZE + 1,
            last_id: number * PAGE_SIZE,
            complete: number < page_count(max_id),
        })
}

/// The file extension a format's documents are served with.
pub fn extension(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Atom => "atom",
        OutputFormat::Rss => "rss",
        OutputFormat::Json => "json",
    }
}

/// The path of page `number` in `format`.
pub fn page_path(number: i64, format: OutputFormat) -> String {
    format!("archive/{number}.{}", extension(format))
}

/// The merged feed's links: `prev-archive` to the newest page, when there is one.
pub fn current_links(max_id: i64, format: OutputFormat) -> FeedLinks {
    let newest = page_count(max_id);
    FeedLinks {
        prev_archive: (newest > 0).then(|| page_path(newest, format)),
        ..FeedLinks::default()
    }
}

/// An archive page's links: itself, the merged feed, its older and newer neighbours, and
/// `fh:archive` once complete.
pub fn page_links(page: ArchivePage, format: OutputFormat) -> FeedLinks {
    FeedLinks {
        self_path: Some(page_path(page.number, format)),
        prev_archive: (page.number > 1).then(|| page_path(page.number - 1, format)),
        next_archive: page.complete.then(|| page_path(page.number + 1, format)),
        current: Some(format!("feed.{}", extension(format))),
        archive: page.complete,
        hub: None,
    }
}

/// Reads `"12.atom"` as page 12 in Atom.
pub fn parse_file_name(file_name: &str) -> Option<(i64, OutputFormat)> {
    let (number, extension) = file_name.split_once('.')?;
    let format = match extension {
        "atom" => OutputFormat::Atom,
        "rss" => OutputFormat::Rss,
        "json" => OutputFormat::Json,
        _ => return None,
    };
    let number = number
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && number.bytes().all(|b| b.is_ascii_digit()))?;
    Some((number, format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_fixed_blocks_and_only_the_newest_is_open() {
        assert_eq!(page_count(0), 0);
        assert_eq!(page_count(1), 1);
        assert_eq!(page_count(PAGE_SIZE), 1);
        assert_eq!(page_count(PAGE_SIZE + 1), 2);
        let first = page(1, 250).unwrap();
        assert_eq!(
            (first.first_id, first.last_id, first.complete),
            (1, 100, true)
        );
        let open = page(3, 250).unwrap();
        assert_eq!(
            (open.first_id, open.last_id, open.complete),
            (201, 300, false)
        );
        assert_eq!(page(4, 250), None);
        assert_eq!(page(0, 250), None);
        assert_eq!(page(1, 0), None);
    }

    #[test]
    fn links_chain_the_pages_to_each_other_and_the_feed() {
        let atom = OutputFormat::Atom;
        assert_eq!(
            current_links(250, atom).prev_archive.as_deref(),
            Some("archive/3.atom")
        );
        assert_eq!(current_links(0, atom).prev_archive, None);
        let middle = page_links(page(2, 250).unwrap(), OutputFormat::Rss);
        assert_eq!(middle.self_path.as_deref(), Some("archive/2.rss"));
        assert_eq!(middle.prev_archive.as_deref(), Some("archive/1.rss"));
        assert_eq!(middle.next_archive.as_deref(), Some("archive/3.rss"));
        assert_eq!(middle.current.as_deref(), Some("feed.rss"));
        assert!(middle.archive);
        let oldest = page_links(page(1, 250).unwrap(), atom);
        assert_eq!(oldest.prev_archive, None);
        let open = page_links(page(3, 250).unwrap(), atom);
        assert!(!open.archive && open.next_archive.is_none());
    }

    #[test]
    fn file_names_name_a_page_and_a_format() {
        assert_eq!(parse_file_name("12.atom"), Some((12, OutputFormat::Atom)));
        assert_eq!(parse_file_name("1.json"), Some((1, OutputFormat::Json)));
        for bad in [
            "0.atom",
            "-1.rss",
            "+1.rss",
            "x.atom",
            "1.xml",
            "1",
            "1.atom.gz",
        ] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }
}

//! The key an entry is known by within its source, stable across polls and program versions.

use super::canonical::canonical_url;
use super::hash::fnv1a_64;
use crate::model::FeedEntry;

/// The key an entry is known by within its source: its id/guid (`id:`), else its canonical link
/// (`link:`), else a hash of title, date and content (`hash:`).
///
/// The prefixes keep the three kinds apart, so a guid that happens to equal another entry's link
/// can never collide with it. The hash is FNV-1a, fixed forever, because keys are stored.
pub fn entry_key(entry: &FeedEntry) -> String {
    if let Some(id) = non_empty(entry.id.as_deref()) {
        return format!("id:{id}");
    }
    if let Some(link) = non_empty(entry.link.as_deref()) {
        let link = canonical_url(link).unwrap_or_else(|| link.to_string());
        return format!("link:{link}");
    }
    format!("hash:{:016x}", content_hash(entry))
}

/// The entry's version as its feed lists it: a hash of its title, content and summary, fixed
/// forever (stored). Another version under a known key means the source edited the entry.
/// Dates are left out: some feeds move an entry's `updated` on every read without changing it,
/// and each edit costs a fetch of the article page again.
pub fn entry_version(entry: &FeedEntry) -> i64 {
    let hash = fnv1a_64(&[
        entry.title.as_deref().unwrap_or_default().trim().as_bytes(),
        b"\x1f",
        entry.content_html.as_deref().unwrap_or_default().as_bytes(),
        b"\x1f",
        entry.summary_html.as_deref().unwrap_or_default().as_bytes(),
    ]);
    hash as i64
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn the_version_follows_title_and_content_but_not_dates() {
        let entry = FeedEntry {
            title: Some("Live: the vote".into()),
            content_html: Some("<p>First.</p>".into()),
            ..FeedEntry::default()
        };
        let mut redated = entry.clone();
        redated.updated = Some(chrono::Utc::now());
        assert_eq!(entry_version(&entry), entry_version(&redated));
        let mut grown = entry.clone();
        grown.content_html = Some("<p>First.</p><p>Second.</p>".into());
        let mut retitled = entry.clone();
        retitled.title = Some("Live: the vote is in".into());
        assert_ne!(entry_version(&entry), entry_version(&grown));
        assert_ne!(entry_version(&entry), entry_version(&retitled));
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

/// Hash of the fields that identify an entry without id or link. A unit separator between the
/// fields stops ("ab", "c") and ("a", "bc") from colliding.
fn content_hash(entry: &FeedEntry) -> u64 {
    let title = entry.title.as_deref().unwrap_or_default().trim();
    let date = entry
        .published
        .or(entry.updated)
        .map(|date| date.timestamp().to_string())
        .unwrap_or_default();
    let content = entry
        .content_html
        .as_deref()
        .or(entry.summary_html.as_deref())
        .unwrap_or_default()
        .trim();
    fnv1a_64(&[
        title.as_bytes(),
        b"\x1f",
        date.as_bytes(),
        b"\x1f",
        content.as_bytes(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn entry() -> FeedEntry {
        FeedEntry {
            title: Some("Grève à la SNCF".into()),
            published: Some(Utc.with_ymd_and_hms(2024, 3, 5, 8, 30, 0).unwrap()),
            content_html: Some("<p>Le trafic sera perturbé.</p>".into()),
            ..FeedEntry::default()
        }
    }

    #[test]
    fn id_wins_then_canonical_link_then_hash() {
        let mut with_everything = entry();
        with_everything.id = Some("  tag:example.org,2024:42 ".into());
        with_everything.link = Some("https://example.org/a".into());
        assert_eq!(entry_key(&with_everything), "id:tag:example.org,2024:42");

        let mut with_link = entry();
        with_link.link = Some("HTTPS://Example.org/a?utm_source=rss#x".into());
        assert_eq!(entry_key(&with_link), "link:https://example.org/a");

        let hashed = entry_key(&entry());
        assert!(
            hashed.starts_with("hash:") && hashed.len() == 5 + 16,
            "{hashed}"
        );
    }

    #[test]
    fn empty_id_falls_back_to_link() {
        let mut entry = entry();
        entry.id = Some("   ".into());
        entry.link = Some("https://example.org/b".into());
        assert_eq!(entry_key(&entry), "link:https://example.org/b");
    }

    #[test]
    fn the_hash_is_stable_and_depends_on_title_date_and_content() {
        let pinned = entry_key(&entry());
        assert_eq!(pinned, entry_key(&entry()));
        let mut other_title = entry();
        other_title.title = Some("Grève à la RATP".into());
        let mut other_date = entry();
        other_date.published = Some(Utc.with_ymd_and_hms(2024, 3, 6, 8, 30, 0).unwrap());
        let mut other_content = entry();
        other_content.content_html = Some("<p>Le trafic sera normal.</p>".into());
        for other in [other_title, other_date, other_content] {
            assert_ne!(entry_key(&other), pinned);
        }
    }

    #[test]
    fn the_hash_does_not_change_between_versions() {
        let entry = FeedEntry {
            title: Some("t".into()),
            ..FeedEntry::default()
        };
        // Pinned value: a change here would orphan every stored key.
        assert_eq!(entry_key(&entry), "hash:56c32319443714d1");
    }
}

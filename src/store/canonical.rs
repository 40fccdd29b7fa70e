//! Which member of a story the merged feed shows (`[dedupe] canonical`): on each merge the
//! new member is weighed against the current canonical entry, and takes its place if the rule
//! prefers it. The story's id (`uid`) never changes, so readers see an update, not a new entry.

use super::band_index::{self, DedupePolicy};
use super::db::{Connection, values};
use super::stories::{NewItem, enclosures_to_json};
use super::{StoreError, to_epoch};
use crate::dedupe::{CanonicalFacts, Fingerprint, prefers_new};
use crate::model::ExtractionStatus;

/// Makes `item` (just merged into `story_id` from `source`) the canonical entry if the rule
/// prefers it to the current one; returns whether it did.
pub fn consider(
    transaction: &mut Connection,
    policy: &DedupePolicy,
    story_id: i64,
    source: &str,
    item: &NewItem,
) -> Result<bool, StoreError> {
    let row = transaction.query_one(
        "SELECT first_source, published, fingerprint, extraction, created FROM stories \
         WHERE id = ?1",
        values![story_id],
    )?;
    let current_source: String = row.get(0)?;
    let stored_print: Option<Vec<u8>> = row.get(2)?;
    let current = CanonicalFacts {
        published: row.get(1)?,
        words: stored_print
            .as_deref()
            .and_then(Fingerprint::from_bytes)
            .map_or(0, |print| print.shingle_count()),
        priority: policy.source(&current_source).priority,
    };
    let new = CanonicalFacts {
        published: to_epoch(item.published),
        words: item
            .fingerprint
            .as_ref()
            .map_or(0, Fingerprint::shingle_count),
        priority: policy.source(source).priority,
    };
    if current_source == source || !prefers_new(policy.canonical, current, new) {
        return Ok(false);
    }
    let story_extracted = row.get::<String>(3)? == ExtractionStatus::Extracted.as_str();
    let created: i64 = row.get(4)?;
    replace(
        transaction,
        story_id,
        source,
        item,
        story_extracted,
        created,
    )?;
    Ok(true)
}

/// Shows `item` as the story: its title, link, dates, authors and source; its text too,
/// unless it is only a feed's teaser and the story has an extracted article already (the
/// reader keeps the best text any source offered).
fn replace(
    transaction: &mut Connection,
    story_id: i64,
    source: &str,
    item: &NewItem,
    story_extracted: bool,
    created: i64,
) -> Result<(), StoreError> {
    transaction.execute(
        "UPDATE stories SET title = ?2, link = ?3, published = ?4, updated = ?5, authors = ?6, \
         categories = ?7, enclosures = ?8, image = COALESCE(?9, image), first_source = ?10 \
         WHERE id = ?1",
        values![
            story_id,
            &item.title,
            &item.link,
            to_epoch(item.published),
            to_epoch(item.updated.max(item.published)),
            serde_json::to_string(&item.authors).unwrap_or_default(),
            serde_json::to_string(&item.categories).unwrap_or_default(),
            enclosures_to_json(&item.enclosures),
            &item.image,
            source,
        ],
    )?;
    let takes_text = item.extraction == ExtractionStatus::Extracted || !story_extracted;
    if takes_text {
        set_text(transaction, story_id, item, created)?;
    }
    Ok(())
}

/// The story's text becomes the item's (and its index rows follow its fingerprint).
pub fn set_text(
    transaction: &mut Connection,
    story_id: i64,
    item: &NewItem,
    created: i64,
) -> Result<(), StoreError> {
    transaction.execute(
        "UPDATE stories SET content_html = ?2, summary = ?3, text = ?4, extraction = ?5, \
         fingerprint = COALESCE(?6, fingerprint) WHERE id = ?1",
        values![
            story_id,
            &item.content_html,
            &item.summary,
            &item.text,
            item.extraction.as_str(),
            item.fingerprint.as_ref().map(Fingerprint::to_bytes),
        ],
    )?;
    let indexed = transaction
        .query_one(
            "SELECT dedupe FROM stories WHERE id = ?1",
            values![story_id],
        )?
        .get::<i64>(0)?
        == 1;
    if indexed && let Some(fingerprint) = &item.fingerprint {
        band_index::index_story(transaction, story_id, fingerprint, created)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SourceState, Store, commit_pass, from_epoch, latest_stories};

    fn item(source: &str, published: i64, words: usize) -> NewItem {
        let text: String = (0..words).map(|n| format!("w{n} ")).collect();
        NewItem {
            entry_key: "1".into(),
            link: Some(format!("https://{source}.example/1")),
            canonical_urls: vec![format!("https://{source}.example/1")],
            title: format!("title {source}"),
            published: from_epoch(published),
            updated: from_epoch(published),
            content_html: Some(format!("<p>{text}</p>")),
            summary: None,
            text: Some(text.clone()),
            authors: Vec::new(),
            categories: Vec::new(),
            enclosures: Vec::new(),
            image: None,
            fingerprint: crate::dedupe::fingerprint(&text),
            extraction: ExtractionStatus::Extracted,
            version: None,
        }
    }

    fn shown(store: &Store, policy: &DedupePolicy, items: &[(&str, NewItem)]) -> String {
        for (source, item) in items {
            let state = SourceState::new(source, &format!("https://{source}.example/feed"));
            store
                .call_blocking(|connection| {
                    commit_pass(
                        connection,
                        policy,
                        &state,
                        std::slice::from_ref(item),
                        from_epoch(1_700_100_000),
                    )
                })
                .unwrap();
        }
        let stories = store.call_blocking(|c| latest_stories(c, 10)).unwrap();
        assert_eq!(stories.len(), 1);
        stories[0].title.clone()
    }

    #[test]
    fn a_later_stored_but_earlier_published_entry_becomes_canonical() {
        for store in crate::store::test_stores() {
            let policy = DedupePolicy::default();
            let items = [
                ("b", item("b", 1_700_003_600, 300)),
                ("a", item("a", 1_700_000_000, 300)),
            ];
            assert_eq!(shown(&store, &policy, &items), "title a");
        }
    }
}

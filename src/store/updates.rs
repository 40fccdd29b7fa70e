//! Entries edited by their own feed: a known key with another feed version updates its story
//! (text, title, `updated` date) instead of becoming a new one, so a live blog that grows or a
//! corrected article stays one story.

use chrono::{DateTime, Utc};

use super::canonical::set_text;
use super::db::{Connection, values};
use super::stories::{Member, NewItem};
use super::{StoreError, to_epoch};
use crate::model::ExtractionStatus;

/// Applies an edit of `member` (the source's stored entry) brought by `item`; returns whether
/// the entry had changed. Only the canonical member's edit changes what the story shows; any
/// member's edit is recorded, so it is applied once.
pub fn apply_update(
    transaction: &mut Connection,
    member: &Member,
    item: &NewItem,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if item.version.is_none() || item.version == member.version {
        return Ok(false);
    }
    transaction.execute(
        "UPDATE story_sources SET content_hash = ?3, title = ?4, link = COALESCE(?5, link) \
         WHERE source = ?1 AND entry_key = ?2",
        values![
            &member.source,
            &member.entry_key,
            item.version,
            &item.title,
            &item.link
        ],
    )?;
    // An entry stored before versions were recorded gets its version now, nothing more: its
    // earlier content is unknown, so this is no evidence of an edit.
    if member.version.is_none() {
        return Ok(false);
    }
    let row = transaction.query_one(
        "SELECT first_source, updated, created, extraction FROM stories WHERE id = ?1",
        values![member.story_id],
    )?;
    let (canonical, stored_updated, created): (String, i64, i64) =
        (row.get(0)?, row.get(1)?, row.get(2)?);
    let story_extracted = row.get::<String>(3)? == ExtractionStatus::Extracted.as_str();
    if canonical != member.source {
        return Ok(true);
    }
    // The feed's own update date when it moved forward; otherwise the edit is dated now, so
    // readers sorting by modification see it.
    let updated = if to_epoch(item.updated) > stored_updated {
        to_epoch(item.updated)
    } else {
        to_epoch(now).max(stored_updated)
    };
    transaction.execute(
        "UPDATE stories SET title = ?2, updated = ?3 WHERE id = ?1",
        values![member.story_id, &item.title, updated],
    )?;
    // A failed page fetch does not replace an extracted article with the feed's teaser.
    if item.extraction == ExtractionStatus::Extracted || !story_extracted {
        set_text(transaction, member.story_id, item, created)?;
    }
    Ok(true)
}

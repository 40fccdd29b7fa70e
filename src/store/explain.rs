//! `explain`: why a story is what it is — its members, the layer each matched by and with what
//! similarity, and for the story's own text the nearest other story (a near miss) and its score.

use chrono::{DateTime, Utc};

use super::band_index::{self, DedupePolicy};
use super::db::{Connection, values};
use super::{StoreError, from_epoch};
use crate::dedupe::{Layer, Verdict, canonical_url};

/// One member (a source's entry) of an explained story.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainedMember {
    pub source: String,
    pub entry_key: String,
    pub link: Option<String>,
    /// `None` for entries stored before layers were recorded.
    pub layer: Option<Layer>,
    /// The similarity the text layers measured (1.0 for the URL and exact layers).
    pub similarity: Option<f64>,
    pub seen: DateTime<Utc>,
}

/// A story with its members and the nearest other story.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub story_id: i64,
    pub uid: String,
    pub title: String,
    /// The source whose entry the merged feed shows.
    pub canonical_source: String,
    /// Whether the story's text has a fingerprint (otherwise only URLs can match it).
    pub fingerprinted: bool,
    /// Whether its source opted out (`dedupe = false`).
    pub opted_out: bool,
    pub members: Vec<ExplainedMember>,
    /// The most similar other story in the window, with the rules' verdict on the pair.
    pub nearest: Option<(i64, String, Verdict)>,
}

/// Explains the story `query` names: a story id (`42`), its `urn:uuid:` id, or a URL one of
/// its entries was stored under. `None` when nothing matches.
pub fn explain(
    connection: &mut Connection,
    policy: &DedupePolicy,
    query: &str,
    now: DateTime<Utc>,
) -> Result<Option<Explanation>, StoreError> {
    let Some(story_id) = resolve(connection, query.trim())? else {
        return Ok(None);
    };
    let row = connection.query_one(
        "SELECT uid, title, first_source, fingerprint IS NOT NULL, dedupe FROM stories \
         WHERE id = ?1",
        values![story_id],
    )?;
    let mut explanation = Explanation {
        story_id,
        uid: row.get(0)?,
        title: row.get(1)?,
        canonical_source: row.get(2)?,
        fingerprinted: row.get(3)?,
        opted_out: row.get::<i64>(4)? == 0,
        members: members(connection, story_id)?,
        nearest: None,
    };
    if let Some((print, title)) = band_index::stored_fingerprint(connection, story_id)? {
        let verdicts = band_index::candidate_verdicts(
            connection,
            policy,
            &print,
            &title,
            now,
            Some(story_id),
        )?;
        if let Some((other, verdict)) = verdicts.into_iter().next() {
            let other_title: String = connection
                .query_one("SELECT title FROM stories WHERE id = ?1", values![other])?
                .get(0)?;
            explanation.nearest = Some((other, other_title, verdict));
        }
    }
    Ok(Some(explanation))
}

fn resolve(connection: &mut Connection, query: &str) -> Result<Option<i64>, StoreError> {
    let by_id = "SELECT id FROM stories WHERE id = ?1";
    if let Ok(id) = query.parse::<i64>() {
        return connection
            .query_opt(by_id, values![id])?
            .map(|row| row.get(0))
            .transpose();
    }
    let url = canonical_url(query).unwrap_or_else(|| query.to_string());
    let by_uid = "SELECT id FROM stories WHERE uid = ?1 LIMIT 1";
    if let Some(row) = connection.query_opt(by_uid, values![query])? {
        return Ok(Some(row.get(0)?));
    }
    let by_url = [
        "SELECT id FROM stories WHERE canonical_url = ?2 OR link = ?1 LIMIT 1",
        "SELECT story_id FROM story_sources WHERE canonical_url = ?2 OR link = ?1 LIMIT 1",
    ];
    for sql in by_url {
        if let Some(row) = connection.query_opt(sql, values![query, url.as_str()])? {
            return Ok(Some(row.get(0)?));
        }
    }
    Ok(None)
}

fn members(connection: &mut Connection, story_id: i64) -> Result<Vec<ExplainedMember>, StoreError> {
    connection
        .query(
            "SELECT source, entry_key, link, layer, similarity_permille, seen \
             FROM story_sources WHERE story_id = ?1 ORDER BY seen, rowid",
            values![story_id],
        )?
        .iter()
        .map(|row| {
            Ok(ExplainedMember {
                source: row.get(0)?,
                entry_key: row.get(1)?,
                link: row.get(2)?,
                layer: row
                    .get::<Option<String>>(3)?
                    .as_deref()
                    .and_then(Layer::parse),
                similarity: row
                    .get::<Option<i64>>(4)?
                    .map(|permille| permille as f64 / 1000.0),
                seen: from_epoch(row.get(5)?),
            })
        })
        .collect()
}

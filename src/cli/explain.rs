//! `explain URL_OR_ID`: prints a story's cluster (each member, the layer it matched by and the
//! similarity) and the nearest other story, so an admin can see why entries were (not) merged.

use anyhow::Context as _;

use super::Exit;
use crate::config::Config;
use crate::store::{self, Explanation, Store};

pub fn run(config: &Config, url_or_id: &str) -> anyhow::Result<Exit> {
    let store = Store::open(&config.database).with_context(|| {
        format!(
            "opening the database {}",
            store::display_database(&config.database)
        )
    })?;
    let policy = config.dedupe_policy();
    let now = chrono::Utc::now();
    let found =
        store.call_blocking(|connection| store::explain(connection, &policy, url_or_id, now))?;
    let Some(explanation) = found else {
        anyhow::bail!(
            "no stored story is known by {url_or_id:?} (a story id, urn:uuid: id or URL)"
        );
    };
    print(&explanation, policy.rules.threshold);
    Ok(Exit::Ok)
}

fn print(explanation: &Explanation, threshold: f64) {
    outln!("story {} {}", explanation.story_id, explanation.uid);
    outln!("  title: {}", explanation.title);
    outln!("  shown from: {}", explanation.canonical_source);
    if explanation.opted_out {
        outln!("  dedupe = false on its source: never merged");
    } else if !explanation.fingerprinted {
        outln!("  no text fingerprint (text too short): matched by URL only");
    }
    outln!("  members ({}):", explanation.members.len());
    for member in &explanation.members {
        let layer = member.layer.map_or("unknown", |layer| layer.as_str());
        let similarity = member
            .similarity
            .map(|value| format!(" similarity {value:.3}"))
            .unwrap_or_default();
        outln!(
            "    {} {} layer {layer}{similarity} seen {} {}",
            member.source,
            member.entry_key,
            member.seen.format("%Y-%m-%d %H:%M"),
            member.link.as_deref().unwrap_or("")
        );
    }
    match &explanation.nearest {
        Some((story_id, title, verdict)) => outln!(
            "  nearest other story: {story_id} {title:?} similarity {:.3} (threshold {threshold:.2}), \
             title similarity {:.2}: {}",
            verdict.similarity,
            verdict.title_similarity,
            match verdict.layer {
                Some(layer) => format!("would match by {}", layer.as_str()),
                None => "not the same story".to_string(),
            }
        ),
        None => outln!("  nearest other story: none shares its text"),
    }
}

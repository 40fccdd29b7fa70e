//! Per-source state as the admin sees it: a table for `tributary status`, JSON for `/status`.

use std::path::Path;

use crate::config::Config;
use crate::pipeline::format_time;
use crate::store::{DatabaseStats, InstanceRecord, SourceStatus};

/// The (name, url) pairs whose state the store should load, in config order.
pub fn source_keys(config: &Config) -> Vec<(String, String)> {
    config
        .sources
        .iter()
        .map(|source| (source.name.clone(), source.url.to_string()))
        .collect()
}

/// What the source's state says about its health, in a few words.
pub fn health(status: &SourceStatus) -> String {
    let state = &status.state;
    let mut words = Vec::new();
    if state.gone {
        words.push("gone (410)".to_string());
    } else if state.consecutive_failures > 0 {
        words.push(format!("failing ({}x)", state.consecutive_failures));
    } else if state.last_attempt.is_none() {
        words.push("never polled".to_string());
    } else {
        words.push("ok".to_string());
    }
    if status.extraction_degraded() {
        words.push(format!(
            "extraction failing ({}/{} recent)",
            status.recent_not_extracted,
            status.recent_extracted + status.recent_not_extracted
        ));
    }
    if state.redirect_url.is_some() {
        words.push("moved".to_string());
    }
    words.join(", ")
}

pub fn to_json(statuses: &[SourceStatus]) -> serde_json::Value {
    let time = |time: Option<chrono::DateTime<chrono::Utc>>| time.map(|t| t.to_rfc3339());
    let sources: Vec<serde_json::Value> = statuses
        .iter()
        .map(|status| {
            let state = &status.state;
            serde_json::json!({
                "name": state.name,
                "url": state.url,
                "health": health(status),
                "feed_title": state.feed_title,
                "last_attempt": time(state.last_attempt),
                "last_success": time(state.last_success),
                "last_status": state.last_status,
                "last_http_status": state.last_http_status,
                "consecutive_failures": state.consecutive_failures,
                "last_error": state.last_error,
                "next_poll": time(state.next_poll),
                "next_reason": state.next_reason,
                "retry_after_until": time(state.retry_after_until),
                "gone": state.gone,
                "etag": state.etag,
                "last_modified": state.last_modified,
                "redirect_url": state.redirect_url,
                "redirect_candidate": state.redirect_candidate,
                "entries": status.entry_count,
                "extraction": {
                    "recent_extracted": status.recent_extracted,
                    "recent_not_extracted": status.recent_not_extracted,
                    "degraded": status.extraction_degraded(),
                },
            })
        })
        .collect();
    serde_json::json!({ "sources": sources })
}

/// A fixed-width table, one line per source.
pub fn to_table(statuses: &[SourceStatus]) -> String {
    let mut rows = vec![[
        "SOURCE".to_string(),
        "HEALTH".to_string(),
        "LAST ATTEMPT".to_string(),
        "LAST STATUS".to_string(),
        "ENTRIES".to_string(),
        "NEXT POLL".to_string(),
        "WHY / LAST ERROR".to_string(),
    ]];
    for status in statuses {
        let state = &status.state;
        let last_status = match (&state.last_status, state.last_http_status) {
            (Some(status), Some(http)) => format!("{status} ({http})"),
            (Some(status), None) => status.clone(),
            _ => "-".into(),
        };
        let why = state
            .last_error
            .clone()
            .or_else(|| state.next_reason.clone())
            .unwrap_or_default();
        rows.push([
            state.name.clone(),
            health(status),
            format_time(state.last_attempt),
            last_status,
            status.entry_count.to_string(),
            format_time(state.next_poll),
            why,
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            row.iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `/sources` page: every configured source's status, its topics and entries per day.
pub fn sources_page(
    config: &Config,
    statuses: &[SourceStatus],
    per_day: &std::collections::HashMap<String, Vec<u64>>,
) -> String {
    use crate::publish::html::{Alternate, sources};
    let rows: Vec<sources::SourceRow<'_>> = statuses
        .iter()
        .map(|status| sources::SourceRow {
            status,
            tags: config
                .source(&status.state.name)
                .map_or(&[][..], |source| &source.tags[..]),
            per_day: per_day
                .get(&status.state.name)
                .map_or(&[][..], Vec::as_slice),
        })
        .collect();
    let alternates = Alternate::three(&config.output.title, "/feed");
    sources::render(&crate::site::shell(config), &rows, &alternates)
}

/// Bytes the database takes on disk: the file and its write-ahead log.
pub fn database_file_bytes(path: &Path) -> u64 {
    let size = |path: &Path| std::fs::metadata(path).map_or(0, |metadata| metadata.len());
    let mut wal = path.as_os_str().to_os_string();
    wal.push("-wal");
    size(path) + size(Path::new(&wal))
}

/// Bytes the database takes: its files, or what PostgreSQL reports (`used_bytes`).
fn database_bytes(path: &Path, stats: &DatabaseStats) -> u64 {
    if crate::store::is_postgres_url(path) {
        stats.used_bytes
    } else {
        database_file_bytes(path)
    }
}

/// The database's size and contents as `/status` and `status --json` show them (a
/// PostgreSQL URL without its password).
pub fn database_json(path: &Path, stats: &DatabaseStats) -> serde_json::Value {
    serde_json::json!({
        "path": crate::store::display_database(path),
        "file_bytes": database_bytes(path, stats),
        "used_bytes": stats.used_bytes,
        "free_bytes": stats.free_bytes,
        "stories": stats.stories,
        "entries": stats.entries,
        "pruned_entries": stats.pruned_entries,
    })
}

/// The database's size and contents in one line, above `status`'s table.
pub fn database_line(path: &Path, stats: &DatabaseStats) -> String {
    format!(
        "database {}: {} on disk ({} free inside), {} stories, {} entries, {} pruned entries remembered",
        crate::store::display_database(path),
        human_bytes(database_bytes(path, stats)),
        human_bytes(stats.free_bytes),
        stats.stories,
        stats.entries,
        stats.pruned_entries
    )
}

/// `1.5 MiB`-style sizes for people.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The live instances sharing the store and whether their configurations agree, for
/// `status --json` and `/status`.
pub fn instances_json(instances: &[InstanceRecord]) -> serde_json::Value {
    let live: Vec<serde_json::Value> = instances
        .iter()
        .map(|instance| {
            serde_json::json!({
                "id": instance.id,
                "role": instance.role,
                "config_hash": instance.config_hash,
                "heartbeat_age_ms": instance.heartbeat_age_ms,
            })
        })
        .collect();
    serde_json::json!({
        "live": live,
        "config_mismatch": crate::fleet::config_mismatch(instances),
    })
}

/// The live instances in one line, above `status`'s table; a mismatch names who runs what.
pub fn instances_line(instances: &[InstanceRecord]) -> String {
    let listed: Vec<String> = instances
        .iter()
        .map(|instance| {
            format!(
                "{} ({}, config {})",
                instance.id, instance.role, instance.config_hash
            )
        })
        .collect();
    let verdict = match crate::fleet::config_mismatch(instances) {
        true => "CONFIG MISMATCH between instances: ",
        false => "",
    };
    format!(
        "instances: {} live; {verdict}{}",
        instances.len(),
        listed.join(", ")
    )
}

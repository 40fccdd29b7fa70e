//! Entries per source per day, for the sources page's small charts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::db::{Connection, values};
use super::{StoreError, to_epoch};

/// How many entries each source stored on each of the `days` days that end at `now` (oldest
/// first, today last). Days are 24-hour windows counted back from `now`, so the answer does not
/// depend on a time zone. Sources with no entry in the window are absent.
pub fn entries_per_day(
    connection: &mut Connection,
    now: DateTime<Utc>,
    days: usize,
) -> Result<HashMap<String, Vec<u64>>, StoreError> {
    const DAY: i64 = 86_400;
    let end = to_epoch(now);
    let start = end - DAY * days as i64;
    let rows = connection.query(
        "SELECT source, (seen - ?1) / 86400 AS day, COUNT(*) FROM story_sources \
         WHERE seen > ?1 AND seen <= ?2 GROUP BY source, day",
        values![start, end],
    )?;
    let mut counts: HashMap<String, Vec<u64>> = HashMap::new();
    for row in rows {
        let source: String = row.get(0)?;
        let day: i64 = row.get(1)?;
        let count: i64 = row.get(2)?;
        let slot = usize::try_from(day)
            .unwrap_or(0)
            .min(days.saturating_sub(1));
        counts.entry(source).or_insert_with(|| vec![0; days])[slot] += count.max(0) as u64;
    }
    Ok(counts)
}

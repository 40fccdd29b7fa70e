//! When sources are polled: the pure policy (`policy`) and the cron driver (`driver`).

pub mod driver;
pub mod leases;
pub mod policy;

use chrono::{DateTime, Duration, Utc};

pub use policy::{NotDue, PollResult, blocked_by_server, due, plan_next, record_poll};

/// The next tick of a cron expression after `now`, and the time between that tick and the one
/// after it (the cadence backoff is measured in). `None` for an expression that never fires.
pub fn cron_next(expression: &str, now: DateTime<Utc>) -> Option<(DateTime<Utc>, Duration)> {
    with_parsed_cron(expression, |cron| {
        let next = cron.find_next_occurrence(&now, false).ok()?;
        let after = cron.find_next_occurrence(&next, false).ok()?;
        Some((next, after - next))
    })
}

/// How many parsed expressions a thread keeps; configs use a handful, so this is never reached
/// in practice, and a config with more only parses again.
const PARSED_CRONS_KEPT: usize = 64;

thread_local! {
    static PARSED_CRONS: std::cell::RefCell<std::collections::HashMap<String, croner::Cron>> =
        std::cell::RefCell::default();
}

/// `expression` parsed, once per thread: every poll asks for its source's next tick, and
/// parsing the expression each time was a tenth of a warm poll's CPU (1000 sources, all 304).
fn with_parsed_cron<T>(
    expression: &str,
    work: impl FnOnce(&croner::Cron) -> Option<T>,
) -> Option<T> {
    PARSED_CRONS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(expression) {
            let cron = crate::config::parse_cron(expression).ok()?;
            if cache.len() >= PARSED_CRONS_KEPT {
                cache.clear();
            }
            cache.insert(expression.to_string(), cron);
        }
        work(cache.get(expression)?)
    })
}

/// The six-field expression a source's job runs on. A five-field expression gets a seconds
/// field derived from the source's name, so sources sharing a schedule are spread over the
/// minute instead of all firing at second 0.
pub fn job_expression(schedule: &str, source_name: &str) -> String {
    let schedule = schedule.trim();
    if schedule.split_whitespace().count() == 5 {
        let second = crate::dedupe::stable_hash(source_name.as_bytes()) % 60;
        format!("{second} {schedule}")
    } else {
        schedule.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_next_gives_tick_and_period() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T12:07:00Z")
            .unwrap()
            .to_utc();
        let (next, period) = cron_next("*/15 * * * *", now).unwrap();
        assert_eq!(next.to_rfc3339(), "2026-01-01T12:15:00+00:00");
        assert_eq!(period, Duration::minutes(15));
    }

    #[test]
    fn sources_sharing_a_schedule_get_different_seconds() {
        let seconds: std::collections::HashSet<String> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|name| job_expression("*/5 * * * *", name))
            .collect();
        assert!(seconds.len() >= 4, "{seconds:?}");
        assert!(
            seconds
                .iter()
                .all(|expression| expression.ends_with("*/5 * * * *"))
        );
        assert_eq!(job_expression("*/2 * * * * *", "a"), "*/2 * * * * *");
    }
}

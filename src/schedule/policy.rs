//! "Is this source due, and when next, and why?": pure functions of the time and stored state.
//!
//! The admin's cron expression sets the cadence: a source is looked at on each tick. Everything
//! else can only move the next poll *later*: exponential backoff after failures, a server's
//! `Retry-After`, caching headers and `<ttl>` (floors), `<skipHours>`/`<skipDays>`, and the
//! opt-in adaptive interval for feeds that publish rarely. Automatic floors never push the next
//! poll further than `max_interval` after the last attempt; backoff is capped by `max_backoff`.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

use crate::config::FetchSettings;
use crate::store::SourceState;

/// What one poll of a source came to, as far as scheduling cares.
#[derive(Debug, Clone, PartialEq)]
pub enum PollResult {
    /// The feed was fetched and parsed; `new_entries` stories or merges were added.
    Fetched { new_entries: usize },
    /// 304 Not Modified.
    NotModified,
    /// Anything that failed; `retry_after` when the server said how long to wait.
    Failed {
        error: String,
        http_status: Option<u16>,
        retry_after: Option<std::time::Duration>,
    },
    /// 410 Gone: the feed is not polled again until its URL changes in the config.
    Gone,
}

/// Why a source is not polled now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotDue {
    Gone,
    RetryAfter(DateTime<Utc>),
    Later {
        next_poll: DateTime<Utc>,
        reason: String,
    },
}

impl std::fmt::Display for NotDue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotDue::Gone => write!(f, "gone (HTTP 410): not polled until its URL changes"),
            NotDue::RetryAfter(until) => {
                write!(
                    f,
                    "server asked to wait (Retry-After) until {}",
                    until.to_rfc3339()
                )
            }
            NotDue::Later { next_poll, reason } => {
                write!(f, "not due until {} ({reason})", next_poll.to_rfc3339())
            }
        }
    }
}

/// Whether a scheduled tick at `now` should poll the source (the `poll` command instead only
/// honours [`NotDue::Gone`] and [`NotDue::RetryAfter`], via [`blocked_by_server`]).
pub fn due(now: DateTime<Utc>, state: &SourceState) -> Result<(), NotDue> {
    blocked_by_server(now, state)?;
    match state.next_poll {
        Some(next_poll) if next_poll > now + Duration::seconds(1) => Err(NotDue::Later {
            next_poll,
            reason: state.next_reason.clone().unwrap_or_default(),
        }),
        _ => Ok(()),
    }
}

/// The server told us to stop (410) or wait (Retry-After): even a manual poll respects that.
pub fn blocked_by_server(now: DateTime<Utc>, state: &SourceState) -> Result<(), NotDue> {
    if state.gone {
        return Err(NotDue::Gone);
    }
    match state.retry_after_until {
        Some(until) if until > now => Err(NotDue::RetryAfter(until)),
        _ => Ok(()),
    }
}

/// Records a poll's result in the state and plans the next poll. `cron_next` is the first
/// cron tick after `now`; `cron_period` the time between ticks.
pub fn record_poll(
    now: DateTime<Utc>,
    state: &mut SourceState,
    result: &PollResult,
    settings: &FetchSettings,
    cron_next: DateTime<Utc>,
    cron_period: Duration,
) {
    state.last_attempt = Some(now);
    apply_result(now, state, result);
    let (next_poll, reason) = plan_next(now, state, settings, cron_next, cron_period);
    state.next_poll = next_poll;
    state.next_reason = Some(reason);
}

fn apply_result(now: DateTime<Utc>, state: &mut SourceState, result: &PollResult) {
    match result {
        PollResult::Fetched { new_entries } => {
            note_success(now, state, "ok", Some(200));
            if *new_entries > 0 {
                update_publish_interval(now, state);
            }
        }
        PollResult::NotModified => note_success(now, state, "not_modified", Some(304)),
        PollResult::Failed {
            error,
            http_status,
            retry_after,
        } => {
            state.consecutive_failures = state.consecutive_failures.saturating_add(1);
            state.last_status = Some("failed".into());
            state.last_http_status = *http_status;
            state.last_error = Some(error.clone());
            state.retry_after_until = retry_after
                .and_then(|wait| Duration::from_std(wait).ok())
                .map(|wait| now + wait.min(Duration::days(7)));
        }
        PollResult::Gone => {
            state.gone = true;
            state.last_status = Some("failed".into());
            state.last_http_status = Some(410);
            state.last_error = Some("HTTP 410 Gone: the feed was removed".into());
        }
    }
}

fn note_success(now: DateTime<Utc>, state: &mut SourceState, status: &str, http: Option<u16>) {
    state.consecutive_failures = 0;
    state.last_success = Some(now);
    state.last_status = Some(status.into());
    state.last_http_status = http;
    state.last_error = None;
    state.retry_after_until = None;
}

/// Smooths the time between polls that found new entries (weight 1/4 on the newest gap).
fn update_publish_interval(now: DateTime<Utc>, state: &mut SourceState) {
    if let Some(previous) = state.last_new_entry {
        let gap = (now - previous).num_seconds().max(1);
        state.publish_interval = Some(match state.publish_interval {
            Some(smoothed) => (smoothed * 3 + gap) / 4,
            None => gap,
        });
    }
    state.last_new_entry = Some(now);
}

/// The next poll time and the reason that decided it; `None` when the source is gone.
pub fn plan_next(
    now: DateTime<Utc>,
    state: &SourceState,
    settings: &FetchSettings,
    cron_next: DateTime<Utc>,
    cron_period: Duration,
) -> (Option<DateTime<Utc>>, String) {
    if state.gone {
        return (None, "gone (HTTP 410): polling stopped".into());
    }
    let last_attempt = state.last_attempt.unwrap_or(now);
    let max_interval = to_chrono(settings.max_interval);
    let mut next = cron_next;
    let mut reason = "schedule".to_string();
    let mut later = |candidate: DateTime<Utc>, why: String| {
        if candidate > next {
            next = candidate;
            reason = why;
        }
    };
    if let Some(until) = backoff_until(state, settings, last_attempt, cron_period) {
        later(
            until,
            format!("backoff after {} failures", state.consecutive_failures),
        );
    }
    if let Some(until) = state.retry_after_until {
        later(until, "server's Retry-After".into());
    }
    let floor_cap = last_attempt + max_interval;
    if let Some(until) = state.cache_until {
        later(until.min(floor_cap), "feed's caching headers".into());
    }
    if let Some(ttl) = state.ttl_minutes {
        let until = last_attempt + Duration::minutes(i64::from(ttl));
        later(until.min(floor_cap), format!("feed's <ttl> of {ttl} min"));
    }
    if let Some(until) = adaptive_until(state, settings, last_attempt) {
        later(until, "adaptive interval (feed publishes rarely)".into());
    }
    let skipped = skip_forward(next, state, cron_period, last_attempt + max_interval);
    if skipped != next {
        next = skipped;
        reason = "feed's <skipHours>/<skipDays>".into();
    }
    (Some(next), reason)
}

fn to_chrono(duration: std::time::Duration) -> Duration {
    Duration::from_std(duration).unwrap_or(Duration::days(365))
}

/// Exponential backoff: one cron period after the first failure (the normal cadence), then
/// doubling, capped at `max_backoff`, with a deterministic jitter of up to +20 % so sources
/// that failed together (one host down) do not come back together.
pub fn backoff_until(
    state: &SourceState,
    settings: &FetchSettings,
    last_attempt: DateTime<Utc>,
    cron_period: Duration,
) -> Option<DateTime<Utc>> {
    if state.consecutive_failures < 2 {
        return None;
    }
    let doublings = (state.consecutive_failures - 1).min(20);
    let base = cron_period.max(Duration::minutes(1));
    let raw = base
        .checked_mul(1 << doublings)
        .unwrap_or(Duration::days(365));
    let capped = raw.min(to_chrono(settings.max_backoff));
    let jitter_percent =
        crate::dedupe::stable_hash(format!("{}:{doublings}", state.name).as_bytes()) % 21;
    let jittered = capped + capped / 100 * jitter_percent as i32;
    Some(last_attempt + jittered.min(to_chrono(settings.max_backoff)))
}

/// Adaptive interval: poll about twice per observed publishing gap, within the bounds.
fn adaptive_until(
    state: &SourceState,
    settings: &FetchSettings,
    last_attempt: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if !settings.adaptive {
        return None;
    }
    let gap = Duration::seconds(state.publish_interval?);
    let wanted = (gap / 2).clamp(
        to_chrono(settings.min_interval),
        to_chrono(settings.max_interval),
    );
    Some(last_attempt + wanted)
}

/// Moves `next` past the feed's skip hours and days, tick by tick, never beyond `limit`.
fn skip_forward(
    mut next: DateTime<Utc>,
    state: &SourceState,
    cron_period: Duration,
    limit: DateTime<Utc>,
) -> DateTime<Utc> {
    if state.skip_hours.len() >= 24 || state.skip_days.len() >= 7 {
        return next;
    }
    let step = cron_period.clamp(Duration::minutes(1), Duration::hours(1));
    while next < limit && is_skipped(next, state) {
        next += step;
    }
    next
}

fn is_skipped(time: DateTime<Utc>, state: &SourceState) -> bool {
    state.skip_hours.contains(&time.hour())
        || state
            .skip_days
            .contains(&time.weekday().num_days_from_monday())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn settings() -> FetchSettings {
        FetchSettings::default()
    }

    const PERIOD_MINUTES: i64 = 15;

    fn poll(state: &mut SourceState, now: &str, result: PollResult) -> DateTime<Utc> {
        let now = at(now);
        let period = Duration::minutes(PERIOD_MINUTES);
        record_poll(now, state, &result, &settings(), now + period, period);
        state.next_poll.expect("scheduled")
    }

    fn failure() -> PollResult {
        PollResult::Failed {
            error: "HTTP 500".into(),
            http_status: Some(500),
            retry_after: None,
        }
    }

    #[test]
    fn success_follows_the_schedule() {
        let mut state = SourceState::new("a", "https://a.example/");
        let next = poll(&mut state, "2026-01-01T12:00:00Z", PollResult::NotModified);
        assert_eq!(next, at("2026-01-01T12:15:00Z"));
        assert_eq!(state.next_reason.as_deref(), Some("schedule"));
        assert!(due(at("2026-01-01T12:15:00Z"), &state).is_ok());
        assert!(due(at("2026-01-01T12:14:00Z"), &state).is_err());
    }

    #[test]
    fn failures_back_off_exponentially_capped_and_reset_on_success() {
        let mut state = SourceState::new("a", "https://a.example/");
        let first = poll(&mut state, "2026-01-01T12:00:00Z", failure());
        assert_eq!(
            first,
            at("2026-01-01T12:15:00Z"),
            "one failure: normal cadence"
        );
        let second = poll(&mut state, "2026-01-01T12:15:00Z", failure());
        let wait = second - at("2026-01-01T12:15:00Z");
        assert!(
            wait >= Duration::minutes(30) && wait <= Duration::minutes(36),
            "{wait}"
        );
        assert!(state.next_reason.as_deref().unwrap().contains("backoff"));
        for _ in 0..30 {
            poll(&mut state, "2026-01-02T00:00:00Z", failure());
        }
        let capped = state.next_poll.unwrap() - at("2026-01-02T00:00:00Z");
        assert_eq!(capped, Duration::hours(24), "capped at max_backoff");
        assert_eq!(state.consecutive_failures, 32);
        let after = poll(&mut state, "2026-01-03T00:00:00Z", PollResult::NotModified);
        assert_eq!(after, at("2026-01-03T00:15:00Z"));
        assert_eq!(state.consecutive_failures, 0);
        assert_eq!(state.last_error, None);
    }

    #[test]
    fn retry_after_blocks_even_manual_polls_until_it_passes() {
        let mut state = SourceState::new("a", "https://a.example/");
        let failed = PollResult::Failed {
            error: "HTTP 503".into(),
            http_status: Some(503),
            retry_after: Some(std::time::Duration::from_secs(3600)),
        };
        let next = poll(&mut state, "2026-01-01T12:00:00Z", failed);
        assert_eq!(next, at("2026-01-01T13:00:00Z"));
        assert_eq!(
            blocked_by_server(at("2026-01-01T12:30:00Z"), &state),
            Err(NotDue::RetryAfter(at("2026-01-01T13:00:00Z")))
        );
        assert!(blocked_by_server(at("2026-01-01T13:00:01Z"), &state).is_ok());
    }

    #[test]
    fn gone_stops_polling() {
        let mut state = SourceState::new("a", "https://a.example/");
        let now = at("2026-01-01T12:00:00Z");
        record_poll(
            now,
            &mut state,
            &PollResult::Gone,
            &settings(),
            now,
            Duration::minutes(15),
        );
        assert_eq!(state.next_poll, None);
        assert_eq!(due(now, &state), Err(NotDue::Gone));
    }

    #[test]
    fn ttl_and_cache_headers_are_floors_bounded_by_max_interval() {
        let mut state = SourceState::new("a", "https://a.example/");
        state.ttl_minutes = Some(60);
        let next = poll(&mut state, "2026-01-01T12:00:00Z", PollResult::NotModified);
        assert_eq!(next, at("2026-01-01T13:00:00Z"));
        assert!(state.next_reason.as_deref().unwrap().contains("ttl"));
        state.ttl_minutes = None;
        state.cache_until = Some(at("2026-03-01T00:00:00Z"));
        let next = poll(&mut state, "2026-01-01T12:00:00Z", PollResult::NotModified);
        assert_eq!(
            next,
            at("2026-01-02T12:00:00Z"),
            "capped at max_interval (1 day)"
        );
    }

    #[test]
    fn skip_hours_move_the_poll_past_them() {
        let mut state = SourceState::new("a", "https://a.example/");
        state.skip_hours = vec![12, 13];
        let next = poll(&mut state, "2026-01-01T11:50:00Z", PollResult::NotModified);
        assert_eq!(next.hour(), 14);
        assert!(state.next_reason.as_deref().unwrap().contains("skip"));
    }

    #[test]
    fn adaptive_interval_follows_publishing_rate_within_bounds() {
        let mut settings = settings();
        settings.adaptive = true;
        let mut state = SourceState::new("a", "https://a.example/");
        state.publish_interval = Some(8 * 3600);
        let now = at("2026-01-01T12:00:00Z");
        let period = Duration::minutes(15);
        record_poll(
            now,
            &mut state,
            &PollResult::NotModified,
            &settings,
            now + period,
            period,
        );
        assert_eq!(state.next_poll, Some(now + Duration::hours(4)));
        state.publish_interval = Some(60);
        record_poll(
            now,
            &mut state,
            &PollResult::NotModified,
            &settings,
            now + period,
            period,
        );
        assert_eq!(
            state.next_poll,
            Some(now + period),
            "cron is the fastest cadence"
        );
    }

    #[test]
    fn new_entries_update_the_smoothed_publish_interval() {
        let mut state = SourceState::new("a", "https://a.example/");
        poll(
            &mut state,
            "2026-01-01T00:00:00Z",
            PollResult::Fetched { new_entries: 1 },
        );
        poll(
            &mut state,
            "2026-01-01T04:00:00Z",
            PollResult::Fetched { new_entries: 2 },
        );
        assert_eq!(state.publish_interval, Some(4 * 3600));
        poll(
            &mut state,
            "2026-01-01T08:00:00Z",
            PollResult::Fetched { new_entries: 0 },
        );
        assert_eq!(
            state.publish_interval,
            Some(4 * 3600),
            "no new entry: unchanged"
        );
    }
}

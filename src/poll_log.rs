//! What the daemon logs about polls: one line per source that changed or failed, and a periodic summary.
//!
//! With 1000 sources polled every few minutes, a line per poll buries the few that matter. At
//! the default level a poll is logged only when it stored something or failed; quiet polls
//! (nothing new, 304, not due) go to `debug`, and a summary line counts them all every
//! [`SUMMARY_EVERY`] and at shutdown.

use std::sync::Mutex;
use std::time::Duration;

use crate::metrics::PollOutcome;
use crate::pipeline::{Outcome, SourceReport};

/// How often the daemon logs the summary of the polls since the last one.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(15 * 60);

/// Logs one finished poll at the level it deserves.
pub fn log_report(report: &SourceReport) {
    match &report.outcome {
        Outcome::Updated { new, merged } if new + merged > 0 => {
            tracing::info!(source = %report.name, new, merged, "new entries")
        }
        Outcome::Updated { .. } => tracing::debug!(source = %report.name, "nothing new"),
        Outcome::NotModified => tracing::debug!(source = %report.name, "not modified"),
        Outcome::Failed(error) => {
            tracing::warn!(source = %report.name, %error, "could not poll source")
        }
        Outcome::Skipped(why) => tracing::debug!(source = %report.name, %why, "skipped"),
    }
    for note in &report.notes {
        tracing::info!(source = %report.name, "{note}");
    }
    if report.extraction_failures > 0 {
        tracing::info!(
            source = %report.name,
            failures = report.extraction_failures,
            "article pages kept the feed's text"
        );
    }
}

/// Counts of the polls since the last summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub polled: u64,
    pub new: u64,
    pub merged: u64,
    pub unchanged: u64,
    pub not_modified: u64,
    pub failed: u64,
}

impl Tally {
    /// Adds one poll; a skipped source (not due) was not polled and is not counted.
    pub fn add(&mut self, report: &SourceReport) {
        let outcome = report.metric_outcome();
        if outcome == PollOutcome::Skipped {
            return;
        }
        self.polled += 1;
        match (outcome, &report.outcome) {
            (_, Outcome::Updated { new, merged }) => {
                self.new += *new as u64;
                self.merged += *merged as u64;
                if outcome == PollOutcome::Unchanged {
                    self.unchanged += 1;
                }
            }
            (PollOutcome::NotModified, _) => self.not_modified += 1,
            (PollOutcome::Failed, _) => self.failed += 1,
            _ => {}
        }
    }
}

/// The tally shared by the daemon's poll tasks.
#[derive(Debug, Default)]
pub struct Summary {
    tally: Mutex<Tally>,
}

impl Summary {
    pub fn add(&self, report: &SourceReport) {
        self.lock().add(report);
    }

    /// Logs the counts since the last call and starts again; nothing when nothing was polled.
    pub fn log_and_reset(&self) {
        let tally = std::mem::take(&mut *self.lock());
        if tally.polled == 0 {
            return;
        }
        tracing::info!(
            polled = tally.polled,
            new = tally.new,
            merged = tally.merged,
            unchanged = tally.unchanged,
            not_modified = tally.not_modified,
            failed = tally.failed,
            "poll summary"
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(outcome: Outcome) -> SourceReport {
        SourceReport {
            name: "s".into(),
            outcome,
            extraction_failures: 0,
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_tally_counts_polls_not_ticks() {
        let mut tally = Tally::default();
        tally.add(&report(Outcome::Updated { new: 2, merged: 1 }));
        tally.add(&report(Outcome::Updated { new: 0, merged: 0 }));
        tally.add(&report(Outcome::NotModified));
        tally.add(&report(Outcome::Failed("HTTP 500".into())));
        tally.add(&report(Outcome::Skipped("not due".into())));
        assert_eq!(
            tally,
            Tally {
                polled: 4,
                new: 2,
                merged: 1,
                unchanged: 1,
                not_modified: 1,
                failed: 1,
            }
        );
    }

    #[test]
    fn a_summary_starts_again_after_logging() {
        let summary = Summary::default();
        summary.add(&report(Outcome::NotModified));
        assert_eq!(summary.lock().polled, 1);
        summary.log_and_reset();
        assert_eq!(*summary.lock(), Tally::default());
    }
}

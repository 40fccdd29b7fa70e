//! Counts of refused and timed-out reader connections: atomics bumped by the accept loop and the
//! connection guards, read through [`ConnectionCounters::snapshot`] (for `/metrics`) and logged
//! as one summary line per period when something happened, never one line per connection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Live counters of the HTTP server's connections. Shared as `Arc<ConnectionCounters>`.
#[derive(Debug, Default)]
pub struct ConnectionCounters {
    accepted: AtomicU64,
    open: AtomicU64,
    refused_over_capacity: AtomicU64,
    refused_per_ip: AtomicU64,
    refused_requests_per_client: AtomicU64,
    header_timeouts: AtomicU64,
    idle_timeouts: AtomicU64,
    write_timeouts: AtomicU64,
    accept_errors: AtomicU64,
}

/// A copy of the counters at one moment; totals since start-up except `open`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Connections taken in and served (refused ones are not counted here).
    pub accepted: u64,
    /// Reader connections open now.
    pub open: u64,
    /// Connections refused because `max_connections` were open.
    pub refused_over_capacity: u64,
    /// Connections refused because their address had `max_connections_per_ip` open.
    pub refused_per_ip: u64,
    /// Requests answered 503 because the client behind a trusted proxy had
    /// `max_connections_per_ip` requests in flight.
    pub refused_requests_per_client: u64,
    /// Connections closed because a request head did not arrive within `header_timeout`.
    pub header_timeouts: u64,
    /// Kept-alive connections closed after `idle_timeout` without a new request.
    pub idle_timeouts: u64,
    /// Connections closed because a response was not taken within `write_timeout`.
    pub write_timeouts: u64,
    /// `accept` failures (for example "too many open files"), each followed by a short pause.
    pub accept_errors: u64,
}

/// Which counter an event bumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Accepted,
    RefusedOverCapacity,
    RefusedPerIp,
    RefusedRequestPerClient,
    HeaderTimeout,
    IdleTimeout,
    WriteTimeout,
    AcceptError,
}

impl ConnectionCounters {
    pub fn record(&self, event: Event) {
        let counter = match event {
            Event::Accepted => &self.accepted,
            Event::RefusedOverCapacity => &self.refused_over_capacity,
            Event::RefusedPerIp => &self.refused_per_ip,
            Event::RefusedRequestPerClient => &self.refused_requests_per_client,
            Event::HeaderTimeout => &self.header_timeouts,
            Event::IdleTimeout => &self.idle_timeouts,
            Event::WriteTimeout => &self.write_timeouts,
            Event::AcceptError => &self.accept_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn opened(&self) {
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// The counters now: what `/metrics` exports.
    pub fn snapshot(&self) -> CounterSnapshot {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        CounterSnapshot {
            accepted: load(&self.accepted),
            open: load(&self.open),
            refused_over_capacity: load(&self.refused_over_capacity),
            refused_per_ip: load(&self.refused_per_ip),
            refused_requests_per_client: load(&self.refused_requests_per_client),
            header_timeouts: load(&self.header_timeouts),
            idle_timeouts: load(&self.idle_timeouts),
            write_timeouts: load(&self.write_timeouts),
            accept_errors: load(&self.accept_errors),
        }
    }
}

impl CounterSnapshot {
    /// What happened between `earlier` and `self`, for the summary line (`open` is kept as is).
    pub fn since(&self, earlier: &CounterSnapshot) -> CounterSnapshot {
        CounterSnapshot {
            accepted: self.accepted - earlier.accepted,
            open: self.open,
            refused_over_capacity: self.refused_over_capacity - earlier.refused_over_capacity,
            refused_per_ip: self.refused_per_ip - earlier.refused_per_ip,
            refused_requests_per_client: self.refused_requests_per_client
                - earlier.refused_requests_per_client,
            header_timeouts: self.header_timeouts - earlier.header_timeouts,
            idle_timeouts: self.idle_timeouts - earlier.idle_timeouts,
            write_timeouts: self.write_timeouts - earlier.write_timeouts,
            accept_errors: self.accept_errors - earlier.accept_errors,
        }
    }

    /// Whether anything worth an admin's attention happened (refusals, timeouts, accept errors);
    /// idle keep-alive timeouts are ordinary and only logged along with the others.
    pub fn has_trouble(&self) -> bool {
        self.refused_over_capacity
            + self.refused_per_ip
            + self.refused_requests_per_client
            + self.header_timeouts
            + self.write_timeouts
            + self.accept_errors
            > 0
    }
}

/// Logs one summary line per `period` in which connections were refused or timed out.
pub async fn log_summaries(
    counters: std::sync::Arc<ConnectionCounters>,
    period: Duration,
    shutdown: CancellationToken,
) {
    let mut last = counters.snapshot();
    let mut ticks = tokio::time::interval(period);
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        let now = counters.snapshot();
        let delta = now.since(&last);
        last = now;
        if delta.has_trouble() {
            tracing::warn!(
                open = delta.open,
                refused_over_capacity = delta.refused_over_capacity,
                refused_per_ip = delta.refused_per_ip,
                refused_requests_per_client = delta.refused_requests_per_client,
                header_timeouts = delta.header_timeouts,
                idle_timeouts = delta.idle_timeouts,
                write_timeouts = delta.write_timeouts,
                accept_errors = delta.accept_errors,
                "reader connections refused or timed out in the last {}s",
                period.as_secs()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_due_only_for_refusals_timeouts_and_accept_errors() {
        let counters = ConnectionCounters::default();
        let start = counters.snapshot();
        counters.record(Event::Accepted);
        counters.record(Event::IdleTimeout);
        assert!(!counters.snapshot().since(&start).has_trouble());
        counters.record(Event::HeaderTimeout);
        counters.record(Event::HeaderTimeout);
        let delta = counters.snapshot().since(&start);
        assert!(delta.has_trouble());
        assert_eq!((delta.header_timeouts, delta.accepted), (2, 1));
        let later = counters.snapshot();
        assert!(!counters.snapshot().since(&later).has_trouble());
    }
}

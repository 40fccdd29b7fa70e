//! Prometheus metrics: counters and gauges updated at stage boundaries, rendered as text for `/metrics`.
//!
//! Hand-written rather than `prometheus-client`: the set of series is small and fixed, the
//! text format is a few lines per family, and it costs no dependency. Every label set is
//! bounded: outcome and kind names are fixed lists, sources come from the config (never a URL
//! or an entry), routes are the router's patterns and statuses are three-digit codes.
//!
//! The registry is process-wide, like the log subscriber: every stage records into it without a
//! handle threaded through. Call sites use the free functions; tests build their own
//! [`Metrics`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::ExtractionStatus;
use crate::serve::counters::CounterSnapshot;

/// How one scheduled or manual poll of a source ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    /// The feed brought new entries or entries merged into known stories.
    New,
    /// The feed was read but held nothing new.
    Unchanged,
    NotModified,
    Failed,
    /// Not polled (not due yet, backoff, Retry-After, 410).
    Skipped,
}

impl PollOutcome {
    const ALL: [PollOutcome; 5] = [
        PollOutcome::New,
        PollOutcome::Unchanged,
        PollOutcome::NotModified,
        PollOutcome::Failed,
        PollOutcome::Skipped,
    ];

    fn label(self) -> &'static str {
        match self {
            PollOutcome::New => "new",
            PollOutcome::Unchanged => "unchanged",
            PollOutcome::NotModified => "not_modified",
            PollOutcome::Failed => "failed",
            PollOutcome::Skipped => "skipped",
        }
    }
}

/// What an HTTP request of the fetcher was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchKind {
    Feed,
    Article,
    Robots,
}

impl FetchKind {
    const ALL: [FetchKind; 3] = [FetchKind::Feed, FetchKind::Article, FetchKind::Robots];

    fn label(self) -> &'static str {
        match self {
            FetchKind::Feed => "feed",
            FetchKind::Article => "article",
            FetchKind::Robots => "robots",
        }
    }
}

/// Status classes of the fetcher's exchanges; `error` when no status came back (timeout,
/// refused connection, TLS, body over the size cap).
const STATUS_CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "error"];

const EXTRACTION_OUTCOMES: [ExtractionStatus; 4] = [
    ExtractionStatus::Extracted,
    ExtractionStatus::FeedFallback,
    ExtractionStatus::Failed,
    ExtractionStatus::NotRequested,
];

fn extraction_label(status: ExtractionStatus) -> &'static str {
    match status {
        ExtractionStatus::Extracted => "extracted",
        ExtractionStatus::FeedFallback => "feed_fallback",
        ExtractionStatus::Failed => "failed",
        ExtractionStatus::NotRequested => "not_requested",
    }
}

/// Upper bounds of the fetch duration buckets, in seconds: loopback to a slow host near the
/// default 30 s timeout.
const DURATION_BUCKETS: [f64; 10] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// A fixed-bucket histogram of durations; the sum is kept in microseconds.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; DURATION_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        if let Some(index) = DURATION_BUCKETS.iter().position(|&bound| seconds <= bound) {
            self.buckets[index].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// One source's health as its last poll left it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct SourceGauges {
    last_success: Option<i64>,
    consecutive_failures: u32,
}

/// Every series tributary exports.
#[derive(Default)]
pub struct Metrics {
    polls: [AtomicU64; PollOutcome::ALL.len()],
    fetch_durations: [Histogram; FetchKind::ALL.len()],
    fetch_statuses: [[AtomicU64; STATUS_CLASSES.len()]; FetchKind::ALL.len()],
    entries_stored: AtomicU64,
    entries_merged: AtomicU64,
    extractions: [AtomicU64; EXTRACTION_OUTCOMES.len()],
    entries_pruned: AtomicU64,
    sources: Mutex<BTreeMap<String, SourceGauges>>,
    /// Route pattern → status code → requests served. Nested so that counting a request
    /// looks the route up by `&str`, allocating only the first time a route is seen.
    requests: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
}

static GLOBAL: LazyLock<Metrics> = LazyLock::new(Metrics::default);

/// The process's registry.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

/// Entries deleted by retention; called by the prune pass with how many it removed.
pub fn record_pruned(count: u64) {
    global().record_pruned(count);
}

pub fn record_poll(outcome: PollOutcome) {
    global().record_poll(outcome);
}

/// One HTTP exchange of the fetcher: its duration and status (`None`: no answer).
pub fn record_fetch(kind: FetchKind, duration: Duration, status: Option<u16>) {
    global().record_fetch(kind, duration, status);
}

pub fn record_committed(new_stories: usize, merged: usize) {
    global().record_committed(new_stories, merged);
}

pub fn record_extraction(status: ExtractionStatus) {
    global().record_extraction(status);
}

pub fn record_source(name: &str, last_success: Option<DateTime<Utc>>, consecutive_failures: u32) {
    global().record_source(name, last_success, consecutive_failures);
}

/// Drops the sources no longer configured, so a removed source's series disappear.
pub fn retain_sources<'a>(names: impl IntoIterator<Item = &'a str>) {
    global().retain_sources(names);
}

pub fn record_request(route: &str, status: u16) {
    global().record_request(route, status);
}

/// The database's size on disk: the main file and its write-ahead log.
pub fn database_size(database: &Path) -> u64 {
    let mut wal = database.as_os_str().to_owned();
    wal.push("-wal");
    [database.as_os_str(), wal.as_os_str()]
        .into_iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|metadata| metadata.len())
        .sum()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn class_index(status: Option<u16>) -> usize {
    match status {
        Some(code @ 100..=599) => usize::from(code / 100 - 1),
        _ => STATUS_CLASSES.len() - 1,
    }
}

impl Metrics {
    pub fn record_pruned(&self, count: u64) {
        self.entries_pruned.fetch_add(count, Ordering::Relaxed);
    }

    pub fn record_poll(&self, outcome: PollOutcome) {
        let index = PollOutcome::ALL.iter().position(|o| *o == outcome);
        if let Some(index) = index {
            self.polls[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn record_fetch(&self, kind: FetchKind, duration: Duration, status: Option<u16>) {
        let Some(kind_index) = FetchKind::ALL.iter().position(|k| *k == kind) else {
            return;
        };
        self.fetch_durations[kind_index].observe(duration);
        self.fetch_statuses[kind_index][class_index(status)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_committed(&self, new_stories: usize, merged: usize) {
        self.entries_stored
            .fetch_add(new_stories as u64, Ordering::Relaxed);
        self.entries_merged
            .fetch_add(merged as u64, Ordering::Relaxed);
    }

    pub fn record_extraction(&self, status: ExtractionStatus) {
        if let Some(index) = EXTRACTION_OUTCOMES.iter().position(|s| *s == status) {
            self.extractions[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn record_source(
        &self,
        name: &str,
        last_success: Option<DateTime<Utc>>,
        consecutive_failures: u32,
    ) {
        lock(&self.sources).insert(
            name.to_string(),
            SourceGauges {
                last_success: last_success.map(|time| time.timestamp()),
                consecutive_failures,
            },
        );
    }

    pub fn retain_sources<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        let keep: std::collections::HashSet<&str> = names.into_iter().collect();
        lock(&self.sources).retain(|name, _| keep.contains(name.as_str()));
    }

    pub fn record_request(&self, route: &str, status: u16) {
        let mut requests = lock(&self.requests);
        let statuses = match requests.get_mut(route) {
            Some(statuses) => statuses,
            None => requests.entry(route.to_string()).or_default(),
        };
        *statuses.entry(status).or_default() += 1;
    }

    /// The Prometheus text exposition (format 0.0.4) of every series.
    pub fn render(&self, database_size: u64) -> String {
        let mut out = String::with_capacity(8192);
        self.render_polls_and_fetches(&mut out);
        self.render_entries(&mut out, database_size);
        self.render_sources(&mut out);
        self.render_requests(&mut out);
        family(
            &mut out,
            "tributary_build_info",
            "gauge",
            "The running build; the value is always 1.",
        );
        sample(
            &mut out,
            "tributary_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1,
        );
        out
    }

    fn render_polls_and_fetches(&self, out: &mut String) {
        family(
            out,
            "tributary_polls_total",
            "counter",
            "Source polls by outcome.",
        );
        for (outcome, counter) in PollOutcome::ALL.iter().zip(&self.polls) {
            let value = counter.load(Ordering::Relaxed);
            sample(
                out,
                "tributary_polls_total",
                &[("outcome", outcome.label())],
                value,
            );
        }
        family(
            out,
            "tributary_fetch_duration_seconds",
            "histogram",
            "Duration of the fetcher's HTTP exchanges (after politeness waits), by kind.",
        );
        for (kind, histogram) in FetchKind::ALL.iter().zip(&self.fetch_durations) {
            render_histogram(
                out,
                "tributary_fetch_duration_seconds",
                kind.label(),
                histogram,
            );
        }
        family(
            out,
            "tributary_fetch_responses_total",
            "counter",
            "The fetcher's HTTP exchanges by kind and status class (error: no status).",
        );
        for (kind, classes) in FetchKind::ALL.iter().zip(&self.fetch_statuses) {
            for (class, counter) in STATUS_CLASSES.iter().zip(classes) {
                let labels = [("kind", kind.label()), ("class", *class)];
                sample(
                    out,
                    "tributary_fetch_responses_total",
                    &labels,
                    counter.load(Ordering::Relaxed),
                );
            }
        }
    }

    fn render_entries(&self, out: &mut String, database_size: u64) {
        let counters = [
            (
                "tributary_entries_stored_total",
                "Entries stored as new stories.",
                &self.entries_stored,
            ),
            (
                "tributary_entries_merged_total",
                "Entries merged into a story another source or entry already brought.",
                &self.entries_merged,
            ),
            (
                "tributary_entries_pruned_total",
                "Stories deleted by retention.",
                &self.entries_pruned,
            ),
        ];
        for (name, help, counter) in counters {
            family(out, name, "counter", help);
            sample(out, name, &[], counter.load(Ordering::Relaxed));
        }
        family(
            out,
            "tributary_extractions_total",
            "counter",
            "New entries by what became of their article page.",
        );
        for (status, counter) in EXTRACTION_OUTCOMES.iter().zip(&self.extractions) {
            sample(
                out,
                "tributary_extractions_total",
                &[("outcome", extraction_label(*status))],
                counter.load(Ordering::Relaxed),
            );
        }
        family(
            out,
            "tributary_database_size_bytes",
            "gauge",
            "Size of the SQLite database file and its write-ahead log.",
        );
        sample(out, "tributary_database_size_bytes", &[], database_size);
    }

    fn render_sources(&self, out: &mut String) {
        let sources = lock(&self.sources).clone();
        family(
            out,
            "tributary_source_last_success_timestamp_seconds",
            "gauge",
            "When each source was last read successfully (Unix time); absent before its first success.",
        );
        for (name, gauges) in &sources {
            if let Some(time) = gauges.last_success {
                sample(
                    out,
                    "tributary_source_last_success_timestamp_seconds",
                    &[("source", name)],
                    time,
                );
            }
        }
        family(
            out,
            "tributary_source_consecutive_failures",
            "gauge",
            "Failed polls in a row of each source.",
        );
        for (name, gauges) in &sources {
            sample(
                out,
                "tributary_source_consecutive_failures",
                &[("source", name)],
                gauges.consecutive_failures,
            );
        }
    }

    fn render_requests(&self, out: &mut String) {
        let requests = lock(&self.requests).clone();
        family(
            out,
            "tributary_http_requests_total",
            "counter",
            "Requests served by route pattern and status.",
        );
        for (route, statuses) in &requests {
            for (status, count) in statuses {
                let status = status.to_string();
                sample(
                    out,
                    "tributary_http_requests_total",
                    &[("route", route), ("status", &status)],
                    count,
                );
            }
        }
    }
}

/// Appends the HTTP server's connection counters (kept by `serve::counters`, which owns them
/// because the accept loop bumps them on its hot path) to an exposition.
pub fn render_connections(out: &mut String, connections: &CounterSnapshot) {
    family(
        out,
        "tributary_http_connections_open",
        "gauge",
        "Reader connections open now.",
    );
    sample(
        out,
        "tributary_http_connections_open",
        &[],
        connections.open,
    );
    family(
        out,
        "tributary_http_connections_accepted_total",
        "counter",
        "Reader connections taken in and served.",
    );
    sample(
        out,
        "tributary_http_connections_accepted_total",
        &[],
        connections.accepted,
    );
    let refused = [
        ("max_connections", connections.refused_over_capacity),
        ("max_connections_per_ip", connections.refused_per_ip),
        ("client_requests", connections.refused_requests_per_client),
    ];
    family(
        out,
        "tributary_http_refused_total",
        "counter",
        "Connections (or, behind a trusted proxy, requests) refused by a cap, by the cap.",
    );
    for (cap, count) in refused {
        sample(out, "tributary_http_refused_total", &[("cap", cap)], count);
    }
    let timed_out = [
        ("header", connections.header_timeouts),
        ("idle", connections.idle_timeouts),
        ("write", connections.write_timeouts),
    ];
    family(
        out,
        "tributary_http_connections_timed_out_total",
        "counter",
        "Reader connections closed by a deadline, by phase.",
    );
    for (phase, count) in timed_out {
        sample(
            out,
            "tributary_http_connections_timed_out_total",
            &[("phase", phase)],
            count,
        );
    }
    family(
        out,
        "tributary_http_accept_errors_total",
        "counter",
        "Failed accepts (such as too many open files), each followed by a short pause.",
    );
    sample(
        out,
        "tributary_http_accept_errors_total",
        &[],
        connections.accept_errors,
    );
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (index, (key, label_value)) in labels.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            let _ = write!(out, "{key}=\"{}\"", escape_label(label_value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn render_histogram(out: &mut String, name: &str, kind: &str, histogram: &Histogram) {
    let mut cumulative = 0;
    let bucket_name = format!("{name}_bucket");
    for (bound, counter) in DURATION_BUCKETS.iter().zip(&histogram.buckets) {
        cumulative += counter.load(Ordering::Relaxed);
        let bound = bound.to_string();
        sample(
            out,
            &bucket_name,
            &[("kind", kind), ("le", &bound)],
            cumulative,
        );
    }
    let count = histogram.count.load(Ordering::Relaxed);
    sample(out, &bucket_name, &[("kind", kind), ("le", "+Inf")], count);
    let sum = histogram.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
    sample(out, &format!("{name}_sum"), &[("kind", kind)], sum);
    sample(out, &format!("{name}_count"), &[("kind", kind)], count);
}

/// Label values escape backslash, double quote and newline, as the text format requires.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|line| line.starts_with(prefix))
    }

    #[test]
    fn counters_and_labels_render_in_the_text_format() {
        let metrics = Metrics::default();
        metrics.record_poll(PollOutcome::New);
        metrics.record_poll(PollOutcome::New);
        metrics.record_poll(PollOutcome::Failed);
        metrics.record_committed(3, 1);
        metrics.record_pruned(7);
        metrics.record_extraction(ExtractionStatus::Extracted);
        metrics.record_request("/feed.atom", 304);
        let text = metrics.render(4096);
        assert_eq!(
            line(&text, "tributary_polls_total{outcome=\"new\"}"),
            Some("tributary_polls_total{outcome=\"new\"} 2")
        );
        assert!(text.contains("tributary_polls_total{outcome=\"failed\"} 1\n"));
        assert!(text.contains("tributary_polls_total{outcome=\"skipped\"} 0\n"));
        assert!(text.contains("tributary_entries_stored_total 3\n"));
        assert!(text.contains("tributary_entries_merged_total 1\n"));
        assert!(text.contains("tributary_entries_pruned_total 7\n"));
        assert!(text.contains("tributary_extractions_total{outcome=\"extracted\"} 1\n"));
        assert!(text.contains("tributary_database_size_bytes 4096\n"));
        assert!(
            text.contains("tributary_http_requests_total{route=\"/feed.atom\",status=\"304\"} 1\n")
        );
        assert!(text.contains("# TYPE tributary_polls_total counter\n"));
        assert!(text.contains(&format!(
            "tributary_build_info{{version=\"{}\"}} 1\n",
            env!("CARGO_PKG_VERSION")
        )));
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_statuses_classed() {
        let metrics = Metrics::default();
        metrics.record_fetch(FetchKind::Feed, Duration::from_millis(40), Some(200));
        metrics.record_fetch(FetchKind::Feed, Duration::from_millis(300), Some(304));
        metrics.record_fetch(FetchKind::Feed, Duration::from_secs(60), None);
        metrics.record_fetch(FetchKind::Article, Duration::from_millis(10), Some(503));
        let text = metrics.render(0);
        let bucket = |kind: &str, le: &str| {
            line(
                &text,
                &format!("tributary_fetch_duration_seconds_bucket{{kind=\"{kind}\",le=\"{le}\"}}"),
            )
            .and_then(|line| line.rsplit(' ').next())
            .map(str::to_string)
        };
        assert_eq!(bucket("feed", "0.025").as_deref(), Some("0"));
        assert_eq!(bucket("feed", "0.05").as_deref(), Some("1"));
        assert_eq!(bucket("feed", "0.5").as_deref(), Some("2"));
        assert_eq!(bucket("feed", "30").as_deref(), Some("2"));
        assert_eq!(bucket("feed", "+Inf").as_deref(), Some("3"));
        assert!(text.contains("tributary_fetch_duration_seconds_count{kind=\"feed\"} 3\n"));
        assert!(text.contains("tributary_fetch_duration_seconds_sum{kind=\"feed\"} 60.34\n"));
        assert!(text.contains("tributary_fetch_responses_total{kind=\"feed\",class=\"3xx\"} 1\n"));
        assert!(
            text.contains("tributary_fetch_responses_total{kind=\"feed\",class=\"error\"} 1\n")
        );
        assert!(
            text.contains("tributary_fetch_responses_total{kind=\"article\",class=\"5xx\"} 1\n")
        );
    }

    #[test]
    fn sources_are_labelled_by_name_escaped_and_forgotten_when_removed() {
        let metrics = Metrics::default();
        let success = DateTime::from_timestamp(1_700_000_000, 0);
        metrics.record_source("say \"hi\"\\", success, 0);
        metrics.record_source("down", None, 4);
        let text = metrics.render(0);
        assert!(text.contains(
            "tributary_source_last_success_timestamp_seconds{source=\"say \\\"hi\\\"\\\\\"} 1700000000\n"
        ));
        assert!(text.contains("tributary_source_consecutive_failures{source=\"down\"} 4\n"));
        assert!(!text.contains("tributary_source_last_success_timestamp_seconds{source=\"down\"}"));
        metrics.retain_sources(["down"]);
        let text = metrics.render(0);
        assert!(!text.contains("say"));
        assert!(text.contains("{source=\"down\"} 4"));
    }

    #[test]
    fn database_size_counts_the_write_ahead_log() {
        let folder = tempfile::tempdir().unwrap();
        let database = folder.path().join("t.db");
        std::fs::write(&database, vec![0u8; 1000]).unwrap();
        assert_eq!(database_size(&database), 1000);
        std::fs::write(folder.path().join("t.db-wal"), vec![0u8; 24]).unwrap();
        assert_eq!(database_size(&database), 1024);
        assert_eq!(database_size(&folder.path().join("missing.db")), 0);
    }
}

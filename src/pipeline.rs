//! The only place that knows the order of stages: fetch -> parse -> extract -> dedupe -> store.
//!
//! One call polls one source. Whatever happens (network error, broken feed, parser panic, one
//! bad article page), the result is recorded on that source and returned as a report; nothing
//! here can stop another source's poll.
//!
//! At shutdown (`Context::stopping`), a poll that has not sent its feed request yet ends
//! without one, and a poll fetching article pages stops fetching them: it commits the entries
//! it has and leaves the others for the next pass (forgetting the feed's validators, as for
//! `max_articles_per_pass`), within the daemon's grace. A request already answered is
//! recorded; nothing is half-written, and nothing a pass leaves is lost.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::{Config, Source};
use crate::dedupe;
use crate::extract::{self, ExtractOptions};
use crate::fetch::{FeedResponse, FetchError, Fetched, Fetcher, Validators};
use crate::metrics::{self, PollOutcome};
use crate::model::{Article, ExtractionStatus, FeedEntry, ParsedFeed};
use crate::parse;
use crate::parse::{UnsanitizedEntry, UnsanitizedFeed};
use crate::sanitize::{plain_text, truncate_words};
use crate::schedule::{self, PollResult};
use crate::store::{self, NewItem, SourceState, Store, StoreError};
use tokio_util::sync::CancellationToken;

/// Everything a poll needs, shared by every source.
#[derive(Clone)]
pub struct Context {
    pub config: Arc<Config>,
    pub fetcher: Fetcher,
    pub store: Store,
    /// The blocks of each site's last article pages, so a new page can drop what the site
    /// repeats under every story. Outlives config reloads (the daemon hands it on); backed by
    /// the store's `site_pages`, read lazily per host (see `earlier_pages`).
    pub sites: Arc<std::sync::Mutex<extract::SiteMemory>>,
    /// Cancelled when the daemon begins to shut down: no new feed request, no more article
    /// pages (see the module's doc). Never cancelled for `poll`.
    pub stopping: CancellationToken,
}

/// How a source's poll ended, for the summary line and logs.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The feed was read; `new` stories stored, `merged` entries joined known stories.
    Updated {
        new: usize,
        merged: usize,
    },
    NotModified,
    Failed(String),
    /// Not polled: the server said to stop or wait.
    Skipped(String),
}

/// One source's poll, as reported to the admin.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceReport {
    pub name: String,
    pub outcome: Outcome,
    /// Article pages whose extraction fell back to the feed's text or failed in this pass.
    pub extraction_failures: usize,
    /// Notes for the admin (a remembered redirect, a deferred backlog...).
    pub notes: Vec<String>,
}

impl SourceReport {
    pub fn new_entries(&self) -> usize {
        match self.outcome {
            Outcome::Updated { new, merged } => new + merged,
            _ => 0,
        }
    }

    pub fn is_failure(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }

    /// The outcome as the metrics and the periodic summary count it.
    pub fn metric_outcome(&self) -> PollOutcome {
        match self.outcome {
            Outcome::Updated { .. } if self.new_entries() > 0 => PollOutcome::New,
            Outcome::Updated { .. } => PollOutcome::Unchanged,
            Outcome::NotModified => PollOutcome::NotModified,
            Outcome::Failed(_) => PollOutcome::Failed,
            Outcome::Skipped(_) => PollOutcome::Skipped,
        }
    }
}

/// Polls of a permanent redirect needed before tributary fetches its target instead.
const REDIRECT_POLLS_TO_TRUST: u32 = 3;

/// Polls one source for a daemon tick admitted by the dispatcher: `admission` is its place
/// among the ticks being looked at, held while the source's state is loaded and the schedule
/// checked (store work, the same for every tick) and given back before the pass waits for its
/// host, so a busy host's sources never hold the places other hosts' ticks need. `manual` polls
/// (the `poll` command, through [`poll_all`]) ignore the schedule but still respect a server's
/// 410 and Retry-After.
pub async fn poll_admitted(
    context: &Context,
    source: &Source,
    manual: bool,
    admission: Option<tokio::sync::OwnedSemaphorePermit>,
) -> SourceReport {
    poll_from(context, source, manual, admission, None).await
}

/// One pass, from the source's state when the caller loaded it already ([`poll_all`] loads
/// every source's in one query), else from the store.
async fn poll_from(
    context: &Context,
    source: &Source,
    manual: bool,
    admission: Option<tokio::sync::OwnedSemaphorePermit>,
    loaded: Option<SourceState>,
) -> SourceReport {
    let now = Utc::now();
    let mut report = SourceReport {
        name: source.name.clone(),
        outcome: Outcome::Skipped(String::new()),
        extraction_failures: 0,
        notes: Vec::new(),
    };
    let loaded = match loaded {
        Some(state) => Ok(state),
        None => load_state(context, source).await,
    };
    let mut state = match loaded {
        Ok(state) => state,
        Err(error) => {
            report.outcome = Outcome::Failed(error.to_string());
            metrics::record_poll(PollOutcome::Failed);
            return report;
        }
    };
    let gate = if manual {
        schedule::blocked_by_server(now, &state)
    } else {
        schedule::due(now, &state)
    };
    if let Err(not_due) = gate {
        report.outcome = Outcome::Skipped(not_due.to_string());
        metrics::record_poll(report.metric_outcome());
        metrics::record_source(&source.name, state.last_success, state.consecutive_failures);
        return report;
    }
    drop(admission);
    // Held until the pass is committed: only so many passes hold bodies and entries at once.
    let pass_url = feed_url(source, &state);
    let _slot = tokio::select! {
        biased;
        _ = context.stopping.cancelled() => {
            report.outcome = Outcome::Skipped("shutting down".into());
            return report;
        }
        slot = context.fetcher.pass_slot(&pass_url) => slot,
    };
    // Boxed: the fetch's state is large, and a tick's task holds this future from the start, so
    // inline it would be allocated for every source at start-up (10 k ticks at once), due or not.
    let (result, items) =
        Box::pin(fetch_and_process(context, source, &mut state, &mut report)).await;
    let (cron_next, cron_period) = schedule::cron_next(&source.schedule, now).unwrap_or((
        now + chrono::Duration::minutes(15),
        chrono::Duration::minutes(15),
    ));
    schedule::record_poll(
        Utc::now(),
        &mut state,
        &result,
        &source.fetch,
        cron_next,
        cron_period,
    );
    let (last_success, failures) = (state.last_success, state.consecutive_failures);
    let committed = Box::pin(context.store.commit_pass(state, items, now)).await;
    if let Ok(summary) = &committed {
        metrics::record_committed(summary.new_stories, summary.merged);
        metrics::record_source(&source.name, last_success, failures);
    }
    report.outcome = match (result, committed) {
        (_, Err(error)) => Outcome::Failed(format!("storing the pass: {error}")),
        (PollResult::Fetched { .. }, Ok(summary)) => Outcome::Updated {
            new: summary.new_stories,
            merged: summary.merged,
        },
        (PollResult::NotModified, Ok(_)) => Outcome::NotModified,
        (PollResult::Failed { error, .. }, Ok(_)) => Outcome::Failed(error),
        (PollResult::Gone, Ok(_)) => Outcome::Failed("HTTP 410 Gone: polling stopped".into()),
    };
    metrics::record_poll(report.metric_outcome());
    report
}

async fn load_state(context: &Context, source: &Source) -> Result<SourceState, StoreError> {
    let name = source.name.clone();
    let url = source.url.to_string();
    context
        .store
        .call(move |connection| store::load_state(connection, &name, &url))
        .await
}

/// Fetches and parses the feed and builds the new items; the state takes the answer's
/// validators, caching hints and redirect.
async fn fetch_and_process(
    context: &Context,
    source: &Source,
    state: &mut SourceState,
    report: &mut SourceReport,
) -> (PollResult, Vec<NewItem>) {
    let feed_url = feed_url(source, state);
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    let answer = match context
        .fetcher
        .fetch_feed_answer(&feed_url, &validators, &source.fetch)
        .await
    {
        Ok(answer) => answer,
        Err(error) => return (failure_result(error), Vec::new()),
    };
    note_redirect(state, answer.permanent_redirect.as_ref(), report);
    state.cache_until = answer
        .cache_lifetime
        .and_then(|lifetime| chrono::Duration::from_std(lifetime).ok())
        .map(|lifetime| Utc::now() + lifetime);
    let fetched = match answer.response {
        FeedResponse::NotModified => return (PollResult::NotModified, Vec::new()),
        FeedResponse::Fetched(fetched) => fetched,
    };
    state.etag = fetched.validators.etag.clone();
    state.last_modified = fetched.validators.last_modified.clone();
    let hub_links = source
        .websub
        .then(|| parse::websub_links(&fetched.body, &fetched.final_url))
        .flatten();
    let feed = match parse_off_thread(fetched).await {
        Ok(feed) => feed,
        Err((_, Some(discovered))) if state.redirect_url.is_none() => {
            match follow_discovered(context, source, state, &discovered, report).await {
                Ok(feed) => feed,
                Err(error) => return (failed(error, None), Vec::new()),
            }
        }
        Err((error, _)) => return (failed(error, None), Vec::new()),
    };
    note_feed(state, &feed.feed);
    if let Some(links) = hub_links {
        crate::websub::ensure_subscribed(context, source, links).await;
    }
    let items = build_items(context, source, state, feed.entries, report).await;
    let new_entries = items.len();
    (PollResult::Fetched { new_entries }, items)
}

/// A feed document a WebSub hub pushed (its signature already checked): the same parse,
/// extract, dedupe and store stages as a poll's answer; the source's schedule is untouched.
pub async fn process_pushed(
    context: &Context,
    source: &Source,
    body: Vec<u8>,
    content_type: Option<String>,
) -> SourceReport {
    let mut report = SourceReport {
        name: source.name.clone(),
        outcome: Outcome::Skipped(String::new()),
        extraction_failures: 0,
        notes: Vec::new(),
    };
    let now = Utc::now();
    let mut state = match load_state(context, source).await {
        Ok(state) => state,
        Err(error) => {
            report.outcome = Outcome::Failed(error.to_string());
            return report;
        }
    };
    let pushed = Fetched {
        final_url: feed_url(source, &state),
        status: 200,
        content_type,
        body,
        validators: Validators::default(),
        cache_lifetime: None,
        permanent_redirect: None,
    };
    let feed = match parse_off_thread(pushed).await {
        Ok(feed) => feed,
        Err((error, _)) => {
            report.outcome = Outcome::Failed(format!("pushed content: {error}"));
            return report;
        }
    };
    note_feed(&mut state, &feed.feed);
    let items = build_items(context, source, &mut state, feed.entries, &mut report).await;
    report.outcome = match context.store.commit_pass(state, items, now).await {
        Ok(summary) => {
            metrics::record_committed(summary.new_stories, summary.merged);
            Outcome::Updated {
                new: summary.new_stories,
                merged: summary.merged,
            }
        }
        Err(error) => Outcome::Failed(format!("storing the push: {error}")),
    };
    report
}

/// The URL the source's feed is fetched from: a remembered permanent redirect, else the config's.
fn feed_url(source: &Source, state: &SourceState) -> url::Url {
    state
        .redirect_url
        .as_deref()
        .and_then(|url| url::Url::parse(url).ok())
        .unwrap_or_else(|| source.url.clone())
}

fn failed(error: String, http_status: Option<u16>) -> PollResult {
    PollResult::Failed {
        error,
        http_status,
        retry_after: None,
    }
}

fn failure_result(error: FetchError) -> PollResult {
    if error.is_gone() {
        return PollResult::Gone;
    }
    PollResult::Failed {
        error: error.to_string(),
        http_status: error.status(),
        retry_after: error.retry_after(),
    }
}

/// Tracks a permanent redirect until it has held long enough to be trusted.
fn note_redirect(
    state: &mut SourceState,
    permanent_redirect: Option<&url::Url>,
    report: &mut SourceReport,
) {
    match permanent_redirect {
        Some(target) => {
            let target = target.to_string();
            if state.redirect_candidate.as_deref() == Some(target.as_str()) {
                state.redirect_count += 1;
            } else {
                state.redirect_candidate = Some(target.clone());
                state.redirect_count = 1;
            }
            if state.redirect_count >= REDIRECT_POLLS_TO_TRUST
                && state.redirect_url.as_deref() != Some(target.as_str())
            {
                state.redirect_url = Some(target.clone());
                report.notes.push(format!(
                    "feed moved permanently to {target}: now fetched there; update the config"
                ));
            } else if state.redirect_url.as_deref() != Some(target.as_str()) {
                report.notes.push(format!(
                    "permanent redirect to {target} (seen {} times)",
                    state.redirect_count
                ));
            }
        }
        None => {
            state.redirect_candidate = None;
            state.redirect_count = 0;
        }
    }
}

fn note_feed(state: &mut SourceState, feed: &ParsedFeed) {
    state.feed_title = feed.title.clone().or(state.feed_title.take());
    state.site_link = feed.site_link.clone().or(state.site_link.take());
    state.ttl_minutes = feed.ttl_minutes;
    state.skip_hours = feed.skip_hours.clone();
    state.skip_days = feed.skip_days.clone();
}

/// Parsing is CPU work: it runs on the blocking pool, not on the async workers. A failure
/// carries the first feed an HTML page advertises, if any.
async fn parse_off_thread(fetched: Fetched) -> Result<UnsanitizedFeed, (String, Option<url::Url>)> {
    // The body moves to the parser thread: feeds run to megabytes, so no copy.
    let parsed = tokio::task::spawn_blocking(move || {
        parse::parse_feed_unsanitized(
            &fetched.body,
            fetched.content_type.as_deref(),
            &fetched.final_url,
        )
    })
    .await
    .map_err(|error| (format!("parser task failed: {error}"), None))?;
    parsed.map_err(|error| {
        let discovered = error
            .discovered_feeds()
            .iter()
            .find_map(|feed| url::Url::parse(&feed.url).ok());
        (format!("not a usable feed: {error}"), discovered)
    })
}

/// The configured URL is an HTML page that advertises a feed: poll that feed from now on
/// (like a remembered redirect) and tell the admin, who should fix the config.
async fn follow_discovered(
    context: &Context,
    source: &Source,
    state: &mut SourceState,
    discovered: &url::Url,
    report: &mut SourceReport,
) -> Result<UnsanitizedFeed, String> {
    let answer = context
        .fetcher
        .fetch_feed_answer(discovered, &Validators::default(), &source.fetch)
        .await
        .map_err(|error| {
            format!("the page links to the feed {discovered}, which failed: {error}")
        })?;
    let FeedResponse::Fetched(fetched) = answer.response else {
        return Err(format!(
            "the page links to the feed {discovered}, which answered 304"
        ));
    };
    // Its validators are kept only once it parses (they belong to the feed, not to the page).
    let validators = fetched.validators.clone();
    let feed = parse_off_thread(fetched)
        .await
        .map_err(|(error, _)| format!("the page links to the feed {discovered}: {error}"))?;
    state.etag = validators.etag;
    state.last_modified = validators.last_modified;
    state.redirect_url = Some(discovered.to_string());
    report.notes.push(format!(
        "{} is an HTML page; it links to the feed {discovered}, which is polled instead: \
         put that URL in the config",
        source.url
    ));
    Ok(feed)
}

/// Turns the feed's entries that the source has not stored yet into items, fetching and
/// extracting their article pages when the source asks for full text.
async fn build_items(
    context: &Context,
    source: &Source,
    state: &mut SourceState,
    mut entries: Vec<UnsanitizedEntry>,
    report: &mut SourceReport,
) -> Vec<NewItem> {
    entries.truncate(source.fetch.max_entries_per_pass);
    let fresh = match unseen_entries(context, source, entries).await {
        Ok(fresh) => fresh,
        Err(error) => {
            // Nothing of this feed is stored: forget its validators so the next poll gets the
            // whole feed again instead of a 304 that would hide these entries for good.
            state.etag = None;
            state.last_modified = None;
            report.notes.push(error);
            return Vec::new();
        }
    };
    let fresh_count = fresh.len();
    let mut items = Vec::with_capacity(fresh_count);
    let mut pages_fetched = 0;
    // These entries are first seen now: the time their dates are judged against.
    let first_seen = Utc::now();
    for Fresh {
        key: entry_key,
        entry,
        version,
        edited,
    } in fresh
    {
        let wants_page = source.full_text && entry.link.is_some();
        let left = fresh_count - items.len();
        if wants_page && pages_fetched >= source.fetch.max_articles_per_pass {
            leave_for_next_pass(state, report, left, "max_articles_per_pass");
            break;
        }
        let build = build_item(
            context,
            source,
            (entry_key, entry),
            first_seen,
            &mut pages_fetched,
            edited,
        );
        // An article page may take its whole timeout: at shutdown it is given up (with the
        // entries after it) rather than holding the pass past the daemon's grace.
        let built = match wants_page {
            true => tokio::select! {
                biased;
                _ = context.stopping.cancelled() => None,
                item = build => Some(item),
            },
            false => Some(build.await),
        };
        let Some(mut item) = built else {
            leave_for_next_pass(state, report, left, "shutting down");
            break;
        };
        item.version = Some(version);
        metrics::record_extraction(item.extraction);
        if matches!(
            item.extraction,
            ExtractionStatus::FeedFallback | ExtractionStatus::Failed
        ) {
            report.extraction_failures += 1;
        }
        items.push(item);
    }
    items
}

/// Leaves a pass's last `left` new entries unstored, and forgets the feed's validators so the
/// next pass reads the whole feed again (a 304 would hide these entries for good).
fn leave_for_next_pass(state: &mut SourceState, report: &mut SourceReport, left: usize, why: &str) {
    state.etag = None;
    state.last_modified = None;
    report
        .notes
        .push(format!("{left} entries left for the next pass ({why})"));
}

/// An entry to store: new to its source, or stored before and edited since by its feed.
struct Fresh {
    key: String,
    entry: FeedEntry,
    /// `dedupe::entry_version` of the entry as the feed lists it.
    version: i64,
    /// The source stored this key before, with another version.
    edited: bool,
}

/// The entries whose key the source has not stored yet, or has stored with another version
/// (edited by the feed), each with its key, without repeats, sanitized: only these need it,
/// and on a steady feed they are few.
async fn unseen_entries(
    context: &Context,
    source: &Source,
    entries: Vec<UnsanitizedEntry>,
) -> Result<Vec<Fresh>, String> {
    let mut seen = std::collections::HashSet::new();
    let keyed: Vec<(String, i64, UnsanitizedEntry)> = entries
        .into_iter()
        .map(|entry| {
            let key = dedupe::entry_key(entry.unsanitized());
            (key, dedupe::entry_version(entry.unsanitized()), entry)
        })
        .filter(|(key, _, _)| seen.insert(key.clone()))
        .collect();
    let versions: Vec<(String, i64)> = keyed
        .iter()
        .map(|(key, version, _)| (key.clone(), *version))
        .collect();
    let name = source.name.clone();
    let now = Utc::now();
    let (known, edited) = context
        .store
        .call(move |connection| {
            let keys: Vec<String> = versions.iter().map(|(key, _)| key.clone()).collect();
            let known = store::known_keys(connection, &name, &keys)?;
            // The tombstones of pruned entries the feed still lists must stay (retention).
            store::note_listing(connection, &name, &known, now)?;
            let edited = store::edited_entries(connection, &name, &versions)?;
            Ok((known, edited))
        })
        .await
        .map_err(|error| format!("store: {error}"))?;
    let unseen: Vec<(String, i64, bool, UnsanitizedEntry)> = keyed
        .into_iter()
        .filter(|(key, _, _)| !known.contains(key) || edited.contains(key))
        .map(|(key, version, entry)| {
            let was_edited = edited.contains(&key);
            (key, version, was_edited, entry)
        })
        .collect();
    if unseen.is_empty() {
        return Ok(Vec::new());
    }
    // Sanitizing is CPU work (an HTML parse per field): off the async workers.
    let sanitized = tokio::task::spawn_blocking(move || {
        unseen
            .into_iter()
            .map(|(key, version, edited, entry)| Fresh {
                key,
                entry: entry.sanitize(),
                version,
                edited,
            })
            .collect()
    })
    .await;
    // The sanitizer's panics are caught per field: only a runtime shutting down fails this.
    sanitized.map_err(|error| format!("sanitizing the new entries: {error}"))
}

async fn build_item(
    context: &Context,
    source: &Source,
    (entry_key, entry): (String, FeedEntry),
    first_seen: DateTime<Utc>,
    pages_fetched: &mut usize,
    edited: bool,
) -> NewItem {
    let link = entry.link.as_deref().and_then(|l| url::Url::parse(l).ok());
    let feed_dated = entry.published.or(entry.updated).is_some();
    let mut item = item_from_entry(entry_key, entry, first_seen);
    if !source.full_text {
        item.extraction = ExtractionStatus::NotRequested;
        return finish(item, first_seen);
    }
    let Some(link) = link else {
        item.extraction = ExtractionStatus::FeedFallback;
        return finish(item, first_seen);
    };
    // An edited entry's own story is stored under its URL: its page is read again.
    if source.dedupe && !edited && already_stored(context, &item.canonical_urls).await {
        // Another source (or URL) brought this story in already: its page is not fetched
        // again, and the entry is merged by the store.
        item.extraction = ExtractionStatus::NotRequested;
        return finish(item, first_seen);
    }
    *pages_fetched += 1;
    match context.fetcher.fetch_page(&link, &source.fetch).await {
        Ok(page) => {
            let page_url = page.final_url.clone();
            match extract_off_thread(context, source, page).await {
                Some(article) => apply_article(&mut item, article, &page_url, feed_dated),
                None => item.extraction = ExtractionStatus::FeedFallback,
            }
        }
        Err(error) => {
            tracing::debug!(source = %source.name, %link, %error, "article page not fetched");
            item.extraction = ExtractionStatus::Failed;
        }
    }
    finish(item, first_seen)
}

async fn already_stored(context: &Context, canonical_urls: &[String]) -> bool {
    if canonical_urls.is_empty() {
        return false;
    }
    let urls = canonical_urls.to_vec();
    context
        .store
        .call(move |connection| store::story_by_canonical(connection, &urls))
        .await
        .map(|found| found.is_some())
        .unwrap_or(false)
}

/// The item as the feed alone describes it; the feed's content is the fallback text. An entry
/// without a date is dated when it was first seen. The entry is consumed: its texts move into
/// the item rather than being copied (a feed's content runs to kilobytes per entry).
fn item_from_entry(entry_key: String, entry: FeedEntry, first_seen: DateTime<Utc>) -> NewItem {
    let summary = entry
        .summary_html
        .as_deref()
        .or(entry.content_html.as_deref())
        .map(|html| truncate_words(&plain_text(html), 400))
        .filter(|text| !text.is_empty());
    let content_html = entry.content_html.or(entry.summary_html);
    let when = entry.published.or(entry.updated);
    NewItem {
        entry_key,
        canonical_urls: entry
            .link
            .as_deref()
            .and_then(dedupe::canonical_url)
            .into_iter()
            .collect(),
        link: entry.link,
        title: entry.title.unwrap_or_default(),
        published: when.unwrap_or(first_seen),
        updated: entry.updated.or(when).unwrap_or(first_seen),
        content_html,
        summary,
        text: None,
        authors: entry.authors,
        categories: entry.categories,
        enclosures: entry.enclosures,
        image: None,
        fingerprint: None,
        extraction: ExtractionStatus::FeedFallback,
        version: None,
    }
}

/// The page moves to the extractor's thread: article pages run to hundreds of kilobytes, so
/// no copy of the body is made.
async fn extract_off_thread(context: &Context, source: &Source, page: Fetched) -> Option<Article> {
    // The admin's selectors describe the source's own site; pages elsewhere (an aggregator's
    // feed linking many sites) get the heuristics alone.
    let on_source_site = dedupe::same_site(&page.final_url, &source.url);
    let options = ExtractOptions {
        content_selector: source.content_selector.clone().filter(|_| on_source_site),
        remove_selectors: if on_source_site {
            source.remove_selectors.clone()
        } else {
            Vec::new()
        },
        video_hosts: context.config.video_hosts.clone(),
        site_pages: earlier_pages(context, &site_of(&page.final_url)).await,
    };
    let url = page.final_url.clone();
    let extracted = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(|| {
            extract::extract_for_site(
                &page.body,
                page.content_type.as_deref(),
                &page.final_url,
                &options,
            )
        })
    })
    .await;
    match extracted {
        Ok(Ok(Ok((article, blocks)))) => {
            remember_page(context, site_of(&url), blocks).await;
            Some(article)
        }
        Ok(Ok(Err(error))) => {
            tracing::debug!(source = %source.name, %url, %error, "extraction gave nothing");
            None
        }
        _ => {
            tracing::warn!(source = %source.name, %url, "extractor crashed on a page");
            None
        }
    }
}

/// The site's earlier pages for the extractor: from the memory, or, the first time this
/// process meets the host, from the store (pages read before a restart, or by another instance
/// of a fleet). Loaded lazily, one host at a time, so start-up does not grow with the sites
/// followed. A store error leaves the page compared with nothing, as on a first visit.
async fn earlier_pages(context: &Context, host: &str) -> Vec<Arc<extract::PageBlocks>> {
    let known = host.is_empty() || site_memory(context).knows(host);
    if !known {
        let owned = host.to_owned();
        let stored = context
            .store
            .call(move |connection| store::site_pages(connection, &owned))
            .await;
        match stored {
            Ok(rows) => {
                let pages = rows
                    .iter()
                    .filter_map(|bytes| extract::PageBlocks::from_bytes(bytes))
                    .collect();
                site_memory(context).load(host, pages);
            }
            Err(error) => tracing::warn!(host, %error, "could not load the site's pages"),
        }
    }
    site_memory(context).earlier(host)
}

/// Adds a page's blocks to the site's memory and to the store. The store's write never fails
/// the poll: on an error the page is remembered by this process alone.
async fn remember_page(context: &Context, host: String, blocks: extract::PageBlocks) {
    if blocks.is_empty() {
        return;
    }
    let bytes = blocks.to_bytes();
    site_memory(context).remember(&host, blocks);
    if host.is_empty() {
        return;
    }
    let now = Utc::now();
    let stored = context
        .store
        .call(move |connection| store::add_site_page(connection, &host, bytes, now))
        .await;
    if let Err(error) = stored {
        tracing::warn!(%error, "could not store a site's page; kept in memory only");
    }
}

/// The site memory's lock; a panic elsewhere while holding it leaves nothing half-written
/// that matters (at worst a page not remembered), so a poisoned lock is taken over.
fn site_memory(context: &Context) -> std::sync::MutexGuard<'_, extract::SiteMemory> {
    context
        .sites
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whose furniture a page shares: its host (a site's category feeds share one memory; an
/// aggregator's feed linking many sites gets one per site).
fn site_of(url: &url::Url) -> String {
    url.host_str().unwrap_or_default().to_owned()
}

/// A feed entry carrying at least this much text carries the article, not a teaser.
const FEED_ARTICLE_MIN_CHARS: usize = 500;

/// Below this share of the feed's text found again in the page's, the extractor took the
/// wrong block (or most of the article is missing from it).
const FEED_TEXT_MIN_COVERAGE: f64 = 0.5;

/// Whether the page's extraction covers less than half of what the feed's own content holds,
/// by length or by its word sequences: then the extractor missed part of the article (a body
/// split into blocks it did not join, the rest of the page behind a paywall) or took another
/// block for it, and the feed's content is the better text. `article` is the extracted
/// text's fingerprint (`None`: too short to have one).
fn page_gave_less_than_feed(
    article_text: &str,
    article: Option<&dedupe::Fingerprint>,
    feed_html: Option<&str>,
) -> bool {
    let Some(feed_html) = feed_html else {
        return false;
    };
    let feed_chars = html_text_chars(feed_html);
    if feed_chars < FEED_ARTICLE_MIN_CHARS {
        return false;
    }
    let page_chars = article_text.chars().filter(|c| !c.is_whitespace()).count();
    if page_chars * 2 < feed_chars {
        return true;
    }
    match (dedupe::fingerprint_html(feed_html), article) {
        (Some(feed), Some(article)) => dedupe::containment(&feed, article) < FEED_TEXT_MIN_COVERAGE,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Non-space characters outside tags of sanitized HTML: a count, without a parse (an entity
/// counts for its spelling, close enough for a ratio of two).
fn html_text_chars(html: &str) -> usize {
    let mut in_tag = false;
    html.chars()
        .filter(|&c| {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => {
                    in_tag = false;
                    return false;
                }
                _ => {}
            }
            !in_tag && !c.is_whitespace()
        })
        .count()
}

/// Takes the extracted article as the item's text, and fills what the feed lacked from the
/// page's metadata. When the page gave much less text than the feed's own content (see
/// [`page_gave_less_than_feed`]), the feed's content stays the text, marked as a fallback so
/// the source's extraction health shows it; the page's metadata is still used.
fn apply_article(item: &mut NewItem, article: Article, page_url: &url::Url, feed_dated: bool) {
    let fingerprint = dedupe::fingerprint(&article.text);
    let feed_is_fuller = page_gave_less_than_feed(
        &article.text,
        fingerprint.as_ref(),
        item.content_html.as_deref(),
    );
    let metadata = article.metadata;
    for url in [Some(page_url.as_str()), metadata.canonical_url.as_deref()]
        .into_iter()
        .flatten()
    {
        if let Some(canonical) = dedupe::canonical_url(url)
            && !item.canonical_urls.contains(&canonical)
        {
            item.canonical_urls.push(canonical);
        }
    }
    if item.title.trim().is_empty() {
        item.title = article.title.or(metadata.title).unwrap_or_default();
    }
    if item.authors.is_empty() {
        item.authors.extend(metadata.author);
    }
    if !feed_dated && let Some(published) = metadata.published.or(metadata.modified) {
        item.published = published;
        item.updated = metadata.modified.unwrap_or(published).max(published);
    }
    item.image = metadata.image;
    if feed_is_fuller {
        tracing::debug!(link = %page_url, "the page gave less than half of the feed's text");
        item.extraction = ExtractionStatus::FeedFallback;
        return;
    }
    if item.summary.is_none() {
        item.summary = metadata
            .description
            .or_else(|| Some(truncate_words(&article.text, 400)));
    }
    item.content_html = Some(article.content_html);
    item.text = Some(article.text);
    // Taken as it is: `finish` would compute the same fingerprint of the same text again.
    item.fingerprint = fingerprint;
    item.extraction = ExtractionStatus::Extracted;
}

/// How far ahead of the time an entry is first seen its date may be and still be believed:
/// time zones and slightly wrong clocks account for hours, not more.
const FUTURE_DATE_TOLERANCE: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// The (published, updated) dates an item is stored under. A date more than a day ahead of
/// when the entry was first seen is a wrong clock or time zone: believed, an entry dated 2099
/// would top the merged feed (ordered by publication) for decades. Publication becomes the
/// time first seen; the stated update date stays where it is believable, and otherwise gives
/// way too, since readers that sort by modification date would put it on top as well.
fn believable_dates(
    published: DateTime<Utc>,
    updated: DateTime<Utc>,
    first_seen: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let latest_believable = first_seen + FUTURE_DATE_TOLERANCE;
    if published <= latest_believable && updated <= latest_believable {
        return (published, updated);
    }
    let published = if published > latest_believable {
        first_seen
    } else {
        published
    };
    let updated = if updated > latest_believable {
        first_seen
    } else {
        updated
    };
    (published, updated.max(published))
}

/// Last touches: dates no later than believable, a title for untitled entries and the text
/// fingerprint.
fn finish(mut item: NewItem, first_seen: DateTime<Utc>) -> NewItem {
    (item.published, item.updated) = believable_dates(item.published, item.updated, first_seen);
    // Borrowed, not copied: an extracted article's text runs to tens of kilobytes.
    let from_html;
    let text: &str = match (&item.text, &item.content_html) {
        (Some(text), _) => text,
        (None, Some(html)) => {
            from_html = plain_text(html);
            &from_html
        }
        (None, None) => "",
    };
    // An extracted article's fingerprint was taken with its text (`apply_article`).
    if item.fingerprint.is_none() {
        item.fingerprint = dedupe::fingerprint(text);
    }
    if item.title.trim().is_empty() {
        let fallback = item.summary.as_deref().unwrap_or(text);
        item.title = truncate_words(fallback, 80);
    }
    if item.title.trim().is_empty() {
        item.title = item.link.clone().unwrap_or_else(|| "(untitled)".into());
    }
    item
}

/// Polls every source once, concurrently (the fetcher's limits keep it polite), in config
/// order of reports. `on_done` is told after each source (for a progress bar).
pub async fn poll_all(
    context: &Context,
    manual: bool,
    on_done: impl Fn(&SourceReport),
) -> Vec<SourceReport> {
    let mut states = load_all_states(context).await;
    let mut tasks = tokio::task::JoinSet::new();
    for (index, source) in context.config.sources.iter().enumerate() {
        let context = context.clone();
        let source = source.clone();
        let state = states.remove(&source.name);
        tasks.spawn(async move {
            let report = poll_from(&context, &source, manual, None, state).await;
            (index, report)
        });
    }
    let mut reports: Vec<Option<SourceReport>> = vec![None; context.config.sources.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, report)) => {
                on_done(&report);
                reports[index] = Some(report);
            }
            Err(error) => tracing::error!(%error, "a poll task crashed"),
        }
    }
    reports
        .into_iter()
        .enumerate()
        .map(|(index, report)| {
            report.unwrap_or_else(|| SourceReport {
                name: context.config.sources[index].name.clone(),
                outcome: Outcome::Failed("the poll crashed".into()),
                extraction_failures: 0,
                notes: Vec::new(),
            })
        })
        .collect()
}

/// Every configured source's state in one read. If that read fails, each pass loads its own
/// (and reports the error as its own failure), as a single pass would.
async fn load_all_states(context: &Context) -> HashMap<String, SourceState> {
    let sources: Vec<(String, String)> = context
        .config
        .sources
        .iter()
        .map(|source| (source.name.clone(), source.url.to_string()))
        .collect();
    let loaded = context
        .store
        .call(move |connection| {
            let pairs: Vec<(&str, &str)> = sources
                .iter()
                .map(|(name, url)| (name.as_str(), url.as_str()))
                .collect();
            store::load_states(connection, &pairs)
        })
        .await;
    loaded.unwrap_or_else(|error| {
        tracing::warn!(%error, "loading the sources' states at once failed; loading each alone");
        HashMap::new()
    })
}

/// A DateTime helper kept here so reports can show times consistently.
pub fn format_time(time: Option<DateTime<Utc>>) -> String {
    time.map(|time| time.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PageMetadata;

    /// A daemon tick's admission comes back once the schedule is checked, before the pass
    /// waits on its host: here the feed's server accepts and never answers, and the place is
    /// free again while the poll is still in its fetch.
    #[tokio::test]
    async fn a_due_tick_gives_its_admission_back_before_fetching() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let _server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("t.db");
        let text = format!(
            "database = \"{}\"\n[fetch]\nallow_private_networks = true\n\
             [[sources]]\nname = \"silent\"\nurl = \"http://{address}/feed.xml\"\n",
            database.display()
        );
        let config = Config::from_str(&text, std::path::Path::new("t.toml")).unwrap();
        let context = Context {
            fetcher: Fetcher::new(&config.fetch).unwrap(),
            store: Store::open(&database).unwrap(),
            config: Arc::new(config),
            sites: Arc::default(),
            stopping: CancellationToken::new(),
        };
        let admission = Arc::new(tokio::sync::Semaphore::new(1));
        let place = admission.clone().acquire_owned().await.unwrap();
        let source = context.config.sources[0].clone();
        let poll = poll_admitted(&context, &source, false, Some(place));
        tokio::pin!(poll);
        tokio::select! {
            report = &mut poll => panic!("the poll ended first: {:?}", report.outcome),
            again = admission.acquire() => assert!(again.is_ok()),
        }
    }

    fn article(published: &str) -> Article {
        Article {
            title: Some("Headline from the page".into()),
            content_html: "<p>Body</p>".into(),
            text: "Body".into(),
            metadata: PageMetadata {
                published: Some(DateTime::parse_from_rfc3339(published).unwrap().to_utc()),
                author: Some("A. Writer".into()),
                canonical_url: Some("https://News.example/story?utm_source=x".into()),
                image: Some("https://news.example/lead.jpg".into()),
                ..PageMetadata::default()
            },
        }
    }

    #[test]
    fn page_metadata_fills_what_the_feed_lacked() {
        let entry = FeedEntry {
            link: Some("https://news.example/story?id=1".into()),
            ..FeedEntry::default()
        };
        let mut item = item_from_entry("link:x".into(), entry, Utc::now());
        let page = url::Url::parse("https://news.example/story?id=1").unwrap();
        apply_article(&mut item, article("2026-01-02T03:04:05Z"), &page, false);
        assert_eq!(item.title, "Headline from the page");
        assert_eq!(item.authors, ["A. Writer"]);
        assert_eq!(item.published.to_rfc3339(), "2026-01-02T03:04:05+00:00");
        assert_eq!(item.image.as_deref(), Some("https://news.example/lead.jpg"));
        assert!(
            item.canonical_urls
                .contains(&"https://news.example/story".to_string())
        );
        assert_eq!(item.extraction, ExtractionStatus::Extracted);
    }

    #[test]
    fn a_page_giving_less_than_half_of_the_feeds_text_leaves_the_feeds_content() {
        let paragraph = "<p>A sentence of the article as the feed carries it whole.</p>";
        let entry = FeedEntry {
            link: Some("https://news.example/story?id=1".into()),
            content_html: Some(paragraph.repeat(20)),
            ..FeedEntry::default()
        };
        let mut item = item_from_entry("link:x".into(), entry, Utc::now());
        let page = url::Url::parse("https://news.example/story?id=1").unwrap();
        // The page gave one paragraph ("Body"): the feed's twenty stay the text.
        apply_article(&mut item, article("2026-01-02T03:04:05Z"), &page, false);
        assert_eq!(item.extraction, ExtractionStatus::FeedFallback);
        assert_eq!(
            item.content_html.as_deref(),
            Some(paragraph.repeat(20).as_str())
        );
        assert_eq!(item.text, None);
        // The page's metadata still fills what the feed lacked.
        assert_eq!(item.authors, ["A. Writer"]);
        assert_eq!(item.image.as_deref(), Some("https://news.example/lead.jpg"));
    }

    /// Sentences that differ in every few words, so their shingles are their own.
    fn prose(seed: &str, sentences: usize) -> String {
        (0..sentences)
            .map(|n| {
                format!(
                    "The {seed} number {n} stood by gate {n} while the {seed} crew {n} waited. "
                )
            })
            .collect()
    }

    fn covered(page_text: &str, feed_html: Option<&str>) -> bool {
        !page_gave_less_than_feed(
            page_text,
            dedupe::fingerprint(page_text).as_ref(),
            feed_html,
        )
    }

    #[test]
    fn a_feed_teaser_does_not_outweigh_the_page() {
        let article = prose("ferry", 30);
        assert!(covered(&article, Some("<p>A short teaser.</p>")));
        assert!(covered(&article, None));
        let feed = format!("<p>{}</p>", prose("ferry", 30));
        assert!(covered(&article, Some(&feed)));
        // The page gave a third of it.
        assert!(!covered(&prose("ferry", 10), Some(&feed)));
        assert_eq!(html_text_chars("<p class=\"x\">a b</p><br/>c"), 3);
    }

    #[test]
    fn a_page_text_of_another_story_does_not_cover_the_feeds() {
        // As long as the feed's text, but another block of the page: a wrong choice.
        let feed = format!("<p>{}</p>", prose("ferry", 30));
        assert!(!covered(&prose("lighthouse", 30), Some(&feed)));
    }

    #[test]
    fn an_extracted_items_fingerprint_is_its_texts() {
        let entry = FeedEntry {
            link: Some("https://news.example/story?id=1".into()),
            ..FeedEntry::default()
        };
        let mut item = item_from_entry("link:x".into(), entry, Utc::now());
        let page = url::Url::parse("https://news.example/story?id=1").unwrap();
        let mut page_article = article("2026-01-02T03:04:05Z");
        page_article.text = prose("ferry", 30);
        apply_article(&mut item, page_article, &page, false);
        let item = finish(item, Utc::now());
        assert_eq!(item.fingerprint, dedupe::fingerprint(&prose("ferry", 30)));
    }

    #[test]
    fn the_feeds_own_date_and_title_win() {
        let published = DateTime::parse_from_rfc3339("2026-05-05T05:05:05Z")
            .unwrap()
            .to_utc();
        let entry = FeedEntry {
            title: Some("Feed title".into()),
            published: Some(published),
            ..FeedEntry::default()
        };
        let mut item = item_from_entry("id:1".into(), entry, Utc::now());
        let page = url::Url::parse("https://news.example/story").unwrap();
        apply_article(&mut item, article("2020-01-01T00:00:00Z"), &page, true);
        assert_eq!(item.title, "Feed title");
        assert_eq!(item.published, published);
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_date_more_than_a_day_ahead_of_first_seen_gives_way_to_it() {
        let first_seen = at("2026-12-01T12:00:00Z");
        let entry = FeedEntry {
            title: Some("From the future".into()),
            published: Some(at("2099-01-01T00:00:00Z")),
            ..FeedEntry::default()
        };
        let item = finish(
            item_from_entry("id:f".into(), entry, first_seen),
            first_seen,
        );
        assert_eq!((item.published, item.updated), (first_seen, first_seen));
    }

    #[test]
    fn a_believable_update_date_is_kept_beside_a_future_publication_date() {
        let first_seen = at("2026-12-01T12:00:00Z");
        let (published, updated) = believable_dates(
            at("2030-01-01T00:00:00Z"),
            at("2026-11-30T08:00:00Z"),
            first_seen,
        );
        assert_eq!(published, first_seen);
        assert_eq!(
            updated, first_seen,
            "never earlier than the publication date"
        );
        let (published, updated) = believable_dates(
            at("2030-01-01T00:00:00Z"),
            at("2026-12-02T08:00:00Z"),
            first_seen,
        );
        assert_eq!(
            (published, updated),
            (first_seen, at("2026-12-02T08:00:00Z"))
        );
    }

    #[test]
    fn dates_within_a_day_ahead_are_believed() {
        let first_seen = at("2026-12-01T12:00:00Z");
        let ahead = at("2026-12-02T11:00:00Z");
        assert_eq!(believable_dates(ahead, ahead, first_seen), (ahead, ahead));
        let past = at("2020-01-01T00:00:00Z");
        assert_eq!(believable_dates(past, past, first_seen), (past, past));
    }
}

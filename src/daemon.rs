//! The daemon: builds every part from the config, owns start-up, live reload and shutdown order.
//!
//! Start-up: signal handlers, store, first render, HTTP listener, scheduler, then a first look
//! at every source. Shutdown (SIGTERM/SIGINT): stop the scheduler and the dispatcher; polls in
//! flight send no new feed request and fetch no more article pages, and commit what they have
//! (`pipeline`), within `DRAIN_TIME`; a poll still waiting on its feed after that is abandoned.
//! A poll's writes are one transaction, so an abandoned poll leaves nothing half-written, and
//! its state is not saved either: its next poll reads the feed again and loses nothing. Then
//! the server finishes its requests.
//!
//! Under systemd (`Type=notify`) it says READY once the store is open and the listener serves,
//! pings the watchdog from the runtime, and says RELOADING/READY around a reload and STOPPING
//! on shutdown (`notify`).
//!
//! `--role` (`fleet::Role`) picks the parts: a worker runs the scheduler and polls, a web
//! instance serves and re-renders when the store's change counter moves; `all` does both.
//! Every instance keeps a heartbeat in the store, and polls only hosts it holds a lease on.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Notify, OwnedSemaphorePermit, RwLock, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, OutputFormat};
use crate::fetch::Fetcher;
use crate::fleet::{self, Presence, RenderedAt, Role};
use crate::metrics;
use crate::notify::{self, Notifier};
use crate::output::{self, FeedCache};
use crate::pipeline::{self, Context};
use crate::poll_log::{self, Summary};
use crate::schedule::driver::Driver;
use crate::schedule::leases::HostLeases;
use crate::serve::counters::{self, ConnectionCounters};
use crate::serve::{self, ServeState, connections};
use crate::store::Store;

/// How long in-flight polls get to finish after a shutdown signal.
const DRAIN_TIME: Duration = Duration::from_secs(3);
/// How often the config file's modification time is checked.
const RELOAD_CHECK: Duration = Duration::from_secs(2);
/// How often refused and timed-out reader connections are summed up in the log.
const CONNECTION_SUMMARY: Duration = Duration::from_secs(60);
/// The first pruning pass comes this long after start-up (or after `[retention] interval`,
/// if shorter): soon, but after the first polls, which matter more to a starting daemon.
const FIRST_PRUNE: Duration = Duration::from_secs(60);

/// Ticks looked at once, per request allowed in flight (`max_concurrency`). A tick's task loads
/// its source's state and checks the schedule before anything else; at start-up every source
/// ticks at once, and 10,000 tasks alive together, each waiting on the store, left their peak
/// in the idle daemon's heap. The rest wait as names in the tick queue.
const ADMITTED_PER_REQUEST: usize = 4;

/// The parts the dispatcher hands to each poll; swapped whole on reload.
struct Shared {
    context: std::sync::RwLock<Context>,
    config: Arc<RwLock<Arc<Config>>>,
    in_flight: Mutex<HashSet<String>>,
    feed_changed: Notify,
    /// The polls since the last summary line.
    summary: Summary,
    /// The host leases this instance holds (one instance polls a host at a time).
    leases: Arc<HostLeases>,
    /// The store's change counter at the last render.
    rendered: Arc<RenderedAt>,
}

impl Shared {
    fn context(&self) -> Context {
        self.context
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// Runs until SIGTERM or SIGINT. `config_path` is `None` when running on the embedded example.
pub async fn run(config: Config, config_path: Option<PathBuf>, role: Role) -> anyhow::Result<()> {
    // Handlers first, so a signal during start-up is not the default "die at once".
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let shutdown = CancellationToken::new();
    let polls = TaskTracker::new();
    let notifier = Notifier::from_env();
    let watchdog = spawn_watchdog(&notifier);

    let store = Store::open_async(&config.database).await.with_context(|| {
        format!(
            "opening the database {}",
            crate::store::display_database(&config.database)
        )
    })?;
    store.set_dedupe_policy(config.dedupe_policy());
    let fetcher = Fetcher::new(&config.fetch)?;
    let config = Arc::new(config);
    let instance = fleet::instance_id();
    tracing::info!(
        instance,
        role = role.name(),
        "joining the store's instances"
    );
    let leases = Arc::new(HostLeases::new(instance.clone(), store.clone()));
    let presence = Arc::new(Presence {
        id: instance,
        role,
        store: store.clone(),
        leases: leases.clone(),
        facts: Default::default(),
    });
    presence.beat(&config).await;
    let cache = FeedCache::new(output::build_snapshot(&store, &config).await?);
    let shared = Arc::new(Shared {
        context: std::sync::RwLock::new(Context {
            config: config.clone(),
            fetcher,
            store: store.clone(),
            sites: Default::default(),
            stopping: shutdown.clone(),
        }),
        config: Arc::new(RwLock::new(config.clone())),
        in_flight: Mutex::new(HashSet::new()),
        feed_changed: Notify::new(),
        summary: Summary::default(),
        leases,
        rendered: Arc::new(RenderedAt::default()),
    });
    let heartbeat = {
        let shared = shared.clone();
        tokio::spawn(
            presence
                .clone()
                .keep(move || shared.context().config.clone(), shutdown.clone()),
        )
    };

    // Verified WebSub pushes, from the callback route to the pipeline.
    let (pushes, mut push_receiver) = mpsc::channel(crate::websub::PUSH_QUEUE);
    let server = match role.serves() {
        true => Some(start_serving(&config, &shared, &cache, pushes, &shutdown).await?),
        false => None,
    };
    let pruner = role
        .polls()
        .then(|| tokio::spawn(prune_on_schedule(shared.clone(), shutdown.clone())));
    let renewer = role
        .polls()
        .then(|| tokio::spawn(renew_websub_leases(shared.clone(), shutdown.clone())));

    if config.output.file.is_some() && role.serves() {
        shared.feed_changed.notify_one();
    }
    let (ticks, tick_receiver) = mpsc::unbounded_channel();
    let admission = Arc::new(Semaphore::new(
        config.fetch.max_concurrency.max(1) * ADMITTED_PER_REQUEST,
    ));
    let dispatcher = tokio::spawn(dispatch_ticks(
        shared.clone(),
        polls.clone(),
        shutdown.clone(),
        tick_receiver,
        admission,
    ));
    let mut driver = match role.polls() {
        true => Some(Driver::start(ticks.clone()).await?),
        false => None,
    };
    if let Some(driver) = &mut driver {
        driver.sync(&config.sources).await?;
        for source in &config.sources {
            let _ = ticks.send(source.name.clone());
        }
    }
    let mut last_mtime = config_path.as_deref().and_then(modified_time);
    let mut reload_check = tokio::time::interval(RELOAD_CHECK);
    let mut summary_tick = tokio::time::interval_at(
        tokio::time::Instant::now() + poll_log::SUMMARY_EVERY,
        poll_log::SUMMARY_EVERY,
    );
    notifier.ready(&serving_status(&config));

    loop {
        tokio::select! {
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
            _ = hangup.recv() => {
                if let Some(path) = &config_path {
                    last_mtime = modified_time(path);
                    notifier.reloading();
                    reload(path, &shared, &mut driver, &ticks).await;
                    notifier.ready(&serving_status(&shared.context().config));
                }
            }
            _ = reload_check.tick() => {
                if let Some(path) = &config_path {
                    let mtime = modified_time(path);
                    if mtime.is_some() && mtime != last_mtime {
                        last_mtime = mtime;
                        notifier.reloading();
                        reload(path, &shared, &mut driver, &ticks).await;
                        notifier.ready(&serving_status(&shared.context().config));
                    }
                }
            }
            _ = summary_tick.tick() => shared.summary.log_and_reset(),
            Some(push) = push_receiver.recv() => dispatch_push(&shared, &polls, push),
        }
    }

    notifier.stopping();
    tracing::info!("shutting down");
    shutdown.cancel();
    if let Some(driver) = driver {
        driver.shutdown().await;
    }
    let _ = dispatcher.await;
    polls.close();
    if tokio::time::timeout(DRAIN_TIME, polls.wait())
        .await
        .is_err()
    {
        tracing::warn!("abandoning polls still in flight (their passes are not committed)");
    }
    presence.leave(&shared.context().config).await;
    heartbeat.abort();
    if let Some((server, renderer)) = server {
        let _ = tokio::time::timeout(DRAIN_TIME, server).await;
        renderer.abort();
    }
    shared.summary.log_and_reset();
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    for task in [pruner, renewer].into_iter().flatten() {
        task.abort();
    }
    Ok(())
}

/// The serving side (`web` and `all`): the listener and its accept loop, the connection
/// summaries, the renderer, and the watch on the store's change counter that re-renders after
/// other instances' writes. Returns the server's and the renderer's tasks.
async fn start_serving(
    config: &Config,
    shared: &Arc<Shared>,
    cache: &FeedCache,
    pushes: mpsc::Sender<crate::websub::Push>,
    shutdown: &CancellationToken,
) -> anyhow::Result<(tokio::task::JoinHandle<()>, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    tracing::info!(
        "serving {0}/feed.atom, /feed.rss, /feed.json on http://{1}",
        config.public_url,
        listener.local_addr()?
    );
    // Reader connection counters: `snapshot()` is what /metrics exports.
    let connection_counters = Arc::new(ConnectionCounters::default());
    let context = shared.context();
    // The river's lead images, fetched only when a page shows them: a web instance's job.
    let images = Arc::new(crate::fetch::images::ImageProxy::new(
        context.fetcher.clone(),
        config.fetch.clone(),
    ));
    let router = serve::router(ServeState {
        cache: cache.clone(),
        store: context.store.clone(),
        config: shared.config.clone(),
        connections: connection_counters.clone(),
        images,
        pushes: Some(pushes),
    });
    let server = tokio::spawn(connections::serve(
        listener,
        router,
        connections::Limits::at_start_up(config),
        connection_counters.clone(),
        shutdown.clone(),
    ));
    tokio::spawn(counters::log_summaries(
        connection_counters.clone(),
        CONNECTION_SUMMARY,
        shutdown.clone(),
    ));
    let renderer = tokio::spawn(render_on_change(
        shared.clone(),
        cache.clone(),
        shutdown.clone(),
    ));

    let watched = shared.clone();
    tokio::spawn(fleet::watch_changes(
        shared.context().store.clone(),
        shared.rendered.clone(),
        move || watched.feed_changed.notify_one(),
        shutdown.clone(),
    ));
    Ok((server, renderer))
}

/// The STATUS= line systemctl shows.
fn serving_status(config: &Config) -> String {
    format!(
        "serving {} sources on {}",
        config.sources.len(),
        config.listen
    )
}

/// Pings systemd's watchdog at half its timeout, from a task on this runtime: if the runtime
/// hangs, the pings stop and systemd restarts the service.
fn spawn_watchdog(notifier: &Notifier) -> Option<tokio::task::JoinHandle<()>> {
    if !notifier.is_active() {
        return None;
    }
    let every = notify::watchdog_interval_from_env()?;
    let notifier = notifier.clone();
    Some(tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            notifier.watchdog();
        }
    }))
}

fn modified_time(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Takes the ticks in order, each once a place among the ticks being looked at is free
/// (`ADMITTED_PER_REQUEST`), until shutdown.
async fn dispatch_ticks(
    shared: Arc<Shared>,
    polls: TaskTracker,
    shutdown: CancellationToken,
    mut ticks: mpsc::UnboundedReceiver<String>,
    admission: Arc<Semaphore>,
) {
    loop {
        let name = tokio::select! {
            name = ticks.recv() => match name {
                Some(name) => name,
                None => return,
            },
            _ = shutdown.cancelled() => return,
        };
        let place = tokio::select! {
            place = admission.clone().acquire_owned() => place.expect("the admission semaphore is never closed"),
            _ = shutdown.cancelled() => return,
        };
        dispatch(&shared, &polls, &shutdown, name, place);
    }
}

/// Starts a poll of `name` unless one is already running or the source is gone from the config;
/// `place` is its admission (`dispatch_ticks`), given back once the schedule has been checked.
fn dispatch(
    shared: &Arc<Shared>,
    polls: &TaskTracker,
    shutdown: &CancellationToken,
    name: String,
    place: OwnedSemaphorePermit,
) {
    if shutdown.is_cancelled() {
        return;
    }
    let context = shared.context();
    let Some(source) = context.config.source(&name).cloned() else {
        return;
    };
    {
        let mut in_flight = shared
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !in_flight.insert(name.clone()) {
            tracing::debug!(source = %name, "still polling: tick skipped");
            return;
        }
    }
    let shared = shared.clone();
    let host = source.url.host_str().unwrap_or_default().to_string();
    polls.spawn(async move {
        if !shared
            .leases
            .acquire(&host, context.config.fleet.lease)
            .await
        {
            tracing::debug!(source = %name, host, "host leased by another instance: tick skipped");
        } else {
            // A source subscribed by WebSub is polled only as a safety net
            // (`websub::poll_deferred`), decided before the poll starts.
            let poll = async {
                match crate::websub::poll_deferred(&context, &source).await {
                    true => None,
                    false => {
                        Some(pipeline::poll_admitted(&context, &source, false, Some(place)).await)
                    }
                }
            };
            // Not raced against shutdown: a poll in flight then winds down by itself
            // (`pipeline`: no new feed request, no more article pages) and commits what it
            // has; `run` waits `DRAIN_TIME` for it before abandoning it.
            match poll.await {
                Some(report) => {
                    poll_log::log_report(&report);
                    shared.summary.add(&report);
                    if report.new_entries() > 0 {
                        shared.feed_changed.notify_one();
                    }
                }
                None => tracing::debug!(source = %name, "subscribed by WebSub: poll deferred"),
            }
            let cool = context.config.fetch.per_host_delay;
            shared.leases.release(&host, cool).await;
        }
        shared
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&name);
    });
}

/// Processes a verified WebSub push like a poll's answer (`pipeline::process_pushed`), once the
/// source has no poll or push in flight: a source is never processed twice at once.
fn dispatch_push(shared: &Arc<Shared>, polls: &TaskTracker, push: crate::websub::Push) {
    let context = shared.context();
    let Some(source) = context.config.source(&push.source).cloned() else {
        return;
    };
    let shared = shared.clone();
    polls.spawn(async move {
        while !shared
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(source.name.clone())
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let report =
            pipeline::process_pushed(&context, &source, push.body, push.content_type).await;
        tracing::info!(source = %source.name, outcome = ?report.outcome, "websub: push processed");
        if report.new_entries() > 0 {
            shared.feed_changed.notify_one();
        }
        shared
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&source.name);
    });
}

/// Renews WebSub leases before they end (`websub::renew_due`) every `RENEWAL_CHECK`.
async fn renew_websub_leases(shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(crate::websub::RENEWAL_CHECK);
    loop {
        tokio::select! {
            _ = every.tick() => crate::websub::renew_due(&shared.context()).await,
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Runs a pruning pass (`Store::prune`, in short batches) every `[retention] interval`, with
/// the retention settings in force at that moment; a pass that removed stories re-renders the
/// merged feed. Only the schedule lives here.
async fn prune_on_schedule(shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut wait = FIRST_PRUNE.min(shared.context().config.retention.interval);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return,
        }
        let context = shared.context();
        let settings = context.config.retention.clone();
        let configured = context.config.source_names();
        wait = settings.interval;
        let pass = tokio::select! {
            pass = context.store.prune(&settings, &configured, chrono::Utc::now()) => pass,
            _ = shutdown.cancelled() => return,
        };
        if let Ok(report) = &pass {
            crate::metrics::record_pruned(report.entries as u64);
        }
        match pass {
            Ok(report)
                if report.entries == 0
                    && report.tombstones == 0
                    && report.sources_forgotten == 0
                    && report.site_pages == 0 =>
            {
                tracing::debug!(
                    batches = report.batches,
                    longest_batch_ms = report.longest_batch.as_secs_f64() * 1000.0,
                    "nothing to prune"
                )
            }
            Ok(report) => {
                tracing::info!(
                    entries = report.entries,
                    stories = report.stories,
                    tombstones = report.tombstones,
                    sources_forgotten = report.sources_forgotten,
                    site_pages = report.site_pages,
                    bytes_freed = report.bytes_freed,
                    batches = report.batches,
                    longest_batch_ms = report.longest_batch.as_secs_f64() * 1000.0,
                    "pruned"
                );
                if report.entries > 0 {
                    shared.feed_changed.notify_one();
                }
            }
            Err(error) => tracing::warn!(%error, "pruning failed; retried at the next pass"),
        }
    }
}

/// Re-renders the merged feed (and rewrites the output file) after polls that changed it.
async fn render_on_change(shared: Arc<Shared>, cache: FeedCache, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shared.feed_changed.notified() => {}
            _ = shutdown.cancelled() => return,
        }
        let context = shared.context();
        shared.rendered.mark(&context.store).await;
        match output::build_snapshot(&context.store, &context.config).await {
            Ok(snapshot) => {
                if let Some(path) = &context.config.output.file {
                    let format = context.config.output.file_format;
                    let body = snapshot.get(format).body.clone();
                    let path = path.clone();
                    let written =
                        tokio::task::spawn_blocking(move || output::write_atomically(&path, &body))
                            .await;
                    if let Ok(Err(error)) = written {
                        tracing::error!(%error, "writing the output file");
                    }
                }
                let before = cache.current();
                cache.replace(snapshot);
                announce_to_hub(&context.config, &before, &cache.current());
            }
            Err(error) => tracing::error!(%error, "rendering the merged feed"),
        }
    }
}

/// WebSub publishing: tells the configured hub which merged feeds changed, in the background
/// (a hub that is down only costs a warning; the feeds are served all the same).
fn announce_to_hub(config: &Config, before: &output::Snapshot, after: &output::Snapshot) {
    let Some(hub) = config.output.hub.clone() else {
        return;
    };
    let formats = [OutputFormat::Atom, OutputFormat::Rss, OutputFormat::Json];
    let topics: Vec<String> = formats
        .into_iter()
        .filter(|format| before.get(*format).etag != after.get(*format).etag)
        .map(|format| {
            let extension = crate::publish::archive::extension(format);
            format!(
                "{}/feed.{extension}",
                config.public_url.trim_end_matches('/')
            )
        })
        .collect();
    if topics.is_empty() {
        return;
    }
    tokio::spawn(async move {
        match crate::fetch::websub::notify_hub(&hub, &topics).await {
            Ok(()) => tracing::info!(hub, feeds = topics.len(), "hub notified"),
            Err(error) => tracing::warn!(hub, %error, "notifying the WebSub hub"),
        }
    });
}

/// The settings a `Fetcher` is built with (the others travel with each request): keeping the
/// fetcher when they are unchanged keeps its per-host delays and robots.txt cache.
fn same_fetcher_settings(
    new: &crate::config::FetchSettings,
    old: &crate::config::FetchSettings,
) -> bool {
    new.connect_timeout == old.connect_timeout
        && new.max_concurrency == old.max_concurrency
        && new.per_host_concurrency == old.per_host_concurrency
        && new.per_host_delay == old.per_host_delay
}

/// Loads the config file again; an invalid file is logged and the running config stays.
async fn reload(
    path: &Path,
    shared: &Arc<Shared>,
    driver: &mut Option<Driver>,
    ticks: &mpsc::UnboundedSender<String>,
) {
    let new_config = match Config::load(path) {
        Ok(config) => Arc::new(config),
        Err(error) => {
            tracing::error!("config reload rejected, keeping the running configuration:\n{error}");
            return;
        }
    };
    let old = shared.context();
    let fetcher = if same_fetcher_settings(&new_config.fetch, &old.config.fetch) {
        old.fetcher.clone()
    } else {
        match Fetcher::new(&new_config.fetch) {
            Ok(fetcher) => fetcher,
            Err(error) => {
                tracing::error!(%error, "config reload rejected");
                return;
            }
        }
    };
    if let Some(Err(error)) = match driver {
        Some(driver) => Some(driver.sync(&new_config.sources).await),
        None => None,
    } {
        tracing::error!(%error, "config reload: scheduling failed");
        return;
    }
    let added: Vec<String> = new_config
        .sources
        .iter()
        .filter(|source| old.config.source(&source.name).is_none())
        .map(|source| source.name.clone())
        .collect();
    old.store.set_dedupe_policy(new_config.dedupe_policy());
    *shared
        .context
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Context {
        config: new_config.clone(),
        fetcher,
        store: old.store.clone(),
        sites: old.sites.clone(),
        stopping: old.stopping.clone(),
    };
    *shared.config.write().await = new_config.clone();
    metrics::retain_sources(new_config.sources.iter().map(|source| source.name.as_str()));
    tracing::info!(
        sources = new_config.sources.len(),
        added = added.len(),
        "configuration reloaded"
    );
    if driver.is_some() {
        for name in added {
            let _ = ticks.send(name);
        }
    }
    if new_config.server != old.config.server {
        tracing::warn!("[server] changes take effect at the next start");
    }
    let topics = |config: &Config| -> Vec<_> {
        config
            .sources
            .iter()
            .map(|source| {
                (
                    source.name.clone(),
                    source.tags.clone(),
                    source.filter.clone(),
                )
            })
            .collect()
    };
    // Filters and tags apply at render time, so a change needs a render, never a fetch.
    if new_config.output != old.config.output
        || new_config.public_url != old.config.public_url
        || topics(&new_config) != topics(&old.config)
    {
        shared.feed_changed.notify_one();
    }
}

//! Subcommands: each parses its arguments and calls the library; exit codes live here.

/// `println!` for command output that ends the process quietly (exit 0) when the reader of
/// stdout has gone, as in `tributary status | head`: a closed pipe is not the command failing,
/// and `println!` would panic on it.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let written = writeln!(std::io::stdout().lock(), $($arg)*);
        crate::cli::stdout_written(written);
    }};
}

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, ConfigError, OutputFormat};
use crate::extract::{self, ExtractOptions};
use crate::fetch::{FeedResponse, Fetcher, Validators};
use crate::output;
use crate::pipeline::{self, Context, Outcome, SourceReport};
use crate::store::{self, Store};

mod explain;
mod migrate_store;
mod opml;
mod search;

/// The process's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    /// Something failed at run time (database, network for a one-off command, bad input).
    Failure = 1,
    /// The configuration is invalid.
    BadConfig = 2,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

const DEFAULT_CONFIG: &str = "config/tributary.toml";

#[derive(Debug, Parser)]
#[command(
    name = "tributary",
    version,
    about = "A feed aggregator daemon: many feeds in, one clean merged feed out."
)]
pub struct Args {
    /// The configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How log lines on stderr look: `text` for people, `json` (one object per line) for
    /// log collectors.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the configuration; exit 2 listing every problem (file, line, key).
    Check,
    /// Poll every source once now, whatever its schedule, then exit.
    Poll,
    /// Run the daemon: scheduler and HTTP server, until SIGTERM or SIGINT.
    Run {
        /// `worker` polls, `web` serves the feeds from the store, `all` does both (see
        /// README, "Running a fleet").
        #[arg(long, value_enum, default_value = "all")]
        role: crate::fleet::Role,
    },
    /// Write the merged feed to stdout or, atomically, to a file.
    Export {
        #[arg(long, value_enum)]
        format: FormatArg,
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Write this topic's feed (`tags = [...]` on sources) instead of the merged feed.
        #[arg(long, value_name = "TAG")]
        tag: Option<String>,
    },
    /// Show the title, metadata and extracted text of one page.
    Extract {
        /// A URL or a local HTML file.
        #[arg(required_unless_present = "batch")]
        url_or_file: Option<String>,
        /// A CSS selector for the article, to compare with the heuristics' result.
        #[arg(long, value_name = "CSS")]
        selector: Option<String>,
        /// Extract every IN_DIR/NAME.html into OUT_DIR/NAME.txt.
        #[arg(long, num_args = 2, value_names = ["IN_DIR", "OUT_DIR"], conflicts_with = "url_or_file")]
        batch: Option<Vec<PathBuf>>,
    },
    /// Show the entries of one feed.
    Parse {
        /// A URL or a local feed file.
        url_or_file: String,
        /// Print one JSON object {"title", "entries": [{"id","title","link","published","content"}]}.
        #[arg(long)]
        json: bool,
    },
    /// Remove entries beyond the [retention] limits now, and say what was removed.
    Prune,
    /// Write a consistent copy of the database to PATH, even while the daemon runs.
    Backup {
        /// Where the copy goes (replaced if it exists).
        path: PathBuf,
    },
    /// Show each source's polling state as a table.
    Status {
        /// Print JSON (as served at /status) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Add an OPML file's feeds to the config's sources, keeping its comments.
    ///
    /// Prints each feed added or skipped (already listed, listed twice, not http) and why. The
    /// config is replaced atomically, and only if the result is valid.
    ImportOpml {
        /// The OPML file (exported by another reader).
        file: PathBuf,
        /// Print the report and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the sources as an OPML 2.0 subscription list (as served at /opml).
    ExportOpml,
    /// Show why a story is what it is: its sources, the dedupe layer and similarity each
    /// matched with, and the nearest other story (a near miss) with its score.
    Explain {
        /// A story's id (as shown here), its urn:uuid: id, or a URL one of its entries has.
        url_or_id: String,
    },
    /// Show the stored stories matching every word of QUERY (titles, texts, source names),
    /// newest first, each with a snippet.
    Search {
        /// Words to find; case and accents are ignored, a word matches words it starts.
        #[arg(required = true, num_args = 1.., value_name = "QUERY")]
        query: Vec<String>,
        /// At most this many stories.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print a JSON array of {"id","title","link","published","sources","snippet"}.
        #[arg(long)]
        json: bool,
    },
    /// Copy a whole store into another one that is empty, e.g. SQLite into PostgreSQL.
    ///
    /// Each store is a SQLite file or a postgres:// URL; the target is created or migrated
    /// first, and nothing is written unless every row is copied.
    MigrateStore {
        /// The store to copy (e.g. data/tributary.db).
        #[arg(long, value_name = "DATABASE")]
        from: PathBuf,
        /// The empty store to fill (e.g. postgres://user@host/db).
        #[arg(long, value_name = "DATABASE")]
        to: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Atom,
    Rss,
    Json,
}

impl From<FormatArg> for OutputFormat {
    fn from(format: FormatArg) -> OutputFormat {
        match format {
            FormatArg::Atom => OutputFormat::Atom,
            FormatArg::Rss => OutputFormat::Rss,
            FormatArg::Json => OutputFormat::Json,
        }
    }
}

/// What `outln!` does with a write to stdout: a closed pipe ends the process with success,
/// any other failure is fatal, as with `println!`.
pub(crate) fn stdout_written(written: std::io::Result<()>) {
    match written {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(error) => panic!("failed printing to stdout: {error}"),
    }
}

/// Runs the command line; errors are printed here and become exit codes.
pub fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.log_format);
    match run(args) {
        Ok(exit) => exit.into(),
        Err(error) => {
            if let Some(config_error) = error.downcast_ref::<ConfigError>() {
                eprintln!("{config_error}");
                return Exit::BadConfig.into();
            }
            eprintln!("error: {error:#}");
            Exit::Failure.into()
        }
    }
}

/// tributary's own INFO lines, other crates' warnings only (the scheduler crate says "Job
/// creator created" for every source at INFO). html5ever and the other HTML parsers warn about
/// every malformed page ("foster parenting not implemented"): noise, since broken HTML is the
/// normal case. `TRIBUTARY_LOG` replaces the whole filter.
const DEFAULT_LOG_FILTER: &str =
    "warn,tributary=info,html5ever=error,selectors=error,markup5ever=error";

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRIBUTARY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.with_ansi(colour_logs()).init(),
    }
}

/// Colour codes only for a person at a terminal: never into a file, a pipe or the journal, and
/// never when `NO_COLOR` is set to anything (no-color.org).
fn colour_logs() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    std::io::stderr().is_terminal() && !no_color
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // The blocking pool runs parsing, extraction and SQLite: CPU work, or waits on the one
    // connection. More threads than cores gain nothing there, and each thread that allocates
    // gets its own malloc arena: with tokio's default (512) a first poll of 1000 feeds peaked at
    // 320 MB of RSS, with one per core at 110 MB, in the same time.
    let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get());
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(cores.max(2))
        .build()?)
}

fn run(args: Args) -> anyhow::Result<Exit> {
    match args.command {
        Command::Check => check(args.config.as_deref()),
        Command::Poll => poll(&load_config(args.config.as_deref())?.0),
        Command::Run { role } => {
            let (config, path) = load_config(args.config.as_deref())?;
            runtime()?.block_on(crate::daemon::run(config, path, role))?;
            Ok(Exit::Ok)
        }
        Command::Export {
            format,
            output,
            tag,
        } => export(
            &load_config(args.config.as_deref())?.0,
            format.into(),
            output,
            tag.as_deref(),
        ),
        Command::Extract {
            url_or_file,
            selector,
            batch,
        } => {
            let config = optional_config(args.config.as_deref())?;
            match batch {
                Some(dirs) => extract_batch(&config, &dirs[0], &dirs[1]),
                None => extract_one(&config, &url_or_file.unwrap_or_default(), selector),
            }
        }
        Command::Parse { url_or_file, json } => parse(
            &optional_config(args.config.as_deref())?,
            &url_or_file,
            json,
        ),
        Command::Status { json } => status(&load_config(args.config.as_deref())?.0, json),
        Command::ImportOpml { file, dry_run } => opml::import(
            args.config.as_deref().unwrap_or(Path::new(DEFAULT_CONFIG)),
            &file,
            dry_run,
        ),
        Command::ExportOpml => opml::export(&load_config(args.config.as_deref())?.0),
        Command::MigrateStore { from, to } => migrate_store::run(&from, &to),
        Command::Explain { url_or_id } => {
            explain::run(&load_config(args.config.as_deref())?.0, &url_or_id)
        }
        Command::Prune => prune(&load_config(args.config.as_deref())?.0),
        Command::Backup { path } => backup(&load_config(args.config.as_deref())?.0, &path),
        Command::Search { query, limit, json } => {
            search::run(&load_config(args.config.as_deref())?.0, &query, limit, json)
        }
    }
}

/// Loads `--config`, or the default file, or (when the default file does not exist) the
/// embedded example, so `tributary run` works on a fresh checkout. Returns the file watched
/// for reloads, if any.
fn load_config(path: Option<&Path>) -> anyhow::Result<(Config, Option<PathBuf>)> {
    let path_buf = path.map_or_else(|| PathBuf::from(DEFAULT_CONFIG), Path::to_path_buf);
    if path.is_none() && !path_buf.exists() {
        eprintln!("note: {DEFAULT_CONFIG} not found: using the embedded example configuration");
        let config = Config::from_str(crate::config::EXAMPLE_CONFIG, Path::new("(embedded)"))?;
        return Ok((config, None));
    }
    Ok((Config::load(&path_buf)?, Some(path_buf)))
}

/// For the one-page tools: the config when there is one (for fetch settings and per-source
/// selectors), defaults otherwise.
fn optional_config(path: Option<&Path>) -> anyhow::Result<Option<Config>> {
    match path {
        Some(path) => Ok(Some(Config::load(path)?)),
        None if Path::new(DEFAULT_CONFIG).exists() => {
            Ok(Some(Config::load(Path::new(DEFAULT_CONFIG))?))
        }
        None => Ok(None),
    }
}

fn check(path: Option<&Path>) -> anyhow::Result<Exit> {
    let path = path.unwrap_or(Path::new(DEFAULT_CONFIG));
    match Config::load(path) {
        Ok(config) => {
            outln!(
                "{}: ok ({} sources, database {}, listening on {})",
                path.display(),
                config.sources.len(),
                crate::store::display_database(&config.database),
                config.listen
            );
            print_moved_sources(&config)?;
            Ok(Exit::Ok)
        }
        Err(ConfigError::Invalid(problems)) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            eprintln!("{} problem(s) found", problems.len());
            Ok(Exit::BadConfig)
        }
        Err(error) => {
            eprintln!("{error}");
            Ok(Exit::BadConfig)
        }
    }
}

/// What earlier polls learned that the admin should put in the config: feeds that moved
/// permanently, and URLs that were HTML pages advertising a feed. Read from the database when
/// it exists; `check` never creates one.
fn print_moved_sources(config: &Config) -> anyhow::Result<()> {
    if !config.database.exists() {
        return Ok(());
    }
    let store = Store::open(&config.database)?;
    let keys = crate::status::source_keys(config);
    let statuses = store.call_blocking(|connection| store::load_statuses(connection, &keys))?;
    for status in &statuses {
        if let Some(actual) = &status.state.redirect_url {
            outln!(
                "note: {}: {} is fetched from {actual} (a permanent redirect, or the feed an \
                 HTML page links to): update its url",
                status.state.name,
                status.state.url
            );
        }
        if status.state.gone {
            outln!(
                "note: {}: {} answered 410 Gone: remove the source or change its url",
                status.state.name,
                status.state.url
            );
        }
    }
    Ok(())
}

fn poll(config: &Config) -> anyhow::Result<Exit> {
    let store = Store::open(&config.database).with_context(|| {
        format!(
            "opening the database {}",
            crate::store::display_database(&config.database)
        )
    })?;
    store.set_dedupe_policy(config.dedupe_policy());
    let context = Context {
        config: std::sync::Arc::new(config.clone()),
        fetcher: Fetcher::new(&config.fetch)?,
        store,
        sites: Default::default(),
        stopping: Default::default(),
    };
    let progress = progress_bar(config.sources.len());
    let reports = runtime()?.block_on(pipeline::poll_all(&context, true, |report| {
        if let Some(bar) = &progress {
            bar.set_message(report.name.clone());
            bar.inc(1);
        }
    }));
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    print_poll_summary(&reports);
    warn_degraded_extraction(&context.store, config)?;
    if let Some(path) = &config.output.file {
        let snapshot = output::build_snapshot_blocking(&context.store, config)?;
        output::write_atomically(path, &snapshot.get(config.output.file_format).body)?;
    }
    Ok(Exit::Ok)
}

/// Names the sources whose recent article extractions mostly failed: a site that changed its
/// layout or started blocking us should be noticed, not silently published as summaries.
fn warn_degraded_extraction(store: &Store, config: &Config) -> anyhow::Result<()> {
    let keys = crate::status::source_keys(config);
    let statuses = store.call_blocking(|connection| store::load_statuses(connection, &keys))?;
    for status in statuses
        .iter()
        .filter(|status| status.extraction_degraded())
    {
        outln!(
            "warning: {}: {} of its last {} article pages could not be extracted; the feed's \
             text was published instead (check `tributary extract` on one of its pages)",
            status.state.name,
            status.recent_not_extracted,
            status.recent_extracted + status.recent_not_extracted
        );
    }
    Ok(())
}

fn progress_bar(length: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(length as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} sources  {msg}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

fn print_poll_summary(reports: &[SourceReport]) {
    let width = reports.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for report in reports {
        let (outcome, detail) = match &report.outcome {
            Outcome::Updated { merged, .. } => (
                "updated",
                if *merged > 0 {
                    format!("({merged} merged into stories from other sources)")
                } else {
                    String::new()
                },
            ),
            Outcome::NotModified => ("not-modified", String::new()),
            Outcome::Failed(error) => ("FAILED", format!("error: {error}")),
            Outcome::Skipped(why) => ("skipped", why.clone()),
        };
        let extraction = if report.extraction_failures > 0 {
            format!(
                " [{} article page(s) kept the feed's text]",
                report.extraction_failures
            )
        } else {
            String::new()
        };
        outln!(
            "{:<width$}  {:<12}  {:>3} new  {detail}{extraction}",
            report.name,
            outcome,
            report.new_entries()
        );
        for note in &report.notes {
            outln!("{:<width$}  note: {note}", "");
        }
    }
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| r.is_failure())
        .map(|r| r.name.as_str())
        .collect();
    let new: usize = reports.iter().map(SourceReport::new_entries).sum();
    if failed.is_empty() {
        outln!("{} sources polled, {new} new entries", reports.len());
    } else {
        outln!(
            "{} sources polled, {new} new entries, {} failed: {}",
            reports.len(),
            failed.len(),
            failed.join(", ")
        );
    }
}

fn export(
    config: &Config,
    format: OutputFormat,
    output: Option<PathBuf>,
    tag: Option<&str>,
) -> anyhow::Result<Exit> {
    if let Some(tag) = tag
        && !crate::site::all_tags(config)
            .iter()
            .any(|known| known == tag)
    {
        anyhow::bail!(
            "no source has the tag {tag:?} (topics: {})",
            crate::site::all_tags(config).join(", ")
        );
    }
    let store = Store::open(&config.database)?;
    let snapshot = output::build_snapshot_blocking(&store, config)?;
    let body = match tag {
        Some(tag) => {
            let extension = match format {
                OutputFormat::Atom => "atom",
                OutputFormat::Rss => "rss",
                OutputFormat::Json => "json",
            };
            &snapshot
                .page(&format!("/tags/{tag}.{extension}"))
                .context("the topic's feed was not rendered")?
                .body
        }
        None => &snapshot.get(format).body,
    };
    match output {
        Some(path) => output::write_atomically(&path, body)
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout_written(stdout.write_all(body).and_then(|()| stdout.flush()));
        }
    }
    Ok(Exit::Ok)
}

fn status(config: &Config, json: bool) -> anyhow::Result<Exit> {
    let store = Store::open(&config.database)?;
    let keys = crate::status::source_keys(config);
    let statuses = store.call_blocking(|connection| store::load_statuses(connection, &keys))?;
    let stats = store.call_blocking(store::database_stats)?;
    let alive = crate::fleet::alive_within(config);
    let instances = store.call_blocking(|connection| store::live_instances(connection, alive))?;
    if json {
        let mut json = crate::status::to_json(&statuses);
        json["database"] = crate::status::database_json(&config.database, &stats);
        json["instances"] = crate::status::instances_json(&instances);
        outln!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        outln!("{}", crate::status::database_line(&config.database, &stats));
        outln!("{}", crate::status::instances_line(&instances));
        outln!("{}", crate::status::to_table(&statuses));
    }
    Ok(Exit::Ok)
}

/// One pruning pass by hand (the daemon runs them on its own), beside a running daemon or not.
fn prune(config: &Config) -> anyhow::Result<Exit> {
    let store = Store::open(&config.database).with_context(|| {
        format!(
            "opening the database {}",
            crate::store::display_database(&config.database)
        )
    })?;
    let configured = config.source_names();
    let report =
        runtime()?.block_on(store.prune(&config.retention, &configured, chrono::Utc::now()))?;
    outln!(
        "pruned {} entries ({} stories deleted, the others still carried by another source), \
         forgot {} old tombstones and the polling state of {} sources no longer configured, \
         gave {} back to the file system; {} batches, the longest {} ms",
        report.entries,
        report.stories,
        report.tombstones,
        report.sources_forgotten,
        crate::status::human_bytes(report.bytes_freed),
        report.batches,
        report.longest_batch.as_millis()
    );
    let stats = store.call_blocking(store::database_stats)?;
    outln!("{}", crate::status::database_line(&config.database, &stats));
    Ok(Exit::Ok)
}

/// A consistent copy of the database, taken while the daemon may be writing.
fn backup(config: &Config, path: &Path) -> anyhow::Result<Exit> {
    if !crate::store::may_exist(&config.database) {
        bail!(
            "no database at {}",
            crate::store::display_database(&config.database)
        );
    }
    if let (Ok(source), Ok(target)) = (config.database.canonicalize(), path.canonicalize())
        && source == target
    {
        bail!("{} is the database itself", path.display());
    }
    let store = Store::open(&config.database).with_context(|| {
        format!(
            "opening the database {}",
            crate::store::display_database(&config.database)
        )
    })?;
    let report = store
        .call_blocking(|connection| store::backup_to(connection, path))
        .with_context(|| format!("backing up to {}", path.display()))?;
    outln!(
        "backed up {} to {}: {} pages, {}",
        crate::store::display_database(&config.database),
        report.path.display(),
        report.pages,
        crate::status::human_bytes(report.bytes)
    );
    Ok(Exit::Ok)
}

/// A page or feed named on the command line: a local file, or a URL fetched politely.
struct Input {
    bytes: Vec<u8>,
    content_type: Option<String>,
    url: url::Url,
}

fn read_input(config: &Option<Config>, target: &str, as_feed: bool) -> anyhow::Result<Input> {
    let path = Path::new(target);
    if path.exists() {
        let absolute = std::fs::canonicalize(path)?;
        return Ok(Input {
            bytes: std::fs::read(path).with_context(|| format!("reading {target}"))?,
            content_type: None,
            url: url::Url::from_file_path(&absolute)
                .map_err(|()| anyhow::anyhow!("cannot make a URL of {target}"))?,
        });
    }
    let url = url::Url::parse(target)
        .with_context(|| format!("{target} is neither an existing file nor a URL"))?;
    let settings = config.as_ref().map(|c| c.fetch.clone()).unwrap_or_default();
    let fetcher = Fetcher::new(&settings)?;
    let fetched = runtime()?.block_on(async {
        if as_feed {
            match fetcher
                .fetch_feed(&url, &Validators::default(), &settings)
                .await?
            {
                FeedResponse::Fetched(fetched) => Ok(fetched),
                FeedResponse::NotModified => Err(crate::fetch::FetchError::Network(
                    "unexpected 304 Not Modified".into(),
                )),
            }
        } else {
            fetcher.fetch_page(&url, &settings).await
        }
    })?;
    Ok(Input {
        bytes: fetched.body,
        content_type: fetched.content_type,
        url: fetched.final_url,
    })
}

fn extract_one(
    config: &Option<Config>,
    target: &str,
    selector: Option<String>,
) -> anyhow::Result<Exit> {
    let input = read_input(config, target, false)?;
    let video_hosts = config
        .as_ref()
        .map(|c| c.video_hosts.clone())
        .unwrap_or_default();
    let heuristics = ExtractOptions {
        video_hosts: video_hosts.clone(),
        ..ExtractOptions::default()
    };
    let source = config.as_ref().and_then(|c| {
        c.sources
            .iter()
            .find(|s| crate::dedupe::same_site(&s.url, &input.url))
    });
    let tuned = ExtractOptions {
        content_selector: selector.or_else(|| source.and_then(|s| s.content_selector.clone())),
        remove_selectors: source
            .map(|s| s.remove_selectors.clone())
            .unwrap_or_default(),
        video_hosts,
        site_pages: Vec::new(),
    };
    let with_overrides = tuned.content_selector.is_some() || !tuned.remove_selectors.is_empty();
    let content_type = input.content_type.as_deref();
    let result = extract::extract(&input.bytes, content_type, &input.url, &heuristics);
    print_article("heuristics", &result);
    if with_overrides {
        let tuned_result = extract::extract(&input.bytes, content_type, &input.url, &tuned);
        outln!();
        print_article("with overrides", &tuned_result);
        return Ok(if tuned_result.is_ok() {
            Exit::Ok
        } else {
            Exit::Failure
        });
    }
    Ok(if result.is_ok() {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

fn print_article(
    label: &str,
    result: &Result<crate::model::Article, crate::extract::ExtractError>,
) {
    outln!("== {label} ==");
    let article = match result {
        Ok(article) => article,
        Err(error) => {
            outln!("no article: {error}");
            return;
        }
    };
    let metadata = &article.metadata;
    let field = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            outln!("{name:<10} {value}");
        }
    };
    field("title:", article.title.clone());
    field("author:", metadata.author.clone());
    field("published:", metadata.published.map(|d| d.to_rfc3339()));
    field("modified:", metadata.modified.map(|d| d.to_rfc3339()));
    field("language:", metadata.language.clone());
    field("site:", metadata.site_name.clone());
    field("image:", metadata.image.clone());
    field("canonical:", metadata.canonical_url.clone());
    outln!("words:     {}\n", article.text.split_whitespace().count());
    outln!("{}", article.text);
}

fn extract_batch(config: &Option<Config>, in_dir: &Path, out_dir: &Path) -> anyhow::Result<Exit> {
    let options = ExtractOptions {
        video_hosts: config
            .as_ref()
            .map(|c| c.video_hosts.clone())
            .unwrap_or_default(),
        ..ExtractOptions::default()
    };
    let count = extract::batch(in_dir, out_dir, &options)
        .with_context(|| format!("extracting {} into {}", in_dir.display(), out_dir.display()))?;
    eprintln!("{count} pages extracted");
    Ok(Exit::Ok)
}

fn parse(config: &Option<Config>, target: &str, json: bool) -> anyhow::Result<Exit> {
    let input = read_input(config, target, true)?;
    let feed =
        match crate::parse::parse_feed(&input.bytes, input.content_type.as_deref(), &input.url) {
            Ok(feed) => feed,
            Err(error) => bail!("{target}: {error}"),
        };
    if json {
        outln!("{}", crate::parse::to_json(&feed));
        return Ok(Exit::Ok);
    }
    outln!("feed: {}", feed.title.as_deref().unwrap_or("(untitled)"));
    outln!("{} entries", feed.entries.len());
    for entry in &feed.entries {
        outln!(
            "- {}  {}\n  {}",
            entry
                .published
                .or(entry.updated)
                .map(|d| d.to_rfc3339())
                .unwrap_or_else(|| "(no date)".into()),
            entry.title.as_deref().unwrap_or("(untitled)"),
            entry.link.as_deref().unwrap_or("(no link)")
        );
    }
    Ok(Exit::Ok)
}

//! The typed configuration: loaded from TOML, validated, and passed down as `Arc<Config>`.
//!
//! `raw` mirrors the file; `validate` turns it into these types and reports every problem with
//! its file, line and key, so an admin fixes the whole file in one go.

mod dedupe;
mod duration;
pub mod edit;
mod fleet;
mod raw;
mod retention;
mod server;
pub mod topics;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use dedupe::DedupeSettings;
pub use duration::parse_duration;
pub use fleet::FleetSettings;
pub use retention::RetentionSettings;
pub use server::{IpNet, ServerSettings};
pub use topics::EntryFilter;
pub use validate::parse_cron;

/// One problem in a config file, located for the admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: PathBuf,
    /// 1-based line, when the problem can be located.
    pub line: Option<usize>,
    /// The key in dotted form (`sources[2].url`), when known.
    pub key: Option<String>,
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The config layer's error: the file could not be read, or it holds problems.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", format_problems(.0))]
    Invalid(Vec<ConfigProblem>),
    /// An edit (`import-opml`) would make the file invalid; it was not written.
    #[error("{path} left unchanged: the edited file would not be valid:\n{}", format_problems(.problems))]
    EditInvalid {
        path: PathBuf,
        problems: Vec<ConfigProblem>,
    },
}

fn format_problems(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The whole validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from (relative paths inside are taken as given, from the cwd).
    pub path: PathBuf,
    pub database: PathBuf,
    pub listen: String,
    pub default_schedule: String,
    /// Public base URL of the served feeds (for `rel="self"`); defaults to `http://{listen}`.
    pub public_url: String,
    pub fetch: FetchSettings,
    pub output: OutputSettings,
    /// `[server]`: connection caps and timeouts, read at start-up.
    pub server: ServerSettings,
    pub video_hosts: Vec<String>,
    pub retention: RetentionSettings,
    /// `[fleet]`: host leases of instances sharing a PostgreSQL store.
    pub fleet: FleetSettings,
    /// `[dedupe]`: the window, the threshold and the canonical-entry rule.
    pub dedupe: DedupeSettings,
    pub sources: Vec<Source>,
}

/// Global fetch settings; a source may override some of them (see [`Source`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FetchSettings {
    pub user_agent: String,
    pub allow_private_networks: bool,
    /// Total time for one request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Cap on a body, enforced while streaming and after decompression.
    pub max_body_bytes: u64,
    /// Requests in flight at once, all hosts together.
    pub max_concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host_concurrency: usize,
    /// Minimum time between the starts of two requests to the same host.
    pub per_host_delay: Duration,
    pub respect_robots: bool,
    /// Bounds within which caching headers, `<ttl>` and the adaptive interval move polling.
    pub min_interval: Duration,
    pub max_interval: Duration,
    /// Cap on the exponential backoff after repeated failures.
    pub max_backoff: Duration,
    /// Poll rarely-publishing feeds less often and busy ones more often.
    pub adaptive: bool,
    pub max_redirects: usize,
    /// Cap on entries taken from one feed pass (newest first).
    pub max_entries_per_pass: usize,
    /// Cap on article pages fetched in one pass of one source.
    pub max_articles_per_pass: usize,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            user_agent: default_user_agent(),
            allow_private_networks: false,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            max_concurrency: 16,
            per_host_concurrency: 1,
            per_host_delay: Duration::from_secs(1),
            respect_robots: true,
            min_interval: Duration::from_secs(5 * 60),
            max_interval: Duration::from_secs(24 * 3600),
            max_backoff: Duration::from_secs(24 * 3600),
            adaptive: false,
            max_redirects: 5,
            max_entries_per_pass: 200,
            max_articles_per_pass: 50,
        }
    }
}

/// The default User-Agent names tributary and its version.
pub fn default_user_agent() -> String {
    format!(
        "tributary/{} (+https://github.com/tributary-rss/tributary)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Output (merged feed) settings.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSettings {
    pub title: String,
    pub description: Option<String>,
    pub max_entries: usize,
    /// `run` writes the merged feed here (atomically) after every change, when set.
    pub file: Option<PathBuf>,
    pub file_format: OutputFormat,
    /// A WebSub hub (absolute http(s) URL): the merged feeds declare it (`rel="hub"`) and
    /// `run` sends it `hub.mode=publish` when they change.
    pub hub: Option<String>,
}

/// The three formats of the merged feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Atom,
    Rss,
    Json,
}

impl OutputFormat {
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "atom" => Some(OutputFormat::Atom),
            "rss" => Some(OutputFormat::Rss),
            "json" => Some(OutputFormat::Json),
            _ => None,
        }
    }
}

/// One configured source, with its per-source overrides already merged over the globals.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    pub url: url::Url,
    pub full_text: bool,
    /// `websub = true`: subscribe to the hub the feed advertises and take its pushes; polled
    /// only as a slow safety net while subscribed (`websub.rs`).
    pub websub: bool,
    /// Five-field cron expression (the source's own, or `default_schedule`).
    pub schedule: String,
    /// The line the source's table starts on, for messages.
    pub line: usize,
    pub fetch: FetchSettings,
    pub content_selector: Option<String>,
    pub remove_selectors: Vec<String>,
    /// Topics (`tags = [...]`): each has its own feeds and river page.
    pub tags: Vec<String>,
    /// Which entries enter the merged feeds (`include` / `exclude`); all are stored anyway.
    pub filter: EntryFilter,
    /// Whether its entries may be merged with other sources' (`dedupe = false`: never).
    pub dedupe: bool,
    /// Its weight for `[dedupe] canonical = "priority"` (`priority = N`, default 0).
    pub priority: i64,
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_str(&text, path)
    }

    /// Validates config text; `path` is only used to name the file in problems.
    pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        validate::validate(text, path).map_err(ConfigError::Invalid)
    }

    pub fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|source| source.name == name)
    }

    /// The configured sources' names (pruning forgets the polling state of the others).
    pub fn source_names(&self) -> Vec<String> {
        self.sources
            .iter()
            .map(|source| source.name.clone())
            .collect()
    }
}

/// The example config shipped in the repository, embedded so `run` works with no file at all.
pub const EXAMPLE_CONFIG: &str = include_str!("../../config/tributary.toml");

//! The serde mirror of `tributary.toml`: every key the file may hold, with its span for errors.
//!
//! Nothing is validated here beyond TOML types and unknown keys (`deny_unknown_fields`); values
//! that need checking are kept `Spanned` so `validate` can name the line they stand on.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub database: Option<Spanned<String>>,
    pub listen: Option<Spanned<String>>,
    pub default_schedule: Option<Spanned<String>>,
    /// The public URL the merged feed is served at, used for `rel="self"` links.
    pub public_url: Option<Spanned<String>>,
    #[serde(default)]
    pub fetch: RawFetch,
    #[serde(default)]
    pub extract: RawExtract,
    #[serde(default)]
    pub output: RawOutput,
    #[serde(default)]
    pub server: super::server::RawServer,
    #[serde(default)]
    pub retention: super::retention::RawRetention,
    #[serde(default)]
    pub fleet: super::fleet::RawFleet,
    #[serde(default)]
    pub dedupe: super::dedupe::RawDedupe,
    #[serde(default)]
    pub sources: Vec<Spanned<RawSource>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFetch {
    pub user_agent: Option<Spanned<String>>,
    pub allow_private_networks: Option<bool>,
    pub timeout: Option<Spanned<String>>,
    pub connect_timeout: Option<Spanned<String>>,
    pub max_body_bytes: Option<Spanned<i64>>,
    pub max_concurrency: Option<Spanned<i64>>,
    pub per_host_concurrency: Option<Spanned<i64>>,
    pub per_host_delay: Option<Spanned<String>>,
    pub respect_robots: Option<bool>,
    pub min_interval: Option<Spanned<String>>,
    pub max_interval: Option<Spanned<String>>,
    pub max_backoff: Option<Spanned<String>>,
    pub adaptive: Option<bool>,
    pub max_redirects: Option<Spanned<i64>>,
    pub max_entries_per_pass: Option<Spanned<i64>>,
    pub max_articles_per_pass: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExtract {
    /// Hosts whose `<iframe>` embeds (videos) are kept in extracted articles.
    pub video_hosts: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub max_entries: Option<Spanned<i64>>,
    /// Where `run` also writes the merged feed after each change (optional).
    pub file: Option<String>,
    pub file_format: Option<Spanned<String>>,
    /// A WebSub hub the merged feeds name and notify when they change (optional).
    pub hub: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    pub full_text: Option<bool>,
    /// Subscribe to the hub the feed advertises (WebSub); needs `public_url`.
    pub websub: Option<Spanned<bool>>,
    pub schedule: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub max_body_bytes: Option<Spanned<i64>>,
    pub allow_private_networks: Option<bool>,
    pub respect_robots: Option<bool>,
    pub min_interval: Option<Spanned<String>>,
    pub max_interval: Option<Spanned<String>>,
    pub adaptive: Option<bool>,
    pub user_agent: Option<Spanned<String>>,
    pub content_selector: Option<Spanned<String>>,
    pub remove_selectors: Option<Vec<Spanned<String>>>,
    /// Topics the source's entries belong to (`/tags/{tag}`); see `topics.rs`.
    pub tags: Option<Vec<Spanned<String>>>,
    /// Entry filters for the merged feeds; see `topics.rs` for the syntax.
    pub include: Option<Vec<Spanned<String>>>,
    pub exclude: Option<Vec<Spanned<String>>>,
    /// `false`: the source's entries are never merged with others (issue 10).
    pub dedupe: Option<bool>,
    /// For `[dedupe] canonical = "priority"`: the higher, the more its entry is shown.
    pub priority: Option<i64>,
}

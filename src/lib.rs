//! tributary: a feed aggregator daemon. Many feeds in, one clean merged feed out.
//!
//! # Layout
//! The modules follow the data:
//! `config` -> `schedule` -> `fetch` -> `parse` -> `extract` -> `dedupe` -> `store` ->
//! `output` (renders `publish`) -> `serve`.
//! `pipeline` alone knows the order of stages for one source's poll; `daemon` builds the parts
//! and owns start-up, reload and shutdown; `cli` maps subcommands onto them. `model` holds the
//! plain data passed between stages, `sanitize` the one HTML policy, `status` the admin's view
//! of per-source state, `metrics` the Prometheus registry, `notify` systemd's notify protocol,
//! `poll_log` what the daemon logs about polls, `opml` subscription lists in
//! and out, `site` which stories the river and topic pages and feeds show. See ARCHITECTURE.md for the invariants.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod daemon;
pub mod dedupe;
pub mod extract;
pub mod fetch;
pub mod fleet;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod opml;
pub mod output;
pub mod parse;
pub mod pipeline;
pub mod poll_log;
pub mod publish;
pub mod sanitize;
pub mod schedule;
pub mod serve;
pub mod site;
pub mod status;
pub mod store;
pub mod websub;

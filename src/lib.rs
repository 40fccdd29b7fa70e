//! tributary: a feed aggregator daemon.
//!
//! # Layout
//! The modules follow the data: `config` -> `schedule` -> `fetch` -> `parse` -> `extract` ->
//! `dedupe` -> `store` -> `publish` / `serve`. `pipeline` alone knows that order; `daemon` builds
//! the parts and owns start-up and shutdown; `cli` maps subcommands onto them.
#![forbid(unsafe_code)]

pub mod config;
pub mod dedupe;
pub mod extract;
pub mod fetch;
pub mod model;
pub mod parse;
pub mod publish;
pub mod sanitize;

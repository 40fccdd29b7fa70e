//! The integration tests: one binary, one module per area. Everything runs against loopback
//! servers started by the tests; nothing reaches the internet.

mod archive;
mod browser;
mod daemon;
mod dedupe;
mod dedupe_rules;
mod end_to_end;
mod extract;
mod fetch;
mod fidelity;
mod fleet;
mod full_text;
mod fuzz_regressions;
mod health;
mod opml;
mod parse;
mod politeness;
mod publish;
mod retention;
mod search;
mod serve_limits;
mod service;

mod store;
mod support;
/// The throw-away PostgreSQL cluster, shared with the library's unit tests (compiled into
/// neither the library nor the binary).
#[path = "../../src/store/test_cluster.rs"]
mod test_cluster;
mod topics;
mod websub;

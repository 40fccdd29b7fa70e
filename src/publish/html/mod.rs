//! Web pages for people, rendered beside the feed writers. Pure.

pub mod search;

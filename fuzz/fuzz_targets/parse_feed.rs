//! Fuzz target: feed bytes + a content type -> `parse::parse_feed` must return, never panic.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use tributary::parse::parse_feed;
use tributary_fuzz::{run_guarded, split_case};

fuzz_target!(|data: &[u8]| {
    let case = split_case(data);
    let feed_url = url::Url::parse("https://news.example.com/feeds/all.xml").unwrap();
    // Ok or Err are both fine. A panic escaping `parse_feed` is a crash; one it catches
    // itself (around feed-rs) is saved and reported, see `run_guarded`.
    run_guarded(data, || {
        let _ = parse_feed(case.body, case.content_type.as_deref(), &feed_url);
    });
});

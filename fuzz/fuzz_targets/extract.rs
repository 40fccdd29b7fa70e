//! Fuzz target: page bytes + a content type -> `extract::extract` must return, never panic.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use tributary::extract::{ExtractOptions, extract};
use tributary_fuzz::{run_guarded, split_case};

fuzz_target!(|data: &[u8]| {
    let case = split_case(data);
    let page_url = url::Url::parse("https://news.example.com/2024/05/article.html").unwrap();
    // Ok or Err are both fine; a panic, a hang or runaway memory is what libFuzzer reports.
    run_guarded(data, || {
        let _ = extract(
            case.body,
            case.content_type.as_deref(),
            &page_url,
            &ExtractOptions::default(),
        );
    });
});

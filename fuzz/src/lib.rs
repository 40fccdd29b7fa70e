//! Splits a fuzz input into the HTTP `Content-Type` a server could send and the body bytes.
//!
//! Input layout: the first byte picks a content type. Below `CONTENT_TYPES.len()` it indexes
//! the list of common and tricky values; otherwise the content type is the input's next line
//! (up to `\n`, at most 120 bytes, read lossily), so the fuzzer can also explore headers
//! nobody listed. Seeds are written with a leading `\0` (no header), see `run.sh`.
#![forbid(unsafe_code)]

/// Values seen in the wild, including wrong or contradictory charsets.
pub const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("text/html"),
    Some("text/html; charset=utf-8"),
    Some("text/html; charset=windows-1252"),
    Some("text/html; charset=iso-8859-1"),
    Some("text/html; charset=utf-16"),
    Some("text/html; charset=utf-16be"),
    Some("text/html; charset=shift_jis"),
    Some("text/html; charset=gb18030"),
    Some("text/html; charset=x-unknown-charset"),
    Some("application/xhtml+xml"),
    Some("application/rss+xml"),
    Some("application/rss+xml; charset=utf-8"),
    Some("application/atom+xml"),
    Some("application/xml; charset=iso-8859-1"),
    Some("text/xml"),
    Some("application/feed+json"),
    Some("application/json"),
    Some("text/plain"),
    Some("application/octet-stream"),
    Some("application/x-gzip"),
    Some(""),
    Some(";;charset=;"),
];

/// Longest free-form content type taken from the input.
const MAX_FREE_CONTENT_TYPE: usize = 120;

/// One fuzz case: the header (if any) and the body.
pub struct Case<'a> {
    pub content_type: Option<String>,
    pub body: &'a [u8],
}

/// Reads the content type and body out of raw fuzz bytes.
pub fn split_case(data: &[u8]) -> Case<'_> {
    let Some((&selector, rest)) = data.split_first() else {
        return Case {
            content_type: None,
            body: data,
        };
    };
    if let Some(listed) = CONTENT_TYPES.get(usize::from(selector)) {
        return Case {
            content_type: listed.map(str::to_owned),
            body: rest,
        };
    }
    let line_end = rest
        .iter()
        .take(MAX_FREE_CONTENT_TYPE)
        .position(|&byte| byte == b'\n')
        .unwrap_or(rest.len().min(MAX_FREE_CONTENT_TYPE));
    let (header, body) = rest.split_at(line_end);
    let body = body.strip_prefix(b"\n").unwrap_or(body);
    Case {
        content_type: Some(String::from_utf8_lossy(header).into_owned()),
        body,
    }
}

use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Mutex, Once};

thread_local! {
    /// Where the last panic of the current input happened, when one was caught inside, and
    /// whether that location is new in this run.
    static CAUGHT_PANIC: RefCell<Option<(String, bool)>> = const { RefCell::new(None) };
}

/// Panic locations already reported, so each is printed and saved once per run.
static REPORTED_LOCATIONS: Mutex<Option<HashSet<String>>> = Mutex::new(None);

static INSTALL_HOOK: Once = Once::new();

/// Runs one input through `stage` and tells apart the two kinds of panic.
///
/// A panic escaping `stage` reaches libFuzzer's own wrapper, which aborts: a crash, saved as
/// `crash-*`. A panic that `stage` catches itself (a `catch_unwind` around a third-party parser)
/// is handled by design, so by default it does not stop the run; its input is saved once per
/// panic location as `guarded-panic-*` in `$TRIBUTARY_FUZZ_GUARDED_DIR` and reported by
/// `run.sh`. With `TRIBUTARY_FUZZ_STRICT=1` it aborts like any other panic.
pub fn run_guarded(data: &[u8], stage: impl FnOnce()) {
    INSTALL_HOOK.call_once(install_recording_hook);
    CAUGHT_PANIC.with(|caught| caught.borrow_mut().take());
    stage();
    let Some((location, first_time)) = CAUGHT_PANIC.with(|caught| caught.borrow_mut().take())
    else {
        return;
    };
    if std::env::var_os("TRIBUTARY_FUZZ_STRICT").is_some_and(|value| value == "1") {
        eprintln!("guarded panic at {location} (TRIBUTARY_FUZZ_STRICT=1: treated as a crash)");
        std::process::abort();
    }
    if first_time {
        save_guarded_input(&location, data);
    }
}

/// Replaces libFuzzer's abort-on-panic hook by one that records the location and prints the
/// message (once per location); aborting on escaped panics stays with libFuzzer's wrapper.
fn install_recording_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|place| format!("{}:{}", place.file(), place.line()))
            .unwrap_or_else(|| "unknown location".to_owned());
        let first_time = first_report_of(&location);
        if first_time {
            default_hook(info);
        }
        CAUGHT_PANIC.with(|caught| *caught.borrow_mut() = Some((location, first_time)));
    }));
}

fn first_report_of(location: &str) -> bool {
    let mut reported = REPORTED_LOCATIONS
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    reported
        .get_or_insert_with(HashSet::new)
        .insert(location.to_owned())
}

/// Keeps one input per panic location (the first seen), so the owners can reproduce it.
fn save_guarded_input(location: &str, data: &[u8]) {
    let Some(directory) = std::env::var_os("TRIBUTARY_FUZZ_GUARDED_DIR") else {
        eprintln!("guarded panic at {location}");
        return;
    };
    let mut hasher = DefaultHasher::new();
    location.hash(&mut hasher);
    let path =
        std::path::Path::new(&directory).join(format!("guarded-panic-{:016x}", hasher.finish()));
    if path.exists() {
        return;
    }
    let _ = std::fs::create_dir_all(&directory);
    if std::fs::write(&path, data).is_ok() {
        eprintln!(
            "guarded panic at {location}: input saved to {}",
            path.display()
        );
    }
}

//! Shared by the fuzz targets: the input layout (`input`) and the panic bookkeeping that tells
//! a crash from a panic the stage under test catches itself (`run_guarded`).
#![forbid(unsafe_code)]

pub mod input;

pub use input::{CONTENT_TYPES, Case, split_case};

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
    // The first take returns libFuzzer's hook (print, then abort) and restores the standard
    // one; the second returns that standard hook, which only prints.
    drop(std::panic::take_hook());
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
    if !path.exists() {
        let _ = std::fs::create_dir_all(&directory);
        let _ = std::fs::write(&path, data);
    }
    eprintln!("guarded panic at {location}: input in {}", path.display());
}

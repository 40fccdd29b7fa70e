//! The `tributary` binary: everything happens in the library's `cli` module.
#![forbid(unsafe_code)]

/// jemalloc, with a background thread that returns freed pages to the system after a few
/// seconds: a daemon's poll touches tens of megabytes it frees again, and glibc's malloc kept
/// most of it for good (a daemon at 1.4-1.5x its idle RSS after its first poll, 1.16x with
/// this; measured in BENCHMARKS.md, Polling). Only the binary sets it, so the library and its
/// tests keep the platform's allocator. The `jemalloc` feature (default) turns it on.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    tributary::cli::main()
}

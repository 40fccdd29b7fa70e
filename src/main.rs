//! The `tributary` binary: everything happens in the library's `cli` module.
#![forbid(unsafe_code)]

/// mimalloc rather than glibc's malloc: a first poll of 1000 feeds left glibc's arenas holding
/// the heap it had used (106 MB idle after the poll, 27 MB before), while mimalloc gives freed
/// pages back; BENCHMARKS.md (polling) has the figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tributary::cli::main()
}

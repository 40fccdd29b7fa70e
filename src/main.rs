//! The `tributary` binary: everything happens in the library's `cli` module.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    tributary::cli::main()
}

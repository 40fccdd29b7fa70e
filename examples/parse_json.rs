//! `parse_json FILE`: prints `tributary::parse::to_json` of one feed file, or the error and exit 1.
//!
//! A stand-in for `tributary parse FILE --json` until that subcommand lands, used by
//! `bench/feeds.sh` and for poking at single files.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: parse_json FILE");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("cannot read {}: {error}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    // Relative links need an http(s) base to survive normalisation; a local file has none.
    let file_name = std::path::Path::new(&path)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let feed_url = url::Url::parse("http://localhost/")
        .and_then(|base| base.join(&file_name))
        .expect("static base URL");
    match tributary::parse::parse_feed(&bytes, None, &feed_url) {
        Ok(feed) => {
            println!("{}", tributary::parse::to_json(&feed));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}: {error}", path.to_string_lossy());
            ExitCode::FAILURE
        }
    }
}

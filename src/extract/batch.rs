//! Batch mode for benchmarks: every `IN/NAME.html` -> `OUT/NAME.txt` (the plain text).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{ExtractOptions, extract_text};

/// Extracts every `NAME.html` of `in_dir` into `out_dir/NAME.txt` and returns the page count.
///
/// A page that fails (unreadable, nothing credible, even a panic) gets an empty file and the
/// run goes on. `out_dir/timing.json` records the wall and CPU time of the loop itself, the
/// figure the scorer reports as pages per CPU-second.
pub fn batch(in_dir: &Path, out_dir: &Path, options: &ExtractOptions) -> std::io::Result<usize> {
    batch_with(in_dir, out_dir, |page| extract_file(page, options))
}

/// The batch loop with any page-to-text function (the benchmark's baselines use it too, so
/// every extractor is timed by the same loop).
pub fn batch_with(
    in_dir: &Path,
    out_dir: &Path,
    page_text: impl Fn(&Path) -> String,
) -> std::io::Result<usize> {
    std::fs::create_dir_all(out_dir)?;
    let mut pages: Vec<PathBuf> = std::fs::read_dir(in_dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "html")
        })
        .collect();
    pages.sort();
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    for page in &pages {
        let text = page_text(page);
        let name = page.file_stem().unwrap_or_default().to_string_lossy();
        std::fs::write(out_dir.join(format!("{name}.txt")), text)?;
    }
    let timing = format!(
        "{{\"seconds\": {:.4}, \"cpu_seconds\": {:.4}, \"pages\": {}}}\n",
        started.elapsed().as_secs_f64(),
        process_cpu_seconds() - cpu_before,
        pages.len()
    );
    std::fs::write(out_dir.join("timing.json"), timing)?;
    Ok(pages.len())
}

/// The article text of one page file, or "" when anything goes wrong.
fn extract_file(page: &Path, options: &ExtractOptions) -> String {
    let Ok(bytes) = std::fs::read(page) else {
        return String::new();
    };
    let page_url = url::Url::from_file_path(std::path::absolute(page).unwrap_or_default())
        .unwrap_or_else(|_| url::Url::parse("file:///page.html").expect("static URL"));
    std::panic::catch_unwind(|| extract_text(&bytes, None, &page_url, options))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
}

/// User + system CPU time of this process, from /proc (0 where that is unavailable).
fn process_cpu_seconds() -> f64 {
    const CLOCK_TICKS_PER_SECOND: f64 = 100.0;
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |position: usize| {
        fields
            .get(position)
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / CLOCK_TICKS_PER_SECOND
}

//! Benchmark driver: `extract_batch IN_DIR OUT_DIR` runs `tributary::extract::batch`;
//! `extract_batch --baseline IN_DIR OUT_DIR` writes the naive whole-`<body>` text instead.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tributary::extract::{ExtractOptions, batch, decode_html};

fn main() -> std::io::Result<()> {
    let mut arguments: Vec<String> = std::env::args().skip(1).collect();
    let baseline = arguments.first().is_some_and(|first| first == "--baseline");
    if baseline {
        arguments.remove(0);
    }
    let [in_dir, out_dir] = arguments.as_slice() else {
        eprintln!("usage: extract_batch [--baseline] IN_DIR OUT_DIR");
        std::process::exit(2);
    };
    let (in_dir, out_dir) = (Path::new(in_dir), Path::new(out_dir));
    let count = if baseline {
        body_text_batch(in_dir, out_dir)?
    } else {
        batch(in_dir, out_dir, &ExtractOptions::default())?
    };
    eprintln!("{count} pages");
    Ok(())
}

/// The baseline: every text node under `<body>`, one per line.
fn body_text_batch(in_dir: &Path, out_dir: &Path) -> std::io::Result<usize> {
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
    let body = scraper::Selector::parse("body").expect("static selector");
    for page in &pages {
        let html = decode_html(&std::fs::read(page)?, None);
        let document = scraper::Html::parse_document(&html);
        let text: Vec<&str> = document
            .select(&body)
            .flat_map(|element| element.text())
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .collect();
        let name = page.file_stem().unwrap_or_default().to_string_lossy();
        std::fs::write(out_dir.join(format!("{name}.txt")), text.join("\n"))?;
    }
    let timing = format!("{{\"seconds\": {:.4}}}\n", started.elapsed().as_secs_f64());
    std::fs::write(out_dir.join("timing.json"), timing)?;
    Ok(pages.len())
}

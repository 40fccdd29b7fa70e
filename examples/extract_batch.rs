//! Benchmark driver: `extract_batch IN_DIR OUT_DIR` runs `tributary::extract::batch`;
//! `extract_batch --baseline IN_DIR OUT_DIR` writes the naive whole-`<body>` text instead.

use std::path::Path;

use tributary::extract::{ExtractOptions, batch, batch_with, decode_html};

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
    let body = scraper::Selector::parse("body").expect("static selector");
    batch_with(in_dir, out_dir, |page| {
        let Ok(bytes) = std::fs::read(page) else {
            return String::new();
        };
        let document = scraper::Html::parse_document(&decode_html(&bytes, None));
        let text: Vec<&str> = document
            .select(&body)
            .flat_map(|element| element.text())
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .collect();
        text.join("\n")
    })
}

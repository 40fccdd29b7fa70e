//! Page HTML -> article: clean HTML, plain text and metadata. Pure: no IO.
//!
//! (Skeleton: the engine lands in this module; this interface is what the pipeline calls.)

use crate::model::Article;

/// Per-source tuning from the config.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// CSS selector of the article's container, when heuristics get the site wrong.
    pub content_selector: Option<String>,
    /// CSS selectors removed before extraction.
    pub remove_selectors: Vec<String>,
    /// Hosts whose iframes (videos) are kept.
    pub video_hosts: Vec<String>,
}

/// Why nothing credible came out of a page.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("not an HTML page")]
    NotHtml,
    #[error("no credible article text found")]
    NothingCredible,
}

/// Decodes page bytes as a browser would: HTTP charset, BOM, `<meta>`, else detection.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    let _ = content_type;
    String::from_utf8_lossy(bytes).into_owned()
}

/// Extracts the article from raw page bytes.
pub fn extract(
    bytes: &[u8],
    content_type: Option<&str>,
    page_url: &url::Url,
    options: &ExtractOptions,
) -> Result<Article, ExtractError> {
    let html = decode_html(bytes, content_type);
    extract_html(&html, page_url, options)
}

/// Extracts the article from decoded HTML.
pub fn extract_html(
    html: &str,
    page_url: &url::Url,
    options: &ExtractOptions,
) -> Result<Article, ExtractError> {
    let _ = (page_url, options);
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("p").expect("static selector");
    let paragraphs: Vec<String> = document
        .select(&selector)
        .map(|p| p.text().collect::<String>().trim().to_string())
        .filter(|text| !text.is_empty())
        .collect();
    if paragraphs.is_empty() {
        return Err(ExtractError::NothingCredible);
    }
    Ok(Article {
        title: None,
        content_html: paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect(),
        text: paragraphs.join("\n\n"),
        metadata: Default::default(),
    })
}

/// Extracts every `IN/NAME.html` into `OUT/NAME.txt` (plain text); a page that fails gives an
/// empty file. Returns the number of pages.
pub fn batch(
    in_dir: &std::path::Path,
    out_dir: &std::path::Path,
    options: &ExtractOptions,
) -> std::io::Result<usize> {
    std::fs::create_dir_all(out_dir)?;
    let mut count = 0;
    for entry in std::fs::read_dir(in_dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("html") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let url = url::Url::parse("http://localhost/").expect("static url");
        let text = extract(&bytes, None, &url, options)
            .map(|article| article.text)
            .unwrap_or_default();
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        std::fs::write(out_dir.join(format!("{name}.txt")), text)?;
        count += 1;
    }
    Ok(count)
}

//! What the admin is told: extraction health, per-pass caps, refused private addresses.

use crate::end_to_end::newsroom_config;
use crate::support::{Page, Site, run_tributary, stdout};

fn feed_with_pages(site: &Site, count: usize) -> Vec<u8> {
    let items: String = (0..count)
        .map(|index| {
            format!(
                "<item><title>Story {index}</title><link>{base}/story/{index}</link>\
                 <guid>story-{index}</guid><pubDate>Tue, 24 Nov 2026 0{index}:00:00 GMT</pubDate>\
                 <description>The feed's own summary of story {index}.</description></item>",
                base = site.base()
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Site</title>\
         <link>{}/</link><description>d</description>{items}</channel></rss>",
        site.base()
    )
    .into_bytes()
}

fn setup(site: &Site, extra_fetch: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("tributary.toml");
    let text = newsroom_config(
        crate::support::free_port(),
        &[("site", format!("{}/feed.xml", site.base()))],
    )
    .replace("[fetch]\n", &format!("[fetch]\n{extra_fetch}"));
    std::fs::write(&config, text).unwrap();
    (folder, config)
}

#[test]
fn a_source_whose_pages_cannot_be_extracted_is_flagged() {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed_with_pages(&site, 4)),
    );
    // Every article page is gone: entries keep the feed's summary, and the source is flagged.
    let (folder, config) = setup(&site, "");
    let output = stdout(&run_tributary(folder.path(), &config, &["poll"]));
    assert!(
        output.contains("4 article page(s) kept the feed's text"),
        "{output}"
    );
    assert!(output.contains("warning: site:"), "{output}");
    let table = stdout(&run_tributary(folder.path(), &config, &["status"]));
    assert!(table.contains("extraction failing (4/4 recent)"), "{table}");
    let status = stdout(&run_tributary(
        folder.path(),
        &config,
        &["status", "--json"],
    ));
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["sources"][0]["extraction"]["degraded"], true);
    let json = stdout(&run_tributary(
        folder.path(),
        &config,
        &["export", "--format", "json"],
    ));
    assert!(
        json.contains("The feed's own summary of story 2."),
        "{json}"
    );
}

#[test]
fn article_fetches_per_pass_are_capped_and_the_rest_wait() {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed_with_pages(&site, 5)),
    );
    let (folder, config) = setup(&site, "max_articles_per_pass = 2\n");
    let first = stdout(&run_tributary(folder.path(), &config, &["poll"]));
    assert!(first.contains("  2 new"), "{first}");
    assert!(
        first.contains("3 entries left for the next pass"),
        "{first}"
    );
    let second = stdout(&run_tributary(folder.path(), &config, &["poll"]));
    assert!(
        second.contains("  2 new"),
        "the validators were dropped, so the feed is read again: {second}"
    );
    let third = stdout(&run_tributary(folder.path(), &config, &["poll"]));
    assert!(third.contains("  1 new"), "{third}");
    let pages = site
        .log()
        .iter()
        .filter(|r| r.path.starts_with("/story/"))
        .count();
    assert_eq!(pages, 5, "each page fetched exactly once");
}

#[test]
fn a_private_address_is_refused_unless_allowed() {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed_with_pages(&site, 1)),
    );
    let (folder, config) = setup(&site, "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "allow_private_networks = true",
        "allow_private_networks = false",
    );
    std::fs::write(&config, text).unwrap();
    let output = stdout(&run_tributary(folder.path(), &config, &["poll"]));
    assert!(output.contains("FAILED"), "{output}");
    assert!(output.contains("private"), "{output}");
    assert!(
        site.log().is_empty(),
        "no request reached the private address"
    );
}

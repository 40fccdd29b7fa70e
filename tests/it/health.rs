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

const TUNED_PAGE: &str = "<!doctype html><html lang=\"en\"><head><title>Harbour works</title></head><body>\
<div class=\"story\"><h1>Harbour works begin</h1>\
<p>Work on the new harbour wall began on Monday after two years of delays and a long public inquiry into its cost.</p>\
<p class=\"house-note\">This story is part of our coastal towns series, published every Monday morning.</p>\
<p>The council expects the wall to protect more than four hundred homes from winter storms once it is finished next year.</p>\
<p>Fishermen welcomed the start of the works but asked for the old slipway to be kept open during construction.</p>\
</div></body></html>";

#[test]
fn remove_selectors_apply_to_the_sources_own_pages() {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed_with_pages(&site, 1)),
    );
    site.set("/story/0", Page::ok("text/html", TUNED_PAGE));
    let (folder, config) = setup(&site, "");
    let text = std::fs::read_to_string(&config).unwrap() + "remove_selectors = [\".house-note\"]\n";
    std::fs::write(&config, text).unwrap();
    assert!(
        run_tributary(folder.path(), &config, &["poll"])
            .status
            .success()
    );
    let json = stdout(&run_tributary(
        folder.path(),
        &config,
        &["export", "--format", "json"],
    ));
    assert!(json.contains("four hundred homes"), "{json}");
    assert!(!json.contains("coastal towns series"), "{json}");
}

#[test]
fn extract_shows_the_page_with_and_without_a_selector() {
    let folder = tempfile::tempdir().unwrap();
    let page = folder.path().join("page.html");
    std::fs::write(&page, TUNED_PAGE).unwrap();
    let output = crate::support::tributary()
        .current_dir(folder.path())
        .args([
            "extract",
            page.to_str().unwrap(),
            "--selector",
            "p.house-note",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        crate::support::stderr(&output)
    );
    let shown = stdout(&output);
    let (heuristics, tuned) = shown
        .split_once("== with overrides ==")
        .expect("both results");
    assert!(heuristics.contains("four hundred homes"), "{shown}");
    // The heuristics keep the house note (so the remove_selectors test above is meaningful).
    assert!(heuristics.contains("coastal towns series"), "{shown}");
    assert!(tuned.contains("coastal towns series"), "{shown}");
    assert!(!tuned.contains("four hundred homes"), "{shown}");
}

#[test]
fn an_html_page_configured_as_a_feed_is_followed_to_its_feed_and_reported() {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed_with_pages(&site, 2)),
    );
    let home = "<!doctype html><html><head><title>Home</title>\
        <link rel=\"alternate\" type=\"application/rss+xml\" title=\"All stories\" href=\"/feed.xml\">\
        </head><body><p>Welcome</p></body></html>";
    site.set("/", Page::ok("text/html", home));
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("tributary.toml");
    let text = newsroom_config(
        crate::support::free_port(),
        &[("home", format!("{}/", site.base()))],
    )
    .replace("url = ", "full_text = false\nurl = ");
    std::fs::write(&config, text).unwrap();
    let output = stdout(&run_tributary(folder.path(), &config, &["poll"]));
    assert!(output.contains("  2 new"), "{output}");
    assert!(
        output.contains("is an HTML page; it links to the feed"),
        "{output}"
    );
    let check = stdout(&run_tributary(folder.path(), &config, &["check"]));
    assert!(
        check.contains(&format!("is fetched from {}/feed.xml", site.base())),
        "{check}"
    );
    site.clear_log();
    let again = stdout(&run_tributary(folder.path(), &config, &["poll"]));
    assert!(again.contains("not-modified"), "{again}");
    assert!(
        site.requests_to("/").is_empty(),
        "the feed itself is polled now"
    );
    let parse = crate::support::run_tributary(
        folder.path(),
        &config,
        &["parse", &format!("{}/", site.base())],
    );
    assert!(!parse.status.success());
    assert!(
        crate::support::stderr(&parse).contains("/feed.xml"),
        "parse names the advertised feed: {}",
        crate::support::stderr(&parse)
    );
}

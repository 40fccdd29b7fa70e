//! OPML: `import-opml` into a commented config (files from newsboat and hand-written ones),
//! `export-opml`, the round trip between them, and `GET /opml` from the running daemon.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::http_get;
use crate::support::{Page, Site, fixture, fixtures, run_tributary, stderr, stdout, tributary};

/// A temporary folder holding the commented config fixture.
struct Folder {
    folder: tempfile::TempDir,
    config: PathBuf,
    original: Vec<u8>,
}

impl Folder {
    fn with_commented_config() -> Folder {
        let folder = tempfile::tempdir().unwrap();
        let config = folder.path().join("tributary.toml");
        let original = fixture("opml/commented.toml", &[("PORT", "8080".into())]);
        std::fs::write(&config, &original).unwrap();
        Folder {
            folder,
            config,
            original,
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        run_tributary(self.folder.path(), &self.config, args)
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.folder.path().join(name)
    }
}

/// (name, url) of every source in a config file, URLs in the `url` crate's spelling.
fn sources_of(text: &str) -> Vec<(String, String)> {
    let value: toml::Table = toml::from_str(text).unwrap();
    value
        .get("sources")
        .and_then(|sources| sources.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|source| {
            let url = source["url"].as_str().unwrap();
            (
                source["name"].as_str().unwrap().to_string(),
                url::Url::parse(url).unwrap().to_string(),
            )
        })
        .collect()
}

/// Asserts the import kept the original file as its prefix and still passes `check`.
fn assert_comments_kept_and_valid(folder: &Folder, sources: usize) {
    let text = folder.text();
    assert!(
        text.as_bytes().starts_with(&folder.original),
        "the original text, comments included, must be unchanged:\n{text}"
    );
    let check = folder.run(&["check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(
        stdout(&check).contains(&format!("ok ({sources} sources")),
        "{}",
        stdout(&check)
    );
}

/// Runs newsboat on a throwaway urls file, cache and home, and returns its `-e` export.
fn newsboat_export(folder: &Path, urls: &str) -> Vec<u8> {
    std::fs::write(folder.join("urls"), urls).unwrap();
    std::fs::write(folder.join("newsboat-config"), "").unwrap();
    let output = Command::new("newsboat")
        .current_dir(folder)
        .args([
            "-u",
            "urls",
            "-c",
            "cache.db",
            "-C",
            "newsboat-config",
            "-e",
        ])
        .env("HOME", folder)
        .env("XDG_CONFIG_HOME", folder.join(".config"))
        .env("XDG_DATA_HOME", folder.join(".local/share"))
        .stdin(Stdio::null())
        .output()
        .expect("newsboat must be installed (scripts/test.sh installs it)");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("<opml"), "{}", stdout(&output));
    output.stdout
}

#[test]
fn a_newsboat_export_is_imported_keeping_comments_and_passes_check() {
    let folder = Folder::with_commented_config();
    let export = newsboat_export(
        folder.folder.path(),
        "https://lwn.net/headlines/rss\n\
         http://site-a.example/feed.xml \"~Site A News\" world\n\
         https://www.site-b.example/atom?x=1&y=2 tech\n",
    );
    let opml = folder.path("newsboat.opml");
    std::fs::write(&opml, export).unwrap();
    let import = folder.run(&["import-opml", opml.to_str().unwrap()]);
    let report = stdout(&import);
    assert!(import.status.success(), "{}{}", report, stderr(&import));
    let added = |name: &str, url: &str| {
        report
            .lines()
            .any(|line| line.starts_with("added ") && line.contains(name) && line.ends_with(url))
    };
    assert!(
        added("site-a-news", "http://site-a.example/feed.xml"),
        "{report}"
    );
    assert!(
        added("site-b.example", "https://www.site-b.example/atom?x=1&y=2"),
        "{report}"
    );
    assert!(
        report.contains("skipped  https://lwn.net/headlines/rss: already listed as source \"lwn\""),
        "{report}"
    );
    assert!(report.contains("2 added, 1 skipped"), "{report}");
    assert_comments_kept_and_valid(&folder, 4);
    let sources = sources_of(&folder.text());
    assert_eq!(
        sources[3],
        (
            "site-b.example".to_string(),
            "https://www.site-b.example/atom?x=1&y=2".to_string()
        )
    );
}

#[test]
fn nested_categories_odd_cases_entities_and_duplicates() {
    let folder = Folder::with_commented_config();
    let opml = fixtures().join("opml/mixed.opml");
    let import = folder.run(&["import-opml", opml.to_str().unwrap()]);
    let report = stdout(&import);
    assert!(import.status.success(), "{}{}", report, stderr(&import));
    let added: Vec<&str> = report
        .lines()
        .filter_map(|line| line.strip_prefix("added    "))
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        added,
        [
            "this-week-in-rust",
            "rust-blog",
            "café-société",
            "quiet.example"
        ]
    );
    for reason in [
        "https://lwn.net/headlines/rss (LWN.net): already listed as source \"lwn\"",
        "(Le Monde (again)): already listed as source \"le-monde\"",
        "(Rust Blog, listed twice): listed earlier in the file (added as \"rust-blog\")",
        "gopher://old.example/1/feed (Gopher hole): not an http(s) feed URL",
    ] {
        assert!(report.contains(reason), "{reason:?} in\n{report}");
    }
    assert!(report.contains("4 added, 4 skipped"), "{report}");
    assert_comments_kept_and_valid(&folder, 6);
    let text = folder.text();
    assert!(
        text.contains("# OPML category: Tech / Rust\n[[sources]]\nname = \"this-week-in-rust\"")
    );
    assert!(
        text.contains("# OPML category: Presse française\n"),
        "{text}"
    );
    assert!(text.contains("url = \"https://cafe.example/rss?format=xml&lang=fr\""));
}

#[test]
fn a_file_that_is_not_opml_is_refused_and_the_toml_is_untouched() {
    let folder = Folder::with_commented_config();
    let page = folder.path("page.html");
    std::fs::write(
        &page,
        "<!doctype html><html><body>Subscriptions</body></html>",
    )
    .unwrap();
    let urls = folder.path("urls.txt");
    std::fs::write(&urls, "https://a.example/feed\nhttps://b.example/rss\n").unwrap();
    let feed = fixtures().join("opml/not-opml.rss");
    let cases = [
        (feed, "its root element is <rss>"),
        (page, "its root element is <html>"),
        (urls, "does not start with XML"),
        (folder.path("missing.opml"), "reading"),
    ];
    for (file, expected) in cases {
        let import = folder.run(&["import-opml", file.to_str().unwrap()]);
        assert_eq!(import.status.code(), Some(1), "{}", stderr(&import));
        assert!(stderr(&import).contains(expected), "{}", stderr(&import));
        assert!(
            stderr(&import).contains(file.file_name().unwrap().to_str().unwrap()),
            "the error names the file: {}",
            stderr(&import)
        );
        assert_eq!(
            std::fs::read(&folder.config).unwrap(),
            folder.original,
            "byte for byte"
        );
    }
}

#[test]
fn an_invalid_config_is_reported_and_left_untouched() {
    let folder = Folder::with_commented_config();
    let broken = b"[[sources]]\nname = \"a\"\nurl = \"not a url\"\n";
    std::fs::write(&folder.config, broken).unwrap();
    let opml = fixtures().join("opml/mixed.opml");
    let import = folder.run(&["import-opml", opml.to_str().unwrap()]);
    assert_eq!(import.status.code(), Some(2), "{}", stderr(&import));
    assert!(
        stderr(&import).contains(":3: sources[0].url"),
        "{}",
        stderr(&import)
    );
    assert_eq!(std::fs::read(&folder.config).unwrap(), broken);
}

#[test]
fn dry_run_reports_and_writes_nothing() {
    let folder = Folder::with_commented_config();
    let opml = fixtures().join("opml/mixed.opml");
    let import = folder.run(&["import-opml", opml.to_str().unwrap(), "--dry-run"]);
    assert!(import.status.success(), "{}", stderr(&import));
    assert!(stdout(&import).contains("4 added, 4 skipped; dry run"));
    assert_eq!(std::fs::read(&folder.config).unwrap(), folder.original);
    let leftovers = std::fs::read_dir(folder.folder.path()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file either");
}

#[test]
fn export_then_import_into_an_empty_config_gives_the_same_sources() {
    let folder = Folder::with_commented_config();
    let extra = "\n[[sources]]\nname = \"accents\"\nurl = \"https://exemple.fr/flux/actualités.xml?a=1&b=2\"\n\
                 \n[[sources]]\nname = \"bare-host\"\nurl = \"https://bare.example\"\n";
    let mut text = String::from_utf8(folder.original.clone()).unwrap();
    text.push_str(extra);
    std::fs::write(&folder.config, &text).unwrap();
    let export = folder.run(&["export-opml"]);
    assert!(export.status.success(), "{}", stderr(&export));
    let opml = stdout(&export);
    assert!(opml.contains("<opml version=\"2.0\">"), "{opml}");
    assert!(opml.contains("<title>Revue de presse</title>"), "{opml}");
    assert_eq!(crate::support::count(&opml, "type=\"rss\""), 4, "{opml}");
    std::fs::write(folder.path("export.opml"), &opml).unwrap();

    let empty = folder.path("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let import = run_tributary(
        folder.folder.path(),
        &empty,
        &["import-opml", "export.opml"],
    );
    assert!(import.status.success(), "{}", stderr(&import));
    let imported = std::fs::read_to_string(&empty).unwrap();
    assert_eq!(sources_of(&imported), sources_of(&text), "{imported}");
    let check = run_tributary(folder.folder.path(), &empty, &["check"]);
    assert!(check.status.success(), "{}", stderr(&check));
}

#[test]
fn the_daemon_serves_opml_with_site_links_learned_from_the_feed() {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok(
            "application/rss+xml",
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Site</title>\
                 <link>{}/home</link><description>d</description></channel></rss>",
                site.base()
            ),
        ),
    );
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("tributary.toml");
    let port = crate::support::free_port();
    let sources = [("site & co", format!("{}/feed.xml", site.base()))];
    std::fs::write(
        &config,
        crate::end_to_end::newsroom_config(port, &[(sources[0].0, sources[0].1.clone())]),
    )
    .unwrap();
    let mut child = tributary()
        .current_dir(folder.path())
        .arg("--config")
        .arg(&config)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let site_link = format!("htmlUrl=\"{}/home\"", site.base());
    let start = Instant::now();
    let (headers, body) = loop {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            drop(stream);
            let (status, headers, body) = http_get(port, "/opml", &[]);
            assert_eq!(status, 200);
            if String::from_utf8_lossy(&body).contains(&site_link) {
                break (headers, body);
            }
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("no OPML with the site link within 20 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    let content_type = headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, value)| value.as_str());
    assert_eq!(content_type, Some("text/x-opml; charset=utf-8"));
    let subscriptions = tributary::opml::parse(&body).unwrap();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0].title.as_deref(), Some("site & co"));
    assert_eq!(subscriptions[0].xml_url, sources[0].1);
}

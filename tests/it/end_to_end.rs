//! The whole path, as a new user would try it: five loopback sites (an RSS 2.0 site in UTF-8,
//! an Atom site linking the first site's main story with other tracking parameters, an RSS site
//! in ISO-8859-1 republishing that story's wire text under its own URL, title and layout, a
//! malformed feed, and a feed answering 500), driven through the real binary.

use std::path::{Path, PathBuf};

use crate::support::{Page, Site, count, fixture, free_port, run_tributary, stderr, stdout};

/// The five sites and a folder holding the config and database.
pub struct Newsroom {
    pub quotidien: Site,
    pub wire: Site,
    pub courrier: Site,
    pub broken: Site,
    pub down: Site,
    pub folder: tempfile::TempDir,
    pub config: PathBuf,
    pub port: u16,
}

impl Newsroom {
    /// The newsroom on SQLite (the config's default database).
    pub fn start() -> Newsroom {
        Newsroom::start_on(None)
    }

    /// The newsroom on a fresh database of the test PostgreSQL cluster.
    pub fn start_postgres() -> Newsroom {
        Newsroom::start_on(Some(crate::test_cluster::fresh_database()))
    }

    /// `database`: a URL replacing the config's SQLite file.
    pub fn start_on(database: Option<String>) -> Newsroom {
        let (quotidien, wire, courrier) = (Site::start(), Site::start(), Site::start());
        let (broken, down) = (Site::start(), Site::start());
        let names = [
            ("QUOTIDIEN", quotidien.base()),
            ("WIRE", wire.base()),
            ("COURRIER", courrier.base()),
        ];
        let rss = "application/rss+xml; charset=utf-8";
        let html = "text/html; charset=utf-8";
        quotidien.set(
            "/feed.xml",
            Page::ok(rss, fixture("sites/quotidien/feed.xml", &names)),
        );
        quotidien.set(
            "/economie/article/secheresse-sud-ouest.html",
            Page::ok(html, fixture("sites/quotidien/secheresse.html", &names)),
        );
        quotidien.set(
            "/politique/article/municipales-lyon.html",
            Page::ok(html, fixture("sites/quotidien/municipales.html", &names)),
        );
        wire.set(
            "/atom.xml",
            Page::ok(
                "application/atom+xml",
                fixture("sites/wire/atom.xml", &names),
            ),
        );
        wire.set(
            "/2026/11/24/ocean-heatwave",
            Page::ok(html, fixture("sites/wire/ocean.html", &names)),
        );
        // The ISO-8859-1 site declares its charset only inside the documents.
        courrier.set(
            "/feed.xml",
            Page::ok("text/xml", fixture("sites/courrier/feed.xml", &names)),
        );
        courrier.set(
            "/region/2026/11/24/agriculteurs-aides-secheresse",
            Page::ok(
                "text/html",
                fixture("sites/courrier/agriculteurs.html", &names),
            ),
        );
        broken.set(
            "/feed.xml",
            Page::ok(rss, fixture("sites/broken/feed.xml", &names)),
        );
        down.set("/feed.xml", Page::status(500));
        let folder = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = folder.path().join("tributary.toml");
        std::fs::write(
            &config,
            newsroom_config(
                port,
                &[
                    ("quotidien", format!("{}/feed.xml", quotidien.base())),
                    ("wire", format!("{}/atom.xml", wire.base())),
                    ("courrier", format!("{}/feed.xml", courrier.base())),
                    ("casse", format!("{}/feed.xml", broken.base())),
                    ("en-panne", format!("{}/feed.xml", down.base())),
                ],
            ),
        )
        .unwrap();
        if let Some(url) = database {
            let text = std::fs::read_to_string(&config).unwrap();
            let text = text.replace("\"data/tributary.db\"", &format!("\"{url}\""));
            std::fs::write(&config, text).unwrap();
        }
        Newsroom {
            quotidien,
            wire,
            courrier,
            broken,
            down,
            folder,
            config,
            port,
        }
    }

    pub fn sites(&self) -> [&Site; 5] {
        [
            &self.quotidien,
            &self.wire,
            &self.courrier,
            &self.broken,
            &self.down,
        ]
    }

    pub fn tributary(&self, args: &[&str]) -> std::process::Output {
        run_tributary(self.folder.path(), &self.config, args)
    }

    pub fn export(&self, format: &str) -> String {
        let output = self.tributary(&["export", "--format", format]);
        assert!(
            output.status.success(),
            "export failed: {}",
            stderr(&output)
        );
        stdout(&output)
    }

    /// Every article page the sites served (not feeds, not robots.txt).
    pub fn article_requests(&self) -> usize {
        self.sites()
            .iter()
            .flat_map(|site| site.log())
            .filter(|l| !l.path.ends_with(".xml") && l.path != "/robots.txt")
            .count()
    }
}

pub fn newsroom_config(port: u16, sources: &[(&str, String)]) -> String {
    let mut config = format!(
        "database = \"data/tributary.db\"\nlisten = \"127.0.0.1:{port}\"\n\
         default_schedule = \"*/15 * * * *\"\n\n[fetch]\nallow_private_networks = true\n\
         per_host_delay = \"5ms\"\ntimeout = \"5s\"\n\n[output]\ntitle = \"Revue de presse\"\n\
         max_entries = 200\n"
    );
    for (name, url) in sources {
        config.push_str(&format!(
            "\n[[sources]]\nname = \"{name}\"\nurl = \"{url}\"\n"
        ));
    }
    config
}

fn items(json_feed: &str) -> Vec<serde_json::Value> {
    let feed: serde_json::Value = serde_json::from_str(json_feed).expect("JSON Feed parses");
    feed["items"].as_array().expect("items").clone()
}

fn content_of(item: &serde_json::Value) -> String {
    item["content_html"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The one item whose content contains `needle` (panics if none or several).
fn only_item_with<'a>(items: &'a [serde_json::Value], needle: &str) -> &'a serde_json::Value {
    let found: Vec<&serde_json::Value> = items
        .iter()
        .filter(|item| content_of(item).contains(needle))
        .collect();
    assert_eq!(found.len(), 1, "exactly one item should contain {needle:?}");
    found[0]
}

#[test]
fn check_passes_on_the_newsroom_config() {
    let newsroom = Newsroom::start();
    let output = newsroom.tributary(&["check"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("5 sources"));
}

#[test]
fn poll_stores_every_story_once_clean_and_names_broken_sources() {
    poll_stores_every_story_once_clean_and_names_broken_sources_on(Newsroom::start());
}

#[test]
fn poll_stores_every_story_once_clean_and_names_broken_sources_on_postgres() {
    poll_stores_every_story_once_clean_and_names_broken_sources_on(Newsroom::start_postgres());
}

fn poll_stores_every_story_once_clean_and_names_broken_sources_on(newsroom: Newsroom) {
    let output = newsroom.tributary(&["poll"]);
    assert!(output.status.success(), "poll: {}", stderr(&output));
    let summary = stdout(&output);
    let failed_line = summary.lines().last().unwrap();
    assert!(failed_line.contains("2 failed"), "{summary}");
    assert!(
        failed_line.contains("casse") && failed_line.contains("en-panne"),
        "{summary}"
    );
    assert!(summary.contains("HTTP 500"), "{summary}");

    let json = newsroom.export("json");
    let items = items(&json);
    assert_eq!(items.len(), 4, "four distinct stories: {json}");

    let shared = only_item_with(&items, "Bernard Lacoste");
    let text = content_of(shared);
    assert_eq!(
        count(&text, "Après trois mois presque sans pluie"),
        1,
        "{text}"
    );
    assert_eq!(count(&text, "retenues collinaires"), 1, "{text}");
    for furniture in [
        "Autres articles",
        "Le prix du lait",
        "Jeannot47",
        "Partager sur Facebook",
        "Mentions légales",
        "newsletter",
        "Petites annonces",
        "tracteur",
    ] {
        assert!(
            !text.contains(furniture),
            "{furniture:?} leaked into {text}"
        );
    }
    let shared_json = shared.to_string();
    for site in ["quotidien", "wire", "courrier"] {
        assert!(
            shared_json.contains(site),
            "the shared story names {site}: {shared_json}"
        );
    }

    let ocean = content_of(only_item_with(&items, "Sea surface temperatures"));
    assert!(ocean.contains("We have never seen a heatwave"), "{ocean}");
    assert!(
        ocean.contains("Nine months of record temperatures"),
        "list kept: {ocean}"
    );
    for furniture in [
        "We use cookies",
        "Most popular",
        "Share on Facebook",
        "All rights reserved",
    ] {
        assert!(
            !ocean.contains(furniture),
            "{furniture:?} leaked into {ocean}"
        );
    }
    let lyon = content_of(only_item_with(&items, "Les six listes candidates"));
    assert!(
        lyon.contains("Une participation attendue en hausse"),
        "heading kept: {lyon}"
    );
    assert!(!lyon.contains("Les plus lus"), "{lyon}");

    // The Courrier's second entry has no page any more: it keeps its feed summary, decoded
    // from ISO-8859-1.
    let fete = only_item_with(&items, "Saint-Martin aura lieu samedi");
    assert!(content_of(fete).contains("fête d'hiver"), "{fete}");
    assert_eq!(fete["title"], "Saint-Martin prépare sa fête d'hiver");

    for site in newsroom.sites() {
        for request in site.log() {
            let agent = request.user_agent.clone().unwrap_or_default();
            assert!(agent.starts_with("tributary/"), "{request:?}");
        }
    }
}

#[test]
fn a_second_poll_is_conditional_fetches_no_page_and_adds_nothing() {
    a_second_poll_is_conditional_fetches_no_page_and_adds_nothing_on(Newsroom::start());
}

#[test]
fn a_second_poll_is_conditional_fetches_no_page_and_adds_nothing_on_postgres() {
    a_second_poll_is_conditional_fetches_no_page_and_adds_nothing_on(Newsroom::start_postgres());
}

fn a_second_poll_is_conditional_fetches_no_page_and_adds_nothing_on(newsroom: Newsroom) {
    assert!(newsroom.tributary(&["poll"]).status.success());
    let before = newsroom.export("json");
    for site in newsroom.sites() {
        site.clear_log();
    }
    let output = newsroom.tributary(&["poll"]);
    assert!(output.status.success());
    assert!(
        stdout(&output).contains(", 0 new entries"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        newsroom.article_requests(),
        0,
        "no article page fetched again"
    );
    for (site, feed) in [
        (&newsroom.quotidien, "/feed.xml"),
        (&newsroom.wire, "/atom.xml"),
        (&newsroom.courrier, "/feed.xml"),
    ] {
        let requests = site.requests_to(feed);
        assert_eq!(requests.len(), 1);
        assert!(requests[0].if_none_match.is_some(), "{requests:?}");
        assert!(requests[0].if_modified_since.is_some(), "{requests:?}");
        assert_eq!(requests[0].status, 304);
    }
    assert_eq!(items(&newsroom.export("json")).len(), items(&before).len());
}

#[test]
fn the_three_formats_carry_the_same_entries() {
    the_three_formats_carry_the_same_entries_on(Newsroom::start());
}

#[test]
fn the_three_formats_carry_the_same_entries_on_postgres() {
    the_three_formats_carry_the_same_entries_on(Newsroom::start_postgres());
}

fn the_three_formats_carry_the_same_entries_on(newsroom: Newsroom) {
    assert!(newsroom.tributary(&["poll"]).status.success());
    for format in ["atom", "rss", "json"] {
        let text = newsroom.export(format);
        let feed = feed_rs::parser::parse(text.as_bytes())
            .unwrap_or_else(|error| panic!("{format} does not parse: {error}\n{text}"));
        assert_eq!(feed.entries.len(), 4, "{format}");
        for entry in &feed.entries {
            assert!(entry.title.is_some(), "{format}: {entry:?}");
            assert!(!entry.links.is_empty(), "{format}: {entry:?}");
            assert!(entry.published.is_some() || entry.updated.is_some());
        }
        assert_eq!(
            count(&text, "Bernard Lacoste"),
            1,
            "{format}: shared story once"
        );
    }
    let atom = newsroom.export("atom");
    assert!(atom.contains("rel=\"self\""), "{atom}");
    assert!(
        atom.contains("<source>") || atom.contains("<source "),
        "{atom}"
    );
}

#[test]
fn export_writes_a_file_atomically() {
    let newsroom = Newsroom::start();
    assert!(newsroom.tributary(&["poll"]).status.success());
    let path = newsroom.folder.path().join("public/merged.rss");
    let output = newsroom.tributary(&[
        "export",
        "--format",
        "rss",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("<rss"), "{written}");
    assert_eq!(stdout(&output), "", "nothing on stdout when writing a file");
}

/// Path of the Python that has feedparser (set by scripts/test.sh), else `python3`.
fn python() -> String {
    std::env::var("TRIBUTARY_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn real_clients_read_the_merged_feed() {
    let newsroom = Newsroom::start();
    assert!(newsroom.tributary(&["poll"]).status.success());
    let folder = newsroom.folder.path();
    let mut files = Vec::new();
    for format in ["atom", "rss", "json"] {
        let path = folder.join(format!("merged.{format}"));
        std::fs::write(&path, newsroom.export(format)).unwrap();
        files.push(path);
    }
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/feedparser_check.py");
    // feedparser reads Atom and RSS (it has no JSON Feed support in any released version);
    // the JSON Feed is checked against the 1.1 spec's requirements below.
    let output = std::process::Command::new(python())
        .arg(&checker)
        .arg("4")
        .args(&files[..2])
        .output()
        .expect("python runs (scripts/test.sh installs feedparser)");
    assert!(
        output.status.success(),
        "feedparser: {}{}",
        stdout(&output),
        stderr(&output)
    );
    newsboat_reads_every_entry(&files[..2]);
    assert_valid_json_feed(&std::fs::read_to_string(&files[2]).unwrap(), 4);
}

/// JSON Feed 1.1's requirements: version URL, title, items each with a unique string id and
/// content; dates in RFC 3339; absolute URLs.
fn assert_valid_json_feed(text: &str, expected_items: usize) {
    let feed: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert!(feed["title"].is_string());
    assert!(feed["feed_url"].as_str().unwrap().starts_with("http"));
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), expected_items);
    let mut ids = std::collections::HashSet::new();
    for item in items {
        let id = item["id"].as_str().expect("string id");
        assert!(ids.insert(id.to_string()), "duplicate id {id}");
        assert!(item["content_html"].is_string() || item["content_text"].is_string());
        assert!(item["url"].as_str().unwrap().starts_with("http"), "{item}");
        let date = item["date_published"].as_str().expect("date_published");
        assert!(chrono::DateTime::parse_from_rfc3339(date).is_ok(), "{date}");
    }
}

/// newsboat fetches each file from a loopback site and stores every entry. One cache per
/// file: newsboat keys items by guid across feeds, and the formats share their ids.
fn newsboat_reads_every_entry(files: &[PathBuf]) {
    let site = Site::start();
    for (index, file) in files.iter().enumerate() {
        let path = format!("/merged-{index}");
        site.set(
            &path,
            Page::ok("application/xml", std::fs::read(file).unwrap()),
        );
        let feed_url = format!("{}{path}", site.base());
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("urls"), format!("{feed_url}\n")).unwrap();
        std::fs::write(folder.path().join("config"), "").unwrap();
        let cache = folder.path().join("cache.db");
        let output = std::process::Command::new("newsboat")
            .arg("-u")
            .arg(folder.path().join("urls"))
            .arg("-c")
            .arg(&cache)
            .arg("-C")
            .arg(folder.path().join("config"))
            .arg("-x")
            .arg("reload")
            .env("HOME", folder.path())
            .output()
            .expect("newsboat runs (scripts/test.sh installs it)");
        assert!(output.status.success(), "newsboat: {}", stderr(&output));
        let connection = rusqlite::Connection::open(&cache).unwrap();
        let stored: i64 = connection
            .query_row(
                "SELECT COUNT(*) FROM rss_item WHERE feedurl = ?1",
                [&feed_url],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(
            stored,
            4,
            "newsboat stored every entry of {}",
            file.display()
        );
    }
}

#[test]
fn check_lists_every_problem_with_file_and_line() {
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("bad.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:8080\"\ncolour = \"blue\"\n").unwrap();
    let output = run_tributary(folder.path(), &config, &["check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("bad.toml:2"),
        "{}",
        stderr(&output)
    );
    std::fs::write(
        &config,
        "[[sources]]\nname = \"a\"\nurl = \"ftp://x\"\n\n[[sources]]\nname = \"a\"\nurl = \"https://e.example/\"\nschedule = \"nope\"\n",
    )
    .unwrap();
    let output = run_tributary(folder.path(), &config, &["check"]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    for expected in [
        "bad.toml:3: sources[0].url",
        "bad.toml:6: sources[1].name",
        "bad.toml:8: sources[1].schedule",
    ] {
        assert!(errors.contains(expected), "{expected} in {errors}");
    }
}

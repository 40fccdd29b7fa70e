//! Search: `tributary search`, `/search?q=` and `/search.atom?q=` over stories in several
//! languages, and the index following pruning.

use std::path::Path;

use crate::daemon::{Daemon, http_get};
use crate::publish::check_well_formed;
use crate::support::{Page, Site, free_port, run_tributary, stderr, stdout};

/// (guid, title, text) of the stories the loopback feed serves, newest first.
const STORIES: &[(&str, &str, &str)] = &[
    (
        "ja",
        "東京で新しい橋が開通",
        "新しい橋は来月から通行できます。",
    ),
    ("el", "Η Αθήνα γιορτάζει", "Γιορτή στην Ακρόπολη."),
    ("ru", "Москва: новый мост", "Мост через реку открыт."),
    ("de", "Die Straßenbahn fährt", "Über die Brücke nach Köln."),
    (
        "fr",
        "Les élèves & l'école",
        "La rentrée à Montréal <b>côté</b> lycée.",
    ),
];

fn feed(site: &Site, stories: &[(&str, &str, &str)]) -> Vec<u8> {
    let items: String = stories
        .iter()
        .enumerate()
        .map(|(n, (guid, title, text))| {
            format!(
                "<item><guid isPermaLink=\"false\">{guid}</guid><title>{}</title>\
                 <link>{}/story/{guid}</link><pubDate>Tue, {:02} Nov 2026 08:00:00 GMT</pubDate>\
                 <description>{}</description></item>",
                escape(title),
                site.base(),
                20 - n,
                escape(text),
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>\
         <title>Le Quotidien</title><link>{}/</link><description>d</description>{items}\
         </channel></rss>",
        site.base()
    )
    .into_bytes()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn config(folder: &Path, site: &Site, port: u16, extra: &str) -> std::path::PathBuf {
    let path = folder.join("tributary.toml");
    std::fs::write(
        &path,
        format!(
            "database = \"{}\"\nlisten = \"127.0.0.1:{port}\"\n\
             public_url = \"http://127.0.0.1:{port}\"\n\
             [fetch]\nallow_private_networks = true\n{extra}\n\
             [output]\ntitle = \"Revue\"\n\
             [[sources]]\nname = \"quotidien\"\nurl = \"{}/feed.xml\"\nfull_text = false\n",
            folder.join("t.db").display(),
            site.base()
        ),
    )
    .unwrap();
    path
}

fn polled(stories: &[(&str, &str, &str)], extra: &str) -> (Site, tempfile::TempDir, u16) {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed(&site, stories)),
    );
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = config(folder.path(), &site, port, extra);
    let poll = run_tributary(folder.path(), &config, &["poll"]);
    assert!(poll.status.success(), "{}", stderr(&poll));
    (site, folder, port)
}

/// The titles `tributary search` prints for `query`.
fn search(folder: &Path, query: &[&str]) -> Vec<String> {
    let config = folder.join("tributary.toml");
    let mut args = vec!["search", "--json"];
    args.extend(query);
    let output = run_tributary(folder, &config, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let results: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).unwrap();
    results
        .iter()
        .map(|result| result["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_search_command_finds_accented_and_non_latin_words() {
    let (_site, folder, _) = polled(STORIES, "");
    let folder = folder.path();
    let cases: &[(&[&str], &[&str])] = &[
        (&["eleves", "ECOLE"], &["Les élèves & l'école"]),
        (&["montreal"], &["Les élèves & l'école"]),
        (&["brucke"], &["Die Straßenbahn fährt"]),
        (&["МОСТ"], &["Москва: новый мост"]),
        (&["αθηνα"], &["Η Αθήνα γιορτάζει"]),
        (&["新しい橋"], &["東京で新しい橋が開通"]),
        (
            &["Le", "Quotidien"],
            &["東京で新しい橋が開通", "Η Αθήνα γιορτάζει"],
        ),
    ];
    for (query, expected) in cases {
        let found = search(folder, query);
        assert_eq!(
            &found[..expected.len().min(found.len())],
            *expected,
            "{query:?}"
        );
    }
    assert_eq!(
        search(folder, &["Quotidien"]).len(),
        5,
        "by the source's title"
    );
    assert!(search(folder, &["osaka"]).is_empty());

    let config = folder.join("tributary.toml");
    let text = run_tributary(folder, &config, &["search", "cote"]);
    let said = stdout(&text);
    assert!(
        said.contains("La rentrée à Montréal [côté] lycée."),
        "{said}"
    );
    assert!(said.ends_with("1 story found for \"cote\"\n"), "{said}");
    let nothing = run_tributary(folder, &config, &["search", "--", "--"]);
    assert_eq!(nothing.status.code(), Some(1));
    assert!(
        stderr(&nothing).contains("nothing to search for"),
        "{}",
        stderr(&nothing)
    );
}

#[test]
fn the_search_page_and_feed_show_escaped_results() {
    let (_site, folder, port) = polled(STORIES, "");
    let config = folder.path().join("tributary.toml");
    let daemon = Daemon::start(folder.path(), &config, port);

    let (status, _, body) = http_get(port, "/search?q=%C3%A9l%C3%A8ves", &[]);
    assert_eq!(status, 200);
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("Les élèves &amp; l'école</a></h2>"), "{page}");
    assert!(page.contains("1 story found"), "{page}");
    assert!(
        page.contains(">Le Quotidien</a>"),
        "the source is named: {page}"
    );
    let (_, _, body) = http_get(port, "/search?q=%3Cscript%3Ecote", &[]);
    let page = String::from_utf8(body).unwrap();
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("&lt;script&gt;cote"), "{page}");
    assert!(
        page.contains("0 stories found"),
        "every word is required: {page}"
    );
    let (_, _, body) = http_get(port, "/search?q=COTE", &[]);
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("Montréal <mark>côté</mark> lycée"), "{page}");
    let (status, _, body) = http_get(port, "/search", &[]);
    assert_eq!(status, 200);
    assert!(String::from_utf8(body).unwrap().contains("<form"));

    let path = "/search.atom?q=%CE%B1%CE%B8%CE%B7%CE%BD%CE%B1";
    let (status, headers, body) = http_get(port, path, &[]);
    assert_eq!(status, 200);
    let xml = String::from_utf8(body).unwrap();
    check_well_formed(&xml).unwrap_or_else(|problem| panic!("{problem}\n{xml}"));
    let feed = atom_syndication::Feed::read_from(xml.as_bytes()).expect("valid Atom");
    assert_eq!(feed.entries().len(), 1);
    assert_eq!(feed.entries()[0].title().as_str(), "Η Αθήνα γιορτάζει");
    assert!(!feed.authors().is_empty() && feed.entries()[0].source().is_some());
    let self_link = feed
        .links()
        .iter()
        .find(|link| link.rel() == "self")
        .unwrap();
    assert_eq!(
        self_link.href(),
        format!("http://127.0.0.1:{port}/search.atom?q=%CE%B1%CE%B8%CE%B7%CE%BD%CE%B1")
    );
    assert_eq!(feed.id(), self_link.href());
    let etag = headers
        .iter()
        .find(|(name, _)| name == "etag")
        .unwrap()
        .1
        .clone();
    let (status, _, _) = http_get(port, path, &[("If-None-Match", &etag)]);
    assert_eq!(status, 304);
    let (status, _, _) = http_get(port, "/search.atom?q=", &[]);
    assert_eq!(status, 400);
    drop(daemon);
}

#[test]
fn pruned_stories_leave_the_index() {
    let (_site, folder, _) = polled(STORIES, "[retention]\nmax_entries_per_source = 2\n");
    let folder = folder.path();
    assert_eq!(search(folder, &["quotidien"]).len(), 5);
    let config = folder.join("tributary.toml");
    let prune = run_tributary(folder, &config, &["prune"]);
    assert!(prune.status.success(), "{}", stderr(&prune));
    assert_eq!(
        search(folder, &["quotidien"]),
        ["東京で新しい橋が開通", "Η Αθήνα γιορτάζει"]
    );
    assert!(
        search(folder, &["brucke"]).is_empty(),
        "a pruned story is not found"
    );
}

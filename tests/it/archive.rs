//! Catch-up archives (RFC 5005): the merged feed's `prev-archive` chain reaches every stored
//! story exactly once, pages are valid feeds, complete pages are immutable.

use std::collections::HashSet;
use std::path::Path;

use crate::daemon::{Daemon, http_get};
use crate::publish::check_well_formed;
use crate::support::{Page, Site, free_port, run_tributary, stderr};

/// An RSS feed of stories `numbers`, a different day each.
fn feed(site: &Site, numbers: std::ops::Range<usize>) -> Vec<u8> {
    let items: String = numbers
        .map(|n| {
            format!(
                "<item><guid isPermaLink=\"false\">story-{n}</guid><title>Story {n}</title>\
                 <link>{}/story/{n}</link><pubDate>{}</pubDate>\
                 <description>Paragraph {n}.</description></item>",
                site.base(),
                (chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000 + n as i64))
                    .format("%a, %d %b %Y 08:00:00 GMT")
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Archive test</title>\
         <link>{}/</link><description>d</description>{items}</channel></rss>",
        site.base()
    )
    .into_bytes()
}

fn config(folder: &Path, site: &Site, port: u16) -> std::path::PathBuf {
    let path = folder.join("tributary.toml");
    std::fs::write(
        &path,
        format!(
            "database = \"{}\"\nlisten = \"127.0.0.1:{port}\"\n\
             public_url = \"http://127.0.0.1:{port}\"\n\
             [fetch]\nallow_private_networks = true\n[output]\nmax_entries = 20\n\
             [[sources]]\nname = \"archive\"\nurl = \"{}/feed.xml\"\nfull_text = false\n",
            folder.join("t.db").display(),
            site.base()
        ),
    )
    .unwrap();
    path
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

/// The `prev-archive` link's path (after the server's origin), if any.
fn prev_archive(feed: &atom_syndication::Feed, origin: &str) -> Option<String> {
    feed.links()
        .iter()
        .find(|link| link.rel() == "prev-archive")
        .map(|link| link.href().strip_prefix(origin).unwrap().to_string())
}

#[test]
fn walking_the_archives_meets_every_story_once() {
    let site = Site::start();
    // Two passes, so stories are stored in two batches, the second interleaved by date.
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed(&site, 0..150)),
    );
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = config(folder.path(), &site, port);
    let poll = run_tributary(folder.path(), &config, &["poll"]);
    assert!(poll.status.success(), "{}", stderr(&poll));
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed(&site, 100..250)),
    );
    let poll = run_tributary(folder.path(), &config, &["poll"]);
    assert!(poll.status.success(), "{}", stderr(&poll));
    let daemon = Daemon::start(folder.path(), &config, port);
    let origin = format!("http://127.0.0.1:{port}");

    let (_, _, body) = http_get(port, "/feed.atom", &[]);
    let current = atom_syndication::Feed::read_from(&body[..]).unwrap();
    assert_eq!(current.entries().len(), 20);
    let mut next = prev_archive(&current, &format!("{origin}/"));
    assert_eq!(next.as_deref(), Some("archive/3.atom"));

    let mut seen = HashSet::new();
    let mut pages = 0;
    while let Some(path) = next {
        let (status, headers, body) = http_get(port, &format!("/{path}"), &[]);
        assert_eq!(status, 200, "{path}");
        let xml = String::from_utf8(body).unwrap();
        check_well_formed(&xml).unwrap_or_else(|problem| panic!("{path}: {problem}"));
        let page = atom_syndication::Feed::read_from(xml.as_bytes()).expect("valid Atom");
        let complete = xml.contains("<fh:archive/>");
        assert_eq!(
            complete,
            path != "archive/3.atom",
            "only the newest page is open"
        );
        let cache = header(&headers, "cache-control");
        match complete {
            true => assert_eq!(cache, "public, max-age=31536000, immutable", "{path}"),
            false => assert_eq!(cache, "public, max-age=60", "{path}"),
        }
        let rels: Vec<&str> = page.links().iter().map(|link| link.rel()).collect();
        assert!(
            rels.contains(&"self") && rels.contains(&"current"),
            "{rels:?}"
        );
        assert_eq!(page.id(), format!("{origin}/{path}"));
        assert!(!page.authors().is_empty());
        for entry in page.entries() {
            assert!(entry.source().is_some(), "validator: atom:source");
            assert!(
                seen.insert(entry.title().to_string()),
                "{} twice",
                entry.title().as_str()
            );
        }
        let etag = header(&headers, "etag").to_string();
        let (status, _, _) = http_get(port, &format!("/{path}"), &[("If-None-Match", &etag)]);
        assert_eq!(status, 304, "{path}");
        pages += 1;
        next = prev_archive(&page, &format!("{origin}/"));
    }
    assert_eq!(pages, 3);
    let expected: HashSet<String> = (0..250).map(|n| format!("Story {n}")).collect();
    assert_eq!(seen, expected);

    let (status, _, body) = http_get(port, "/archive/1.rss", &[]);
    assert_eq!(status, 200);
    let rss = String::from_utf8(body).unwrap();
    check_well_formed(&rss).unwrap();
    let channel = rss::Channel::read_from(rss.as_bytes()).expect("valid RSS");
    assert_eq!(channel.items().len(), 100);
    assert!(
        rss.contains("rel=\"next-archive\"") && rss.contains("<fh:archive/>"),
        "{}",
        &rss[..1500]
    );
    let (_, _, body) = http_get(port, "/feed.json", &[]);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["next_url"], format!("{origin}/archive/3.json"));
    let (_, _, body) = http_get(port, "/archive/2.json", &[]);
    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    assert_eq!(page["_feed_history"]["archive"], true);
    assert_eq!(page["next_url"], format!("{origin}/archive/1.json"));
    for missing in ["/archive/4.atom", "/archive/0.atom", "/archive/1.xml"] {
        assert_eq!(http_get(port, missing, &[]).0, 404, "{missing}");
    }
    drop(daemon);
}

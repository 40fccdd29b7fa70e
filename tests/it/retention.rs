//! Retention and backup: `prune` by hand and on the daemon's schedule, pruned entries that
//! their feed still lists, `status`'s database figures, `backup` while another process writes.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::http_get;
use crate::support::{Page, Site, free_port, run_tributary, stderr, stdout, tributary};

/// An RSS feed of `entries` (number, title) pairs, newest first, with a paragraph each.
fn feed(site: &Site, numbers: &[usize]) -> Vec<u8> {
    let items: String = numbers
        .iter()
        .map(|n| {
            format!(
                "<item><guid>entry-{n}</guid><title>Entry number {n}</title>\
                 <link>{}/story/{n}</link><pubDate>Tue, {:02} Nov 2026 08:00:00 GMT</pubDate>\
                 <description>Paragraph {n} of a story about the river.</description></item>",
                site.base(),
                n % 28 + 1
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Riverside</title>\
         <link>{}/</link><description>d</description>{items}</channel></rss>",
        site.base()
    )
    .into_bytes()
}

fn config(folder: &Path, site: &Site, retention: &str, extra: &str) -> std::path::PathBuf {
    let path = folder.join("tributary.toml");
    std::fs::write(
        &path,
        format!(
            "database = \"{}\"\n{extra}\n[fetch]\nallow_private_networks = true\n\
             [retention]\n{retention}\n\
             [[sources]]\nname = \"riverside\"\nurl = \"{}/feed.xml\"\nfull_text = false\n",
            folder.join("t.db").display(),
            site.base()
        ),
    )
    .unwrap();
    path
}

fn status_json(folder: &Path, config: &Path) -> serde_json::Value {
    let output = run_tributary(folder, config, &["status", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn a_pruned_entry_its_feed_still_lists_is_not_stored_again() {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed(&site, &[5, 4, 3, 2, 1])),
    );
    let folder = tempfile::tempdir().unwrap();
    let config = config(folder.path(), &site, "max_entries_per_source = 2", "");
    let poll = run_tributary(folder.path(), &config, &["poll"]);
    assert!(stdout(&poll).contains("  5 new"), "{}", stdout(&poll));

    let prune = run_tributary(folder.path(), &config, &["prune"]);
    assert!(prune.status.success(), "{}", stderr(&prune));
    let said = stdout(&prune);
    assert!(
        said.contains("pruned 3 entries (3 stories deleted"),
        "{said}"
    );
    assert!(
        said.contains("2 stories, 2 entries, 3 pruned entries remembered"),
        "{said}"
    );

    // The feed gains entry 6 and still lists the three pruned ones: only 6 is new.
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed(&site, &[6, 5, 4, 3, 2, 1])),
    );
    let poll = run_tributary(folder.path(), &config, &["poll"]);
    assert!(stdout(&poll).contains("  1 new"), "{}", stdout(&poll));
    let export = run_tributary(folder.path(), &config, &["export", "--format", "json"]);
    let merged = stdout(&export);
    for kept in ["Entry number 6", "Entry number 5", "Entry number 4"] {
        assert!(merged.contains(kept), "{kept} missing: {merged}");
    }
    for pruned in ["Entry number 3", "Entry number 2", "Entry number 1"] {
        assert!(!merged.contains(pruned), "{pruned} came back: {merged}");
    }
    let status = status_json(folder.path(), &config);
    assert_eq!(status["database"]["entries"], 3);
    assert_eq!(status["database"]["pruned_entries"], 3);
    assert!(status["database"]["file_bytes"].as_u64().unwrap() > 0);
    let table = run_tributary(folder.path(), &config, &["status"]);
    assert!(
        stdout(&table).starts_with("database "),
        "{}",
        stdout(&table)
    );
}

#[test]
fn bad_retention_values_are_named_with_their_line() {
    let site = Site::start();
    let folder = tempfile::tempdir().unwrap();
    let config = config(
        folder.path(),
        &site,
        "max_age = \"forever\"\nkeep_per_source = -1",
        "",
    );
    let check = run_tributary(folder.path(), &config, &["check"]);
    assert_eq!(check.status.code(), Some(2));
    let problems = stderr(&check);
    assert!(problems.contains(":6: retention.max_age:"), "{problems}");
    assert!(
        problems.contains(":7: retention.keep_per_source: must be at least 0"),
        "{problems}"
    );
}

/// The daemon, killed when the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_daemon_prunes_on_its_schedule() {
    let site = Site::start();
    let numbers: Vec<usize> = (1..=8).rev().collect();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed(&site, &numbers)),
    );
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = config(
        folder.path(),
        &site,
        "max_entries_per_source = 3\ninterval = \"1s\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let _daemon = Running(
        tributary()
            .current_dir(folder.path())
            .arg("--config")
            .arg(&config)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let database = |port| -> Option<serde_json::Value> {
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        drop(stream);
        let (status, _, body) = http_get(port, "/status", &[]);
        (status == 200)
            .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())?
            .map(|json| json["database"].clone())
    };
    // A bound on the wait, not a speed assertion: polled at once, pruned after a second.
    let start = Instant::now();
    loop {
        if let Some(database) = database(port)
            && database["pruned_entries"] == 5
        {
            assert_eq!(database["entries"], 3);
            assert_eq!(database["stories"], 3);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "never pruned");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_backup_taken_while_another_process_writes_is_consistent() {
    use tributary::model::ExtractionStatus;
    use tributary::store::{DedupePolicy, NewItem, SourceState, Store, commit_pass};

    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("t.db");
    let item = |n: usize| NewItem {
        entry_key: format!("id:{n}"),
        link: Some(format!("https://site.example/{n}")),
        canonical_urls: vec![format!("https://site.example/{n}")],
        title: format!("story {n}"),
        published: chrono::Utc::now(),
        updated: chrono::Utc::now(),
        content_html: Some(format!("<p>{n} {}</p>", "text of a story ".repeat(400))),
        summary: None,
        text: None,
        authors: Vec::new(),
        categories: Vec::new(),
        enclosures: Vec::new(),
        image: None,
        fingerprint: None,
        extraction: ExtractionStatus::NotRequested,
        version: None,
    };
    let store = Store::open(&path).unwrap();
    let policy = DedupePolicy::default();
    let state = SourceState::new("a", "https://site.example/feed");
    let first: Vec<NewItem> = (0..1500).map(item).collect();
    store
        .call_blocking(|c| commit_pass(c, &policy, &state, &first, chrono::Utc::now()))
        .unwrap();
    // A writer keeps committing passes (as a daemon would) while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 1500;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let items: Vec<NewItem> = (n..n + 20).map(item).collect();
                store
                    .call_blocking(|c| commit_pass(c, &policy, &state, &items, chrono::Utc::now()))
                    .unwrap();
                n += 20;
            }
            n
        })
    };
    let config = folder.path().join("tributary.toml");
    std::fs::write(&config, format!("database = \"{}\"\n", path.display())).unwrap();
    let copy = folder.path().join("copy.db");
    let backup = run_tributary(folder.path(), &config, &["backup", copy.to_str().unwrap()]);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert!(backup.status.success(), "{}", stderr(&backup));
    assert!(stdout(&backup).contains("backed up"), "{}", stdout(&backup));
    assert!(!folder.path().join("copy.db.partial").exists());

    let copy = rusqlite::Connection::open(&copy).unwrap();
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let count = |sql: &str| -> i64 { copy.query_row(sql, [], |row| row.get(0)).unwrap() };
    let stories = count("SELECT COUNT(*) FROM stories");
    // One snapshot: whole passes only (the first and some of the writer's 20-story passes),
    // every story with its entry.
    assert!(stories >= 1500 && stories <= written as i64, "{stories}");
    assert_eq!(
        (stories - 1500) % 20,
        0,
        "a pass was copied in part: {stories}"
    );
    assert_eq!(count("SELECT COUNT(*) FROM story_sources"), stories);
}

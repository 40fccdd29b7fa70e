//! `tributary run`: serving with caching headers, live reload, and a clean exit on signals.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::end_to_end::{Newsroom, newsroom_config};
use crate::support::{Page, Site, tributary};

/// A minimal HTTP/1.1 GET: status, headers (lower-cased names) and body.
pub fn http_get(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// A running daemon, killed if the test fails before it stops it.
pub struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    pub fn start(folder: &std::path::Path, config: &std::path::Path, port: u16) -> Daemon {
        let child = tributary()
            .current_dir(folder)
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("TRIBUTARY_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let daemon = Daemon { child, port };
        daemon.wait_until(
            || TcpStream::connect(("127.0.0.1", port)).is_ok(),
            "listening",
        );
        daemon
    }

    /// Polls `condition` every 50 ms for up to 20 s (a bound, not a speed assertion).
    pub fn wait_until(&self, mut condition: impl FnMut() -> bool, what: &str) {
        let start = Instant::now();
        while !condition() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn entries(&self, path: &str) -> usize {
        let (status, _, body) = http_get(self.port, path, &[]);
        if status != 200 {
            return 0;
        }
        feed_rs::parser::parse(&body[..]).map_or(0, |feed| feed.entries.len())
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Sends SIGTERM and returns the exit code, waiting at most 10 s.
    fn terminate(mut self) -> Option<i32> {
        self.signal("TERM");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn run_serves_three_formats_with_working_304s_and_exits_on_sigterm() {
    run_serves_three_formats_on(Newsroom::start());
}

/// The daemon on PostgreSQL: passes and page renders share the connection pool.
#[test]
fn run_serves_three_formats_on_postgres() {
    run_serves_three_formats_on(Newsroom::start_postgres());
}

fn run_serves_three_formats_on(newsroom: Newsroom) {
    let daemon = Daemon::start(newsroom.folder.path(), &newsroom.config, newsroom.port);
    daemon.wait_until(|| daemon.entries("/feed.atom") == 4, "the first poll");
    for path in ["/feed.atom", "/feed.rss", "/feed.json"] {
        let (status, headers, body) = http_get(daemon.port, path, &[]);
        assert_eq!(status, 200);
        assert!(!body.is_empty());
        let etag = header(&headers, "etag").expect("ETag").to_string();
        let modified = header(&headers, "last-modified")
            .expect("Last-Modified")
            .to_string();
        let (status, _, body) = http_get(daemon.port, path, &[("If-None-Match", &etag)]);
        assert_eq!((status, body.len()), (304, 0), "{path} If-None-Match");
        let (status, _, _) = http_get(daemon.port, path, &[("If-Modified-Since", &modified)]);
        assert_eq!(status, 304, "{path} If-Modified-Since");
        let (status, _, _) = http_get(daemon.port, path, &[("If-None-Match", "\"stale\"")]);
        assert_eq!(status, 200, "{path} stale validator");
        let (_, headers, gzipped) = http_get(daemon.port, path, &[("Accept-Encoding", "gzip")]);
        assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
        assert_eq!(&gzipped[..2], &[0x1f, 0x8b], "gzip magic");
    }
    let (status, _, body) = http_get(daemon.port, "/healthz", &[]);
    assert_eq!((status, body.as_slice()), (200, &b"ok\n"[..]));
    let (status, _, body) = http_get(daemon.port, "/status", &[]);
    assert_eq!(status, 200);
    let status_json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status_json["sources"].as_array().unwrap().len(), 5);
    assert_eq!(daemon.terminate(), Some(0));
}

#[test]
fn run_exits_cleanly_on_sigint_too() {
    let newsroom = Newsroom::start();
    let daemon = Daemon::start(newsroom.folder.path(), &newsroom.config, newsroom.port);
    daemon.signal("INT");
    let mut daemon = daemon;
    let start = Instant::now();
    let code = loop {
        if let Some(status) = daemon.child.try_wait().unwrap() {
            break status.code();
        }
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
}

#[test]
fn reload_adds_a_source_now_and_rejects_an_invalid_file() {
    let site = Site::start();
    let rss = |title: &str, link: &str| {
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title>\
             <link>{base}/</link><description>d</description><item><title>{title} story</title>\
             <link>{base}{link}</link><guid>{link}</guid><pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate>\
             <description>The {title} story summary, long enough to read.</description></item>\
             </channel></rss>",
            base = site.base()
        )
    };
    site.set(
        "/one.xml",
        Page::ok("application/rss+xml", rss("First", "/one")),
    );
    site.set(
        "/two.xml",
        Page::ok("application/rss+xml", rss("Second", "/two")),
    );
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("tributary.toml");
    let port = crate::support::free_port();
    let one = vec![("one", format!("{}/one.xml", site.base()))];
    std::fs::write(&config, newsroom_config(port, &one)).unwrap();
    let daemon = Daemon::start(folder.path(), &config, port);
    daemon.wait_until(|| daemon.entries("/feed.json") == 1, "the first source");

    // An invalid file: logged and ignored, the running configuration stays.
    std::fs::write(&config, "[[sources]]\nname = 3\n").unwrap();
    daemon.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    let (status, _, body) = http_get(port, "/status", &[]);
    assert_eq!(status, 200);
    let sources: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        sources["sources"][0]["name"], "one",
        "old config still in force"
    );

    // A valid file adding a source: the new source is polled right away.
    let mut both = one.clone();
    both.push(("two", format!("{}/two.xml", site.base())));
    std::fs::write(&config, newsroom_config(port, &both)).unwrap();
    daemon.signal("HUP");
    daemon.wait_until(|| daemon.entries("/feed.json") == 2, "the added source");

    // A change of the file alone (no signal) reloads it too; a removed source stops being
    // polled, and its entries stay in the merged feed.
    site.set(
        "/three.xml",
        Page::ok("application/rss+xml", rss("Third", "/three")),
    );
    let two_and_three = vec![
        ("two", format!("{}/two.xml", site.base())),
        ("three", format!("{}/three.xml", site.base())),
    ];
    std::thread::sleep(Duration::from_millis(1100)); // a new modification time
    std::fs::write(&config, newsroom_config(port, &two_and_three)).unwrap();
    daemon.wait_until(|| daemon.entries("/feed.json") == 3, "the file change");
    let (_, _, body) = http_get(port, "/status", &[]);
    let status: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let names: Vec<&str> = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["two", "three"]);
    assert_eq!(daemon.terminate(), Some(0));
}

/// `tributary parse FEED | head -1`: the reader of stdout goes away early, which is the
/// reader's choice and not a failure; the command ends with success and no panic.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let feed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/parse/body_elements.rss");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("parse")
        .arg(&feed)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The only read end of the pipe: once dropped, every write of the child fails with EPIPE.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

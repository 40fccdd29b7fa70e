//! `run` as a service: systemd's notify protocol, logs for collectors, and `/metrics` checked by promtool.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::http_get;
use crate::support::{Page, Site, free_port, tributary};

/// An RSS feed of `count` entries under `base`.
fn rss(base: &str, title: &str, count: usize) -> String {
    let items: String = (1..=count)
        .map(|n| {
            format!(
                "<item><title>{title} story {n}</title><link>{base}/story/{n}</link>\
                 <guid>{base}/story/{n}</guid><pubDate>Tue, 24 Nov 2026 0{n}:00:00 GMT</pubDate>\
                 <description>Story {n} of {title}, with a summary long enough to read.</description></item>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title>\
         <link>{base}/</link><description>{title} news</description>{items}</channel></rss>"
    )
}

/// A config polling `sources` (name, url) on `schedule`, without article pages.
fn config(
    folder: &Path,
    port: u16,
    schedule: &str,
    sources: &[(&str, String)],
) -> std::path::PathBuf {
    let mut text = format!(
        "database = \"data/tributary.db\"\nlisten = \"127.0.0.1:{port}\"\n\
         default_schedule = \"{schedule}\"\n\n[fetch]\nallow_private_networks = true\n\
         per_host_delay = \"5ms\"\ntimeout = \"5s\"\n"
    );
    for (name, url) in sources {
        text.push_str(&format!(
            "\n[[sources]]\nname = \"{name}\"\nurl = \"{url}\"\nfull_text = false\n"
        ));
    }
    let path = folder.join("tributary.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `tributary --config CONFIG [extra] run` in `folder`, stderr piped, the log settings of a
/// service (no `TRIBUTARY_LOG`, no `NO_COLOR`).
fn daemon(folder: &Path, config: &Path, extra: &[&str]) -> Command {
    let mut command = tributary();
    command
        .current_dir(folder)
        .arg("--config")
        .arg(config)
        .args(extra)
        .arg("run")
        .env_remove("TRIBUTARY_LOG")
        .env_remove("NO_COLOR")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Kills the child if a test fails before it stopped it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.0.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGTERM, then the exit code and everything written to stderr.
    fn terminate(mut self) -> (Option<i32>, Vec<u8>) {
        self.signal("TERM");
        let mut stderr = Vec::new();
        if let Some(mut pipe) = self.0.stderr.take() {
            pipe.read_to_end(&mut stderr).unwrap();
        }
        let status = self.0.wait().unwrap();
        (status.code(), stderr)
    }
}

/// Polls `condition` every 50 ms for up to 20 s (a bound, not a speed assertion).
fn wait_until(mut condition: impl FnMut() -> bool, what: &str) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether `/healthz` answers 200 now; a refused connection is `false`, not a panic.
fn healthz(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

fn feed_entries(port: u16) -> usize {
    if !healthz(port) {
        return 0;
    }
    let (status, _, body) = http_get(port, "/feed.json", &[]);
    if status != 200 {
        return 0;
    }
    let feed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    feed["items"].as_array().map_or(0, Vec::len)
}

/// Every datagram waiting on the socket.
fn drain(socket: &UnixDatagram, into: &mut Vec<String>) {
    let mut buffer = [0u8; 4096];
    while let Ok(length) = socket.recv(&mut buffer) {
        into.push(String::from_utf8_lossy(&buffer[..length]).into_owned());
    }
}

fn has_line(message: &str, line: &str) -> bool {
    message.lines().any(|l| l == line)
}

#[test]
fn notify_says_ready_only_once_serving_pings_the_watchdog_and_says_stopping() {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", rss(&site.base(), "One", 2)),
    );
    let folder = tempfile::tempdir().unwrap();
    let socket_path = folder.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_nonblocking(true).unwrap();
    let port = free_port();
    let sources = [("one", format!("{}/feed.xml", site.base()))];
    let config = config(folder.path(), port, "*/15 * * * *", &sources);
    let child = daemon(folder.path(), &config, &[])
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "400000")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let daemon = Running(child);

    // Until READY: /healthz is tried between reads; once READY arrived it must answer at once
    // and never fail again.
    let mut messages = Vec::new();
    let start = Instant::now();
    let ready_index = loop {
        assert!(start.elapsed() < Duration::from_secs(20), "no READY=1");
        let seen = messages.len();
        drain(&socket, &mut messages);
        if let Some(index) = messages[seen..].iter().position(|m| has_line(m, "READY=1")) {
            assert!(
                healthz(port),
                "READY=1 was sent while /healthz did not answer"
            );
            break seen + index;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        messages[ready_index].contains("STATUS=serving 1 sources"),
        "{:?}",
        messages[ready_index]
    );

    // Watchdog pings every 200 ms (half of WATCHDOG_USEC): counted over 2 s, with a generous
    // margin for a loaded machine.
    let window_start = messages.len();
    let window = Instant::now();
    while window.elapsed() < Duration::from_secs(2) {
        assert!(healthz(port), "/healthz stopped answering after READY");
        drain(&socket, &mut messages);
        std::thread::sleep(Duration::from_millis(50));
    }
    drain(&socket, &mut messages);
    let pings = messages[window_start..]
        .iter()
        .filter(|m| m.as_str() == "WATCHDOG=1")
        .count();
    assert!((4..=25).contains(&pings), "{pings} watchdog pings in 2 s");

    // A reload is bracketed by RELOADING=1 and READY=1.
    let before_reload = messages.len();
    daemon.signal("HUP");
    wait_until(
        || {
            drain(&socket, &mut messages);
            messages[before_reload..]
                .iter()
                .any(|m| has_line(m, "READY=1"))
        },
        "READY=1 after the reload",
    );
    let reloading = messages[before_reload..]
        .iter()
        .position(|m| has_line(m, "RELOADING=1"))
        .expect("RELOADING=1");
    let ready_again = messages[before_reload..]
        .iter()
        .position(|m| has_line(m, "READY=1"))
        .unwrap();
    assert!(reloading < ready_again);

    let before_stop = messages.len();
    let (code, _) = daemon.terminate();
    assert_eq!(code, Some(0));
    drain(&socket, &mut messages);
    assert!(
        messages[before_stop..]
            .iter()
            .any(|m| has_line(m, "STOPPING=1")),
        "no STOPPING=1 after SIGTERM: {:?}",
        &messages[before_stop..]
    );
}

#[test]
fn no_ready_when_the_listener_cannot_be_bound() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let folder = tempfile::tempdir().unwrap();
    let socket_path = folder.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_nonblocking(true).unwrap();
    let sources = [("one", "http://127.0.0.1:9/feed.xml".to_string())];
    let config = config(folder.path(), port, "*/15 * * * *", &sources);
    let mut daemon = Running(
        daemon(folder.path(), &config, &[])
            .env("NOTIFY_SOCKET", &socket_path)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut status = None;
    wait_until(
        || {
            status = daemon.0.try_wait().unwrap();
            status.is_some()
        },
        "the daemon to give up",
    );
    assert_eq!(status.and_then(|s| s.code()), Some(1));
    let mut messages = Vec::new();
    drain(&socket, &mut messages);
    assert!(
        !messages.iter().any(|m| has_line(m, "READY=1")),
        "{messages:?}"
    );
    drop(taken);
}

#[test]
fn logs_to_a_pipe_have_no_colour_and_quiet_polls_no_info_line() {
    let site = Site::start();
    let feed_path = "/feed.xml";
    site.set(
        feed_path,
        Page::ok("application/rss+xml", rss(&site.base(), "One", 2)),
    );
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let sources = [
        ("one", format!("{}{feed_path}", site.base())),
        ("down", format!("{}/missing.xml", site.base())),
    ];
    // Every 2 s: the first poll brings the entries, the next ones nothing.
    let config = config(folder.path(), port, "*/2 * * * * *", &sources);
    let daemon = Running(daemon(folder.path(), &config, &[]).spawn().unwrap());
    wait_until(|| feed_entries(port) == 2, "the first poll");
    // A changed body with the same entries (200, nothing new), then a 304.
    let mut changed = rss(&site.base(), "One", 2);
    changed = changed.replace("One news", "One news, today");
    site.set(feed_path, Page::ok("application/rss+xml", changed));
    wait_until(
        || {
            let answers: Vec<u16> = site
                .requests_to(feed_path)
                .iter()
                .map(|r| r.status)
                .collect();
            answers.iter().filter(|&&s| s == 200).count() >= 2 && answers.contains(&304)
        },
        "a quiet 200 and a 304",
    );
    // The site having answered 304 is not the daemon having counted it: wait for its own
    // count of the 304 poll (recorded with the summary's) before stopping it.
    wait_until(
        || polls_counted(port, "not_modified") >= 1.0,
        "the daemon counting a 304 poll",
    );
    let (code, stderr) = daemon.terminate();
    assert_eq!(code, Some(0));
    assert!(!stderr.contains(&0x1b), "ESC bytes in piped logs");
    let log = String::from_utf8(stderr).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let about = |source: &str| {
        lines
            .iter()
            .filter(|line| line.contains(&format!("source={source}")))
            .count()
    };
    assert_eq!(about("one"), 1, "one line for the poll with news:\n{log}");
    assert!(
        lines
            .iter()
            .any(|line| line.contains("new entries") && line.contains("new=2")),
        "{log}"
    );
    let failures = about("down");
    assert!(failures >= 1, "{log}");
    assert!(
        lines
            .iter()
            .filter(|line| line.contains("source=down"))
            .all(|line| line.contains("WARN") && line.contains("could not poll source")),
        "{log}"
    );
    assert!(!log.contains("Job creator"), "scheduler chatter: {log}");
    let summary = lines
        .iter()
        .find(|line| line.contains("poll summary"))
        .unwrap_or_else(|| panic!("no summary at shutdown:\n{log}"));
    assert!(summary.contains("new=2"), "{summary}");
    assert!(summary.contains("not_modified="), "{summary}");
    assert!(!summary.contains("not_modified=0"), "{summary}");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", rss(&site.base(), "One", 3)),
    );
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let sources = [("one", format!("{}/feed.xml", site.base()))];
    let config = config(folder.path(), port, "*/15 * * * *", &sources);
    let daemon = Running(
        daemon(folder.path(), &config, &["--log-format", "json"])
            .spawn()
            .unwrap(),
    );
    wait_until(|| feed_entries(port) == 3, "the first poll");
    let (code, stderr) = daemon.terminate();
    assert_eq!(code, Some(0));
    let log = String::from_utf8(stderr).unwrap();
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line:?}")))
        .collect();
    assert!(events.len() >= 3, "{log}");
    let news = events
        .iter()
        .find(|event| event["message"] == "new entries")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(news["source"], "one");
    assert_eq!(news["new"], 3);
    assert_eq!(news["level"], "INFO");
    let summary = events
        .iter()
        .find(|event| event["message"] == "poll summary")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(summary["polled"], 1);
}

/// The value of the series `series` (name and labels, exactly as rendered).
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

/// The daemon's `tributary_polls_total` for `outcome` (0 until it has one).
fn polls_counted(port: u16, outcome: &str) -> f64 {
    let (status, _, body) = http_get(port, "/metrics", &[]);
    assert_eq!(status, 200);
    let metrics = String::from_utf8(body).unwrap();
    value(
        &metrics,
        &format!("tributary_polls_total{{outcome=\"{outcome}\"}}"),
    )
    .unwrap_or(0.0)
}

/// A config of one source `one` at `url`, with article pages when `full_text`.
fn one_source(folder: &Path, port: u16, url: &str, full_text: bool) -> std::path::PathBuf {
    let text = format!(
        "database = \"data/tributary.db\"\nlisten = \"127.0.0.1:{port}\"\n\
         default_schedule = \"0 0 1 1 *\"\n\n[fetch]\nallow_private_networks = true\n\
         per_host_delay = \"5ms\"\ntimeout = \"20s\"\n\n\
         [[sources]]\nname = \"one\"\nurl = \"{url}\"\nfull_text = {full_text}\n"
    );
    let path = folder.join("tributary.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The store's story count, from `status --json` (run after the daemon stopped).
fn stored_stories(folder: &Path, config: &Path) -> u64 {
    let output = crate::support::run_tributary(folder, config, &["status", "--json"]);
    assert!(output.status.success(), "{output:?}");
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    status["database"]["stories"].as_u64().unwrap()
}

#[test]
fn a_feed_answered_during_shutdown_is_stored_not_abandoned() {
    let site = Site::start();
    // The feed takes a second to answer: SIGTERM comes while its request is in flight.
    let body = rss(&site.base(), "One", 2);
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", body).with_delay(Duration::from_secs(1)),
    );
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let feed = format!("{}/feed.xml", site.base());
    let config = one_source(folder.path(), port, &feed, false);
    let daemon = Running(daemon(folder.path(), &config, &[]).spawn().unwrap());
    wait_until(
        || !site.requests_to("/feed.xml").is_empty(),
        "the feed request",
    );
    let (code, stderr) = daemon.terminate();
    let log = String::from_utf8_lossy(&stderr);
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("abandoning"), "{log}");
    // Within the shutdown's grace, the answer was parsed and committed with its state.
    assert_eq!(stored_stories(folder.path(), &config), 2, "{log}");
    let summary = log.lines().find(|l| l.contains("poll summary")).unwrap();
    assert!(summary.contains("new=2"), "{summary}");
}

#[test]
fn a_pass_stopped_by_shutdown_commits_what_it_has_and_loses_nothing() {
    let site = Site::start();
    let body = rss(&site.base(), "One", 3);
    site.set("/feed.xml", Page::ok("application/rss+xml", body));
    let article = |n: usize| {
        format!(
            "<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>\
             <p>{}</p></article></body></html>",
            // Words of its own, so the three are three stories, not near-duplicates.
            (0..150)
                .map(|w| format!("s{n}w{w}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    site.set("/story/1", Page::ok("text/html", article(1)));
    // The second page would take longer than the shutdown's grace.
    let slow = Page::ok("text/html", article(2)).with_delay(Duration::from_secs(15));
    site.set("/story/2", slow);
    site.set("/story/3", Page::ok("text/html", article(3)));
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let feed = format!("{}/feed.xml", site.base());
    let config = one_source(folder.path(), port, &feed, true);
    let daemon = Running(daemon(folder.path(), &config, &[]).spawn().unwrap());
    wait_until(
        || !site.requests_to("/story/2").is_empty(),
        "the second article request",
    );
    let (code, stderr) = daemon.terminate();
    let log = String::from_utf8_lossy(&stderr);
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("abandoning"), "{log}");
    // The pass stopped at the slow page and committed the entry it had built.
    assert_eq!(stored_stories(folder.path(), &config), 1, "{log}");
    assert!(site.requests_to("/story/3").is_empty());
    // Nothing is lost: the next poll reads the whole feed again (no validators: not a 304)
    // and stores the two entries left.
    site.set("/story/2", Page::ok("text/html", article(2)));
    let polled = crate::support::run_tributary(folder.path(), &config, &["poll"]);
    assert!(polled.status.success(), "{polled:?}");
    let feed_requests = site.requests_to("/feed.xml");
    let last = feed_requests.last().unwrap();
    assert_eq!((last.status, last.if_none_match.as_deref()), (200, None));
    assert_eq!(stored_stories(folder.path(), &config), 3, "{polled:?}");
}

#[test]
fn metrics_pass_promtool_and_count_what_happened() {
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", rss(&site.base(), "One", 3)),
    );
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let sources = [
        ("one", format!("{}/feed.xml", site.base())),
        ("down", format!("{}/missing.xml", site.base())),
    ];
    let config = config(folder.path(), port, "*/15 * * * *", &sources);
    let daemon = Running(daemon(folder.path(), &config, &[]).spawn().unwrap());
    wait_until(|| feed_entries(port) == 3, "the first poll");
    wait_until(
        || {
            let (_, _, body) = http_get(port, "/metrics", &[]);
            String::from_utf8_lossy(&body)
                .contains("tributary_source_consecutive_failures{source=\"down\"} 1")
        },
        "the failing source's poll",
    );
    assert_eq!(http_get(port, "/feed.atom", &[]).0, 200);
    assert_eq!(http_get(port, "/no/such/page", &[]).0, 404);
    let (status, headers, body) = http_get(port, "/metrics", &[]);
    assert_eq!(status, 200);
    let content_type = headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, value)| value.as_str());
    assert_eq!(
        content_type,
        Some("text/plain; version=0.0.4; charset=utf-8")
    );

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus; scripts/test.sh installs it)");
    promtool.stdin.take().unwrap().write_all(&body).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    let metrics = String::from_utf8(body).unwrap();
    let expect = |series: &str, expected: f64| {
        assert_eq!(
            value(&metrics, series),
            Some(expected),
            "{series}\n{metrics}"
        );
    };
    expect("tributary_entries_stored_total", 3.0);
    expect("tributary_entries_merged_total", 0.0);
    expect("tributary_polls_total{outcome=\"new\"}", 1.0);
    expect("tributary_polls_total{outcome=\"failed\"}", 1.0);
    expect(
        "tributary_extractions_total{outcome=\"not_requested\"}",
        3.0,
    );
    expect(
        "tributary_fetch_responses_total{kind=\"feed\",class=\"2xx\"}",
        1.0,
    );
    expect(
        "tributary_fetch_responses_total{kind=\"feed\",class=\"4xx\"}",
        1.0,
    );
    expect("tributary_fetch_duration_seconds_count{kind=\"feed\"}", 2.0);
    expect("tributary_source_consecutive_failures{source=\"one\"}", 0.0);
    expect(
        "tributary_source_consecutive_failures{source=\"down\"}",
        1.0,
    );
    expect(
        "tributary_http_requests_total{route=\"/feed.atom\",status=\"200\"}",
        1.0,
    );
    expect(
        "tributary_http_requests_total{route=\"unmatched\",status=\"404\"}",
        1.0,
    );
    expect(
        &format!(
            "tributary_build_info{{version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        ),
        1.0,
    );
    expect("tributary_http_refused_total{cap=\"max_connections\"}", 0.0);
    expect(
        "tributary_http_connections_timed_out_total{phase=\"header\"}",
        0.0,
    );
    let accepted = value(&metrics, "tributary_http_connections_accepted_total").unwrap();
    assert!(
        accepted >= 3.0,
        "the feed, the 404 and this request: {accepted}"
    );
    let open = value(&metrics, "tributary_http_connections_open").unwrap();
    assert!(open >= 1.0, "this request's connection is open: {open}");
    let last_success = value(
        &metrics,
        "tributary_source_last_success_timestamp_seconds{source=\"one\"}",
    )
    .expect("last success of one");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - 120.0..=now + 1.0).contains(&last_success));
    assert!(
        value(
            &metrics,
            "tributary_source_last_success_timestamp_seconds{source=\"down\"}"
        )
        .is_none()
    );
    let database_size = value(&metrics, "tributary_database_size_bytes").unwrap();
    let on_disk = ["data/tributary.db", "data/tributary.db-wal"]
        .iter()
        .filter_map(|name| std::fs::metadata(folder.path().join(name)).ok())
        .map(|m| m.len())
        .sum::<u64>();
    assert!(database_size > 0.0);
    assert!(
        database_size <= on_disk as f64 * 2.0 && on_disk as f64 <= database_size * 2.0,
        "{database_size} vs {on_disk}"
    );
    assert!(!metrics.contains(&site.base()), "no URL in any label");
    let (code, _) = daemon.terminate();
    assert_eq!(code, Some(0));
}

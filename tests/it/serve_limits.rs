//! `tributary run` in front of hostile readers: stalled heads (slowloris) from several clients,
//! a reader draining a big feed a few bytes at a time, and the connection cap.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::http_get;
use crate::end_to_end::newsroom_config;
use crate::support::{Page, Site, free_port};

/// A daemon started with an open-file limit of 1024 (the default of shells and services).
struct LimitedDaemon {
    child: Child,
    port: u16,
}

impl LimitedDaemon {
    fn start(folder: &std::path::Path, config: &std::path::Path, port: u16) -> LimitedDaemon {
        // prlimit (util-linux) sets the limit and execs the daemon: the pid is the daemon's.
        let child = Command::new("prlimit")
            .arg("--nofile=1024:1024")
            .arg(env!("CARGO_BIN_EXE_tributary"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .current_dir(folder)
            .env("TRIBUTARY_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prlimit (util-linux) must be installed");
        let daemon = LimitedDaemon { child, port };
        wait_until(
            Duration::from_secs(20),
            || TcpStream::connect(("127.0.0.1", port)).is_ok(),
            "listening",
        );
        daemon
    }

    fn open_file_limit(&self) -> String {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.child.id())).unwrap();
        limits
            .lines()
            .find(|line| line.starts_with("Max open files"))
            .unwrap()
            .split_whitespace()
            .nth(3)
            .unwrap()
            .to_string()
    }

    fn entries(&self) -> usize {
        let (status, _, body) = http_get(self.port, "/feed.json", &[]);
        let feed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        match status {
            200 => feed["items"].as_array().map_or(0, Vec::len),
            _ => 0,
        }
    }

    fn hang_up(&self) {
        let status = Command::new("kill")
            .arg("-HUP")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for LimitedDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `condition` every 50 ms for up to `bound` (a bound, not a speed assertion).
fn wait_until(bound: Duration, mut condition: impl FnMut() -> bool, what: &str) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < bound, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A connection from `client` (any 127/8 address: Linux routes them all to lo) to `server`.
fn connect_from(client: &str, server: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{client}:0").parse().unwrap()).unwrap();
        socket.connect(server).await.unwrap().into_std().unwrap()
    })
}

/// `count` connections from `client`, each sending half a request head and then nothing.
fn stall(client: &str, server: SocketAddr, count: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|_| {
            let mut stream = connect_from(client, server);
            // A refused connection may already be closed: its write error does not matter.
            let _ = stream.write_all(b"GET /feed.atom HTTP/1.1\r\nHost: tributary\r\nX-A: ");
            stream
        })
        .collect()
}

/// Whether the server still holds `stream` open (no data, no end, no reset yet).
fn is_held(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let held =
        matches!(stream.peek(&mut [0u8; 1]), Err(error) if error.kind() == ErrorKind::WouldBlock);
    stream.set_nonblocking(false).unwrap();
    held
}

/// Four stalled heads the server has accepted and holds, filling `max_connections = 4`. A
/// connection the server has not accepted yet also looks held from the client, and one closed
/// just before (the slow reader's, dropped at its write deadline) may still hold its slot for a
/// moment, so the server may refuse one of the four: the set is checked again after the server
/// has had time to answer, and made again if one was refused.
fn four_held_by_the_server(server: SocketAddr) -> Vec<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stalled = stall("127.0.0.1", server, 4);
        std::thread::sleep(Duration::from_millis(500));
        if stalled.iter().all(is_held) {
            return stalled;
        }
        assert!(
            Instant::now() < deadline,
            "the server never held four heads"
        );
        drop(stalled);
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// About `bytes` of words drawn from `seed`, so no two entries look like duplicates.
fn words(seed: usize, bytes: usize) -> String {
    const WORDS: [&str; 24] = [
        "rivière",
        "conseil",
        "budget",
        "élection",
        "marché",
        "orage",
        "théâtre",
        "récolte",
        "tribunal",
        "grève",
        "satellite",
        "musée",
        "frontière",
        "vaccin",
        "port",
        "forêt",
        "université",
        "banque",
        "festival",
        "glacier",
        "usine",
        "sénat",
        "trafic",
        "volcan",
    ];
    let mut state = (seed as u64).wrapping_mul(2_862_933_555_777_941_757);
    let mut text = String::new();
    while text.len() < bytes {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        text.push_str(WORDS[(state >> 33) as usize % WORDS.len()]);
        text.push(' ');
    }
    text
}

fn rss(base: &str, title: &str, items: usize, text_bytes: usize) -> String {
    let items: String = (0..items)
        .map(|n| {
            let text = words(n + title.len() * 1000, text_bytes);
            format!(
                "<item><title>{title} story {n}</title><link>{base}/{title}/{n}</link>\
                 <guid>{base}/{title}/{n}</guid><pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate>\
                 <description>{text}</description></item>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title>\
         <link>{base}/</link><description>d</description>{items}</channel></rss>"
    )
}

const STALLED_SERVER: &str = "\n[server]\nmax_connections = 100\nmax_connections_per_ip = 40\n\
                              header_timeout = \"8s\"\n";

#[test]
fn stalled_heads_from_two_clients_lock_out_neither_readers_nor_the_poller() {
    let site = Site::start();
    site.set(
        "/one.xml",
        Page::ok("application/rss+xml", rss(&site.base(), "one", 1, 100)),
    );
    site.set(
        "/two.xml",
        Page::ok("application/rss+xml", rss(&site.base(), "two", 1, 100)),
    );
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("tributary.toml");
    let port = free_port();
    let one = vec![("one", format!("{}/one.xml", site.base()))];
    std::fs::write(&config, newsroom_config(port, &one) + STALLED_SERVER).unwrap();
    let daemon = LimitedDaemon::start(folder.path(), &config, port);
    assert_eq!(daemon.open_file_limit(), "1024");
    wait_until(
        Duration::from_secs(20),
        || daemon.entries() == 1,
        "the first source",
    );

    // Twice max_connections stalled heads from one client, more from a second one.
    let server: SocketAddr = ([127, 0, 0, 1], port).into();
    let stalled_at = Instant::now();
    let first = stall("127.0.0.2", server, 200);
    let second = stall("127.0.0.3", server, 250);
    let held = |streams: &[TcpStream]| streams.iter().filter(|s| is_held(s)).count();
    wait_until(
        Duration::from_secs(5),
        || held(&first) == 40 && held(&second) == 40,
        "each client held to max_connections_per_ip, the rest refused",
    );

    // While they are held: a normal reader gets the feed within a second...
    let asked = Instant::now();
    let (status, _, body) = http_get(port, "/feed.atom", &[]);
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("one story 0"));
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "the reader waited {:?}",
        asked.elapsed()
    );
    // ...and a source added by a reload is polled and stored.
    let mut both = one.clone();
    both.push(("two", format!("{}/two.xml", site.base())));
    std::fs::write(&config, newsroom_config(port, &both) + STALLED_SERVER).unwrap();
    daemon.hang_up();
    wait_until(
        Duration::from_secs(20),
        || daemon.entries() == 2,
        "the added source",
    );
    assert_eq!(
        held(&first) + held(&second),
        80,
        "the stalled connections were still held during the checks (took {:?})",
        stalled_at.elapsed()
    );

    // Within the head timeout (plus slack for a loaded machine) the server closed them all.
    wait_until(
        Duration::from_secs(8 + 5).saturating_sub(stalled_at.elapsed()),
        || held(&first) + held(&second) == 0,
        "the server to close the stalled connections",
    );
    assert!(
        stalled_at.elapsed() >= Duration::from_secs(7),
        "not before the head timeout"
    );
    let (status, _, _) = http_get(port, "/feed.atom", &[]);
    assert_eq!(status, 200);
}

#[test]
fn a_reader_draining_a_big_feed_slowly_is_cut_at_the_write_deadline() {
    let site = Site::start();
    // 200 entries of ~6 KB: a merged feed of over a megabyte, more than socket buffers hold.
    site.set(
        "/big.xml",
        Page::ok("application/rss+xml", rss(&site.base(), "big", 200, 6000)),
    );
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("tributary.toml");
    let port = free_port();
    // Without full text, so every entry is stored in the first pass.
    let source = format!(
        "\n[[sources]]\nname = \"big\"\nurl = \"{}/big.xml\"\nfull_text = false\n",
        site.base()
    );
    let server_table = "\n[server]\nmax_connections = 4\nwrite_timeout = \"2s\"\n\
                        header_timeout = \"3s\"\n";
    std::fs::write(&config, newsroom_config(port, &[]) + &source + server_table).unwrap();
    let daemon = LimitedDaemon::start(folder.path(), &config, port);
    wait_until(
        Duration::from_secs(30),
        || daemon.entries() == 200,
        "the big source",
    );
    let (_, _, full) = http_get(port, "/feed.atom", &[]);
    assert!(full.len() > 1_000_000, "feed of {} bytes", full.len());

    // The slow reader: a small receive buffer, four bytes every half second.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut slow = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let server: SocketAddr = ([127, 0, 0, 1], port).into();
        socket.connect(server).await.unwrap().into_std().unwrap()
    });
    slow.set_nonblocking(false).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    slow.write_all(b"GET /feed.atom HTTP/1.1\r\nHost: tributary\r\nConnection: close\r\n\r\n")
        .unwrap();
    let asked = Instant::now();
    let mut received = 0;
    let mut checked_others = false;
    let ended = loop {
        // A reset is seen at once through SO_ERROR, while reading would first drain what
        // the kernel already holds for this reader.
        if let Some(error) = slow.take_error().unwrap() {
            assert_eq!(error.kind(), ErrorKind::ConnectionReset);
            break "reset";
        }
        let mut buf = [0u8; 4];
        match slow.read(&mut buf) {
            Ok(0) => break "end",
            Ok(n) => received += n,
            Err(error) if error.kind() == ErrorKind::ConnectionReset => break "reset",
            Err(error) => panic!("slow read: {error}"),
        }
        assert!(
            asked.elapsed() < Duration::from_secs(2 + 10),
            "still connected after {:?}",
            asked.elapsed()
        );
        // Meanwhile others are served as usual.
        if !checked_others {
            let (status, _, body) = http_get(port, "/feed.atom", &[]);
            assert_eq!((status, body.len()), (200, full.len()));
            checked_others = true;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        asked.elapsed() >= Duration::from_millis(1900),
        "cut before the deadline: {:?} ({ended})",
        asked.elapsed()
    );
    assert!(
        received < full.len(),
        "the slow reader got {received} bytes"
    );

    // The server is unaffected, and its connection cap refuses cheaply with a 503.
    let (status, _, body) = http_get(port, "/feed.atom", &[]);
    assert_eq!((status, body.len()), (200, full.len()));
    let server: SocketAddr = ([127, 0, 0, 1], port).into();
    let stalled = four_held_by_the_server(server);
    let mut refused = TcpStream::connect(server).unwrap();
    refused
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = refused.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "got {answer:?}");
    assert!(answer.contains("Retry-After: 5"), "got {answer:?}");
    // Once the stalled heads time out, readers get in again.
    wait_until(
        Duration::from_secs(3 + 5),
        || !stalled.iter().any(is_held),
        "the stalled heads to be dropped",
    );
    let (status, _, _) = http_get(port, "/feed.atom", &[]);
    assert_eq!(status, 200);
}

//! WebSub publishing against a loopback hub written for the tests: the merged feeds name the
//! hub, and `run` notifies it when they change.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::daemon::{Daemon, http_get};
use crate::support::{Page, Site, free_port};

/// One request the hub received: method, path, content type and body.
#[derive(Debug, Clone)]
struct HubRequest {
    method: String,
    path: String,
    content_type: String,
    body: String,
}

/// A minimal hub: answers every request with `status` and remembers it.
struct Hub {
    port: u16,
    received: Arc<Mutex<Vec<HubRequest>>>,
}

impl Hub {
    fn start(status: u16) -> Hub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if let Some(request) = read_request(&mut stream) {
                    log.lock().unwrap().push(request);
                }
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        Hub { port, received }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hub", self.port)
    }

    fn received(&self) -> Vec<HubRequest> {
        self.received.lock().unwrap().clone()
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<HubRequest> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let (mut length, mut content_type) = (0, String::new());
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "content-type" => content_type = value.trim().to_string(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(HubRequest {
        method,
        path,
        content_type,
        body: String::from_utf8(body).ok()?,
    })
}

fn feed(site: &Site, titles: &[&str]) -> Vec<u8> {
    let items: String = titles
        .iter()
        .map(|title| {
            format!(
                "<item><guid isPermaLink=\"false\">{title}</guid><title>{title}</title>\
                 <link>{}/{title}</link><description>About {title}.</description></item>",
                site.base()
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Pushed</title>\
         <link>{}/</link><description>d</description>{items}</channel></rss>",
        site.base()
    )
    .into_bytes()
}

#[test]
fn the_feeds_name_the_hub_and_it_is_notified_on_change() {
    let hub = Hub::start(204);
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed(&site, &["one"])),
    );
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = folder.path().join("tributary.toml");
    let public = format!("http://127.0.0.1:{port}");
    std::fs::write(
        &config,
        format!(
            "database = \"t.db\"\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"{public}\"\n\
             default_schedule = \"* * * * * *\"\n\
             [fetch]\nallow_private_networks = true\n[output]\nhub = \"{}\"\n\
             [[sources]]\nname = \"pushed\"\nurl = \"{}/feed.xml\"\nfull_text = false\n",
            hub.url(),
            site.base()
        ),
    )
    .unwrap();
    let daemon = Daemon::start(folder.path(), &config, port);
    let publishes = |hub: &Hub| -> Vec<HubRequest> {
        hub.received()
            .into_iter()
            .filter(|request| request.body.contains("hub.mode=publish"))
            .collect()
    };
    daemon.wait_until(|| !publishes(&hub).is_empty(), "a publish notification");
    let first = &publishes(&hub)[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", "/hub")
    );
    assert_eq!(first.content_type, "application/x-www-form-urlencoded");
    let encoded = |path: &str| {
        url::form_urlencoded::byte_serialize(format!("{public}/{path}").as_bytes())
            .collect::<String>()
    };
    for path in ["feed.atom", "feed.rss", "feed.json"] {
        assert!(
            first.body.contains(&format!("hub.url={}", encoded(path))),
            "{first:?}"
        );
    }

    let (_, _, body) = http_get(port, "/feed.atom", &[]);
    let atom = atom_syndication::Feed::read_from(&body[..]).unwrap();
    let rel = |rel: &str| {
        atom.links()
            .iter()
            .find(|link| link.rel() == rel)
            .map(|link| link.href().to_string())
    };
    assert_eq!(rel("hub"), Some(hub.url()));
    assert_eq!(rel("self"), Some(format!("{public}/feed.atom")));
    let (_, _, body) = http_get(port, "/feed.rss", &[]);
    let rss = String::from_utf8(body).unwrap();
    assert!(
        rss.contains(&format!("<atom:link rel=\"hub\" href=\"{}\"/>", hub.url())),
        "{rss}"
    );
    let (_, _, body) = http_get(port, "/feed.json", &[]);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["hubs"][0]["url"], hub.url());
    assert_eq!(json["hubs"][0]["type"], "WebSub");

    // A new story changes the feeds: the hub hears again.
    let before = publishes(&hub).len();
    site.set(
        "/feed.xml",
        Page::ok("application/rss+xml", feed(&site, &["two", "one"])),
    );
    daemon.wait_until(|| publishes(&hub).len() > before, "a second notification");
    drop(daemon);
}

#[test]
fn a_hub_that_is_not_a_web_url_is_refused_with_its_line() {
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("tributary.toml");
    std::fs::write(&config, "[output]\nhub = \"ftp://hub.example/\"\n").unwrap();
    let check = crate::support::run_tributary(folder.path(), &config, &["check"]);
    assert_eq!(check.status.code(), Some(2));
    let problems = crate::support::stderr(&check);
    assert!(
        problems.contains(":2: output.hub: not an http(s) URL"),
        "{problems}"
    );
}

//! WebSub against a loopback hub written for the tests. Publishing: the merged feeds name the
//! hub, and `run` notifies it when they change. Consuming: a `websub = true` source is
//! subscribed, the hub's intent check answered, signed pushes stored, unsigned or wrongly
//! signed ones refused, and the lease renewed.

use std::collections::HashMap;
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

/// The hub's intent check of a subscription: the challenge sent and what the callback said.
#[derive(Debug, Clone)]
struct Verification {
    challenge: String,
    status: u16,
    body: String,
}

/// A minimal hub: answers every request with `status` and remembers it. A subscription request
/// is then verified like a real hub does, by a GET to its callback granting `lease_seconds`.
struct Hub {
    port: u16,
    received: Arc<Mutex<Vec<HubRequest>>>,
    verifications: Arc<Mutex<Vec<Verification>>>,
}

impl Hub {
    fn start(status: u16) -> Hub {
        Hub::start_granting(status, 864_000)
    }

    fn start_granting(status: u16, lease_seconds: u64) -> Hub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let verifications = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let verified = verifications.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if let Some(request) = read_request(&mut stream) {
                    log.lock().unwrap().push(request.clone());
                    let form = form_of(&request.body);
                    if form.get("hub.mode").map(String::as_str) == Some("subscribe") {
                        let verified = verified.clone();
                        let challenge = format!("challenge-{}", log.lock().unwrap().len());
                        std::thread::spawn(move || {
                            let verification = verify_intent(&form, &challenge, lease_seconds);
                            verified.lock().unwrap().push(verification);
                        });
                    }
                }
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        Hub {
            port,
            received,
            verifications,
        }
    }

    fn subscriptions(&self) -> Vec<HashMap<String, String>> {
        self.received()
            .iter()
            .map(|request| form_of(&request.body))
            .filter(|form| form.get("hub.mode").map(String::as_str) == Some("subscribe"))
            .collect()
    }

    fn verifications(&self) -> Vec<Verification> {
        self.verifications.lock().unwrap().clone()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hub", self.port)
    }

    fn received(&self) -> Vec<HubRequest> {
        self.received.lock().unwrap().clone()
    }
}

fn form_of(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

/// The hub's GET to the subscriber's callback (WebSub 5.3), after the subscription request was
/// answered.
fn verify_intent(form: &HashMap<String, String>, challenge: &str, lease: u64) -> Verification {
    let mut callback = url::Url::parse(&form["hub.callback"]).unwrap();
    callback
        .query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.topic", &form["hub.topic"])
        .append_pair("hub.challenge", challenge)
        .append_pair("hub.lease_seconds", &lease.to_string());
    let port = callback.port().unwrap();
    let path = format!("{}?{}", callback.path(), callback.query().unwrap());
    let (status, _, body) = http_get(port, &path, &[]);
    Verification {
        challenge: challenge.to_string(),
        status,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

/// A minimal HTTP/1.1 POST: status and body.
fn http_post(port: u16, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string());
    (status, body.unwrap_or_default())
}

/// `X-Hub-Signature: sha256=...` of `body` under `secret`.
fn signature(secret: &str, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256={hex}")
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

/// An RSS feed that advertises `hub` and its own URL (`atom:link rel="self"`).
fn hub_feed(site: &Site, hub: &str, titles: &[&str]) -> Vec<u8> {
    let plain = String::from_utf8(feed(site, titles)).unwrap();
    plain
        .replacen(
            "<rss version=\"2.0\">",
            "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">",
            1,
        )
        .replacen(
            "<channel>",
            &format!(
                "<channel><atom:link rel=\"hub\" href=\"{hub}\"/>\
                 <atom:link rel=\"self\" href=\"{}/feed.xml\"/>",
                site.base()
            ),
            1,
        )
        .into_bytes()
}

fn merged_feed(port: u16) -> String {
    String::from_utf8(http_get(port, "/feed.atom", &[]).2).unwrap()
}

#[test]
fn a_websub_source_is_subscribed_verified_pushed_to_and_renewed() {
    // The hub grants a 2-second lease, so the renewal comes within the test.
    let hub = Hub::start_granting(202, 2);
    let site = Site::start();
    site.set(
        "/feed.xml",
        Page::ok(
            "application/rss+xml",
            hub_feed(&site, &hub.url(), &["polled"]),
        ),
    );
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = folder.path().join("tributary.toml");
    let public = format!("http://127.0.0.1:{port}");
    std::fs::write(
        &config,
        format!(
            "database = \"t.db\"\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"{public}\"\n\
             default_schedule = \"0 0 1 1 *\"\n\
             [fetch]\nallow_private_networks = true\n[output]\nhub = \"{}\"\n\
             [[sources]]\nname = \"pushed\"\nurl = \"{}/feed.xml\"\nfull_text = false\n\
             websub = true\n",
            hub.url(),
            site.base()
        ),
    )
    .unwrap();
    let daemon = Daemon::start(folder.path(), &config, port);

    // Subscribe: the request names the topic the feed advertises and our callback.
    daemon.wait_until(|| !hub.subscriptions().is_empty(), "a subscription request");
    let request = hub.subscriptions()[0].clone();
    assert_eq!(request["hub.topic"], format!("{}/feed.xml", site.base()));
    assert_eq!(request["hub.callback"], format!("{public}/websub/pushed"));
    assert_eq!(request["hub.lease_seconds"], "864000");
    let secret = request["hub.secret"].clone();
    assert!(secret.len() >= 32, "{secret}");

    // Intent verification: the challenge is echoed back.
    daemon.wait_until(|| !hub.verifications().is_empty(), "the intent check");
    let verification = hub.verifications()[0].clone();
    assert_eq!(verification.status, 200, "{verification:?}");
    assert_eq!(verification.body, verification.challenge);
    // ... but only for our topic and a source we subscribed.
    let wrong_topic = "/websub/pushed?hub.mode=subscribe&hub.topic=http%3A%2F%2Fevil.example%2F\
                       &hub.challenge=x&hub.lease_seconds=60";
    assert_eq!(http_get(port, wrong_topic, &[]).0, 404);
    let unknown = "/websub/nobody?hub.mode=subscribe&hub.topic=x&hub.challenge=x";
    assert_eq!(http_get(port, unknown, &[]).0, 404);

    daemon.wait_until(|| merged_feed(port).contains("polled"), "the polled story");
    let publishes = |hub: &Hub| {
        hub.received()
            .iter()
            .filter(|request| request.body.contains("hub.mode=publish"))
            .count()
    };
    daemon.wait_until(|| publishes(&hub) > 0, "the first publish notification");
    let published_before_push = publishes(&hub);

    // Unsigned and wrongly signed pushes are refused; nothing of them is stored.
    let callback = "/websub/pushed";
    let unsigned = hub_feed(&site, &hub.url(), &["unsigned-story"]);
    let (status, _) = http_post(
        port,
        callback,
        &[("Content-Type", "application/rss+xml")],
        &unsigned,
    );
    assert_eq!(status, 403);
    let forged = hub_feed(&site, &hub.url(), &["forged-story"]);
    let wrong = signature("not-the-secret", &forged);
    let (status, body) = http_post(
        port,
        callback,
        &[
            ("Content-Type", "application/rss+xml"),
            ("X-Hub-Signature", &wrong),
        ],
        &forged,
    );
    assert_eq!(status, 403, "{body}");
    let sha1 = http_post(port, callback, &[("X-Hub-Signature", "sha1=00ff")], &forged);
    assert_eq!(sha1.0, 403);

    // A signed push goes through the pipeline and into the merged feed.
    let pushed = hub_feed(&site, &hub.url(), &["pushed-story", "polled"]);
    let (status, body) = http_post(
        port,
        callback,
        &[
            ("Content-Type", "application/rss+xml"),
            ("X-Hub-Signature", &signature(&secret, &pushed)),
        ],
        &pushed,
    );
    assert_eq!(status, 202, "{body}");
    daemon.wait_until(
        || merged_feed(port).contains("pushed-story"),
        "the pushed story",
    );
    let merged = merged_feed(port);
    assert!(
        !merged.contains("unsigned-story") && !merged.contains("forged-story"),
        "{merged}"
    );
    assert!(
        site.requests_to("/feed.xml").len() <= 2,
        "the push, not a poll, brought the story"
    );
    // The change is published to the output hub too.
    daemon.wait_until(
        || publishes(&hub) > published_before_push,
        "a publish notification after the push",
    );

    // The 2-second lease is renewed: a new request for the same topic and secret, verified.
    daemon.wait_until(|| hub.subscriptions().len() >= 2, "a lease renewal");
    let renewal = hub.subscriptions()[1].clone();
    assert_eq!(renewal["hub.topic"], request["hub.topic"]);
    assert_eq!(renewal["hub.secret"], secret);
    daemon.wait_until(
        || hub.verifications().len() >= 2,
        "the renewal's intent check",
    );
    let second = hub.verifications()[1].clone();
    assert_eq!(
        (second.status, second.body.as_str()),
        (200, second.challenge.as_str())
    );
    drop(daemon);
}

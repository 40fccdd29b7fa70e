//! Test support: loopback HTTP sites serving fixtures, a request log, and the real binary.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode, header};

/// One response a site gives for a path.
#[derive(Clone, Debug)]
pub struct Page {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub extra_headers: Vec<(String, String)>,
    /// Time the site takes before answering (to make overlapping requests observable).
    pub delay: std::time::Duration,
}

impl Page {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Page {
        Page {
            status: 200,
            content_type: content_type.to_string(),
            body: body.into(),
            extra_headers: Vec::new(),
            delay: std::time::Duration::ZERO,
        }
    }

    pub fn status(status: u16) -> Page {
        Page {
            status,
            content_type: "text/html".into(),
            body: format!("<h1>{status}</h1>").into_bytes(),
            extra_headers: Vec::new(),
            delay: std::time::Duration::ZERO,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Page {
        self.extra_headers
            .push((name.to_string(), value.to_string()));
        self
    }

    pub fn with_delay(mut self, delay: std::time::Duration) -> Page {
        self.delay = delay;
        self
    }
}

/// One request as the site saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    pub path: String,
    pub user_agent: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub status: u16,
    /// When the request arrived, and how many requests were in flight then (this one included).
    pub arrived: std::time::Instant,
    pub in_flight: usize,
}

/// A loopback HTTP site: pages by path (query ignored), with ETag/Last-Modified and 304s.
pub struct Site {
    pub address: SocketAddr,
    pages: Arc<Mutex<HashMap<String, Page>>>,
    log: Arc<Mutex<Vec<Logged>>>,
    _runtime: tokio::runtime::Runtime,
}

const LAST_MODIFIED: &str = "Tue, 24 Nov 2026 09:00:00 GMT";

impl Site {
    pub fn start() -> Site {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let pages: Arc<Mutex<HashMap<String, Page>>> = Arc::default();
        let log: Arc<Mutex<Vec<Logged>>> = Arc::default();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        let in_flight: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
        let (handler_pages, handler_log) = (pages.clone(), log.clone());
        let handler_in_flight = in_flight.clone();
        let app = axum::Router::new().fallback(move |request: Request<Body>| {
            let pages = handler_pages.clone();
            let log = handler_log.clone();
            let in_flight = handler_in_flight.clone();
            async move {
                use std::sync::atomic::Ordering;
                let now_in_flight = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                let (response, delay) = respond(&pages, &log, request, now_in_flight);
                tokio::time::sleep(delay).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                response
            }
        });
        runtime.spawn(async move { axum::serve(listener, app).await });
        Site {
            address,
            pages,
            log,
            _runtime: runtime,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn set(&self, path: &str, page: Page) {
        self.pages.lock().unwrap().insert(path.to_string(), page);
    }

    pub fn log(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }

    pub fn requests_to(&self, path: &str) -> Vec<Logged> {
        self.log().into_iter().filter(|l| l.path == path).collect()
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn respond(
    pages: &Mutex<HashMap<String, Page>>,
    log: &Mutex<Vec<Logged>>,
    request: Request<Body>,
    in_flight: usize,
) -> (Response<Body>, std::time::Duration) {
    let path = request.uri().path().to_string();
    let headers = request.headers();
    let page = pages
        .lock()
        .unwrap()
        .get(&path)
        .cloned()
        .unwrap_or_else(|| Page::status(404));
    let etag = format!(
        "\"{:x}\"",
        page.body.len() * 31 + page.body.iter().map(|b| *b as usize).sum::<usize>()
    );
    let if_none_match = header_text(headers, header::IF_NONE_MATCH);
    let fresh = page.status == 200 && if_none_match.as_deref() == Some(etag.as_str());
    let status = if fresh { 304 } else { page.status };
    log.lock().unwrap().push(Logged {
        path,
        user_agent: header_text(headers, header::USER_AGENT),
        if_none_match,
        if_modified_since: header_text(headers, header::IF_MODIFIED_SINCE),
        status,
        arrived: std::time::Instant::now(),
        in_flight,
    });
    let mut response = Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header(header::CONTENT_TYPE, &page.content_type);
    if page.status == 200 {
        response = response
            .header(header::ETAG, &etag)
            .header(header::LAST_MODIFIED, LAST_MODIFIED);
    }
    for (name, value) in &page.extra_headers {
        response = response.header(name.as_str(), value.as_str());
    }
    let body = if fresh { Vec::new() } else { page.body };
    (response.body(Body::from(body)).unwrap(), page.delay)
}

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture's bytes with `{{NAME}}` placeholders replaced (bytes, so any charset survives).
pub fn fixture(relative: &str, replacements: &[(&str, String)]) -> Vec<u8> {
    let mut text = std::fs::read(fixtures().join(relative)).unwrap();
    for (name, value) in replacements {
        let needle = format!("{{{{{name}}}}}");
        text = replace_bytes(&text, needle.as_bytes(), value.as_bytes());
    }
    text
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut index = 0;
    while index < haystack.len() {
        if haystack[index..].starts_with(needle) {
            out.extend_from_slice(with);
            index += needle.len();
        } else {
            out.push(haystack[index]);
            index += 1;
        }
    }
    out
}

/// The tributary binary built for these tests.
pub fn tributary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tributary"))
}

/// Runs tributary with `--config` and arguments, in `folder`.
pub fn run_tributary(folder: &Path, config: &Path, args: &[&str]) -> Output {
    tributary()
        .current_dir(folder)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("TRIBUTARY_LOG", "warn")
        .output()
        .unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Counts non-overlapping occurrences of `needle` in `haystack`.
pub fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

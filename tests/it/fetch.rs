//! Fault injection for the fetch layer against loopback servers: one test per behaviour.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tributary::config::FetchSettings;
use tributary::fetch::{FeedResponse, FetchError, Fetcher, Validators};
use url::Url;

const TEST_USER_AGENT: &str = "tributary-test/9.9 (+https://example.org/about)";

/// Loopback-friendly settings with short limits, so failing cases end quickly.
fn settings() -> FetchSettings {
    FetchSettings {
        user_agent: TEST_USER_AGENT.to_string(),
        allow_private_networks: true,
        timeout: Duration::from_millis(400),
        connect_timeout: Duration::from_millis(300),
        max_body_bytes: 1024 * 1024,
        max_concurrency: 16,
        per_host_concurrency: 4,
        per_host_delay: Duration::ZERO,
        respect_robots: false,
        max_redirects: 5,
        ..FetchSettings::default()
    }
}

fn fetcher(settings: &FetchSettings) -> Fetcher {
    Fetcher::new(settings).expect("fetcher")
}

async fn serve_on(ip: IpAddr, router: Router) -> SocketAddr {
    let listener = TcpListener::bind((ip, 0)).await.expect("bind loopback");
    let address = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    address
}

async fn serve(router: Router) -> SocketAddr {
    serve_on(IpAddr::V4(Ipv4Addr::LOCALHOST), router).await
}

fn url(address: SocketAddr, path: &str) -> Url {
    Url::parse(&format!("http://{address}{path}")).expect("test url")
}

async fn feed_error(address: SocketAddr, path: &str) -> FetchError {
    let settings = settings();
    match fetcher(&settings)
        .fetch_feed(&url(address, path), &Validators::default(), &settings)
        .await
    {
        Ok(_) => panic!("{path} should fail"),
        Err(error) => error,
    }
}

async fn fetched_feed(
    fetcher: &Fetcher,
    url: &Url,
    settings: &FetchSettings,
) -> tributary::fetch::Fetched {
    match fetcher
        .fetch_feed(url, &Validators::default(), settings)
        .await
    {
        Ok(FeedResponse::Fetched(fetched)) => fetched,
        other => panic!("expected a body from {url}, got {other:?}"),
    }
}

const RSS: &str =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title></channel></rss>";

fn rss() -> Response {
    ([(header::CONTENT_TYPE, "application/rss+xml")], RSS).into_response()
}

#[tokio::test]
async fn status_500_is_reported_without_retry_after() {
    let address =
        serve(Router::new().route("/", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))).await;
    let error = feed_error(address, "/").await;
    assert!(
        matches!(
            error,
            FetchError::Status {
                status: 500,
                retry_after: None
            }
        ),
        "{error:?}"
    );
    assert!(!error.is_gone());
}

#[tokio::test]
async fn status_503_carries_retry_after_seconds() {
    let router = Router::new().route(
        "/",
        get(|| async {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "120")],
            )
        }),
    );
    let error = feed_error(serve(router).await, "/").await;
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
}

#[tokio::test]
async fn status_429_carries_retry_after_seconds_and_date() {
    let in_an_hour = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    let router = Router::new()
        .route(
            "/seconds",
            get(|| async { (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "30")]) }),
        )
        .route(
            "/date",
            get(move || async move {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, in_an_hour)],
                )
            }),
        );
    let address = serve(router).await;
    let by_seconds = feed_error(address, "/seconds").await;
    assert_eq!(by_seconds.status(), Some(429));
    assert_eq!(by_seconds.retry_after(), Some(Duration::from_secs(30)));
    let by_date = feed_error(address, "/date").await;
    let delay = by_date.retry_after().expect("Retry-After date read");
    // The date has one-second resolution and a little time passes before we read it.
    assert!(
        delay > Duration::from_secs(3500) && delay <= Duration::from_secs(3600),
        "{delay:?}"
    );
}

#[tokio::test]
async fn retry_after_is_ignored_on_other_statuses() {
    let router = Router::new().route(
        "/",
        get(|| async {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::RETRY_AFTER, "60")],
            )
        }),
    );
    assert_eq!(
        feed_error(serve(router).await, "/").await.retry_after(),
        None
    );
}

#[tokio::test]
async fn status_404_is_not_gone_but_410_is() {
    let router = Router::new()
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/gone", get(|| async { StatusCode::GONE }));
    let address = serve(router).await;
    let missing = feed_error(address, "/missing").await;
    assert_eq!(missing.status(), Some(404));
    assert!(!missing.is_gone());
    let gone = feed_error(address, "/gone").await;
    assert_eq!(gone.status(), Some(410));
    assert!(gone.is_gone());
}

fn redirect(status: StatusCode, location: &'static str) -> Response {
    (status, [(header::LOCATION, location)]).into_response()
}

fn redirect_router() -> Router {
    Router::new()
        .route("/feed.xml", get(|| async { rss() }))
        .route(
            "/p1",
            get(|| async { redirect(StatusCode::MOVED_PERMANENTLY, "/p2") }),
        )
        .route(
            "/p2",
            get(|| async { redirect(StatusCode::PERMANENT_REDIRECT, "/feed.xml") }),
        )
        .route(
            "/mixed",
            get(|| async { redirect(StatusCode::MOVED_PERMANENTLY, "/temporary") }),
        )
        .route(
            "/temporary",
            get(|| async { redirect(StatusCode::FOUND, "/feed.xml") }),
        )
        .route(
            "/loop-a",
            get(|| async { redirect(StatusCode::FOUND, "/loop-b") }),
        )
        .route(
            "/loop-b",
            get(|| async { redirect(StatusCode::FOUND, "/loop-a") }),
        )
        .route(
            "/chain/{step}",
            get(
                |axum::extract::Path(step): axum::extract::Path<u32>| async move {
                    let next = format!("/chain/{}", step + 1);
                    (StatusCode::FOUND, [(header::LOCATION, next)]).into_response()
                },
            ),
        )
}

#[tokio::test]
async fn chain_of_301_and_308_is_reported_as_permanent() {
    let address = serve(redirect_router()).await;
    let settings = settings();
    let fetched = fetched_feed(&fetcher(&settings), &url(address, "/p1"), &settings).await;
    assert_eq!(fetched.final_url, url(address, "/feed.xml"));
    assert_eq!(fetched.permanent_redirect, Some(url(address, "/feed.xml")));
    assert_eq!(fetched.body, RSS.as_bytes());
}

#[tokio::test]
async fn chain_with_a_302_is_not_permanent() {
    let address = serve(redirect_router()).await;
    let settings = settings();
    let fetcher = fetcher(&settings);
    let mixed = fetched_feed(&fetcher, &url(address, "/mixed"), &settings).await;
    assert_eq!(mixed.final_url, url(address, "/feed.xml"));
    assert_eq!(mixed.permanent_redirect, None);
    let temporary = fetched_feed(&fetcher, &url(address, "/temporary"), &settings).await;
    assert_eq!(temporary.permanent_redirect, None);
    let direct = fetched_feed(&fetcher, &url(address, "/feed.xml"), &settings).await;
    assert_eq!(direct.permanent_redirect, None);
}

#[tokio::test]
async fn redirect_loop_is_detected() {
    let error = feed_error(serve(redirect_router()).await, "/loop-a").await;
    assert!(
        matches!(&error, FetchError::RedirectLoop(at) if at.ends_with("/loop-a")),
        "{error:?}"
    );
}

#[tokio::test]
async fn redirect_cap_is_enforced() {
    let error = feed_error(serve(redirect_router()).await, "/chain/0").await;
    assert!(
        matches!(error, FetchError::TooManyRedirects(5)),
        "{error:?}"
    );
}

/// Reads a request head, so that a raw server answers only once the client has asked.
async fn read_request_head(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    while !received.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(read) => received.extend_from_slice(&buffer[..read]),
        }
    }
    true
}

/// A raw TCP server running `handle` on every connection.
async fn raw_server<F, Fut>(handle: F) -> SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handle(stream));
        }
    });
    address
}

#[tokio::test]
async fn server_that_never_answers_times_out() {
    let address = raw_server(|stream| async move {
        // Accept, read nothing, answer nothing, keep the connection open.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    })
    .await;
    let error = feed_error(address, "/").await;
    assert!(
        matches!(error, FetchError::Timeout(limit) if limit == settings().timeout),
        "{error:?}"
    );
}

#[tokio::test]
async fn trickling_server_hits_the_total_timeout() {
    let address = raw_server(|mut stream| async move {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 1000\r\n\r\n";
        if !read_request_head(&mut stream).await || stream.write_all(head.as_bytes()).await.is_err()
        {
            return;
        }
        // One byte a second: every read succeeds, only a total timeout can stop it.
        for _ in 0..1000 {
            if stream.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await;
    let error = feed_error(address, "/").await;
    assert!(matches!(error, FetchError::Timeout(_)), "{error:?}");
}

#[tokio::test]
async fn endless_body_is_cut_at_the_cap() {
    let address = raw_server(|mut stream| async move {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n";
        if !read_request_head(&mut stream).await || stream.write_all(head.as_bytes()).await.is_err()
        {
            return;
        }
        let chunk = vec![b'a'; 64 * 1024];
        while stream.write_all(&chunk).await.is_ok() {}
    })
    .await;
    let error = feed_error(address, "/").await;
    assert!(
        matches!(error, FetchError::TooLarge(cap) if cap == settings().max_body_bytes),
        "{error:?}"
    );
}

#[tokio::test]
async fn announced_oversized_body_is_refused() {
    let big = vec![b'a'; 2 * 1024 * 1024];
    let router = Router::new().route("/", get(move || async move { big.clone() }));
    let error = feed_error(serve(router).await, "/").await;
    assert!(matches!(error, FetchError::TooLarge(_)), "{error:?}");
}

fn gzip(data_size: usize) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let zeros = vec![0u8; 1024 * 1024];
    let mut written = 0;
    while written < data_size {
        let take = zeros.len().min(data_size - written);
        encoder.write_all(&zeros[..take]).expect("compress");
        written += take;
    }
    encoder.finish().expect("compress")
}

fn gzip_router(compressed: Vec<u8>) -> Router {
    Router::new().route(
        "/",
        get(move || {
            let compressed = compressed.clone();
            async move {
                (
                    [
                        (header::CONTENT_ENCODING, "gzip"),
                        (header::CONTENT_TYPE, "application/rss+xml"),
                    ],
                    compressed,
                )
            }
        }),
    )
}

#[tokio::test]
async fn gzip_bomb_is_stopped_at_the_cap_after_decompression() {
    // 64 MiB of zeros compress to ~64 KiB: under the 1 MiB cap on the wire, far over it unpacked.
    let bomb = gzip(64 * 1024 * 1024);
    assert!((bomb.len() as u64) < settings().max_body_bytes);
    let error = feed_error(serve(gzip_router(bomb)).await, "/").await;
    assert!(matches!(error, FetchError::TooLarge(_)), "{error:?}");
}

#[tokio::test]
async fn gzip_body_under_the_cap_is_decompressed() {
    let address = serve(gzip_router(gzip(1000))).await;
    let settings = settings();
    let fetched = fetched_feed(&fetcher(&settings), &url(address, "/"), &settings).await;
    assert_eq!(fetched.body, vec![0u8; 1000]);
}

#[tokio::test]
async fn html_served_as_a_feed_is_returned_with_its_content_type() {
    let router = Router::new().route(
        "/feed",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<html><body>Not a feed</body></html>",
            )
        }),
    );
    let address = serve(router).await;
    let settings = settings();
    let fetched = fetched_feed(&fetcher(&settings), &url(address, "/feed"), &settings).await;
    // Fetching succeeds; telling a feed from a page is the parser's job, given the type.
    assert_eq!(
        fetched.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(fetched.body.starts_with(b"<html>"));
}

/// A router counting its hits, to prove a refused request never reached it.
fn counting_router(hits: Arc<AtomicUsize>) -> Router {
    Router::new().fallback(move || {
        let hits = hits.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            rss()
        }
    })
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let hits = Arc::new(AtomicUsize::new(0));
    let address = serve(counting_router(hits.clone())).await;
    let guarded = FetchSettings {
        allow_private_networks: false,
        ..settings()
    };
    let fetcher = fetcher(&guarded);
    for target in [
        url(address, "/literal"),
        Url::parse(&format!("http://localhost:{}/by-name", address.port())).expect("url"),
        Url::parse(&format!(
            "http://[::ffff:127.0.0.1]:{}/mapped",
            address.port()
        ))
        .expect("url"),
    ] {
        let error = fetcher
            .fetch_feed(&target, &Validators::default(), &guarded)
            .await
            .expect_err("private address must be refused");
        assert!(
            matches!(error, FetchError::PrivateAddress(_)),
            "{target}: {error:?}"
        );
        let page_error = fetcher
            .fetch_page(&target, &guarded)
            .await
            .expect_err("refused");
        assert!(
            matches!(page_error, FetchError::PrivateAddress(_)),
            "{target}: {page_error:?}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    // The same fetcher reaches it for a source that allows private networks.
    let allowed = settings();
    fetched_feed(&fetcher, &url(address, "/ok"), &allowed).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirect_to_a_refused_address_is_checked_on_the_hop() {
    let second_ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let inner_hits = Arc::new(AtomicUsize::new(0));
    let inner = serve_on(second_ip, counting_router(inner_hits.clone())).await;
    let inner_url = url(inner, "/secret").to_string();
    let outer = serve(Router::new().route("/feed", get(|| async { rss() })).route(
        "/bounce",
        get(move || {
            let location = inner_url.clone();
            async move { (StatusCode::FOUND, [(header::LOCATION, location)]) }
        }),
    ))
    .await;
    // Within the test, 127.0.0.1 plays a public host and 127.0.0.2 a private one.
    let guarded = FetchSettings {
        allow_private_networks: false,
        ..settings()
    };
    let only_first: tributary::fetch::AddressFilter =
        Arc::new(|address: IpAddr| address == IpAddr::V4(Ipv4Addr::LOCALHOST));
    let fetcher = Fetcher::with_address_filter(&guarded, only_first).expect("fetcher");
    fetched_feed(&fetcher, &url(outer, "/feed"), &guarded).await;
    let error = fetcher
        .fetch_feed(&url(outer, "/bounce"), &Validators::default(), &guarded)
        .await
        .expect_err("the hop must be refused");
    assert!(
        matches!(error, FetchError::PrivateAddress(ref text) if text.contains("127.0.0.2")),
        "{error:?}"
    );
    assert_eq!(inner_hits.load(Ordering::SeqCst), 0);
}

/// A site with a robots.txt disallowing `/private/`, counting robots.txt downloads.
fn robots_router(robots_hits: Arc<AtomicUsize>, robots: (StatusCode, &'static str)) -> Router {
    Router::new()
        .route(
            "/robots.txt",
            get(move || {
                let robots_hits = robots_hits.clone();
                async move {
                    robots_hits.fetch_add(1, Ordering::SeqCst);
                    robots
                }
            }),
        )
        .fallback(|| async {
            (
                [(header::CONTENT_TYPE, "text/html")],
                "<html><p>article</p></html>",
            )
        })
}

#[tokio::test]
async fn robots_txt_disallows_an_article_path_and_is_fetched_once() {
    let robots_hits = Arc::new(AtomicUsize::new(0));
    let rules = (StatusCode::OK, "User-agent: *\nDisallow: /private/\n");
    let address = serve(robots_router(robots_hits.clone(), rules)).await;
    let respectful = FetchSettings {
        respect_robots: true,
        ..settings()
    };
    let fetcher = fetcher(&respectful);
    let refused = fetcher
        .fetch_page(&url(address, "/private/story.html"), &respectful)
        .await;
    assert!(
        matches!(refused, Err(FetchError::RobotsDisallowed)),
        "{refused:?}"
    );
    for path in ["/public/one.html", "/public/two.html"] {
        let page = fetcher
            .fetch_page(&url(address, path), &respectful)
            .await
            .expect("allowed page");
        assert!(page.body.starts_with(b"<html>"));
    }
    assert_eq!(robots_hits.load(Ordering::SeqCst), 1);
    // Feeds are not subject to robots.txt, and a source may opt out for its pages.
    fetched_feed(&fetcher, &url(address, "/private/feed.xml"), &respectful).await;
    let opted_out = FetchSettings {
        respect_robots: false,
        ..settings()
    };
    fetcher
        .fetch_page(&url(address, "/private/story.html"), &opted_out)
        .await
        .expect("opted out");
    assert_eq!(robots_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn missing_robots_txt_allows_and_failing_one_blocks_temporarily() {
    let respectful = FetchSettings {
        respect_robots: true,
        ..settings()
    };
    let missing = serve(robots_router(Arc::default(), (StatusCode::NOT_FOUND, ""))).await;
    let fetcher = fetcher(&respectful);
    fetcher
        .fetch_page(&url(missing, "/private/a"), &respectful)
        .await
        .expect("no robots.txt: allowed");
    let failing = serve(robots_router(
        Arc::default(),
        (StatusCode::INTERNAL_SERVER_ERROR, ""),
    ))
    .await;
    let error = fetcher
        .fetch_page(&url(failing, "/a"), &respectful)
        .await
        .expect_err("5xx robots.txt");
    assert!(
        matches!(error, FetchError::RobotsUnavailable(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn conditional_get_gives_not_modified() {
    let seen_since = Arc::new(Mutex::new(Vec::new()));
    let seen = seen_since.clone();
    let router = Router::new().route(
        "/feed.xml",
        get(move |headers: HeaderMap| {
            let seen = seen.clone();
            async move {
                let since = headers
                    .get(header::IF_MODIFIED_SINCE)
                    .map(|v| v.to_str().unwrap_or("").to_string());
                seen.lock().expect("lock").push(since);
                if headers
                    .get(header::IF_NONE_MATCH)
                    .is_some_and(|v| v == "\"v1\"")
                {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                (
                    [
                        (header::ETAG, "\"v1\""),
                        (header::LAST_MODIFIED, "Sun, 06 Nov 1994 08:49:37 GMT"),
                        (header::CACHE_CONTROL, "max-age=900"),
                    ],
                    RSS,
                )
                    .into_response()
            }
        }),
    );
    let address = serve(router).await;
    let settings = settings();
    let fetcher = fetcher(&settings);
    let first = fetched_feed(&fetcher, &url(address, "/feed.xml"), &settings).await;
    assert_eq!(first.validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(first.cache_lifetime, Some(Duration::from_secs(900)));
    let second = fetcher
        .fetch_feed(&url(address, "/feed.xml"), &first.validators, &settings)
        .await
        .expect("conditional fetch");
    assert!(matches!(second, FeedResponse::NotModified), "{second:?}");
    let seen = seen_since.lock().expect("lock").clone();
    assert_eq!(
        seen,
        vec![None, Some("Sun, 06 Nov 1994 08:49:37 GMT".to_string())]
    );
}

#[tokio::test]
async fn not_modified_after_a_permanent_redirect_still_reports_it() {
    let router = Router::new()
        .route(
            "/old",
            get(|| async { redirect(StatusCode::MOVED_PERMANENTLY, "/new") }),
        )
        .route(
            "/new",
            get(|| async {
                (
                    StatusCode::NOT_MODIFIED,
                    [(header::CACHE_CONTROL, "max-age=60")],
                )
            }),
        );
    let address = serve(router).await;
    let settings = settings();
    let validators = Validators {
        etag: Some("\"v1\"".to_string()),
        last_modified: None,
    };
    let answer = fetcher(&settings)
        .fetch_feed_answer(&url(address, "/old"), &validators, &settings)
        .await
        .expect("answer");
    assert!(matches!(answer.response, FeedResponse::NotModified));
    assert_eq!(answer.permanent_redirect, Some(url(address, "/new")));
    assert_eq!(answer.cache_lifetime, Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn every_request_carries_the_user_agent_and_sensible_headers() {
    let log: Arc<Mutex<Vec<(String, HeaderMap)>>> = Arc::default();
    let recorded = log.clone();
    let router = Router::new().fallback(move |uri: axum::http::Uri, headers: HeaderMap| {
        let recorded = recorded.clone();
        async move {
            recorded
                .lock()
                .expect("lock")
                .push((uri.path().to_string(), headers));
            match uri.path() {
                "/old-feed" => redirect(StatusCode::MOVED_PERMANENTLY, "/feed"),
                "/robots.txt" => "User-agent: *\nAllow: /\n".into_response(),
                _ => rss(),
            }
        }
    });
    let address = serve(router).await;
    let settings = FetchSettings {
        respect_robots: true,
        ..settings()
    };
    let fetcher = fetcher(&settings);
    fetched_feed(&fetcher, &url(address, "/old-feed"), &settings).await;
    fetcher
        .fetch_page(&url(address, "/article"), &settings)
        .await
        .expect("page");
    let log = log.lock().expect("lock").clone();
    let paths: Vec<&str> = log.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(paths, ["/old-feed", "/feed", "/robots.txt", "/article"]);
    for (path, headers) in &log {
        let header_text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(header_text(header::USER_AGENT), TEST_USER_AGENT, "{path}");
        let encodings = header_text(header::ACCEPT_ENCODING);
        for encoding in ["gzip", "br", "deflate"] {
            assert!(encodings.contains(encoding), "{path}: {encodings}");
        }
    }
    let accept_of = |index: usize| {
        log[index]
            .1
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert!(accept_of(0).contains("application/rss+xml"));
    assert!(accept_of(3).starts_with("text/html"));
}

/// What a server saw of one request: when it arrived and how many were in flight then.
#[derive(Default)]
struct ArrivalLog {
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    arrivals: Mutex<Vec<Instant>>,
}

fn logging_router(log: Arc<ArrivalLog>, hold: Duration) -> Router {
    Router::new().fallback(move || {
        let log = log.clone();
        async move {
            let now_in_flight = log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            log.most_in_flight
                .fetch_max(now_in_flight, Ordering::SeqCst);
            log.arrivals.lock().expect("lock").push(Instant::now());
            tokio::time::sleep(hold).await;
            log.in_flight.fetch_sub(1, Ordering::SeqCst);
            rss()
        }
    })
}

/// Fires `count` feed and page fetches at once at `address`, half of each.
async fn fire_many(fetcher: &Fetcher, settings: &FetchSettings, address: SocketAddr, count: usize) {
    let mut tasks = Vec::new();
    for index in 0..count {
        let (fetcher, settings) = (fetcher.clone(), settings.clone());
        let target = url(address, &format!("/source-{index}"));
        tasks.push(tokio::spawn(async move {
            if index % 2 == 0 {
                fetcher
                    .fetch_feed(&target, &Validators::default(), &settings)
                    .await
                    .map(|_| ())
            } else {
                fetcher.fetch_page(&target, &settings).await.map(|_| ())
            }
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("fetch");
    }
}

#[tokio::test]
async fn per_host_concurrency_limit_holds_under_load() {
    let log = Arc::new(ArrivalLog::default());
    let address = serve(logging_router(log.clone(), Duration::from_millis(20))).await;
    let settings = FetchSettings {
        per_host_concurrency: 3,
        timeout: Duration::from_secs(30),
        ..settings()
    };
    fire_many(&fetcher(&settings), &settings, address, 50).await;
    assert_eq!(log.arrivals.lock().expect("lock").len(), 50);
    assert!(log.most_in_flight.load(Ordering::SeqCst) <= 3);
}

#[tokio::test]
async fn per_host_delay_is_kept_between_request_starts() {
    let log = Arc::new(ArrivalLog::default());
    let address = serve(logging_router(log.clone(), Duration::ZERO)).await;
    let delay = Duration::from_millis(40);
    let settings = FetchSettings {
        per_host_concurrency: 2,
        per_host_delay: delay,
        timeout: Duration::from_secs(30),
        ..settings()
    };
    fire_many(&fetcher(&settings), &settings, address, 20).await;
    let arrivals = log.arrivals.lock().expect("lock").clone();
    assert_eq!(arrivals.len(), 20);
    assert!(log.most_in_flight.load(Ordering::SeqCst) <= 2);
    // Arrivals are measured at the server, so each gap may be shortened by the difference in
    // loopback transit between two requests; half the delay is ample slack for that, while
    // without the limiter the gaps would be near zero. Over the whole run the jitter cancels.
    for pair in arrivals.windows(2) {
        assert!(
            pair[1] - pair[0] >= delay / 2,
            "gap {:?}",
            pair[1] - pair[0]
        );
    }
    let whole_run = *arrivals.last().expect("arrivals") - arrivals[0];
    assert!(whole_run >= delay * 19 - delay / 2, "{whole_run:?}");
}

#[tokio::test]
async fn a_busy_host_does_not_hold_up_another() {
    let release = Arc::new(tokio::sync::Notify::new());
    let released = release.clone();
    let router = Router::new()
        .route(
            "/slow",
            get(move || {
                let released = released.clone();
                async move {
                    released.notified().await;
                    rss()
                }
            }),
        )
        .route("/fast", get(|| async { rss() }));
    let address = serve(router).await;
    let settings = FetchSettings {
        per_host_concurrency: 1,
        timeout: Duration::from_secs(30),
        ..settings()
    };
    let fetcher = fetcher(&settings);
    let slow = {
        let (fetcher, settings) = (fetcher.clone(), settings.clone());
        let target = url(address, "/slow");
        tokio::spawn(async move {
            fetcher
                .fetch_feed(&target, &Validators::default(), &settings)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // "localhost" is another host for the limiter, although the same server.
    let other_host = Url::parse(&format!("http://localhost:{}/fast", address.port())).expect("url");
    fetched_feed(&fetcher, &other_host, &settings).await;
    assert!(!slow.is_finished());
    release.notify_one();
    assert!(matches!(
        slow.await.expect("task"),
        Ok(FeedResponse::Fetched(_))
    ));
}

#[tokio::test]
async fn refused_connection_is_a_network_error_naming_the_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr");
    drop(listener);
    let error = feed_error(address, "/").await;
    assert!(
        matches!(&error, FetchError::Network(text) if text.to_lowercase().contains("refused")),
        "{error}"
    );
}

#[tokio::test]
async fn a_redirect_into_a_disallowed_path_is_not_followed() {
    let private_hits = Arc::new(AtomicUsize::new(0));
    let counted = private_hits.clone();
    let router = Router::new()
        .route(
            "/robots.txt",
            get(|| async { "User-agent: tributary\nDisallow: /private/\n" }),
        )
        .route(
            "/moved",
            get(|| async { redirect(StatusCode::FOUND, "/private/story") }),
        )
        .route(
            "/private/story",
            get(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    "<html></html>"
                }
            }),
        );
    let address = serve(router).await;
    let respectful = FetchSettings {
        respect_robots: true,
        ..settings()
    };
    let error = fetcher(&respectful)
        .fetch_page(&url(address, "/moved"), &respectful)
        .await
        .expect_err("disallowed after the redirect");
    assert!(matches!(error, FetchError::RobotsDisallowed), "{error:?}");
    assert_eq!(private_hits.load(Ordering::SeqCst), 0);
}

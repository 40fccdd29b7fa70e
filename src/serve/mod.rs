//! HTTP routes: the merged feed with caching headers, the river and topic pages, `/sources`,
//! `/status`, `/healthz`, `/metrics`. The one place errors become HTTP statuses.
//!
//! The accept loop, connection caps and deadlines live in `connections` and the files beside it.

mod archive;
pub mod client;
pub mod connections;
pub mod counters;
pub mod deadline;
pub mod limits;
mod search;
mod websub;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::RwLock;

use crate::config::{Config, OutputFormat};
use crate::output::{FeedCache, Rendered};
use crate::publish::html;
use crate::store::{self, Store};

/// What the routes read: the rendered feeds, the store (for `/status`) and the live config.
#[derive(Clone)]
pub struct ServeState {
    pub cache: FeedCache,
    pub store: Store,
    pub config: Arc<RwLock<Arc<Config>>>,
    /// The accept loop's counters, exported at `/metrics`.
    pub connections: Arc<counters::ConnectionCounters>,
    /// The river's lead images, fetched for the pages' own origin.
    pub images: Arc<crate::fetch::images::ImageProxy>,
    /// Where verified WebSub pushes go (the daemon's pipeline); `None`: pushes are refused.
    pub pushes: Option<tokio::sync::mpsc::Sender<crate::websub::Push>>,
}

/// What a handler's `State` extractor hands out: the router clones its state for every
/// request, and one reference count is cheaper than the six of `ServeState`'s fields (which
/// the profile of a 304 showed at 2.5 % of the server's CPU, cloning and dropping them).
pub type SharedState = Arc<ServeState>;

pub fn router(state: ServeState) -> Router {
    Router::new()
        .route("/feed.atom", get(atom))
        .route("/feed.rss", get(rss))
        .route("/feed.json", get(json))
        .route("/", get(river_first_page))
        .route("/page/{number}", get(river_page))
        .route("/tags/{tag}", get(topic))
        .route("/tags/{tag}/page/{number}", get(topic_page))
        .route("/style.css", get(stylesheet))
        .route("/images/{key}", get(lead_image))
        .route("/sources", get(sources_page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/status", get(status))
        .route("/opml", get(opml))
        .route("/search", get(search::page))
        .route("/search.atom", get(search::feed))
        .route("/archive/{file}", get(archive::page))
        .route("/websub/{source}", get(websub::verify).post(websub::push))
        .route("/metrics", get(metrics_text))
        .layer(axum::middleware::from_fn(count_request))
        .with_state(Arc::new(state))
}

/// Counts each request by its route pattern (never the raw path, which any client can vary)
/// and status, for `/metrics`.
async fn count_request(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    // `MatchedPath` shares the route's pattern: holding it costs a reference count, where a
    // `String` would cost an allocation per request.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", |path| path.as_str());
    crate::metrics::record_request(route, response.status().as_u16());
    response
}

/// The Prometheus text exposition.
async fn metrics_text(State(state): State<SharedState>) -> Response {
    let database = state.config.read().await.database.clone();
    let size = match state.store.backend() {
        store::Backend::Sqlite => crate::metrics::database_size(&database),
        // A failed size query leaves the metric at 0 rather than failing the whole scrape.
        store::Backend::Postgres => state.store.call(store::database_size).await.unwrap_or(0),
    };
    let mut body = crate::metrics::global().render(size);
    crate::metrics::render_connections(&mut body, &state.connections.snapshot());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

async fn atom(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    feed(&state, &headers, OutputFormat::Atom)
}

async fn rss(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    feed(&state, &headers, OutputFormat::Rss)
}

async fn json(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    feed(&state, &headers, OutputFormat::Json)
}

fn feed(state: &ServeState, request: &HeaderMap, format: OutputFormat) -> Response {
    let snapshot = state.cache.current();
    respond(snapshot.get(format), request)
}

/// Ready bytes with their validators: a 304 when the client has them, gzip when accepted.
/// The headers come ready with the bytes (`output::Prepared`): a request copies a small map
/// and shares the body, nothing is formatted or parsed.
fn respond(rendered: &Rendered, request: &HeaderMap) -> Response {
    let prepared = &rendered.prepared;
    let (status, body, headers) = if not_modified(request, rendered) {
        (
            StatusCode::NOT_MODIFIED,
            Body::empty(),
            &prepared.not_modified,
        )
    } else if accepts_gzip(request) {
        (
            StatusCode::OK,
            Body::from(rendered.gzip.clone()),
            &prepared.gzip,
        )
    } else {
        (
            StatusCode::OK,
            Body::from(rendered.body.clone()),
            &prepared.plain,
        )
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers.clone();
    response
}

/// A page or topic feed of the current snapshot, or a 404 page.
fn snapshot_page(state: &ServeState, request: &HeaderMap, path: &str) -> Response {
    let snapshot = state.cache.current();
    match snapshot.page(path) {
        Some(rendered) => respond(rendered, request),
        None => not_found(),
    }
}

fn not_found() -> Response {
    let mut response = (
        StatusCode::NOT_FOUND,
        axum::response::Html(
            "<!doctype html><html lang=\"en\"><title>Not found</title>\
            <p>No such page. <a href=\"/\">Back to the river</a>.</p></html>",
        ),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(html::CONTENT_SECURITY_POLICY),
    );
    response
}

async fn river_first_page(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    snapshot_page(&state, &headers, "/")
}

async fn river_page(
    State(state): State<SharedState>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
    snapshot_page(&state, &headers, &format!("/page/{number}"))
}

/// A topic's river page (`/tags/rust`) or feed (`/tags/rust.atom`, `.rss`, `.json`).
async fn topic(
    State(state): State<SharedState>,
    Path(tag): Path<String>,
    headers: HeaderMap,
) -> Response {
    snapshot_page(&state, &headers, &format!("/tags/{tag}"))
}

async fn topic_page(
    State(state): State<SharedState>,
    Path((tag, number)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    snapshot_page(&state, &headers, &format!("/tags/{tag}/page/{number}"))
}

/// A lead image the current pages show, fetched once and served from memory; any other key
/// is a 404, so this is no open proxy.
async fn lead_image(State(state): State<SharedState>, Path(key): Path<String>) -> Response {
    let Some(url) = state
        .cache
        .current()
        .images
        .get(&format!("/images/{key}"))
        .cloned()
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match state.images.get(&url).await {
        Ok(image) => (
            [
                (header::CONTENT_TYPE, image.content_type),
                (header::CACHE_CONTROL, "public, max-age=86400".to_string()),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            ],
            image.body,
        )
            .into_response(),
        Err(error) => {
            tracing::debug!(%error, url, "lead image");
            StatusCode::BAD_GATEWAY.into_response()
        }
    }
}

/// The one stylesheet: fixed bytes, so a day's caching and a strong ETag.
async fn stylesheet(headers: HeaderMap) -> Response {
    static STYLESHEET: std::sync::LazyLock<Rendered> = std::sync::LazyLock::new(|| {
        crate::output::rendered(
            html::STYLESHEET.to_string(),
            chrono::DateTime::UNIX_EPOCH,
            "text/css; charset=utf-8",
        )
        .with_cache_control("public, max-age=86400")
    });
    respond(&STYLESHEET, &headers)
}

/// Every source's health for a person: the data of `/status`, with a 14-day chart each.
async fn sources_page(State(state): State<SharedState>) -> Response {
    let config = state.config.read().await.clone();
    let keys = crate::status::source_keys(&config);
    let loaded = state
        .store
        .call(move |connection| {
            Ok((
                store::load_statuses(connection, &keys)?,
                store::entries_per_day(connection, chrono::Utc::now(), html::sources::CHART_DAYS)?,
            ))
        })
        .await;
    match loaded {
        Ok((statuses, per_day)) => {
            let page = crate::status::sources_page(&config, &statuses, &per_day);
            let mut response = axum::response::Html(page).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(html::CONTENT_SECURITY_POLICY),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        Err(error) => {
            tracing::error!(%error, "sources page");
            (StatusCode::INTERNAL_SERVER_ERROR, "database error\n").into_response()
        }
    }
}

/// RFC 9110: If-None-Match wins over If-Modified-Since when both are sent.
fn not_modified(request: &HeaderMap, rendered: &Rendered) -> bool {
    if let Some(value) = request.get(header::IF_NONE_MATCH) {
        // The common case first: the client sends back exactly the ETag it was given.
        if value.as_bytes() == rendered.etag.as_bytes() {
            return true;
        }
        let Ok(tags) = value.to_str() else {
            return false;
        };
        return tags
            .split(',')
            .map(|tag| tag.trim().trim_start_matches("W/"))
            .any(|tag| tag == "*" || tag == rendered.etag);
    }
    request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| {
            chrono::DateTime::<chrono::Utc>::from(since).timestamp()
                >= rendered.prepared.last_modified_secs
        })
}

fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

async fn status(State(state): State<SharedState>) -> Response {
    let config = state.config.read().await.clone();
    let keys = crate::status::source_keys(&config);
    let alive = crate::fleet::alive_within(&config);
    match state
        .store
        .call(move |connection| {
            Ok((
                store::load_statuses(connection, &keys)?,
                store::database_stats(connection)?,
                store::live_instances(connection, alive)?,
            ))
        })
        .await
    {
        Ok((statuses, stats, instances)) => {
            let mut json = crate::status::to_json(&statuses);
            json["database"] = crate::status::database_json(&config.database, &stats);
            json["instances"] = crate::status::instances_json(&instances);
            axum::Json(json).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "status");
            (StatusCode::INTERNAL_SERVER_ERROR, "database error\n").into_response()
        }
    }
}

/// The sources as OPML 2.0, for another reader; the site links are a nicety, so a database
/// error only leaves them out.
async fn opml(State(state): State<SharedState>) -> Response {
    let config = state.config.read().await.clone();
    let keys = crate::status::source_keys(&config);
    let links = state
        .store
        .call(move |connection| store::site_links(connection, &keys))
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "opml: site links");
            Default::default()
        });
    let body = crate::opml::render(
        &config.output.title,
        &crate::opml::from_config(&config, &links),
    );
    ([(header::CONTENT_TYPE, "text/x-opml; charset=utf-8")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> Rendered {
        let date = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut rendered = crate::output::rendered("x".into(), date, "text/plain");
        rendered.etag = "\"abc\"".into();
        rendered
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn conditional_requests_match_etag_then_date() {
        let r = rendered();
        assert!(not_modified(
            &headers(&[(header::IF_NONE_MATCH, "\"abc\"")]),
            &r
        ));
        assert!(not_modified(
            &headers(&[(header::IF_NONE_MATCH, "W/\"abc\", \"d\"")]),
            &r
        ));
        assert!(!not_modified(
            &headers(&[(header::IF_NONE_MATCH, "\"old\"")]),
            &r
        ));
        let date = httpdate::fmt_http_date(r.last_modified.into());
        assert!(not_modified(
            &headers(&[(header::IF_MODIFIED_SINCE, &date)]),
            &r
        ));
        assert!(!not_modified(
            &headers(&[
                (header::IF_NONE_MATCH, "\"old\""),
                (header::IF_MODIFIED_SINCE, &date)
            ]),
            &r
        ));
    }

    /// The prepared headers: every answer about a document carries its ETag and caching
    /// headers; only a 200 its type and date, only the gzip answer `Content-Encoding`.
    #[tokio::test]
    async fn each_answer_carries_the_documents_prepared_headers() {
        let date = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let page =
            crate::output::rendered("<p>page</p>".repeat(50), date, "text/html; charset=utf-8");
        let etag = page.etag.clone();
        let expect = |response: &Response, cache_control: &str| {
            let headers = response.headers();
            assert_eq!(headers[header::ETAG], etag.as_str());
            assert_eq!(headers[header::CACHE_CONTROL], cache_control);
            assert_eq!(headers[header::VARY], "Accept-Encoding");
            // Representation metadata on a 200 only (RFC 9110 15.4.5).
            let full = response.status() == StatusCode::OK;
            for name in [
                header::CONTENT_TYPE,
                header::LAST_MODIFIED,
                header::X_CONTENT_TYPE_OPTIONS,
                header::CONTENT_SECURITY_POLICY,
            ] {
                assert_eq!(headers.contains_key(&name), full, "{name}");
            }
            if full {
                assert_eq!(
                    headers[header::LAST_MODIFIED],
                    "Tue, 14 Nov 2023 22:13:20 GMT"
                );
            }
        };
        let body = |response: Response| async {
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap()
        };

        let plain = respond(&page, &HeaderMap::new());
        assert_eq!(plain.status(), StatusCode::OK);
        expect(&plain, "public, max-age=60");
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body(plain).await, page.body);

        let gzip = respond(&page, &headers(&[(header::ACCEPT_ENCODING, "gzip")]));
        expect(&gzip, "public, max-age=60");
        assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(body(gzip).await, page.gzip);

        let not_modified = respond(&page, &headers(&[(header::IF_NONE_MATCH, &etag)]));
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        expect(&not_modified, "public, max-age=60");
        assert!(body(not_modified).await.is_empty());

        let page = page.with_cache_control("public, max-age=86400");
        let since = headers(&[(header::IF_MODIFIED_SINCE, "Tue, 14 Nov 2023 22:13:20 GMT")]);
        let not_modified = respond(&page, &since);
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        expect(&not_modified, "public, max-age=86400");
    }

    #[test]
    fn gzip_only_when_accepted() {
        assert!(accepts_gzip(&headers(&[(
            header::ACCEPT_ENCODING,
            "br, gzip"
        )])));
        assert!(!accepts_gzip(&headers(&[(
            header::ACCEPT_ENCODING,
            "gzip;q=0"
        )])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}

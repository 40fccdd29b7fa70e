//! `/search?q=` (an HTML page) and `/search.atom?q=` (a feed a reader can subscribe to).
//!
//! Unlike the merged feed, results are rendered per request: a query can be anything. The cost
//! is bounded: at most [`RESULTS`] stories, at most 8 terms (`store::SearchQuery`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::{ServeState, SharedState};
use crate::config::OutputFormat;
use crate::publish::html::search::{self as page_html, Found};
use crate::publish::{self, FeedLinks, FeedMeta, snippet};
use crate::store::{self, SearchHit, SearchQuery};

/// How many stories a search shows, newest first.
pub const RESULTS: usize = 50;

/// How many characters of text a result's snippet shows.
const SNIPPET_CHARS: usize = 240;

#[derive(Debug, serde::Deserialize)]
pub struct Params {
    #[serde(default)]
    q: String,
}

async fn run(state: &ServeState, query: SearchQuery) -> Result<Vec<SearchHit>, Response> {
    state
        .store
        .call(move |connection| store::search_stories(connection, &query, RESULTS))
        .await
        .map_err(|error| {
            tracing::error!(%error, "search");
            (StatusCode::INTERNAL_SERVER_ERROR, "database error\n").into_response()
        })
}

/// The search page; with no query, only its form.
pub async fn page(State(state): State<SharedState>, Query(params): Query<Params>) -> Response {
    let shell = crate::site::shell(&state.config.read().await.clone());
    let query = SearchQuery::parse(&params.q);
    let terms: Vec<String> = query.terms().map(str::to_string).collect();
    let hits = match run(&state, query).await {
        Ok(hits) => hits,
        Err(response) => return response,
    };
    let found: Vec<Found> = hits.into_iter().map(|hit| found(hit, &terms)).collect();
    let mut response = Html(page_html::render(&shell, &params.q, &found)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::publish::html::CONTENT_SECURITY_POLICY),
    );
    response
}

fn found(hit: SearchHit, terms: &[String]) -> Found {
    let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
    let story = hit.story;
    Found {
        sources: story
            .sources
            .iter()
            .map(|source| {
                let name = source.feed_title.clone().unwrap_or(source.name.clone());
                (name, source.link.clone())
            })
            .collect(),
        snippet: snippet::snippet(&hit.text, &terms, SNIPPET_CHARS),
        title: story.title,
        link: story.link,
        published: story.published,
    }
}

/// The results as an Atom feed, self-linked at its own query, with ETag and 304 as the merged
/// feed has. A missing or empty query is a 400: there is nothing to subscribe to.
pub async fn feed(
    State(state): State<SharedState>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let query = SearchQuery::parse(&params.q);
    if query.is_empty() {
        let message = "search.atom needs a query: /search.atom?q=words\n";
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let config = state.config.read().await.clone();
    let hits = match run(&state, query).await {
        Ok(hits) => hits,
        Err(response) => return response,
    };
    let entries: Vec<_> = hits
        .into_iter()
        .map(|hit| crate::output::to_published(hit.story))
        .collect();
    let updated = crate::output::newest_update(&entries);
    let encoded: String = url::form_urlencoded::byte_serialize(params.q.as_bytes()).collect();
    let meta = FeedMeta {
        title: format!("{}: “{}”", config.output.title, params.q.trim()),
        description: None,
        public_url: config.public_url.clone(),
        updated,
        topic: None,
        links: FeedLinks {
            self_path: Some(format!("search.atom?q={encoded}")),
            ..FeedLinks::default()
        },
    };
    let text = publish::render_with(&meta, &entries, OutputFormat::Atom, &config.video_hosts);
    let rendered =
        crate::output::rendered(text, updated, publish::content_type(OutputFormat::Atom));
    super::respond(&rendered, &headers)
}

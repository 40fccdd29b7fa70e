//! `/archive/{page}.atom|rss|json`: the catch-up archive pages (RFC 5005, `publish::archive`).
//!
//! A complete page never changes (pruning aside), so it is cached for a year as immutable; the
//! newest, still filling, for a minute like the merged feed. Both carry an ETag.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::SharedState;
use crate::publish::archive;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const OPEN: &str = "public, max-age=60";

pub async fn page(
    State(state): State<SharedState>,
    Path(file_name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((number, format)) = archive::parse_file_name(&file_name) else {
        return (StatusCode::NOT_FOUND, "no such archive page\n").into_response();
    };
    let config = state.config.read().await.clone();
    match crate::output::archive_page(&state.store, &config, number, format).await {
        Ok(Some((rendered, complete))) => {
            let cache_control = if complete { IMMUTABLE } else { OPEN };
            super::respond(&rendered.with_cache_control(cache_control), &headers)
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such archive page\n").into_response(),
        Err(error) => {
            tracing::error!(%error, "archive page");
            (StatusCode::INTERNAL_SERVER_ERROR, "database error\n").into_response()
        }
    }
}

//! `/websub/{source}`: the WebSub callback of a `websub = true` source. GET answers the hub's
//! intent check, POST takes a signed push and hands it to the daemon's pipeline.
//!
//! Only subscriptions tributary asked for are answered (else 404), and only pushes signed with
//! the subscription's secret are accepted: anything else is refused (403), logged, never stored.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ServeState, SharedState};
use crate::store::{self, Subscription};
use crate::websub::{LEASE_SECONDS, Push, check_signature, intent_matches};

async fn subscription_of(
    state: &ServeState,
    source: &str,
) -> Result<Option<Subscription>, Response> {
    let name = source.to_string();
    state
        .store
        .call(move |connection| store::subscription(connection, &name))
        .await
        .map_err(|error| {
            tracing::error!(%error, "websub callback");
            (StatusCode::INTERNAL_SERVER_ERROR, "database error\n").into_response()
        })
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such subscription\n").into_response()
}

/// The hub's intent verification: echo `hub.challenge` and record the lease, or 404.
pub async fn verify(
    State(state): State<SharedState>,
    Path(source): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let param = |key: &str| params.get(key).map(String::as_str).unwrap_or_default();
    let subscription = match subscription_of(&state, &source).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if param("hub.mode") == "denied"
        && subscription
            .as_ref()
            .is_some_and(|found| found.topic == param("hub.topic"))
    {
        tracing::warn!(%source, reason = param("hub.reason"), "websub: the hub denied the subscription");
        let _ = state
            .store
            .call(move |connection| store::delete_subscription(connection, &source))
            .await;
        return StatusCode::OK.into_response();
    }
    let challenge = param("hub.challenge").to_string();
    if challenge.is_empty()
        || !intent_matches(subscription.as_ref(), param("hub.mode"), param("hub.topic"))
    {
        tracing::warn!(%source, mode = param("hub.mode"), topic = param("hub.topic"), "websub: intent check for no subscription of ours: 404");
        return not_found();
    }
    let lease = param("hub.lease_seconds")
        .parse::<i64>()
        .ok()
        .filter(|lease| *lease > 0)
        .unwrap_or(LEASE_SECONDS as i64);
    let name = source.clone();
    let confirmed = state
        .store
        .call(move |connection| {
            store::confirm_subscription(connection, &name, lease, chrono::Utc::now())
        })
        .await;
    if let Err(error) = confirmed {
        tracing::error!(%error, "websub: recording the lease");
        return (StatusCode::INTERNAL_SERVER_ERROR, "database error\n").into_response();
    }
    tracing::info!(%source, lease_seconds = lease, "websub: subscription verified");
    ([(header::CONTENT_TYPE, "text/plain")], challenge).into_response()
}

/// A pushed feed document: accepted (202) only with a valid `X-Hub-Signature`.
pub async fn push(
    State(state): State<SharedState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let subscription = match subscription_of(&state, &source).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(response) => return response,
    };
    let signature = headers
        .get("x-hub-signature")
        .and_then(|value| value.to_str().ok());
    if let Err(error) = check_signature(signature, &subscription.secret, &body) {
        tracing::warn!(%source, bytes = body.len(), "websub: push refused: {error}");
        return (StatusCode::FORBIDDEN, format!("push refused: {error}\n")).into_response();
    }
    let Some(pushes) = &state.pushes else {
        return (StatusCode::SERVICE_UNAVAILABLE, "pushes not taken\n").into_response();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let push = Push {
        source,
        body: body.to_vec(),
        content_type,
    };
    match pushes.try_send(push) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy, retry later\n").into_response(),
    }
}

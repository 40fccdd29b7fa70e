//! WebSub consuming: when to subscribe, renew and poll a `websub = true` source, how a hub's
//! intent check is answered and how a push's `X-Hub-Signature` is checked.
//!
//! The network calls are in `fetch::websub`, the rows in `store` (`websub_subscriptions`), the
//! callback route in `serve::websub`; pushed bodies go through `pipeline::process_pushed`.
//! Deciding (renewal due? signature right? intent matches?) is pure and tested without a
//! runtime.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};

use crate::config::{Config, Source};
use crate::fetch::websub::{SubscribeRequest, subscribe};
use crate::parse::HubLinks;
use crate::pipeline::Context;
use crate::store::{self, Subscription};

/// The lease asked of hubs (10 days, a common hub default); hubs may grant another.
pub const LEASE_SECONDS: u64 = 10 * 24 * 3600;
/// While a subscription is active, scheduled polls of its source run at most this often: a
/// safety net for lost pushes, not the way news arrives.
pub const SAFETY_NET_POLL: Duration = Duration::from_secs(2 * 3600);
/// How often the daemon looks for leases to renew (one small query).
pub const RENEWAL_CHECK: Duration = Duration::from_secs(5);
/// A request the hub has not verified after this long is sent again.
const PENDING_RETRY: chrono::Duration = chrono::Duration::minutes(10);
/// Pushes waiting to be processed (beyond that, the callback answers 503 and the hub retries).
pub const PUSH_QUEUE: usize = 64;

/// A verified push handed from the callback route to the daemon.
#[derive(Debug)]
pub struct Push {
    pub source: String,
    pub body: Vec<u8>,
    pub content_type: Option<String>,
}

/// Why a push was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SignatureError {
    #[error("no X-Hub-Signature header (unsigned push)")]
    Missing,
    #[error("X-Hub-Signature is not `method=hex`")]
    Malformed,
    #[error(
        "X-Hub-Signature uses {0}, which tributary does not check (sha1 needs a crate not \
         available to this build): use sha256, sha384 or sha512"
    )]
    Unsupported(String),
    #[error("X-Hub-Signature does not match the body (wrong secret or altered content)")]
    Mismatch,
}

/// Checks `X-Hub-Signature: sha256=<hex>` (or sha384/sha512) over the raw body with the
/// subscription's secret, in constant time (`Mac::verify_slice`).
pub fn check_signature(
    header: Option<&str>,
    secret: &str,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let (method, hex) = header
        .trim()
        .split_once('=')
        .ok_or(SignatureError::Malformed)?;
    let expected = decode_hex(hex).ok_or(SignatureError::Malformed)?;
    let key = secret.as_bytes();
    let matches = match method.to_ascii_lowercase().as_str() {
        "sha256" => verify::<Hmac<sha2::Sha256>>(key, body, &expected),
        "sha384" => verify::<Hmac<sha2::Sha384>>(key, body, &expected),
        "sha512" => verify::<Hmac<sha2::Sha512>>(key, body, &expected),
        other => return Err(SignatureError::Unsupported(other.to_string())),
    };
    matches.then_some(()).ok_or(SignatureError::Mismatch)
}

fn verify<M: Mac + KeyInit>(key: &[u8], body: &[u8], expected: &[u8]) -> bool {
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let hex = hex.trim();
    if !hex.len().is_multiple_of(2) || hex.is_empty() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(hex.get(index..index + 2)?, 16).ok())
        .collect()
}

/// The hub's intent check (`GET ?hub.mode=subscribe&hub.topic=..`) is answered only for a
/// subscription tributary asked for, with the topic it asked for.
pub fn intent_matches(subscription: Option<&Subscription>, mode: &str, topic: &str) -> bool {
    match subscription {
        Some(subscription) => match mode {
            "subscribe" => subscription.topic == topic,
            _ => false,
        },
        None => false,
    }
}

/// How long before the lease ends a renewal goes out: a tenth of the lease, but at least an
/// hour (or half the lease, for leases shorter than two hours).
pub fn renew_before(lease_seconds: i64) -> chrono::Duration {
    let lease = lease_seconds.max(0);
    chrono::Duration::seconds((lease / 10).max(3600.min(lease / 2)))
}

/// Whether `subscription` needs a new request now: a lease close to its end, or a request the
/// hub never verified.
pub fn renewal_due(subscription: &Subscription, now: DateTime<Utc>) -> bool {
    match (subscription.lease_until, subscription.lease_seconds) {
        (Some(until), Some(lease)) if subscription.state == "active" => {
            until - now <= renew_before(lease)
                && now - subscription.requested_at > PENDING_RETRY.min(renew_before(lease))
        }
        _ => now - subscription.requested_at > PENDING_RETRY,
    }
}

/// The callback URL of `source` under `public_url` (the name, percent-encoded, is the id).
pub fn callback_url(public_url: &str, source: &str) -> String {
    let name: String = url::form_urlencoded::byte_serialize(source.as_bytes()).collect();
    format!(
        "{}/websub/{}",
        public_url.trim_end_matches('/'),
        name.replace('+', "%20")
    )
}

/// A fresh random secret (32 bytes from the OS, hex): one per subscription.
fn new_secret() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// After a poll of a `websub = true` source whose feed advertises `links`: subscribes unless a
/// subscription to that hub and topic is active or was just requested. Failures are logged;
/// the source stays polled on its schedule.
pub async fn ensure_subscribed(context: &Context, source: &Source, links: HubLinks) {
    let name = source.name.clone();
    let existing = match context
        .store
        .call(move |connection| store::subscription(connection, &name))
        .await
    {
        Ok(existing) => existing,
        Err(error) => {
            tracing::warn!(source = %source.name, "websub: reading the subscription: {error}");
            return;
        }
    };
    let same = existing
        .as_ref()
        .filter(|found| found.hub == links.hub && found.topic == links.topic);
    if same.is_some_and(|found| !renewal_due(found, Utc::now())) {
        return;
    }
    let secret = same.map(|found| found.secret.clone());
    request(context, source, &links.hub, &links.topic, secret).await;
}

/// Stores the request as pending, then sends it. `secret` is kept on a renewal (pushes signed
/// with it stay valid while the hub verifies), new otherwise.
async fn request(
    context: &Context,
    source: &Source,
    hub: &str,
    topic: &str,
    secret: Option<String>,
) {
    let Some(secret) = secret.or_else(new_secret) else {
        tracing::warn!(source = %source.name, "websub: no random secret from the OS; not subscribing");
        return;
    };
    let (name, hub_owned, topic_owned, key) = (
        source.name.clone(),
        hub.to_string(),
        topic.to_string(),
        secret.clone(),
    );
    let stored = context
        .store
        .call(move |connection| {
            store::request_subscription(
                connection,
                &name,
                &hub_owned,
                &topic_owned,
                &key,
                Utc::now(),
            )
        })
        .await;
    if let Err(error) = stored {
        tracing::warn!(source = %source.name, "websub: storing the subscription: {error}");
        return;
    }
    let subscription = SubscribeRequest {
        hub: hub.to_string(),
        topic: topic.to_string(),
        callback: callback_url(&context.config.public_url, &source.name),
        secret,
        lease_seconds: LEASE_SECONDS,
    };
    match subscribe(&subscription, source.fetch.allow_private_networks).await {
        Ok(()) => {
            tracing::info!(source = %source.name, %hub, %topic, "websub: subscription requested")
        }
        Err(error) => {
            tracing::warn!(source = %source.name, %hub, "websub: subscribing failed: {error}")
        }
    }
}

/// One renewal round: re-requests every subscription whose lease nears its end (or whose
/// request was never verified), and forgets those of sources no longer `websub = true`.
pub async fn renew_due(context: &Context) {
    let rows = match context.store.call(store::subscriptions).await {
        Ok(rows) => rows,
        Err(error) => {
            tracing::warn!("websub: reading subscriptions: {error}");
            return;
        }
    };
    let now = Utc::now();
    for row in rows {
        match wanted(&context.config, &row.source) {
            None => {
                let name = row.source.clone();
                let _ = context
                    .store
                    .call(move |connection| store::delete_subscription(connection, &name))
                    .await;
                tracing::info!(source = %row.source, "websub: source no longer subscribed; forgotten");
            }
            Some(source) if renewal_due(&row, now) => {
                tracing::info!(source = %row.source, "websub: renewing the lease");
                request(
                    context,
                    source,
                    &row.hub,
                    &row.topic,
                    Some(row.secret.clone()),
                )
                .await;
            }
            Some(_) => {}
        }
    }
}

fn wanted<'a>(config: &'a Config, name: &str) -> Option<&'a Source> {
    config.source(name).filter(|source| source.websub)
}

/// A scheduled poll of `source` waits while its subscription is active and the last attempt is
/// more recent than [`SAFETY_NET_POLL`]: pushes bring the news.
pub async fn poll_deferred(context: &Context, source: &Source) -> bool {
    if !source.websub {
        return false;
    }
    let (name, url) = (source.name.clone(), source.url.to_string());
    let found = context
        .store
        .call(move |connection| {
            let subscription = store::subscription(connection, &name)?;
            let state = store::load_state(connection, &name, &url)?;
            Ok((subscription, state.last_attempt))
        })
        .await;
    let Ok((Some(subscription), last_attempt)) = found else {
        return false;
    };
    defer_poll(&subscription, last_attempt, Utc::now())
}

/// Pure part of [`poll_deferred`]: an active, unexpired lease and a poll attempted less than
/// [`SAFETY_NET_POLL`] ago.
pub fn defer_poll(
    subscription: &Subscription,
    last_attempt: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let active =
        subscription.state == "active" && subscription.lease_until.is_some_and(|until| until > now);
    let safety_net = chrono::Duration::from_std(SAFETY_NET_POLL).unwrap_or_default();
    active && last_attempt.is_some_and(|last| now - last < safety_net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        let bytes = mac.finalize().into_bytes();
        format!(
            "sha256={}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }

    #[test]
    fn a_right_signature_passes_and_every_wrong_one_is_refused() {
        let body = b"<feed>pushed</feed>";
        let good = sign("k", body);
        assert_eq!(check_signature(Some(&good), "k", body), Ok(()));
        assert_eq!(
            check_signature(
                Some(&good.to_uppercase().replacen("SHA256", "sha256", 1)),
                "k",
                body
            ),
            Ok(())
        );
        assert_eq!(
            check_signature(None, "k", body),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            check_signature(Some(&good), "other", body),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check_signature(Some(&good), "k", b"<feed>altered</feed>"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check_signature(Some("sha256=zz"), "k", body),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            check_signature(Some("nonsense"), "k", body),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            check_signature(Some("sha1=00ff"), "k", body),
            Err(SignatureError::Unsupported("sha1".into()))
        );
    }

    #[test]
    fn a_known_hmac_sha256_vector_matches() {
        // RFC 4231, test case 2.
        let header = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(
            check_signature(Some(header), "Jefe", b"what do ya want for nothing?"),
            Ok(())
        );
    }

    fn subscription(
        state: &str,
        requested: i64,
        until: Option<i64>,
        lease: Option<i64>,
    ) -> Subscription {
        Subscription {
            source: "s".into(),
            hub: "http://h/".into(),
            topic: "http://t/".into(),
            secret: "k".into(),
            state: state.into(),
            requested_at: store::from_epoch(requested),
            lease_until: until.map(store::from_epoch),
            lease_seconds: lease,
        }
    }

    #[test]
    fn leases_are_renewed_near_their_end_and_unverified_requests_retried() {
        let day = 86_400;
        let ten_days = subscription("active", 0, Some(10 * day), Some(10 * day));
        assert!(!renewal_due(&ten_days, store::from_epoch(8 * day)));
        assert!(renewal_due(&ten_days, store::from_epoch(9 * day + 1)));
        let short = subscription("active", 0, Some(100), Some(100));
        assert!(!renewal_due(&short, store::from_epoch(10)));
        assert!(renewal_due(&short, store::from_epoch(60)));
        let pending = subscription("pending", 0, None, None);
        assert!(!renewal_due(&pending, store::from_epoch(60)));
        assert!(renewal_due(&pending, store::from_epoch(11 * 60)));
        assert_eq!(renew_before(10 * day), chrono::Duration::seconds(day));
        assert_eq!(renew_before(3 * 3600), chrono::Duration::seconds(3600));
    }

    #[test]
    fn subscribed_sources_are_polled_only_as_a_safety_net() {
        let hour = 3600;
        let active = subscription("active", 0, Some(100 * hour), Some(100 * hour));
        let now = store::from_epoch(10 * hour);
        let polled = |hours_ago: i64| Some(store::from_epoch((10 - hours_ago) * hour));
        assert!(defer_poll(&active, polled(1), now));
        assert!(
            !defer_poll(&active, polled(3), now),
            "two hours passed: safety-net poll"
        );
        assert!(!defer_poll(&active, None, now));
        let expired = subscription("active", 0, Some(9 * hour), Some(9 * hour));
        assert!(
            !defer_poll(&expired, polled(1), now),
            "an expired lease: polled as usual"
        );
        let pending = subscription("pending", 0, None, None);
        assert!(!defer_poll(&pending, polled(1), now));
    }

    #[test]
    fn the_intent_check_needs_our_topic_and_the_subscribe_mode() {
        let ours = subscription("pending", 0, None, None);
        assert!(intent_matches(Some(&ours), "subscribe", "http://t/"));
        assert!(!intent_matches(Some(&ours), "subscribe", "http://other/"));
        assert!(!intent_matches(Some(&ours), "unsubscribe", "http://t/"));
        assert!(!intent_matches(None, "subscribe", "http://t/"));
    }

    #[test]
    fn callbacks_carry_the_source_name_encoded() {
        assert_eq!(
            callback_url("https://me.example/", "a b/c"),
            "https://me.example/websub/a%20b%2Fc"
        );
    }
}

//! robots.txt fetched once per origin (scheme, host, port), cached for its own lifetime, and
//! checked for every hop of a page request.
//!
//! Policy, after Google's reading of RFC 9309:
//! - 2xx: parsed (first [`ROBOTS_MAX_BYTES`] only), kept for its `Cache-Control` max-age /
//!   `Expires`, clamped to [`MIN_LIFETIME`]..[`MAX_LIFETIME`], 24 h when it gives none;
//! - 4xx other than 429, and redirect chains that never end: no robots.txt, everything allowed,
//!   kept 24 h;
//! - 429, 5xx, timeouts and network errors: the site is treated as fully disallowed for
//!   [`UNAVAILABLE_LIFETIME`] and pages fail with `RobotsUnavailable` (temporary), so an
//!   overloaded site is not crawled while it cannot even serve its rules.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use url::Url;

use super::FetchError;
use super::headers::cache_lifetime;
use super::robots::{PRODUCT_TOKEN, RobotsTxt, user_agent_token};
use super::transport::{RequestKind, Transport};
use crate::config::FetchSettings;

/// Crawlers read at most this much of a robots.txt (Google: 500 KiB).
const ROBOTS_MAX_BYTES: u64 = 500 * 1024;
const DEFAULT_LIFETIME: Duration = Duration::from_secs(24 * 3600);
const MIN_LIFETIME: Duration = Duration::from_secs(60);
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
const UNAVAILABLE_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// What we know of one origin's robots.txt.
#[derive(Debug, Clone)]
enum Verdict {
    Rules(RobotsTxt),
    /// The file could not be read for a temporary reason (said here, for the error message).
    Unavailable(String),
}

#[derive(Debug, Clone)]
struct Cached {
    verdict: Verdict,
    expires: Instant,
}

/// One slot per origin; its async lock makes concurrent page fetches wait for one download.
type OriginSlot = Arc<tokio::sync::Mutex<Option<Cached>>>;

#[derive(Default)]
pub(crate) struct RobotsCache {
    origins: Mutex<HashMap<String, OriginSlot>>,
}

impl RobotsCache {
    /// Ok when `url` may be fetched under its site's robots.txt and this UA.
    pub(crate) async fn check(
        &self,
        transport: &Transport,
        url: &Url,
        settings: &FetchSettings,
    ) -> Result<(), FetchError> {
        let origin = url.origin().ascii_serialization();
        let slot = self.slot(&origin);
        let verdict = {
            let mut cached = slot.lock().await;
            match cached.as_ref() {
                Some(entry) if entry.expires > Instant::now() => entry.verdict.clone(),
                _ => {
                    let fresh = download(transport, url, settings).await?;
                    let verdict = fresh.verdict.clone();
                    *cached = Some(fresh);
                    verdict
                }
            }
        };
        match verdict {
            Verdict::Unavailable(reason) => Err(FetchError::RobotsUnavailable(reason)),
            Verdict::Rules(robots) => {
                let own_token = user_agent_token(&settings.user_agent);
                let tokens = [PRODUCT_TOKEN, own_token.as_str()];
                if robots.is_allowed(&tokens, &path_and_query(url)) {
                    Ok(())
                } else {
                    Err(FetchError::RobotsDisallowed)
                }
            }
        }
    }

    fn slot(&self, origin: &str) -> OriginSlot {
        let mut origins = self.origins.lock().expect("robots map lock poisoned");
        origins.entry(origin.to_string()).or_default().clone()
    }
}

/// Fetches and interprets one robots.txt. Errors that say nothing about the site's wishes
/// (refused private address, bad URL) are passed up uncached.
async fn download(
    transport: &Transport,
    page_url: &Url,
    settings: &FetchSettings,
) -> Result<Cached, FetchError> {
    let mut robots_url = page_url.clone();
    robots_url.set_path("/robots.txt");
    robots_url.set_query(None);
    robots_url.set_fragment(None);
    let mut robots_settings = settings.clone();
    robots_settings.max_body_bytes = ROBOTS_MAX_BYTES.min(settings.max_body_bytes);
    // Boxed: this request is made from inside a page request's `get`.
    let answer = Box::pin(transport.get(
        &robots_url,
        RequestKind::Robots,
        None,
        None,
        &robots_settings,
    ))
    .await;
    let now = Instant::now();
    let allow_all = || Cached {
        verdict: Verdict::Rules(RobotsTxt::default()),
        expires: now + DEFAULT_LIFETIME,
    };
    let unavailable = |reason: String| Cached {
        verdict: Verdict::Unavailable(reason),
        expires: now + UNAVAILABLE_LIFETIME,
    };
    match answer {
        Ok(response) if response.status.is_success() => {
            let lifetime = cache_lifetime(&response.headers, SystemTime::now())
                .unwrap_or(DEFAULT_LIFETIME)
                .clamp(MIN_LIFETIME, MAX_LIFETIME);
            let text = String::from_utf8_lossy(&response.body);
            Ok(Cached {
                verdict: Verdict::Rules(RobotsTxt::parse(&text)),
                expires: now + lifetime,
            })
        }
        Ok(response) => {
            let status = response.status.as_u16();
            if status == 429 || status >= 500 {
                Ok(unavailable(format!("robots.txt answered HTTP {status}")))
            } else {
                // 4xx (and odd 1xx/3xx finals): no rules published.
                Ok(allow_all())
            }
        }
        Err(FetchError::TooManyRedirects(_) | FetchError::RedirectLoop(_)) => Ok(allow_all()),
        Err(
            error @ (FetchError::Timeout(_) | FetchError::Network(_) | FetchError::TooLarge(_)),
        ) => Ok(unavailable(format!("robots.txt: {error}"))),
        Err(error) => Err(error),
    }
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    }
}

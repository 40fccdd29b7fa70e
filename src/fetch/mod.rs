//! The only module that makes network calls: the HTTP client, politeness, conditional GET.
//!
//! # Layout
//! - `transport`: one GET, redirects followed hop by hop (cap, loop detection, SSRF check,
//!   permanent-vs-temporary), total timeout per hop, body cap while streaming;
//! - `guard`: which addresses may be connected to (`is_public_ip`, the filtering resolver);
//! - `politeness`: global and per-host concurrency, minimum gap between starts to one host;
//! - `robots` (pure parser) and `robots_cache` (one download per origin, cached);
//! - `headers`: pure readers of Retry-After and cache lifetime;
//! - `images`: the river's lead images, fetched for the pages' own origin and kept in memory.
//!
//! Nothing here decides *when* to poll again: `Fetched::cache_lifetime`,
//! `FetchError::retry_after` and `Fetched::permanent_redirect` are facts for the scheduler.

mod guard;
mod headers;
pub mod images;
mod passes;
mod politeness;
mod robots;
mod robots_cache;
mod transport;
pub mod websub;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

use crate::config::FetchSettings;
pub use guard::{AddressFilter, is_public_ip};
pub use headers::{cache_lifetime, retry_after};
use passes::PassLimiter;
pub use passes::PassSlot;
pub use robots::{PRODUCT_TOKEN, RobotsTxt};
use robots_cache::RobotsCache;
use transport::{RawResponse, RequestKind, Transport};

/// Validators stored from the last answer, sent back as a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A successful (2xx) answer with its body read under the size cap.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL finally answered, after redirects.
    pub final_url: url::Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub validators: Validators,
    /// `Cache-Control: max-age` or `Expires`, as a duration from now.
    pub cache_lifetime: Option<Duration>,
    /// The target of a permanent (301/308) redirect on the way, when every hop was permanent.
    pub permanent_redirect: Option<url::Url>,
}

/// What a conditional feed request gave.
// One value per request, moved once: boxing `Fetched` would only add an allocation and
// change the interface the pipeline matches on.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum FeedResponse {
    NotModified,
    Fetched(Fetched),
}

/// A feed answer with the hints that hold whether or not the feed changed.
#[derive(Debug, Clone)]
pub struct FeedAnswer {
    pub response: FeedResponse,
    /// As [`Fetched::permanent_redirect`], also for a 304.
    pub permanent_redirect: Option<url::Url>,
    /// As [`Fetched::cache_lifetime`], also for a 304 (which may refresh it).
    pub cache_lifetime: Option<Duration>,
}

/// Why a request failed; every variant says enough for the admin to act.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("body larger than {0} bytes")]
    TooLarge(u64),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("redirect loop at {0}")]
    RedirectLoop(String),
    #[error("refused: {0} is a private or local address (allow_private_networks = false)")]
    PrivateAddress(String),
    /// Any final non-2xx answer. 410 is Gone (see [`FetchError::is_gone`]).
    #[error("HTTP {status}{}", retry_after_text(.retry_after))]
    Status {
        status: u16,
        /// `Retry-After`, as a duration from now, for 429 and 503.
        retry_after: Option<Duration>,
    },
    #[error("disallowed by robots.txt")]
    RobotsDisallowed,
    /// robots.txt could not be read (5xx, 429, unreachable): pages of that site are not
    /// fetched for a few minutes. Temporary, unlike `RobotsDisallowed`.
    #[error("robots.txt unavailable, site treated as disallowed for now: {0}")]
    RobotsUnavailable(String),
    #[error("{0}")]
    Network(String),
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(delay) => format!(" (retry after {}s)", delay.as_secs()),
        None => String::new(),
    }
}

impl FetchError {
    /// The HTTP status of a final non-2xx answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's `Retry-After` (429 and 503 only), as a delay from the moment of the answer.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// 410 Gone: the resource was removed on purpose; stop polling it.
    pub fn is_gone(&self) -> bool {
        self.status() == Some(410)
    }
}

/// The HTTP client shared by every source. Cheap to clone: clones share the connection pools,
/// the politeness limiter and the robots.txt cache.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    robots: RobotsCache,
    passes: PassLimiter,
}

impl Fetcher {
    /// Builds the clients from the global settings. Global-only settings (`connect_timeout`,
    /// `max_concurrency`, `per_host_concurrency`, `per_host_delay`) are taken from here; the
    /// per-source ones are read from the settings passed to each call.
    pub fn new(settings: &FetchSettings) -> Result<Fetcher, FetchError> {
        Fetcher::with_address_filter(settings, guard::public_only())
    }

    /// Like [`Fetcher::new`], with another notion of "public address". Meant for tests, which
    /// only have loopback: declaring 127.0.0.1 public and 127.0.0.2 not lets them exercise the
    /// guard on redirects.
    pub fn with_address_filter(
        settings: &FetchSettings,
        filter: AddressFilter,
    ) -> Result<Fetcher, FetchError> {
        let inner = Inner {
            transport: Transport::new(settings, filter)?,
            robots: RobotsCache::default(),
            passes: PassLimiter::new(settings.max_concurrency, settings.per_host_concurrency),
        };
        Ok(Fetcher {
            inner: Arc::new(inner),
        })
    }

    /// Waits for a place for one source's pass (see `passes`); hold it until the pass is
    /// committed.
    pub async fn pass_slot(&self, feed_url: &url::Url) -> PassSlot {
        self.inner
            .passes
            .acquire(feed_url.host_str().unwrap_or_default())
            .await
    }

    /// Fetches a feed, conditionally when validators are known. robots.txt is not consulted:
    /// a published feed is meant to be polled.
    pub async fn fetch_feed(
        &self,
        url: &url::Url,
        validators: &Validators,
        settings: &FetchSettings,
    ) -> Result<FeedResponse, FetchError> {
        self.fetch_feed_answer(url, validators, settings)
            .await
            .map(|answer| answer.response)
    }

    /// Like [`Fetcher::fetch_feed`], also telling the redirect and caching hints of a 304,
    /// which `FeedResponse::NotModified` cannot carry. Without them a moved feed that keeps
    /// answering 304 at its new address would never have its permanent redirect noticed.
    pub async fn fetch_feed_answer(
        &self,
        url: &url::Url,
        validators: &Validators,
        settings: &FetchSettings,
    ) -> Result<FeedAnswer, FetchError> {
        let conditional =
            (validators.etag.is_some() || validators.last_modified.is_some()).then_some(validators);
        let response = self
            .inner
            .transport
            .get(url, RequestKind::Feed, conditional, None, settings)
            .await?;
        if response.status == StatusCode::NOT_MODIFIED {
            return Ok(FeedAnswer {
                permanent_redirect: response.permanent_redirect,
                cache_lifetime: cache_lifetime(&response.headers, SystemTime::now()),
                response: FeedResponse::NotModified,
            });
        }
        let fetched = into_fetched(response)?;
        Ok(FeedAnswer {
            permanent_redirect: fetched.permanent_redirect.clone(),
            cache_lifetime: fetched.cache_lifetime,
            response: FeedResponse::Fetched(fetched),
        })
    }

    /// Fetches an article page, after checking robots.txt when the source respects it.
    pub async fn fetch_page(
        &self,
        url: &url::Url,
        settings: &FetchSettings,
    ) -> Result<Fetched, FetchError> {
        let robots = settings.respect_robots.then_some(&self.inner.robots);
        let response = self
            .inner
            .transport
            .get(url, RequestKind::Page, None, robots, settings)
            .await?;
        into_fetched(response)
    }
}

/// A 2xx answer becomes `Fetched`; anything else a `Status` error.
fn into_fetched(response: RawResponse) -> Result<Fetched, FetchError> {
    let now = SystemTime::now();
    let status = response.status.as_u16();
    if !response.status.is_success() {
        let retry_after = match status {
            429 | 503 => headers::header_text(&response.headers, "retry-after")
                .and_then(|value| retry_after(&value, now)),
            _ => None,
        };
        return Err(FetchError::Status {
            status,
            retry_after,
        });
    }
    Ok(Fetched {
        content_type: headers::header_text(&response.headers, "content-type"),
        validators: headers::validators(&response.headers),
        cache_lifetime: cache_lifetime(&response.headers, now),
        final_url: response.final_url,
        status,
        body: response.body,
        permanent_redirect: response.permanent_redirect,
    })
}

//! The only module that makes network calls: the HTTP client, politeness, conditional GET.
//!
//! (Skeleton: politeness, robots and the SSRF guard land in this module.)

use std::time::Duration;

use crate::config::FetchSettings;

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
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum FeedResponse {
    NotModified,
    Fetched(Fetched),
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
    #[error("HTTP {status}")]
    Status {
        status: u16,
        /// `Retry-After`, as a duration from now, for 429 and 503.
        retry_after: Option<Duration>,
    },
    #[error("disallowed by robots.txt")]
    RobotsDisallowed,
    #[error("{0}")]
    Network(String),
}

/// The HTTP client shared by every source.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
}

impl Fetcher {
    pub fn new(settings: &FetchSettings) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|error| FetchError::Network(error.to_string()))?;
        Ok(Fetcher { client })
    }

    /// Fetches a feed, conditionally when validators are known.
    pub async fn fetch_feed(
        &self,
        url: &url::Url,
        validators: &Validators,
        settings: &FetchSettings,
    ) -> Result<FeedResponse, FetchError> {
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(last_modified) = &validators.last_modified {
            request = request.header("If-Modified-Since", last_modified);
        }
        let response = request
            .send()
            .await
            .map_err(|error| FetchError::Network(error.to_string()))?;
        if response.status().as_u16() == 304 {
            return Ok(FeedResponse::NotModified);
        }
        self.read(response, settings)
            .await
            .map(FeedResponse::Fetched)
    }

    /// Fetches an article page.
    pub async fn fetch_page(
        &self,
        url: &url::Url,
        settings: &FetchSettings,
    ) -> Result<Fetched, FetchError> {
        let response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|error| FetchError::Network(error.to_string()))?;
        self.read(response, settings).await
    }

    async fn read(
        &self,
        response: reqwest::Response,
        settings: &FetchSettings,
    ) -> Result<Fetched, FetchError> {
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(FetchError::Status {
                status,
                retry_after: None,
            });
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let validators = Validators {
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        let final_url = response.url().clone();
        let body = response
            .bytes()
            .await
            .map_err(|error| FetchError::Network(error.to_string()))?;
        if body.len() as u64 > settings.max_body_bytes {
            return Err(FetchError::TooLarge(settings.max_body_bytes));
        }
        Ok(Fetched {
            final_url,
            status,
            content_type,
            body: body.to_vec(),
            validators,
            cache_lifetime: None,
            permanent_redirect: None,
        })
    }
}

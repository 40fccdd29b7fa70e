//! One GET, hop by hop: redirects followed by hand so each hop is guarded, limited and timed.

use std::collections::HashSet;
use std::error::Error as _;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LOCATION, USER_AGENT};
use url::{Host, Url};

use super::guard::{AddressFilter, GuardedResolver, PrivateAddressRefused};
use super::politeness::HostLimiter;
use super::robots_cache::RobotsCache;
use super::{FetchError, Validators};
use crate::config::FetchSettings;
use crate::metrics;

/// What is being fetched, which decides the Accept header and what an oversized body means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Feed,
    Page,
    /// robots.txt: an oversized file is cut at the cap and the start of it used, as crawlers do.
    Robots,
}

impl RequestKind {
    fn metric(self) -> metrics::FetchKind {
        match self {
            RequestKind::Feed => metrics::FetchKind::Feed,
            RequestKind::Page => metrics::FetchKind::Article,
            RequestKind::Robots => metrics::FetchKind::Robots,
        }
    }

    fn accept(self) -> &'static str {
        match self {
            RequestKind::Feed => {
                "application/atom+xml, application/rss+xml, application/feed+json, \
                 application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, \
                 application/json;q=0.8, */*;q=0.5"
            }
            RequestKind::Page => "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
            RequestKind::Robots => "text/plain, */*;q=0.5",
        }
    }
}

/// The final answer of a request chain, any status; the body is read only for 2xx.
pub(crate) struct RawResponse {
    pub final_url: Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The final URL, when at least one redirect was followed and every one was 301 or 308.
    pub permanent_redirect: Option<Url>,
}

/// One hop's outcome.
enum Hop {
    Redirect {
        status: StatusCode,
        location: String,
    },
    Final(Box<RawResponse>),
}

/// The two HTTP clients and the politeness state behind every request.
pub(crate) struct Transport {
    /// Resolves through the SSRF guard; used unless a source allows private networks.
    guarded: reqwest::Client,
    open: reqwest::Client,
    filter: AddressFilter,
    limiter: HostLimiter,
}

impl Transport {
    pub(crate) fn new(
        settings: &FetchSettings,
        filter: AddressFilter,
    ) -> Result<Transport, FetchError> {
        let resolver = std::sync::Arc::new(GuardedResolver::new(filter.clone()));
        let guarded = client_builder(settings)
            .dns_resolver(resolver)
            .build()
            .map_err(|error| FetchError::Network(error_chain(&error)))?;
        let open = client_builder(settings)
            .build()
            .map_err(|error| FetchError::Network(error_chain(&error)))?;
        let limiter = HostLimiter::new(
            settings.max_concurrency,
            settings.per_host_concurrency,
            settings.per_host_delay,
        );
        Ok(Transport {
            guarded,
            open,
            filter,
            limiter,
        })
    }

    /// GETs `url`, following up to `settings.max_redirects` redirects. With `robots`, every
    /// hop's URL is checked against its site's robots.txt first, so a redirect cannot lead
    /// into a disallowed path.
    pub(crate) async fn get(
        &self,
        url: &Url,
        kind: RequestKind,
        validators: Option<&Validators>,
        robots: Option<&RobotsCache>,
        settings: &FetchSettings,
    ) -> Result<RawResponse, FetchError> {
        let mut current = url.clone();
        let mut visited = HashSet::from([without_fragment(&current)]);
        let mut redirects = 0;
        let mut every_hop_permanent = true;
        loop {
            if let Some(robots) = robots {
                robots.check(self, &current, settings).await?;
            }
            match self.send_hop(&current, kind, validators, settings).await? {
                Hop::Final(mut response) => {
                    if redirects > 0 && every_hop_permanent {
                        response.permanent_redirect = Some(current);
                    }
                    return Ok(*response);
                }
                Hop::Redirect { status, location } => {
                    let next = current
                        .join(&location)
                        .map_err(|error| FetchError::InvalidUrl(format!("{location}: {error}")))?;
                    if !visited.insert(without_fragment(&next)) {
                        return Err(FetchError::RedirectLoop(next.to_string()));
                    }
                    redirects += 1;
                    if redirects > settings.max_redirects {
                        return Err(FetchError::TooManyRedirects(settings.max_redirects));
                    }
                    every_hop_permanent &= matches!(status.as_u16(), 301 | 308);
                    current = next;
                }
            }
        }
    }

    /// One request, under the host's politeness permit and the total timeout. The time spent
    /// queueing for the permit does not count against the timeout.
    async fn send_hop(
        &self,
        url: &Url,
        kind: RequestKind,
        validators: Option<&Validators>,
        settings: &FetchSettings,
    ) -> Result<Hop, FetchError> {
        let client = self.client_for(url, settings)?;
        let host = url.host_str().unwrap_or_default().to_string();
        let mut request = client
            .get(url.clone())
            .header(USER_AGENT, &settings.user_agent)
            .header(ACCEPT, kind.accept());
        if let Some(validators) = validators {
            if let Some(etag) = &validators.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(last_modified) = &validators.last_modified {
                request = request.header(IF_MODIFIED_SINCE, last_modified);
            }
        }
        let _permit = self.limiter.acquire(&host).await;
        let started = std::time::Instant::now();
        let exchange = async {
            let response = request
                .send()
                .await
                .map_err(|error| classify(&error, settings))?;
            finish_hop(response, kind, settings).await
        };
        let hop = tokio::time::timeout(settings.timeout, exchange)
            .await
            .map_err(|_| FetchError::Timeout(settings.timeout))?;
        metrics::record_fetch(kind.metric(), started.elapsed(), hop_status(&hop));
        hop
    }

    /// Picks the client for this source's settings and checks a literal-IP host, which no
    /// resolver sees.
    fn client_for(
        &self,
        url: &Url,
        settings: &FetchSettings,
    ) -> Result<&reqwest::Client, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::InvalidUrl(format!(
                "{url}: only http and https are fetched"
            )));
        }
        let literal = match url.host() {
            Some(Host::Ipv4(address)) => Some(std::net::IpAddr::V4(address)),
            Some(Host::Ipv6(address)) => Some(std::net::IpAddr::V6(address)),
            Some(Host::Domain(_)) => None,
            None => return Err(FetchError::InvalidUrl(format!("{url}: no host"))),
        };
        if settings.allow_private_networks {
            return Ok(&self.open);
        }
        if let Some(address) = literal
            && !(self.filter)(address)
        {
            return Err(FetchError::PrivateAddress(address.to_string()));
        }
        Ok(&self.guarded)
    }
}

fn client_builder(settings: &FetchSettings) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(settings.user_agent.clone())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(settings.connect_timeout)
        // A proxy would connect on our behalf to addresses the guard never sees.
        .no_proxy()
        .pool_idle_timeout(Duration::from_secs(30))
}

/// Turns a response into a redirect to follow or a final answer, reading a 2xx body.
/// The HTTP status of one exchange, for the metrics; `None` when no answer came back (or
/// its body broke a limit).
fn hop_status(hop: &Result<Hop, FetchError>) -> Option<u16> {
    match hop {
        Ok(Hop::Redirect { status, .. }) => Some(status.as_u16()),
        Ok(Hop::Final(response)) => Some(response.status.as_u16()),
        Err(error) => error.status(),
    }
}

async fn finish_hop(
    response: reqwest::Response,
    kind: RequestKind,
    settings: &FetchSettings,
) -> Result<Hop, FetchError> {
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    if let (true, Some(location)) = (status.is_redirection(), location)
        && status != StatusCode::NOT_MODIFIED
    {
        return Ok(Hop::Redirect { status, location });
    }
    let final_url = response.url().clone();
    let headers = response.headers().clone();
    let body = if status.is_success() {
        read_capped(response, kind, settings.max_body_bytes).await?
    } else {
        Vec::new()
    };
    Ok(Hop::Final(Box::new(RawResponse {
        final_url,
        status,
        headers,
        body,
        permanent_redirect: None,
    })))
}

/// Reads the (already decompressed) body chunk by chunk, stopping as soon as it passes the cap,
/// so neither an endless body nor a decompression bomb is ever held in memory.
async fn read_capped(
    mut response: reqwest::Response,
    kind: RequestKind,
    max_body_bytes: u64,
) -> Result<Vec<u8>, FetchError> {
    let cap = usize::try_from(max_body_bytes).unwrap_or(usize::MAX);
    if kind != RequestKind::Robots
        && response
            .content_length()
            .is_some_and(|length| length > max_body_bytes)
    {
        return Err(FetchError::TooLarge(max_body_bytes));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| FetchError::Network(error_chain(&error)))?
    {
        if body.len() + chunk.len() > cap {
            if kind == RequestKind::Robots {
                body.extend_from_slice(&chunk[..cap - body.len()]);
                return Ok(body);
            }
            return Err(FetchError::TooLarge(max_body_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Maps a reqwest error to the variant the caller acts on.
fn classify(error: &reqwest::Error, settings: &FetchSettings) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<PrivateAddressRefused>() {
            return FetchError::PrivateAddress(format!("{} ({})", refused.host, refused.address));
        }
        source = cause.source();
    }
    if error.is_timeout() {
        let limit = if error.is_connect() {
            settings.connect_timeout
        } else {
            settings.timeout
        };
        return FetchError::Timeout(limit);
    }
    FetchError::Network(error_chain(error))
}

/// The error and its causes on one line: reqwest's own message alone rarely says what happened.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn without_fragment(url: &Url) -> Url {
    let mut key = url.clone();
    key.set_fragment(None);
    key
}

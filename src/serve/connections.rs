//! The accept loop: caps on open connections (in all, and per peer address), deadlines on each
//! connection, per-client request limits behind trusted proxies, and a graceful stop.
//!
//! Replaces `axum::serve`, which accepts without bound and keeps a stalled connection forever.
//! Past a cap a connection is answered with a canned `503` and closed at once, so refused
//! readers never pile up; when `accept` itself fails (out of descriptors) the loop pauses
//! briefly instead of spinning.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service as _;

use super::client::{PerAddress, Slot, client_address, is_trusted};
use super::counters::{ConnectionCounters, Event};
use super::deadline::{DeadlineIo, Exchanges, ResetOnTimeout, Timeouts, TrackedBody};
use super::limits::{connection_budget, open_file_limit};
use crate::config::{Config, IpNet, ServerSettings};

/// The answer to a connection past a cap: tiny, written without waiting, then the close.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\
Content-Length: 0\r\nConnection: close\r\n\r\n";
/// First pause after a failed `accept`; doubled on each failure in a row, up to the maximum.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What the accept loop needs beyond the router.
pub struct Limits {
    /// The cap actually in force (after sizing from the open-file limit).
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub trusted_proxies: Vec<IpNet>,
    pub timeouts: Timeouts,
}

impl Limits {
    /// The limits for `config`, with `max_connections` sized from this process's open-file
    /// limit now (start-up); logs the cap, and warns when a configured cap had to be lowered.
    pub fn at_start_up(config: &Config) -> Limits {
        let budget = connection_budget(
            open_file_limit(),
            config.fetch.max_concurrency,
            config.server.max_connections,
        );
        if let Some(configured) = budget.clamped_from {
            tracing::warn!(
                configured,
                open_file_limit = budget.open_file_limit,
                "server.max_connections lowered to {} to keep {} descriptors for the poller; \
                 raise the open-file limit (LimitNOFILE=) to allow more",
                budget.max_connections,
                budget.reserved
            );
        }
        tracing::info!(
            max_connections = budget.max_connections,
            max_connections_per_ip = config.server.max_connections_per_ip,
            open_file_limit = budget.open_file_limit,
            "reader connection limits"
        );
        Limits::new(&config.server, budget.max_connections)
    }

    pub fn new(settings: &ServerSettings, max_connections: usize) -> Limits {
        Limits {
            max_connections,
            max_connections_per_ip: settings.max_connections_per_ip,
            trusted_proxies: settings.trusted_proxies.clone(),
            timeouts: Timeouts {
                header: settings.header_timeout,
                idle: settings.idle_timeout,
                write: settings.write_timeout,
            },
        }
    }
}

/// State shared by the accept loop and every connection.
struct Shared {
    router: Router,
    limits: Limits,
    open: AtomicUsize,
    per_peer: Arc<PerAddress>,
    /// Requests in flight per client named by a trusted proxy.
    per_client: Arc<PerAddress>,
    counters: Arc<ConnectionCounters>,
}

/// Serves `router` on `listener` until `shutdown`, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    counters: Arc<ConnectionCounters>,
    shutdown: CancellationToken,
) {
    let shared = Arc::new(Shared {
        router,
        per_peer: PerAddress::new(limits.max_connections_per_ip),
        per_client: PerAddress::new(limits.max_connections_per_ip),
        limits,
        open: AtomicUsize::new(0),
        counters,
    });
    let connections = TaskTracker::new();
    let mut backoff = ACCEPT_BACKOFF;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.cancelled() => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = ACCEPT_BACKOFF;
                admit(&shared, &connections, &shutdown, stream, peer);
            }
            Err(error) => {
                shared.counters.record(Event::AcceptError);
                tracing::debug!(%error, "accept failed; pausing");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.cancelled() => break,
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
            }
        }
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Holds one open connection's place in the caps; dropping it frees the place.
struct Admission {
    shared: Arc<Shared>,
    _peer_slot: Option<Slot>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.shared.open.fetch_sub(1, Ordering::Relaxed);
        self.shared.counters.closed();
    }
}

/// Takes a place under both caps, or says which cap refused.
fn take_place(shared: &Arc<Shared>, peer: IpAddr) -> Result<Admission, Event> {
    let open = shared.open.fetch_add(1, Ordering::Relaxed);
    shared.counters.opened();
    let mut admission = Admission {
        shared: shared.clone(),
        _peer_slot: None,
    };
    if open >= shared.limits.max_connections {
        return Err(Event::RefusedOverCapacity);
    }
    // A trusted proxy carries many readers: it is limited per client, request by request.
    if is_trusted(peer, &shared.limits.trusted_proxies) {
        return Ok(admission);
    }
    admission._peer_slot = Some(shared.per_peer.try_take(peer).ok_or(Event::RefusedPerIp)?);
    Ok(admission)
}

fn admit(
    shared: &Arc<Shared>,
    connections: &TaskTracker,
    shutdown: &CancellationToken,
    stream: TcpStream,
    peer: SocketAddr,
) {
    // An IPv4 reader on a dual-stack listener arrives as `::ffff:a.b.c.d`: count it as IPv4.
    let peer = peer.ip().to_canonical();
    let admission = match take_place(shared, peer) {
        Ok(admission) => admission,
        Err(event) => {
            shared.counters.record(event);
            // Best effort and never waiting: a full socket buffer just gets the close.
            let _ = stream.try_write(REFUSAL);
            return;
        }
    };
    shared.counters.record(Event::Accepted);
    // hyper hands each response to the socket whole (head and body in one write), so Nagle's
    // algorithm can only hold back the last, partial segment of a large body until the reader
    // acknowledges the rest; nginx sets `tcp_nodelay` for the same reason. Best effort: a
    // socket that refuses still serves.
    let _ = stream.set_nodelay(true);
    let shared = shared.clone();
    let shutdown = shutdown.clone();
    connections.spawn(async move {
        serve_connection(&shared, stream, peer, shutdown).await;
        drop(admission);
    });
}

/// Serves one admitted connection (any socket-like stream, so tests can use an in-memory one).
async fn serve_connection<S>(
    shared: &Arc<Shared>,
    stream: S,
    peer: IpAddr,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + ResetOnTimeout + Unpin + Send + 'static,
{
    let exchanges = Arc::new(Exchanges::default());
    let io = DeadlineIo::new(
        stream,
        exchanges.clone(),
        shared.counters.clone(),
        shared.limits.timeouts,
    );
    let service = ConnectionService {
        shared: shared.clone(),
        peer,
        exchanges,
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The deadlines live in `DeadlineIo`; hyper's own head timer would cut idle connections
    // at the head timeout.
    builder.header_read_timeout(None);
    let mut connection = builder.serve_connection(TokioIo::new(io), service);
    // Polled without hyper's own shutdown, so the socket comes back for a lingering close.
    let ended = tokio::select! {
        ended = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => ended,
        _ = shutdown.cancelled() => {
            Pin::new(&mut connection).graceful_shutdown();
            std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)).await
        }
    };
    match ended {
        Ok(()) => connection.into_parts().io.into_inner().close().await,
        Err(error) => tracing::trace!(%error, "connection ended"),
    }
}

/// The per-connection request service: counts exchanges for the deadlines, applies the
/// per-client request cap behind trusted proxies, then hands the request to the router.
#[derive(Clone)]
struct ConnectionService {
    shared: Arc<Shared>,
    peer: IpAddr,
    exchanges: Arc<Exchanges>,
}

/// The client's address as the server sees it (the proxy's `X-Forwarded-For` when trusted),
/// left in the request's extensions for handlers and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.exchanges.start();
        let exchanges = self.exchanges.clone();
        let mut router = self.shared.router.clone();
        let trusted = &self.shared.limits.trusted_proxies;
        let proxied = is_trusted(self.peer, trusted);
        let client = if proxied {
            let forwarded = request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .collect::<Vec<_>>();
            client_address(self.peer, forwarded.into_iter(), trusted)
        } else {
            self.peer
        };
        let slot = if proxied {
            match self.shared.per_client.try_take(client) {
                Some(slot) => Some(slot),
                None => {
                    self.shared.counters.record(Event::RefusedRequestPerClient);
                    let response = busy().map(|body| TrackedBody::new(body, exchanges, None));
                    return Box::pin(async move { Ok(response) });
                }
            }
        } else {
            None
        };
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ClientAddress(client));
        Box::pin(async move {
            let response = match router.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            // The client's slot is held until its response is written (or abandoned).
            Ok(response.map(|body| TrackedBody::new(body, exchanges, slot)))
        })
    }
}

/// `503` with `Retry-After`, for a client over its share.
fn busy() -> Response<Body> {
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, "busy, retry later\n").into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server whose `/hold` requests stay in flight until the test lets them go.
    fn shared(release: Arc<tokio::sync::Semaphore>) -> Arc<Shared> {
        let router = Router::new().route(
            "/hold",
            get(move || async move {
                let _permit = release.acquire().await;
                "done"
            }),
        );
        let settings = ServerSettings {
            max_connections_per_ip: 1,
            trusted_proxies: vec![IpNet::parse("10.0.0.0/8").unwrap()],
            ..ServerSettings::default()
        };
        let limits = Limits::new(&settings, 10);
        Arc::new(Shared {
            router,
            per_peer: PerAddress::new(1),
            per_client: PerAddress::new(1),
            limits,
            open: AtomicUsize::new(0),
            counters: Arc::default(),
        })
    }

    /// Sends one request through `proxy` on a new in-memory connection; returns the client end.
    async fn request(
        shared: &Arc<Shared>,
        proxy: &str,
        forwarded_for: &str,
    ) -> tokio::io::DuplexStream {
        let (server, mut client) = tokio::io::duplex(64 * 1024);
        let shared = shared.clone();
        let peer: IpAddr = proxy.parse().unwrap();
        tokio::spawn(async move {
            serve_connection(&shared, server, peer, CancellationToken::new()).await;
        });
        let head =
            format!("GET /hold HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {forwarded_for}\r\n\r\n");
        client.write_all(head.as_bytes()).await.unwrap();
        client
    }

    async fn status_line(client: &mut tokio::io::DuplexStream) -> String {
        let mut buf = vec![0u8; 512];
        // A bound, so a broken cap fails the test instead of hanging it.
        let read = tokio::time::timeout(Duration::from_secs(10), client.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        String::from_utf8_lossy(&buf[..read])
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    }

    #[tokio::test]
    async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_request_cap() {
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let shared = shared(release.clone());
        // One request of client 203.0.113.9 in flight through the proxy...
        let mut first = request(&shared, "10.0.0.2", "203.0.113.9").await;
        while shared.per_client.held_by("203.0.113.9".parse().unwrap()) == 0 {
            tokio::task::yield_now().await;
        }
        // ...so its next one is refused, even through another proxy of the list.
        let mut second = request(&shared, "10.0.0.3", "198.51.100.1, 203.0.113.9").await;
        let refused = status_line(&mut second).await;
        assert_eq!(refused, "HTTP/1.1 503 Service Unavailable");
        assert_eq!(shared.counters.snapshot().refused_requests_per_client, 1);
        // Another client behind the same proxy is not affected.
        let mut other = request(&shared, "10.0.0.2", "198.51.100.7").await;
        while shared.per_client.held_by("198.51.100.7".parse().unwrap()) == 0 {
            tokio::task::yield_now().await;
        }
        // A peer outside the list cannot pose as someone else: its header is ignored.
        let mut direct = request(&shared, "192.0.2.50", "203.0.113.9").await;
        release.add_permits(3);
        assert_eq!(status_line(&mut first).await, "HTTP/1.1 200 OK");
        assert_eq!(status_line(&mut other).await, "HTTP/1.1 200 OK");
        assert_eq!(status_line(&mut direct).await, "HTTP/1.1 200 OK");
        assert_eq!(shared.counters.snapshot().refused_requests_per_client, 1);
    }
}

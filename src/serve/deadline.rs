//! Per-connection deadlines, enforced on the socket itself: a request head must arrive within
//! `header_timeout`, a kept-alive connection may idle for `idle_timeout`, and a response must be
//! taken by the reader within `write_timeout` of its request head.
//!
//! The wrapper sits between hyper and the `TcpStream`, so a stalled read or write fails with
//! `TimedOut` and hyper drops the connection. It learns where the connection stands from two
//! counters the request service keeps ([`Exchanges`]): requests started, and responses whose
//! body hyper has finished with. A total write deadline (rather than a minimum rate) keeps the
//! rule simple: a reader draining one byte a second cannot hold a 470 KB feed for hours.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::client::Slot;
use super::counters::{ConnectionCounters, Event};

/// The three timeouts of `[server]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub header: Duration,
    pub idle: Duration,
    pub write: Duration,
}

/// Requests started and responses finished on one connection, shared by its service and socket.
#[derive(Debug, Default)]
pub struct Exchanges {
    started: AtomicU64,
    finished: AtomicU64,
}

impl Exchanges {
    /// A request head arrived and its handler is called.
    pub fn start(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    /// Hyper is done with a response body (sent, or abandoned).
    pub fn finish(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }
}

/// Where a connection stands, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for (the rest of) a request head; since connect or the head's first byte.
    Head(Instant),
    /// Kept alive between two requests; since the last response was handed to the kernel.
    Idle(Instant),
    /// A request is being answered; since its head arrived.
    Exchange(Instant),
    /// The server has sent its FIN and waits for the reader to take the rest and close; until
    /// the instant given (the last response's write deadline, or a short grace).
    Closing(Instant),
}

impl Phase {
    pub fn deadline(self, timeouts: &Timeouts) -> Instant {
        match self {
            Phase::Head(since) => since + timeouts.header,
            Phase::Idle(since) => since + timeouts.idle,
            Phase::Exchange(since) => since + timeouts.write,
            Phase::Closing(until) => until,
        }
    }

    fn event(self) -> Event {
        match self {
            Phase::Head(_) => Event::HeaderTimeout,
            Phase::Idle(_) => Event::IdleTimeout,
            Phase::Exchange(_) | Phase::Closing(_) => Event::WriteTimeout,
        }
    }
}

/// What a timed-out socket does before it is dropped.
pub trait ResetOnTimeout {
    /// Makes the coming close discard unsent data and send a reset, as nginx's
    /// `reset_timedout_connection` does: otherwise a stalled reader keeps the kernel's send
    /// buffer (and the client its view of an open connection) for as long as it cares to.
    fn reset_on_close(&self) {}
}

impl ResetOnTimeout for tokio::net::TcpStream {
    fn reset_on_close(&self) {
        // A zero linger never blocks the close (unlike other linger values).
        let _ = self.set_zero_linger();
    }
}

impl ResetOnTimeout for tokio::io::DuplexStream {}

/// A socket that fails with `TimedOut` once the deadline of its connection's phase has passed.
pub struct DeadlineIo<T> {
    inner: T,
    exchanges: Arc<Exchanges>,
    counters: Arc<ConnectionCounters>,
    timeouts: Timeouts,
    phase: Phase,
    /// Requests started as last seen, to notice a new one.
    seen_started: u64,
    /// When the last request head arrived: the closing wait ends at its write deadline.
    last_exchange: Option<Instant>,
    timer: Pin<Box<Sleep>>,
    /// The instant `timer` is set to, so it is only reset when the deadline moves.
    armed: Instant,
    timed_out: bool,
}

impl<T: ResetOnTimeout> DeadlineIo<T> {
    pub fn new(
        inner: T,
        exchanges: Arc<Exchanges>,
        counters: Arc<ConnectionCounters>,
        timeouts: Timeouts,
    ) -> Self {
        let phase = Phase::Head(Instant::now());
        let armed = phase.deadline(&timeouts);
        DeadlineIo {
            inner,
            exchanges,
            counters,
            timeouts,
            phase,
            seen_started: 0,
            last_exchange: None,
            timer: Box::pin(tokio::time::sleep_until(armed)),
            armed,
            timed_out: false,
        }
    }

    /// Moves to `Exchange` when the service has started a request since the last look.
    fn notice_requests(&mut self, now: Instant) {
        let started = self.exchanges.started.load(Ordering::Relaxed);
        if started != self.seen_started {
            self.seen_started = started;
            if !matches!(self.phase, Phase::Closing(_)) {
                self.phase = Phase::Exchange(now);
            }
            self.last_exchange = Some(now);
        }
    }

    /// `Err(TimedOut)` once the phase's deadline has passed (counted once per connection).
    fn check(&mut self, now: Instant) -> io::Result<()> {
        if self.timed_out {
            return Err(timed_out());
        }
        self.notice_requests(now);
        if now >= self.phase.deadline(&self.timeouts) {
            self.timed_out = true;
            self.counters.record(self.phase.event());
            // A quiet kept-alive connection is closed normally (clients expect that); a stalled
            // head or response is reset.
            if !matches!(self.phase, Phase::Idle(_)) {
                self.inner.reset_on_close();
            }
            return Err(timed_out());
        }
        Ok(())
    }

    /// Makes sure the task is woken at the deadline while the socket is not ready; reports a
    /// timeout when it has already passed.
    fn wait(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let deadline = self.phase.deadline(&self.timeouts);
        if deadline != self.armed {
            self.armed = deadline;
            self.timer.as_mut().reset(deadline);
        }
        if self.timer.as_mut().poll(cx).is_ready() {
            return self.check(Instant::now());
        }
        Ok(())
    }

    /// Runs one IO call under the deadline: checked before, and a wake-up armed when pending.
    fn guarded<R>(
        &mut self,
        cx: &mut Context<'_>,
        call: impl FnOnce(&mut T, &mut Context<'_>) -> Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        self.check(Instant::now())?;
        match call(&mut self.inner, cx) {
            Poll::Pending => {
                self.wait(cx)?;
                Poll::Pending
            }
            ready => ready,
        }
    }
}

impl<T: AsyncRead + AsyncWrite + ResetOnTimeout + Unpin> DeadlineIo<T> {
    /// A lingering close, as nginx's `lingering_close`: send FIN, then read (and discard) until
    /// the reader closes its side. The response may still sit in the kernel's send buffer; a
    /// reader that has not taken it by the last response's write deadline gets a reset, so a
    /// reader draining a byte a second is cut at `write_timeout` even on a closing connection.
    pub async fn close(mut self) {
        let now = Instant::now();
        let until = self
            .last_exchange
            .map_or(now, |since| since + self.timeouts.write)
            .max(now + CLOSING_GRACE);
        self.phase = Phase::Closing(until);
        let shutdown = std::future::poll_fn(|cx| {
            self.guarded(cx, |inner, cx| Pin::new(inner).poll_shutdown(cx))
        });
        if shutdown.await.is_err() {
            return;
        }
        let mut discard = [0u8; 1024];
        loop {
            let mut buf = ReadBuf::new(&mut discard);
            let read = std::future::poll_fn(|cx| {
                self.guarded(cx, |inner, cx| Pin::new(inner).poll_read(cx, &mut buf))
            })
            .await;
            if read.is_err() || buf.filled().is_empty() {
                return;
            }
        }
    }
}

/// The least time a closing connection is given to take the end of its response.
const CLOSING_GRACE: Duration = Duration::from_secs(1);

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection deadline passed")
}

impl<T: AsyncRead + ResetOnTimeout + Unpin> AsyncRead for DeadlineIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(this.guarded(cx, |inner, cx| Pin::new(inner).poll_read(cx, buf)))?;
        // The first byte of the next request ends the idle wait and starts the head's clock.
        if buf.filled().len() > before
            && let Phase::Idle(_) = this.phase
        {
            this.phase = Phase::Head(Instant::now());
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + ResetOnTimeout + Unpin> AsyncWrite for DeadlineIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .guarded(cx, |inner, cx| Pin::new(inner).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().guarded(cx, |inner, cx| {
            Pin::new(inner).poll_write_vectored(cx, bufs)
        })
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    /// Hyper flushes once its buffer is empty: when every response started is finished, the
    /// connection is idle from now on.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.guarded(cx, |inner, cx| Pin::new(inner).poll_flush(cx)))?;
        if let Phase::Exchange(_) = this.phase
            && this.exchanges.finished.load(Ordering::Relaxed) == this.seen_started
        {
            this.phase = Phase::Idle(Instant::now());
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .guarded(cx, |inner, cx| Pin::new(inner).poll_shutdown(cx))
    }
}

/// A response body that tells [`Exchanges`] when hyper is done with it (dropped).
/// It also holds the client's request slot, if any, so the slot lasts as long as the response.
pub struct TrackedBody {
    inner: axum::body::Body,
    exchanges: Arc<Exchanges>,
    _slot: Option<Slot>,
}

impl TrackedBody {
    pub fn new(inner: axum::body::Body, exchanges: Arc<Exchanges>, slot: Option<Slot>) -> Self {
        TrackedBody {
            inner,
            exchanges,
            _slot: slot,
        }
    }
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        self.exchanges.finish();
    }
}

impl http_body::Body for TrackedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    //! Real (short) timeouts: the assertions are lower bounds ("not before the deadline") plus
    //! the kind of timeout counted, never an upper bound on speed.
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const TIMEOUTS: Timeouts = Timeouts {
        header: Duration::from_millis(200),
        idle: Duration::from_millis(2000),
        write: Duration::from_millis(300),
    };

    fn wrapped(
        stream: tokio::io::DuplexStream,
    ) -> (
        DeadlineIo<tokio::io::DuplexStream>,
        Arc<Exchanges>,
        Arc<ConnectionCounters>,
    ) {
        let exchanges = Arc::new(Exchanges::default());
        let counters = Arc::new(ConnectionCounters::default());
        let io = DeadlineIo::new(stream, exchanges.clone(), counters.clone(), TIMEOUTS);
        (io, exchanges, counters)
    }

    #[tokio::test]
    async fn a_head_that_never_completes_times_out_at_the_header_timeout() {
        let start = Instant::now();
        let (server, mut client) = tokio::io::duplex(1024);
        let (mut io, _, counters) = wrapped(server);
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        assert!(io.read(&mut buf).await.unwrap() > 0);
        let error = io.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() >= TIMEOUTS.header);
        assert_eq!(counters.snapshot().header_timeouts, 1);
        // Once timed out, the socket stays failed.
        assert!(io.write_all(b"x").await.is_err());
        assert_eq!(counters.snapshot().header_timeouts, 1, "counted once");
    }

    #[tokio::test]
    async fn a_stalled_reader_fails_the_write_at_the_write_timeout() {
        let (server, _client) = tokio::io::duplex(16);
        let (mut io, exchanges, counters) = wrapped(server);
        exchanges.start();
        let start = Instant::now();
        let error = io.write_all(&[b'x'; 4096]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() >= TIMEOUTS.write);
        let counted = counters.snapshot();
        assert_eq!((counted.write_timeouts, counted.header_timeouts), (1, 0));
    }

    #[tokio::test]
    async fn between_requests_the_idle_timeout_applies_then_the_header_timeout() {
        let (server, mut client) = tokio::io::duplex(1024);
        let (mut io, exchanges, counters) = wrapped(server);
        exchanges.start();
        io.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        exchanges.finish();
        io.flush().await.unwrap();
        assert!(matches!(io.phase, Phase::Idle(_)));
        // Idle for longer than the header timeout (well within the idle one): still open.
        tokio::time::sleep(TIMEOUTS.header * 2).await;
        client.write_all(b"GET").await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(io.read(&mut buf).await.unwrap(), 3);
        assert!(matches!(io.phase, Phase::Head(_)));
        let start = Instant::now();
        let error = io.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() >= TIMEOUTS.header);
        let counted = counters.snapshot();
        assert_eq!((counted.idle_timeouts, counted.header_timeouts), (0, 1));
    }

    #[tokio::test]
    async fn a_quiet_kept_alive_connection_ends_at_the_idle_timeout() {
        let (server, _client) = tokio::io::duplex(1024);
        let (mut io, exchanges, counters) = wrapped(server);
        exchanges.start();
        exchanges.finish();
        io.flush().await.unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 8];
        let error = io.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() >= TIMEOUTS.idle);
        assert_eq!(counters.snapshot().idle_timeouts, 1);
    }

    #[test]
    fn a_response_still_being_written_keeps_the_write_deadline() {
        let start = Instant::now();
        let exchange = Phase::Exchange(start);
        assert_eq!(exchange.deadline(&TIMEOUTS), start + TIMEOUTS.write);
        assert_eq!(exchange.event(), Event::WriteTimeout);
        assert_eq!(Phase::Head(start).event(), Event::HeaderTimeout);
    }
}

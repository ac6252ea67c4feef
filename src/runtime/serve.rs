//! The HTTP server of [`Bot::start`](super::Bot::start): hyper's HTTP/1 connection builder
//! with a timer, so slow clients meet limits, a cap on open connections, and a shutdown no
//! client can stall.
//!
//! `axum::serve` sets no timer, and without one hyper has no header read timeout; it has no
//! idle timeout, connection cap or bound on graceful shutdown either. This is axum's own
//! `serve-with-hyper` example with those added:
//! - a request head must arrive within the header timeout (hyper's timer, which also runs
//!   while an idle keep-alive connection waits for its next request);
//! - a connection with no bytes in either direction for the idle timeout is closed;
//! - at most `max_connections` connections are served at once: the accept loop waits for a
//!   free slot, further clients wait in the listen backlog;
//! - on shutdown the listener closes, every connection finishes its current request and
//!   closes, and connections still open after the drain timeout are dropped.
//!
//! Body read timeouts and the in-flight request cap are layers of the router itself, so
//! [`Bot::into_router`](super::Bot::into_router) users have them too.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::Service;

/// The connection limits of the server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerLimits {
    pub(crate) header_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
    /// How long open connections get to finish once shutdown starts.
    pub(crate) drain_timeout: Duration,
}

/// Serves `app` on `listener` until `stopped` turns true, then drains within the limits.
pub(crate) async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: ServerLimits,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (closing, close) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            biased;
            () = turned_on(&mut stopped) => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let socket = tokio::select! {
            biased;
            () = turned_on(&mut stopped) => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment, as axum does.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(connection(
            socket,
            app.clone(),
            limits,
            close.clone(),
            permit,
        ));
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(limits.drain_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            timeout = ?limits.drain_timeout,
            "closing connections still open after the shutdown timeout"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}

/// Completes once the flag is (or was already) true, or its sender is gone.
async fn turned_on(flag: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it here, not in the caller's state.
    let _ = flag.wait_for(|on| *on).await;
}

/// Serves one connection until it ends, is idle too long, or the server drains.
async fn connection(
    socket: TcpStream,
    app: axum::Router,
    limits: ServerLimits,
    mut close: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = socket.set_nodelay(true);
    let activity = Activity::new();
    let io = TokioIo::new(Watched {
        inner: socket,
        activity: activity.clone(),
    });
    let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
        // `Router` is always ready; hyper's `Service` takes `&self`, tower's `&mut self`.
        app.clone().call(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    // Graceful shutdown asked (drain, or idle); a connection still silent one more idle
    // timeout later is dropped.
    let mut closing = false;
    loop {
        let idle_at = activity.last() + limits.idle_timeout;
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = turned_on(&mut close), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until(idle_at) => {
                if activity.last() + limits.idle_timeout <= Instant::now() {
                    if closing {
                        tracing::debug!("dropping a connection that stayed idle");
                        return;
                    }
                    tracing::debug!("closing an idle connection");
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                    activity.touch();
                }
            }
        }
    }
}

/// When a connection last moved a byte, in milliseconds since it opened.
#[derive(Debug, Clone)]
struct Activity {
    opened: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A socket that records when it last read or wrote a byte.
#[derive(Debug)]
struct Watched {
    inner: TcpStream,
    activity: Activity,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Caps the requests `router` handles at once, over all its routes: above `max`, requests
/// are answered 503 with `Retry-After` at once instead of queueing inside the process.
pub(crate) fn limit_in_flight(router: axum::Router, max: usize) -> axum::Router {
    // `Router::layer` wraps each route on its own; the global layer shares one semaphore.
    router.layer(
        tower::ServiceBuilder::new()
            .layer(axum::error_handling::HandleErrorLayer::new(
                |_: tower::BoxError| async { overloaded() },
            ))
            .load_shed()
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(max.max(1))),
    )
}

fn overloaded() -> axum::response::Response {
    use axum::response::IntoResponse;
    tracing::debug!("request refused: too many in flight");
    (
        http::StatusCode::SERVICE_UNAVAILABLE,
        [(http::header::RETRY_AFTER, "1")],
        "too many requests in flight; retry later",
    )
        .into_response()
}

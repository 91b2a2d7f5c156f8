//! Accepting connections, within limits that keep slow or flooding clients
//! from holding the server:
//! - at most `max_connections` open at once; one more is answered
//!   `503 ServiceUnavailable` with `Retry-After` and closed, rather than
//!   left waiting;
//! - a connection silent for `idle_timeout` (between requests, or in the
//!   middle of one) is closed;
//! - a request head must arrive within the request timeout and fit in
//!   `max_header_bytes`, else `431`.
//!
//! Requests in progress are bounded separately, by the load-shedding layer
//! of [`crate::startup::build_app`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::startup::ServerLimits;

/// How long requests in progress may finish once shutdown has begun.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The smallest read buffer hyper accepts.
const MIN_BUFFER_BYTES: usize = 8192;

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: &ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let builder = connection_builder(limits);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let idle_timeout = limits.idle_timeout.max(limits.request_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: let some close.
                    tracing::warn!(error.message = %error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };

        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };

        let service = app
            .clone()
            .map_request(move |mut request: axum::extract::Request<_>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let io = TokioIo::new(IdleTimeout::new(stream, idle_timeout));
        let connection =
            builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service));
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }

    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

fn connection_builder(limits: &ServerLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.request_timeout)
        .max_buf_size(limits.max_header_bytes.max(MIN_BUFFER_BYTES));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .max_concurrent_streams(100);
    builder
}

/// The answer to a connection over the limit, written by hand because the
/// connection never reaches hyper.
async fn refuse(mut stream: TcpStream) {
    let body = over_limit_body();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nconnection: close\r\n\
         odata-version: 4.0\r\ncontent-type: {}\r\ncontent-length: {}\r\n\r\n{body}",
        crate::http::GRAPH_JSON,
        body.len()
    );
    let write = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

fn over_limit_body() -> String {
    let request_id = uuid::Uuid::new_v4().to_string();
    let date = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    serde_json::json!({
        "error": {
            "code": "ServiceUnavailable",
            "message": "The service has too many open connections. Try again shortly.",
            "innerError": {
                "date": date,
                "request-id": request_id,
                "client-request-id": request_id,
            }
        }
    })
    .to_string()
}

/// A stream that fails with `TimedOut` once it has been silent for too long.
pub struct IdleTimeout<S> {
    inner: S,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<S> IdleTimeout<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }

    fn record_activity(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.timeout);
    }

    /// For an operation that is not ready: has the silence lasted too long?
    fn poll_expired<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::ErrorKind::TimedOut.into())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleTimeout<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let filled = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > filled {
                    this.record_activity();
                }
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_expired(cx),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(result) => {
                this.record_activity();
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_expired(cx),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

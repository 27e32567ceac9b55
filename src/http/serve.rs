//! Serves the router on a TCP listener with the time limits a server open to any client needs:
//! a connection that sends nothing, a request head that never ends or a body that trickles
//! holds a socket and a task for as long as the client likes — and, once the server is told to
//! stop, holds the stop itself (it waits for requests in flight). So:
//! - a request's head must arrive within [`HEADER_WAIT`] of the server starting to wait for it
//!   (which also closes a connection kept alive and idle that long, and one that never sends);
//! - its body must arrive whole within [`BODY_WAIT`] of the handler starting to read it (the
//!   read then fails, the handler answers its error and the connection is closed); a body the
//!   handler did not read to its end closes the connection after the answer (the connection
//!   would otherwise wait for the rest of it, for as long as the client takes);
//! - after the stop signal, requests in flight get [`STOP_GRACE`], then their connections are
//!   dropped and the server returns (the caller then closes the database as usual).
//!
//! `axum::serve` sets none of these (its HTTP/1 connections have no timer); the rest of what it
//! does is here too: the peer's address for `ConnectInfo`, `TCP_NODELAY`, and a pause after a
//! failed accept (out of file descriptors) instead of a busy loop.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use axum::Router;
use http::header::{self, HeaderValue};
use http::{Request, StatusCode};
use hyper::body::{Body as HttpBody, Bytes, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::time::{sleep, Sleep};
use tower::ServiceExt;

/// How long the server waits for a request's head (the first byte included).
pub const HEADER_WAIT: Duration = Duration::from_secs(30);
/// How long a request's body may take to arrive, from the first read of it.
pub const BODY_WAIT: Duration = Duration::from_secs(60);
/// How long requests in flight may still take once the server is told to stop.
pub const STOP_GRACE: Duration = Duration::from_secs(30);

/// Accepts connections on `listener` and serves `app` on each until `stop` completes; then
/// waits for the requests in flight (at most [`STOP_GRACE`]) and returns.
pub async fn serve(listener: TcpListener, app: Router, stop: impl Future<Output = ()>) {
    serve_with(listener, app, stop, Limits::default()).await;
}

/// The time limits [`serve`] applies (shorter ones in tests).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_wait: Duration,
    pub body_wait: Duration,
    pub stop_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_wait: HEADER_WAIT,
            body_wait: BODY_WAIT,
            stop_grace: STOP_GRACE,
        }
    }
}

/// [`serve`] with the given limits.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    stop: impl Future<Output = ()>,
    limits: Limits,
) {
    let connections = GracefulShutdown::new();
    let mut stop = pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most often: let connections close before trying again.
                tracing::warn!(error = %e, "accepting a connection failed");
                sleep(Duration::from_millis(250)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let has_body = !req.body().is_end_stream();
            let read_whole = Arc::new(AtomicBool::new(false));
            let mut req = req.map(|body| {
                Body::new(WithDeadline::new(
                    body,
                    limits.body_wait,
                    read_whole.clone(),
                ))
            });
            req.extensions_mut().insert(ConnectInfo(peer));
            // A task of its own: a client that hangs up (an IdP past its timeout) makes hyper
            // drop this future, and with it the request's handler wherever it was — a write cut
            // between its statements and its commit. Its task carries it out whole instead; the
            // answer is dropped.
            let answer = tokio::spawn(app.clone().oneshot(req));
            async move {
                let mut res = match answer.await {
                    Ok(res) => res?,
                    Err(e) => {
                        if e.is_panic() {
                            tracing::error!(error = %e, "a request's handler panicked");
                        } else {
                            tracing::warn!(error = %e, "a request's handler was stopped");
                        }
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                };
                // A body nobody read to its end would be drained by the connection, with no
                // deadline: the connection closes after this answer instead.
                if has_body && !read_whole.load(Ordering::Relaxed) {
                    res.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(res)
            }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_wait)
            .serve_connection(TokioIo::new(stream), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        () = connections.shutdown() => {}
        () = sleep(limits.stop_grace) => {
            tracing::warn!(
                "requests still in flight {:?} after the stop signal; their connections are dropped",
                limits.stop_grace
            );
        }
    }
}

/// A request body that fails once it has taken longer than its deadline, counted from its
/// first read, and says when it was read to its end.
struct WithDeadline {
    body: Incoming,
    wait: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
    read_whole: Arc<AtomicBool>,
}

impl WithDeadline {
    fn new(body: Incoming, wait: Duration, read_whole: Arc<AtomicBool>) -> Self {
        WithDeadline {
            body,
            wait,
            deadline: None,
            read_whole,
        }
    }
}

/// Why a body read failed: it was too slow.
#[derive(Debug)]
pub struct BodyTooSlow;

impl BodyTooSlow {
    /// Whether `error` or any error under it is a [`BodyTooSlow`].
    pub fn caused(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(error);
        while let Some(e) = next {
            if e.is::<BodyTooSlow>() {
                return true;
            }
            next = e.source();
        }
        false
    }
}

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTooSlow {}

impl HttpBody for WithDeadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let wait = self.wait;
        let deadline = self.deadline.get_or_insert_with(|| Box::pin(sleep(wait)));
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTooSlow))));
        }
        let frame = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(frame, Poll::Ready(None)) || self.body.is_end_stream() {
            self.read_whole.store(true, Ordering::Relaxed);
        }
        frame.map_err(|e| Box::new(e) as Self::Error)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Instant;

    use axum::body::to_bytes;
    use axum::http::StatusCode;
    use axum::routing::{get, post};

    use super::*;

    const LIMITS: Limits = Limits {
        header_wait: Duration::from_millis(300),
        body_wait: Duration::from_millis(600),
        stop_grace: Duration::from_millis(400),
    };

    /// A server of three routes under [`LIMITS`]: `/peer` answers the client's address,
    /// `/echo` the length of its body (408 when the body was too slow), `/stuck` never answers.
    /// Returns its address and the sender that stops it, and the task that ends when it has.
    async fn server() -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let app =
            Router::new()
                .route(
                    "/peer",
                    get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                        peer.ip().to_string()
                    }),
                )
                .route(
                    "/echo",
                    post(|body: Body| async move {
                        match to_bytes(body, 1 << 20).await {
                            Ok(bytes) => (StatusCode::OK, bytes.len().to_string()),
                            Err(e) if BodyTooSlow::caused(&e) => {
                                (StatusCode::REQUEST_TIMEOUT, "too slow".to_string())
                            }
                            Err(e) => (StatusCode::BAD_REQUEST, e.to_string()),
                        }
                    }),
                )
                .route("/ignore", post(|| async { "ignored" }))
                .route(
                    "/panic",
                    get(|| async { panic!("a handler's bug") as &str }),
                )
                .route(
                    "/stuck",
                    get(|| async {
                        sleep(Duration::from_secs(3600)).await;
                        "late"
                    }),
                );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve_with(
            listener,
            app,
            async {
                let _ = stopped.await;
            },
            LIMITS,
        ));
        (addr, stop, task)
    }

    /// A blocking client connection (run on a blocking thread).
    fn connect(addr: SocketAddr) -> TcpStream {
        let conn = TcpStream::connect(addr).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        conn
    }

    /// Reads until the server closes the connection (or 10 s pass); what it sent.
    fn until_closed(conn: &mut TcpStream) -> String {
        let mut answer = Vec::new();
        let _ = conn.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// Reads one answer with a body of `Content-Length` bytes.
    fn one_answer(conn: &mut TcpStream) -> String {
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = conn.read(&mut buf).unwrap();
            assert!(
                n > 0,
                "closed mid-answer: {:?}",
                String::from_utf8_lossy(&answer)
            );
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
                if body.len() >= length {
                    return text;
                }
            }
        }
    }

    async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        tokio::task::spawn_blocking(f).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_that_sends_no_whole_head_is_closed_and_others_are_served() {
        let (addr, _stop, _task) = server().await;
        let (silent, partial, idle) = blocking(move || {
            let started = Instant::now();
            let mut silent = connect(addr);
            let mut partial = connect(addr);
            partial
                .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            // Kept alive after one answer, then idle.
            let mut idle = connect(addr);
            idle.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let first = one_answer(&mut idle);
            assert!(first.starts_with("HTTP/1.1 200"), "{first}");
            assert!(first.ends_with("127.0.0.1"), "the peer's address: {first}");
            // The kept-alive connection serves a second request at once.
            idle.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            assert!(one_answer(&mut idle).starts_with("HTTP/1.1 200"));
            let closed = (
                until_closed(&mut silent),
                until_closed(&mut partial),
                until_closed(&mut idle),
            );
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "closed only after {:?}",
                started.elapsed()
            );
            closed
        })
        .await;
        for closed in [&silent, &partial, &idle] {
            assert!(
                closed.is_empty() || closed.starts_with("HTTP/1.1 408"),
                "{closed}"
            );
        }
        // The server still serves.
        let fresh = blocking(move || {
            let mut c = connect(addr);
            c.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            one_answer(&mut c)
        })
        .await;
        assert!(fresh.starts_with("HTTP/1.1 200"), "{fresh}");
    }

    /// A handler that panics (a bug) answers 500 on its connection, which goes on serving, as
    /// does the server.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_handler_that_panics_answers_500_and_the_connection_goes_on() {
        let (addr, _stop, _task) = server().await;
        let (failed, next) = blocking(move || {
            let mut c = connect(addr);
            c.write_all(b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let failed = one_answer(&mut c);
            c.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            (failed, one_answer(&mut c))
        })
        .await;
        assert!(failed.starts_with("HTTP/1.1 500"), "{failed}");
        assert!(next.starts_with("HTTP/1.1 200"), "{next}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_that_trickles_past_its_deadline_fails_the_read_and_the_connection_closes() {
        let (addr, _stop, _task) = server().await;
        let answer = blocking(move || {
            let mut c = connect(addr);
            c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
                .unwrap();
            // A byte every 100 ms: each in time, the whole never.
            for _ in 0..30 {
                std::thread::sleep(Duration::from_millis(100));
                if c.write_all(b"c").is_err() {
                    break;
                }
            }
            until_closed(&mut c)
        })
        .await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.ends_with("too slow"), "{answer}");
        // A body sent at once is read whole.
        let whole = blocking(move || {
            let mut c = connect(addr);
            c.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
                .unwrap();
            one_answer(&mut c)
        })
        .await;
        assert!(
            whole.starts_with("HTTP/1.1 200") && whole.ends_with("\r\n5"),
            "{whole}"
        );
        // A body the route never reads: answered, then the connection closes at once rather
        // than wait for the rest of it.
        let (ignored, took) = blocking(move || {
            let started = Instant::now();
            let mut c = connect(addr);
            c.write_all(b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
                .unwrap();
            (until_closed(&mut c), started.elapsed())
        })
        .await;
        assert!(ignored.starts_with("HTTP/1.1 200"), "{ignored}");
        assert!(ignored.contains("connection: close"), "{ignored}");
        assert!(took < Duration::from_secs(5), "closed after {took:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stop_waits_for_requests_in_flight_no_longer_than_its_grace() {
        let (addr, stop, task) = server().await;
        let stuck = blocking(move || {
            let mut c = connect(addr);
            c.write_all(b"GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            c
        })
        .await;
        sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the server returned after its grace")
            .unwrap();
        let took = started.elapsed();
        assert!(
            took >= LIMITS.stop_grace,
            "returned after {took:?}, before the grace was over"
        );
        // No new connection is accepted once stopped.
        assert!(TcpStream::connect(addr).is_err(), "still accepting");
        drop(stuck);
    }
}

//! What the server has answered, for a monitoring system: `GET /metrics` in Prometheus' text
//! format, behind the bearer token `ROSTER_METRICS_TOKEN` (no token set: no such page).
//!
//! Each answer is counted by surface (the SCIM API, server functions, pages, static files, the
//! health check, this page) and status code, its time observed in a histogram, and the requests in flight
//! are a gauge; the process's CPU time, memory and open files are read from `/proc` when asked.
//! Counting is a few relaxed atomic additions per request, kept in memory: each replica has its
//! own, as a scraper expects. Nothing in them names a tenant, an integration or a user.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secret::Secret;

/// Where a request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Scim,
    ServerFn,
    Page,
    Asset,
    Health,
    Metrics,
}

impl Surface {
    const ALL: [Surface; 6] = [
        Surface::Scim,
        Surface::ServerFn,
        Surface::Page,
        Surface::Asset,
        Surface::Health,
        Surface::Metrics,
    ];

    fn label(self) -> &'static str {
        match self {
            Surface::Scim => "scim",
            Surface::ServerFn => "server_fn",
            Surface::Page => "page",
            Surface::Asset => "asset",
            Surface::Health => "health",
            Surface::Metrics => "metrics",
        }
    }

    /// The surface of a request to `path` that is not the SCIM API's (which counts its own).
    pub fn of_path(path: &str) -> Surface {
        if path == "/healthz" {
            Surface::Health
        } else if path == "/metrics" {
            Surface::Metrics
        } else if path.starts_with("/api/") {
            Surface::ServerFn
        } else if path.starts_with("/pkg/") || path == "/favicon.ico" {
            Surface::Asset
        } else {
            Surface::Page
        }
    }
}

/// Upper bounds of the answer-time histogram's buckets, in seconds.
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Status codes 100–599, one counter each.
const STATUSES: usize = 500;

#[derive(Default)]
struct SurfaceCounts {
    /// By status code − 100.
    answers: Vec<AtomicU64>,
    /// By bucket, each counting the answers at most its bound (not cumulative: summed when
    /// written out); the last is those above every bound.
    buckets: Vec<AtomicU64>,
    micros: AtomicU64,
    in_flight: AtomicU64,
}

impl SurfaceCounts {
    fn new() -> Self {
        SurfaceCounts {
            answers: (0..STATUSES).map(|_| AtomicU64::new(0)).collect(),
            buckets: (0..=BUCKETS.len()).map(|_| AtomicU64::new(0)).collect(),
            ..SurfaceCounts::default()
        }
    }
}

/// The counts of one server process.
pub struct Metrics {
    surfaces: Vec<SurfaceCounts>,
    /// When this server began counting, in milliseconds since the epoch.
    started: i64,
    /// SHA-256 of `ROSTER_METRICS_TOKEN`: compared with the presented token's, in constant time.
    token_digest: Option<[u8; 32]>,
}

impl Metrics {
    /// Counts from `started` (milliseconds since the epoch), served to `token`'s bearer.
    pub fn new(token: Option<&Secret>, started: i64) -> Arc<Metrics> {
        Arc::new(Metrics {
            surfaces: Surface::ALL.iter().map(|_| SurfaceCounts::new()).collect(),
            started,
            token_digest: token.map(|t| digest(t.expose())),
        })
    }

    /// Whether `/metrics` is served at all.
    pub fn is_served(&self) -> bool {
        self.token_digest.is_some()
    }

    fn counts(&self, surface: Surface) -> &SurfaceCounts {
        &self.surfaces[surface as usize]
    }

    /// A request to `surface` begins; [`InFlight`] ends it when dropped unanswered.
    pub fn begin(self: &Arc<Self>, surface: Surface) -> InFlight {
        self.counts(surface)
            .in_flight
            .fetch_add(1, Ordering::Relaxed);
        InFlight {
            metrics: self.clone(),
            surface,
            started: Instant::now(),
        }
    }

    fn observe(&self, surface: Surface, status: StatusCode, took: Duration) {
        let counts = self.counts(surface);
        let code = usize::from(status.as_u16()).saturating_sub(100);
        if let Some(slot) = counts.answers.get(code) {
            slot.fetch_add(1, Ordering::Relaxed);
        }
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        counts.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        counts
            .micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// Everything, in Prometheus' text format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let _ = writeln!(
            out,
            "# HELP roster_build_info The running release.\n# TYPE roster_build_info gauge\n\
             roster_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        out.push_str(
            "# HELP roster_http_requests_total Answers sent, by surface and status code.\n\
             # TYPE roster_http_requests_total counter\n",
        );
        for surface in Surface::ALL {
            for (i, n) in self.counts(surface).answers.iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "roster_http_requests_total{{surface=\"{}\",status=\"{}\"}} {n}",
                        surface.label(),
                        i + 100
                    );
                }
            }
        }
        out.push_str(
            "# HELP roster_http_request_duration_seconds Time from a request's arrival to its \
             answer, by surface.\n# TYPE roster_http_request_duration_seconds histogram\n",
        );
        for surface in Surface::ALL {
            let counts = self.counts(surface);
            let label = surface.label();
            let mut cumulative = 0;
            for (i, n) in counts.buckets.iter().enumerate() {
                cumulative += n.load(Ordering::Relaxed);
                let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "roster_http_request_duration_seconds_bucket{{surface=\"{label}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let seconds = counts.micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "roster_http_request_duration_seconds_sum{{surface=\"{label}\"}} {seconds}\n\
                 roster_http_request_duration_seconds_count{{surface=\"{label}\"}} {cumulative}"
            );
        }
        out.push_str(
            "# HELP roster_http_requests_in_flight Requests being answered, by surface.\n\
             # TYPE roster_http_requests_in_flight gauge\n",
        );
        for surface in Surface::ALL {
            let n = self.counts(surface).in_flight.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "roster_http_requests_in_flight{{surface=\"{}\"}} {n}",
                surface.label()
            );
        }
        self.render_process(&mut out);
        out
    }

    /// The standard `process_*` metrics, from `/proc/self` (left out where it cannot be read).
    fn render_process(&self, out: &mut String) {
        let start = self.started as f64 / 1000.0;
        let _ = writeln!(
            out,
            "# HELP process_start_time_seconds When the process started, in seconds since the epoch.\n\
             # TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {start}"
        );
        let ticks = 100.0; // USER_HZ, 100 on Linux
        if let Some((cpu, rss_pages)) = proc_stat() {
            let _ = writeln!(
                out,
                "# HELP process_cpu_seconds_total User and system CPU time spent.\n\
                 # TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n\
                 # HELP process_resident_memory_bytes Resident memory size.\n\
                 # TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}",
                cpu as f64 / ticks,
                rss_pages * 4096
            );
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            let _ = writeln!(
                out,
                "# HELP process_open_fds Open file descriptors.\n\
                 # TYPE process_open_fds gauge\nprocess_open_fds {}",
                fds.count()
            );
        }
    }

    /// Whether `headers` carry this server's metrics token.
    fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token_digest else {
            return false;
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| digest(t.trim()));
        presented.is_some_and(|p| bool::from(p.ct_eq(expected)))
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// CPU ticks (user + system) and resident pages, from `/proc/self/stat`.
fn proc_stat() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command (which may hold spaces), from the 3rd (state) on.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let rss: u64 = fields.get(21)?.parse().ok()?;
    Some((utime + stime, rss))
}

/// A request being answered: counted in flight until answered or dropped.
pub struct InFlight {
    metrics: Arc<Metrics>,
    surface: Surface,
    started: Instant,
}

impl InFlight {
    /// The request was answered with `status`.
    pub fn answered(self, status: StatusCode) {
        self.metrics
            .observe(self.surface, status, self.started.elapsed());
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.metrics
            .counts(self.surface)
            .in_flight
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// The layer that counts every request that is not the SCIM API's.
pub async fn count(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let flight = metrics.begin(Surface::of_path(req.uri().path()));
    let res = next.run(req).await;
    flight.answered(res.status());
    res
}

/// `GET /metrics`: the counts to a bearer of the metrics token; 401 to anyone else.
pub fn scrape(metrics: &Metrics, headers: &HeaderMap) -> Response {
    if !metrics.admits(headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "Send the metrics token (ROSTER_METRICS_TOKEN) as a bearer token.\n",
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_counted_by_surface_and_status_and_timed_in_cumulative_buckets() {
        let metrics = Metrics::new(None, 1_700_000_000_500);
        let ok = metrics.begin(Surface::Scim);
        let slow = metrics.begin(Surface::Scim);
        let page = metrics.begin(Surface::Page);
        let text = metrics.render();
        assert!(text.contains("roster_http_requests_in_flight{surface=\"scim\"} 2\n"));
        metrics.observe(
            Surface::Scim,
            StatusCode::CREATED,
            Duration::from_micros(800),
        );
        metrics.observe(
            Surface::Scim,
            StatusCode::CREATED,
            Duration::from_millis(30),
        );
        metrics.observe(Surface::Scim, StatusCode::CONFLICT, Duration::from_secs(20));
        drop((ok, slow));
        page.answered(StatusCode::OK);
        let text = metrics.render();
        for line in [
            "roster_http_requests_total{surface=\"scim\",status=\"201\"} 2\n",
            "roster_http_requests_total{surface=\"scim\",status=\"409\"} 1\n",
            "roster_http_requests_total{surface=\"page\",status=\"200\"} 1\n",
            "roster_http_request_duration_seconds_bucket{surface=\"scim\",le=\"0.001\"} 1\n",
            "roster_http_request_duration_seconds_bucket{surface=\"scim\",le=\"0.025\"} 1\n",
            "roster_http_request_duration_seconds_bucket{surface=\"scim\",le=\"0.05\"} 2\n",
            "roster_http_request_duration_seconds_bucket{surface=\"scim\",le=\"10\"} 2\n",
            "roster_http_request_duration_seconds_bucket{surface=\"scim\",le=\"+Inf\"} 3\n",
            "roster_http_request_duration_seconds_sum{surface=\"scim\"} 20.0308\n",
            "roster_http_request_duration_seconds_count{surface=\"scim\"} 3\n",
            "roster_http_requests_in_flight{surface=\"scim\"} 0\n",
            "roster_http_requests_in_flight{surface=\"page\"} 0\n",
        ] {
            assert!(text.contains(line), "{line}in:\n{text}");
        }
        assert!(
            !text.contains("surface=\"health\",status="),
            "nothing sent there"
        );
        assert!(text.contains("\nprocess_resident_memory_bytes "), "{text}");
        assert!(
            text.contains("\nprocess_start_time_seconds 1700000000.5\n"),
            "{text}"
        );
    }

    #[test]
    fn only_the_metrics_token_is_admitted() {
        let token = Secret::new("a-metrics-token-of-some-length-0123456789");
        let metrics = Metrics::new(Some(&token), 0);
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            metrics.admits(&h)
        };
        assert!(with("Bearer a-metrics-token-of-some-length-0123456789"));
        assert!(!with("Bearer a-metrics-token-of-some-length-012345678"));
        assert!(!with("Basic a-metrics-token-of-some-length-0123456789"));
        assert!(!metrics.admits(&HeaderMap::new()));
        assert!(!Metrics::new(None, 0).admits(&HeaderMap::new()));
    }

    #[test]
    fn paths_are_sorted_into_surfaces() {
        assert_eq!(Surface::of_path("/healthz"), Surface::Health);
        assert_eq!(Surface::of_path("/metrics"), Surface::Metrics);
        assert_eq!(Surface::of_path("/api/roles/create"), Surface::ServerFn);
        assert_eq!(Surface::of_path("/pkg/roster.wasm"), Surface::Asset);
        assert_eq!(Surface::of_path("/t/main/iam/users"), Surface::Page);
    }
}

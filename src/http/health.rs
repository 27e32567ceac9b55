//! `GET /healthz`: 200 when the database answers, 503 when it does not — for load balancers.
//! The answer comes within [`DATABASE_WAIT`] whatever the database does: a check that waited
//! for the pool's own timeout (10 s) while PostgreSQL was down outlived the checker's timeout
//! (Kubernetes' default is 1 s, a cloud load balancer's 5 s), and piled up behind it.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use crate::state::AppState;

/// How long the check waits for the database (a connection and `SELECT 1`) before it answers 503.
pub const DATABASE_WAIT: Duration = Duration::from_secs(2);

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(DATABASE_WAIT, state.db.ping()).await {
        Ok(true) => (StatusCode::OK, "ok"),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable: it did not answer in time",
        ),
    }
}

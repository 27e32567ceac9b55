//! `GET /healthz`: 200 when the database answers, 503 when it does not — for load balancers.

use axum::extract::State;
use axum::http::StatusCode;

use crate::state::AppState;

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.ping().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

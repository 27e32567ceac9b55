//! What a long-running server sweeps away on a schedule: expired sessions, sign-in states
//! (OpenID logins never completed), sign-in failure rows past the throttle's window and SCIM
//! request-log entries beyond each integration's bound. One
//! background task per process; several replicas sweeping the same database is harmless (the
//! deletes are idempotent).

use std::time::Duration;

use crate::auth::throttle::WINDOW_MILLIS;
use crate::clock::SharedClock;
use crate::db::{self, Db};
use crate::error::AppResult;

/// Rows one sweep removed, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub sign_in_states: u64,
    pub failure_rows: u64,
    /// SCIM request-log entries beyond each integration's bound (`db::scim_log::trim_all`).
    pub scim_log_entries: u64,
}

/// Deletes everything that expired by `now`, in one write transaction.
pub async fn sweep(db: &Db, now: crate::clock::Millis) -> AppResult<Swept> {
    let mut tx = db.begin_write().await?;
    let swept = Swept {
        sessions: db::sessions::delete_expired(&mut tx, now).await?,
        sign_in_states: db::oidc::delete_expired_pending(&mut tx, now).await?,
        failure_rows: db::throttle::delete_stale(&mut tx, now - WINDOW_MILLIS, now).await?,
        scim_log_entries: db::scim_log::trim_all(&mut tx).await?,
    };
    tx.commit().await?;
    Ok(swept)
}

/// Starts the sweeper: a first sweep right away, then one every `every`. A failed sweep is
/// logged and tried again at the next tick.
pub fn spawn(db: Db, clock: SharedClock, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match sweep(&db, clock.now_millis()).await {
                Ok(s) if s != Swept::default() => tracing::info!(
                    sessions = s.sessions,
                    sign_in_states = s.sign_in_states,
                    failure_rows = s.failure_rows,
                    scim_log_entries = s.scim_log_entries,
                    "housekeeping swept expired rows"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "housekeeping sweep failed; retrying later"),
            }
        }
    })
}

//! What a long-running server sweeps away on a schedule: expired sessions, sign-in states
//! (OpenID logins never completed), sign-in failure rows past the throttle's window, SCIM
//! request-log entries beyond each integration's bound and audit events past their retention;
//! and what it sets right: a tenant's kept
//! count of access that a writer not keeping it left off (`db::access::miscounted`). One
//! background task per process; several replicas sweeping the same database is harmless (the
//! deletes are idempotent, and a recount sets the count to what is there).

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
    /// Tenants whose kept count of access was off, and was set right ([`recount_access`]).
    pub recounted_tenants: u64,
}

/// Deletes everything that expired by `now`, in one write transaction, then sets right the
/// kept counts of access that are off ([`recount_access`]). None of it changes what a SCIM
/// integration's credentials allow, so the credentials this server remembers stay.
pub async fn sweep(db: &Db, now: crate::clock::Millis) -> AppResult<Swept> {
    let mut tx = db.begin_write_keeping_credentials().await?;
    let mut swept = Swept {
        sessions: db::sessions::delete_expired(&mut tx, now).await?,
        sign_in_states: db::oidc::delete_expired_pending(&mut tx, now).await?,
        failure_rows: db::throttle::delete_stale(&mut tx, now - WINDOW_MILLIS, now).await?,
        scim_log_entries: db::scim_log::trim_all(&mut tx).await?,
        recounted_tenants: 0,
    };
    tx.commit().await?;
    swept.recounted_tenants = recount_access(db).await?.len() as u64;
    Ok(swept)
}

/// Sets right each tenant's kept count of access (the sum of its slots, which a list's total
/// and the Users page read) that is not its access rows' count: found by one read, each set in a
/// write transaction of its own (`db::access::recount`, exact beside writes in flight). Nothing
/// is written while the counts agree. Each one set right is logged, with what it was. Returns
/// those set right.
pub async fn recount_access(db: &Db) -> AppResult<Vec<db::access::Miscount>> {
    let off = {
        let mut conn = db.acquire().await?;
        db::access::miscounted(&mut conn).await?
    };
    let mut set_right = Vec::new();
    for found in off {
        let mut tx = db.begin_write_keeping_credentials().await?;
        let recounted = db::access::recount(&mut tx, &found.tenant_id).await?;
        tx.commit().await?;
        if let Some(m) = recounted.filter(|m| m.kept != m.counted) {
            tracing::warn!(
                tenant = %m.tenant_id,
                kept = m.kept,
                counted = m.counted,
                "a tenant's kept count of access was off (written by a writer that does not keep \
                 it, such as a replica of an earlier release); set to its access rows' count"
            );
            set_right.push(m);
        }
    }
    Ok(set_right)
}

/// Most audit events one transaction of [`trim_audit_log`] deletes: the writer is held for a
/// short while at a time, beside the requests.
const AUDIT_TRIM_BATCH: i64 = 5_000;
/// Most batches one sweep deletes per tenant; what is left goes at the next sweep.
const AUDIT_TRIM_BATCHES: u32 = 200;

/// Deletes the audit events that happened before `cutoff`, tenant by tenant, in transactions of
/// [`AUDIT_TRIM_BATCH`] events. Answers how many went.
pub async fn trim_audit_log(db: &Db, cutoff: crate::clock::Millis) -> AppResult<u64> {
    let tenants = {
        let mut conn = db.acquire().await?;
        db::audit::tenants_with_events_before(&mut conn, cutoff).await?
    };
    let mut deleted = 0;
    for tenant in &tenants {
        for _ in 0..AUDIT_TRIM_BATCHES {
            let mut tx = db.begin_write_keeping_credentials().await?;
            let n = db::audit::delete_before(&mut tx, tenant, cutoff, AUDIT_TRIM_BATCH).await?;
            tx.commit().await?;
            deleted += n;
            if n < AUDIT_TRIM_BATCH as u64 {
                break;
            }
        }
    }
    Ok(deleted)
}

/// A day, in milliseconds.
const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// Starts the sweeper: a first sweep right away, then one every `every`; with a retention,
/// audit events older than that many days go too. A failed sweep is logged and tried again at
/// the next tick.
pub fn spawn(
    db: Db,
    clock: SharedClock,
    every: Duration,
    audit_retention_days: Option<u32>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = clock.now_millis();
            if let Some(days) = audit_retention_days {
                match trim_audit_log(&db, now - i64::from(days) * DAY_MILLIS).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(audit_events = n, days, "audit events past retention swept")
                    }
                    Err(e) => tracing::warn!(error = %e, "audit log trim failed; retrying later"),
                }
            }
            match sweep(&db, now).await {
                Ok(s) if s != Swept::default() => tracing::info!(
                    sessions = s.sessions,
                    sign_in_states = s.sign_in_states,
                    failure_rows = s.failure_rows,
                    scim_log_entries = s.scim_log_entries,
                    recounted_tenants = s.recounted_tenants,
                    "housekeeping swept expired rows"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "housekeeping sweep failed; retrying later"),
            }
        }
    })
}

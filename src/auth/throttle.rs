//! How often a password may be tried (issue 10, M2): every attempt is counted before its
//! password is verified, under three keys at once —
//!
//! * the account from one client address: 10 failures in 5 minutes lock that address out of
//!   that account for 30 minutes (so a guesser locks out only themselves);
//! * the account from everywhere: 100 failures lock the account (a guesser spread over many
//!   addresses; locking someone out takes more than knowing their name);
//! * the client address, whatever account: 100 failures lock the address.
//!
//! The account is the user a login name resolves to (username or any email: one counter per
//! account), or a hash of an unknown name (never stored as typed).

use sha2::{Digest, Sha256};

use crate::clock::Millis;
use crate::db::{self, Db};
use crate::error::{AppError, AppResult};

pub const WINDOW_MILLIS: i64 = 5 * 60 * 1000;
pub const LOCKOUT_MILLIS: i64 = 30 * 60 * 1000;
/// Failures of one account from one client address before that address is locked out of it.
pub const MAX_FAILURES: i64 = 10;
/// Failures of one account from all addresses before the account is locked.
pub const MAX_ACCOUNT_FAILURES: i64 = 100;
/// Failures from one client address, whatever the accounts, before the address is locked.
pub const MAX_CLIENT_FAILURES: i64 = 100;

struct Limit {
    key: String,
    max: i64,
}

/// One sign-in attempt's counters, from [`admit`] to [`failed`] or [`succeeded`].
pub struct Attempt {
    limits: Vec<Limit>,
    counted: Vec<i64>,
}

impl Attempt {
    /// `user_id` when the login name belongs to a user, else the lower-cased name as typed.
    pub fn new(user_id: Option<&str>, login_lower: &str, client: &str) -> Self {
        let account = match user_id {
            Some(id) => format!("user:{id}"),
            None => {
                let digest = Sha256::digest(login_lower.as_bytes());
                format!("name:{}", hex(&digest[..16]))
            }
        };
        let limits = vec![
            Limit {
                key: format!("{account}@{client}"),
                max: MAX_FAILURES,
            },
            Limit {
                key: account,
                max: MAX_ACCOUNT_FAILURES,
            },
            Limit {
                key: format!("client:{client}"),
                max: MAX_CLIENT_FAILURES,
            },
        ];
        Self {
            limits,
            counted: Vec::new(),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn locked_out(until: Millis, now: Millis) -> AppError {
    AppError::LockedOut {
        minutes: (until - now + 59_999) / 60_000,
    }
}

/// Counts the attempt under each key, in one write transaction, before any password work.
/// Refuses while a key is locked, and when this attempt is over a key's limit (which locks it).
pub async fn admit(db: &Db, attempt: &mut Attempt, now: Millis) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    let mut refusal = None;
    attempt.counted.clear();
    for limit in &attempt.limits {
        let counted =
            db::throttle::count_attempt(&mut tx, &limit.key, now, now - WINDOW_MILLIS).await?;
        attempt.counted.push(counted.attempts);
        if counted.locked_until > now {
            refusal = Some(locked_out(counted.locked_until, now));
        } else if counted.attempts > limit.max {
            db::throttle::lock(&mut tx, &limit.key, now + LOCKOUT_MILLIS).await?;
            refusal = Some(locked_out(now + LOCKOUT_MILLIS, now));
        }
        if refusal.is_some() {
            break;
        }
    }
    tx.commit().await?;
    refusal.map_or(Ok(()), Err)
}

/// The password was wrong: a key whose count reached its limit is locked. Runs in the
/// transaction that records the failure.
pub async fn failed(conn: &mut db::Conn, attempt: &Attempt, now: Millis) -> AppResult<()> {
    for (limit, counted) in attempt.limits.iter().zip(&attempt.counted) {
        if *counted >= limit.max {
            db::throttle::lock(conn, &limit.key, now + LOCKOUT_MILLIS).await?;
            tracing::warn!(key = %limit.key, "sign-in locked after repeated failures");
        }
    }
    Ok(())
}

/// The password was right: the account-and-address counter is forgotten, the attempt taken
/// back from the others. Runs in the transaction that starts the session.
pub async fn succeeded(conn: &mut db::Conn, attempt: &Attempt) -> AppResult<()> {
    let mut limits = attempt.limits.iter();
    if let Some(own) = limits.next() {
        db::throttle::clear(conn, &own.key).await?;
    }
    for limit in limits {
        db::throttle::uncount(conn, &limit.key).await?;
    }
    Ok(())
}

/// Takes the attempt back from every key (it was never tried: no password work was done).
pub async fn withdraw(db: &Db, attempt: &Attempt) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    for limit in &attempt.limits {
        db::throttle::uncount(&mut tx, &limit.key).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_account_has_one_counter_whatever_name_was_typed() {
        let by_name = Attempt::new(Some("u1"), "alice", "10.0.0.1");
        let by_email = Attempt::new(Some("u1"), "alice@example.com", "10.0.0.1");
        let keys = |a: &Attempt| a.limits.iter().map(|l| l.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&by_name), keys(&by_email));
        assert_eq!(keys(&by_name)[0], "user:u1@10.0.0.1");
        assert_eq!(keys(&by_name)[2], "client:10.0.0.1");
    }

    #[test]
    fn unknown_names_are_kept_as_a_short_hash() {
        let a = Attempt::new(None, &"x".repeat(300), "::1");
        assert!(a.limits[1].key.starts_with("name:"));
        assert_eq!(a.limits[1].key.len(), 5 + 32);
        assert!(!a.limits[1].key.contains("xxx"));
    }
}

//! Password hashing with argon2, run on tokio's blocking threads so a hash (tens of
//! milliseconds of CPU) never stalls the async workers, and bounded: at most two hashes per
//! core run at once (each takes 19 MiB), and work that cannot start within [`ARGON2_WAIT`] is
//! refused with [`AppError::Overloaded`] (429) instead of queueing without end (issue 10, M3).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier};
use argon2::Argon2;

use crate::error::{AppError, AppResult};
use crate::secret::Secret;

/// A hash of a password nobody knows, verified against when the user does not exist, so a
/// wrong username costs the same time as a wrong password.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$JT1+1vsRrtSHOQdp/ilO0P3tCGw3AIHx0Xq0SL8qmYU";

/// How long password work waits for its turn before it is refused.
pub const ARGON2_WAIT: Duration = Duration::from_secs(5);

fn argon2_turns() -> &'static Arc<Semaphore> {
    static TURNS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    TURNS.get_or_init(|| Arc::new(Semaphore::new(argon2_capacity())))
}

/// Two argon2 computations per core at once.
fn argon2_capacity() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

/// A turn to run one argon2 computation, or [`AppError::Overloaded`] after [`ARGON2_WAIT`].
async fn argon2_turn() -> AppResult<OwnedSemaphorePermit> {
    argon2_turn_within(ARGON2_WAIT).await
}

async fn argon2_turn_within(wait: Duration) -> AppResult<OwnedSemaphorePermit> {
    match tokio::time::timeout(wait, argon2_turns().clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => {
            tracing::warn!("password work refused: every argon2 turn is taken");
            Err(AppError::Overloaded("every argon2 turn is taken".into()))
        }
    }
}

pub async fn hash(password: Secret) -> AppResult<String> {
    let turn = argon2_turn().await?;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let salt = super::random::password_salt();
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("argon2 hash failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("hashing task failed: {e}")))?
}

/// True when `password` matches `stored`. With no stored hash it still does the work and
/// answers false.
pub async fn verify(password: Secret, stored: Option<String>) -> AppResult<bool> {
    let turn = argon2_turn().await?;
    Ok(tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DECOY_HASH.to_string());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        let matches = Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        known && matches
    })
    .await
    .unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let h = hash(Secret::new("correct horse")).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(Secret::new("correct horse"), Some(h.clone()))
            .await
            .unwrap());
        assert!(!verify(Secret::new("wrong horse"), Some(h)).await.unwrap());
    }

    #[tokio::test]
    async fn password_work_past_the_turns_is_refused_not_queued_forever() {
        let all = argon2_turns()
            .clone()
            .acquire_many_owned(argon2_capacity() as u32);
        let held = all.await.unwrap();
        let refused = argon2_turn_within(Duration::from_millis(50)).await;
        assert!(matches!(refused, Err(AppError::Overloaded(_))));
        assert_eq!(refused.unwrap_err().status(), 429);
        drop(held);
        assert!(argon2_turn_within(Duration::from_millis(50)).await.is_ok());
    }

    #[tokio::test]
    async fn no_stored_hash_never_verifies() {
        assert!(!verify(Secret::new("anything"), None).await.unwrap());
    }
}

//! Password hashing with argon2, run on tokio's blocking threads so a hash (tens of
//! milliseconds of CPU) never stalls the async workers.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier};
use argon2::Argon2;

use crate::error::{AppError, AppResult};
use crate::secret::Secret;

/// A hash of a password nobody knows, verified against when the user does not exist, so a
/// wrong username costs the same time as a wrong password.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$JT1+1vsRrtSHOQdp/ilO0P3tCGw3AIHx0Xq0SL8qmYU";

pub async fn hash(password: Secret) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
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
pub async fn verify(password: Secret, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
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
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let h = hash(Secret::new("correct horse")).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(Secret::new("correct horse"), Some(h.clone())).await);
        assert!(!verify(Secret::new("wrong horse"), Some(h)).await);
    }

    #[tokio::test]
    async fn no_stored_hash_never_verifies() {
        assert!(!verify(Secret::new("anything"), None).await);
    }
}

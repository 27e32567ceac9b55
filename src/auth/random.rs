//! The one place Roster draws randomness (session, sign-in and API tokens, integration ids, password
//! salts), all from the operating system's generator. `clippy.toml` bans `OsRng` and `thread_rng`
//! everywhere else, so a new use of randomness comes through here and stays easy to find.

use argon2::password_hash::SaltString;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::{CryptoRng, Rng, RngCore};

/// The operating system's generator: the only place it is named.
#[allow(clippy::disallowed_types)]
fn os() -> impl RngCore + CryptoRng {
    rand::rngs::OsRng
}

/// `n` random bytes written as URL-safe base64 without padding.
pub fn url_safe_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    os().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `len` characters drawn uniformly from `alphabet` (which must not be empty).
pub fn string_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = os();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// A fresh salt for an argon2 password hash.
pub fn password_salt() -> SaltString {
    SaltString::generate(&mut os())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_asked_length_and_differ() {
        let a = url_safe_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, url_safe_token(32));
        let id = string_from(b"ab", 21);
        assert_eq!(id.len(), 21);
        assert!(id.bytes().all(|b| b == b'a' || b == b'b'));
    }
}

//! Secrets in one place, on the ground floor: [`Secret`], a string whose `Debug` hides it (passwords,
//! tokens, client secrets), and [`SecretKey`], which seals the secrets Roster must read back (an OpenID
//! client secret) with AES-256-GCM under `ROSTER_SECRET_KEY`. The row id is the associated data, so a
//! ciphertext copied onto another row does not decrypt. Stored form: `v1:<base64url(nonce ‖ ciphertext ‖ tag)>`.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

/// 32 bytes from the operating system's generator, for a key Roster makes for itself (the
/// instance's cursor key, `db::instance_keys`).
pub fn random_key_bytes() -> Result<[u8; 32], String> {
    let mut key = [0u8; 32];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| "no randomness available".to_string())?;
    Ok(key)
}

/// A value that must never reach a log line: `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

const PREFIX: &str = "v1:";

/// The 32-byte key from `ROSTER_SECRET_KEY`; `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// Parses 32 bytes written in base64 (standard or URL-safe, padded or not).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE.decode(text))
            .or_else(|_| URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| "it is not base64".to_string())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("it holds {} bytes, not 32", b.len()))?;
        Ok(Self(key))
    }

    fn aead(&self) -> LessSafeKey {
        // AES-256 takes any 32-byte key, so this cannot fail.
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).unwrap_or_else(|_| unreachable!()))
    }

    pub fn seal(&self, plaintext: &Secret, row_id: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| "no randomness available".to_string())?;
        let mut buf = plaintext.expose().as_bytes().to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(row_id.as_bytes()),
                &mut buf,
            )
            .map_err(|_| "encryption failed".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// The plaintext, or an error when the key is not the one it was sealed with.
    pub fn open(&self, sealed: &str, row_id: &str) -> Result<Secret, String> {
        let body = sealed
            .strip_prefix(PREFIX)
            .ok_or_else(|| "unknown format".to_string())?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| "damaged ciphertext".to_string())?;
        if bytes.len() < NONCE_LEN {
            return Err("damaged ciphertext".into());
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "damaged ciphertext")?;
        let mut buf = rest.to_vec();
        let plain = self
            .aead()
            .open_in_place(nonce, Aad::from(row_id.as_bytes()), &mut buf)
            .map_err(|_| "it does not decrypt with this key".to_string())?;
        String::from_utf8(plain.to_vec())
            .map(Secret::new)
            .map_err(|_| "damaged plaintext".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey([byte; 32])
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_row_only() {
        let sealed = key(1).seal(&Secret::new("s3cret"), "row-1").unwrap();
        assert!(sealed.starts_with("v1:") && !sealed.contains("s3cret"));
        assert_eq!(key(1).open(&sealed, "row-1").unwrap().expose(), "s3cret");
        assert!(key(2).open(&sealed, "row-1").is_err());
        assert!(key(1).open(&sealed, "row-2").is_err());
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let a = key(1).seal(&Secret::new("x"), "r").unwrap();
        let b = key(1).seal(&Secret::new("x"), "r").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn keys_are_32_bytes_of_base64() {
        let text = STANDARD.encode([7u8; 32]);
        assert_eq!(SecretKey::parse(&text).unwrap(), key(7));
        assert!(SecretKey::parse("not base64!").is_err());
        assert!(SecretKey::parse(&STANDARD.encode([1u8; 16]))
            .unwrap_err()
            .contains("16 bytes"));
        assert_eq!(format!("{:?}", key(1)), "SecretKey(***)");
    }
}

//! AES-256-GCM envelopes and key derivation.
//!
//! Envelope format v1: `[0x01][96-bit random nonce][ciphertext + 128-bit tag]`. The
//! version byte lets the scheme evolve; associated data binds an envelope to its place.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use zeroize::Zeroizing;

/// The current envelope format.
pub const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// PBKDF2-HMAC-SHA256 rounds for a passphrase (OWASP 2023 guidance).
pub const PBKDF2_ROUNDS: u32 = 600_000;

/// Why an envelope did not open. Deliberately without detail: a wrong key, a wrong
/// place (associated data) and tampering look the same.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the envelope is truncated or malformed")]
    Malformed,
    #[error("unsupported envelope format version {0}")]
    UnsupportedVersion(u8),
    #[error("the envelope does not authenticate (wrong key, wrong row, or tampered)")]
    Authentication,
}

/// A 256-bit key, wiped from memory when dropped.
#[derive(Clone)]
pub struct Key32(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Key32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key32(<redacted>)")
    }
}

impl Key32 {
    /// A fresh random key from the OS generator.
    pub fn random() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(bytes.as_mut());
        Key32(bytes)
    }

    /// A key from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(Key32(Zeroizing::new(array)))
    }

    /// PBKDF2-HMAC-SHA256 of a passphrase.
    pub fn derive(passphrase: &[u8], salt: &[u8], rounds: u32) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha256>(passphrase, salt, rounds, bytes.as_mut());
        Key32(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.0).into())
    }

    /// Seals `plaintext` bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let nonce_ref = Nonce::from(nonce);
        // Encryption with a valid key and in-memory buffers cannot fail.
        let ciphertext = self
            .cipher()
            .encrypt(
                &nonce_ref,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Opens an envelope sealed with this key and the same `aad`.
    pub fn open(&self, envelope: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let (&version, rest) = envelope.split_first().ok_or(CryptoError::Malformed)?;
        if version != FORMAT_V1 {
            return Err(CryptoError::UnsupportedVersion(version));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        self.cipher()
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Authentication)
    }
}

/// Random bytes (salts).
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn envelopes_round_trip_and_refuse_tampering() {
        let key = Key32::random();
        let sealed = key.seal(b"secret", b"int_1");
        assert_eq!(&**key.open(&sealed, b"int_1").unwrap(), b"secret");
        // Every single-bit flip, in the nonce, the ciphertext or the tag, is refused.
        for byte in 1..sealed.len() {
            for bit in 0..8 {
                let mut tampered = sealed.clone();
                tampered[byte] ^= 1 << bit;
                assert_eq!(
                    key.open(&tampered, b"int_1"),
                    Err(CryptoError::Authentication),
                    "byte {byte} bit {bit}"
                );
            }
        }
        assert_eq!(
            key.open(&sealed, b"int_2"),
            Err(CryptoError::Authentication),
            "another row"
        );
        assert_eq!(
            Key32::random().open(&sealed, b"int_1"),
            Err(CryptoError::Authentication),
            "another key"
        );
        let mut future = sealed.clone();
        future[0] = 2;
        assert_eq!(
            key.open(&future, b"int_1"),
            Err(CryptoError::UnsupportedVersion(2))
        );
        assert_eq!(
            key.open(&sealed[..10], b"int_1"),
            Err(CryptoError::Malformed)
        );
        assert_ne!(key.seal(b"secret", b"int_1"), sealed, "nonces are random");
    }

    #[test]
    fn derivation_is_deterministic_per_salt() {
        let a = Key32::derive(b"pass", b"salt-one", 1000);
        assert_eq!(
            a.as_bytes(),
            Key32::derive(b"pass", b"salt-one", 1000).as_bytes()
        );
        assert_ne!(
            a.as_bytes(),
            Key32::derive(b"pass", b"salt-two", 1000).as_bytes()
        );
        assert_eq!(format!("{a:?}"), "Key32(<redacted>)");
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            ".*".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
                prop::collection::btree_map(".*", inner, 0..8)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_survives_seal_and_open(value in json_value(), aad in ".*") {
            let key = Key32::random();
            let plaintext = serde_json::to_vec(&value).unwrap();
            let sealed = key.seal(&plaintext, aad.as_bytes());
            let opened = key.open(&sealed, aad.as_bytes()).unwrap();
            let back: serde_json::Value = serde_json::from_slice(&opened).unwrap();
            prop_assert_eq!(back, value);
            let other_aad = format!("{aad}x");
            prop_assert!(key.open(&sealed, other_aad.as_bytes()).is_err());
        }
    }
}

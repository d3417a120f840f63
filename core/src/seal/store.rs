//! Encryption at rest: records for results, meshes and consents, AES-256-GCM under a data
//! key the shell keeps in the platform keystore (iOS Keychain / Android Keystore).
//!
//! The store turns plaintext into self-describing record bytes and back; the shell persists
//! the bytes wherever it likes (app sandbox file, database row) under the record's id. The
//! core writes no files.
//!
//! Record layout, version 1:
//!
//! ```text
//! magic    4 bytes   "MDRS"
//! version  1 byte    0x01
//! kind     1 byte    RecordKind (1 measurement, 2 mesh, 3 consent, 4 sealed envelope)
//! nonce   12 bytes   random, fresh per record (ring SystemRandom)
//! sealed   n + 16    AES-256-GCM ciphertext || tag
//! ```
//!
//! AAD = `"mandrel-store"` || version || kind || u16-BE id length || id (UTF-8).
//!
//! Guarantees: a record opens only with the same data key, the same kind and the same id
//! it was sealed under, and only if no byte was changed or removed; every other case is a
//! typed [`StoreError`]. The data key is wiped from this process's memory when the
//! [`DataKey`] drops. Not covered (see `PRIVACY.md`): copies the shell or the OS made before
//! handing the key over, `ring`'s expanded AES key schedule (built per call, not wiped),
//! swapped or hibernated pages, and the keystore itself.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

/// Record magic.
pub const RECORD_MAGIC: &[u8; 4] = b"MDRS";
/// Record format version written and accepted.
pub const RECORD_VERSION: u8 = 1;
/// Bytes before the ciphertext: magic, version, kind, nonce.
pub const RECORD_HEADER_LEN: usize = 4 + 1 + 1 + NONCE_LEN;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// Longest record id, bytes.
pub const MAX_ID_BYTES: usize = 255;
/// Largest plaintext accepted per record (AES-GCM allows far more; this keeps a runaway
/// caller from building gigabyte records on a phone).
pub const MAX_RECORD_PLAINTEXT: usize = crate::limits::MAX_STORE_RECORD_BYTES as usize;

/// What a record holds; bound into the AAD so a record cannot be read as another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum RecordKind {
    /// A measurement result (JSON).
    Measurement = 1,
    /// A mesh (PLY).
    Mesh = 2,
    /// A consent record (JSON).
    Consent = 3,
    /// A sealed envelope waiting for upload.
    SealedEnvelope = 4,
}

impl RecordKind {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(RecordKind::Measurement),
            2 => Some(RecordKind::Mesh),
            3 => Some(RecordKind::Consent),
            4 => Some(RecordKind::SealedEnvelope),
            _ => None,
        }
    }
}

/// What can go wrong in the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The data key is not 32 bytes.
    #[error("the data key must be 32 bytes, got {0}")]
    KeyLength(usize),
    /// The record id is empty, too long or contains control characters.
    #[error("record id must be 1 to 255 bytes of UTF-8 without control characters")]
    BadId,
    /// The plaintext is over [`MAX_RECORD_PLAINTEXT`].
    #[error("record plaintext of {0} bytes exceeds the 64 MiB limit")]
    TooLarge(usize),
    /// Shorter than header plus tag: truncated.
    #[error("record is {0} bytes, shorter than the 34-byte minimum: truncated")]
    Truncated(usize),
    /// The magic is wrong: not a record.
    #[error("not a mandrel store record (wrong magic)")]
    BadMagic,
    /// An unknown format version.
    #[error("record format version {0} is not supported (expected 1)")]
    UnsupportedVersion(u8),
    /// The kind byte names no known kind.
    #[error("record kind byte {0} is unknown")]
    UnknownKind(u8),
    /// The record holds another kind than requested.
    #[error("record holds a {found:?}, but a {expected:?} was requested")]
    KindMismatch {
        /// Requested kind.
        expected: RecordKind,
        /// Kind in the record.
        found: RecordKind,
    },
    /// Authentication failed: tampered, truncated inside, wrong key, or replayed under
    /// another id (AES-GCM cannot tell these apart).
    #[error("record failed authentication: it was altered, it belongs to another id, or the data key is wrong")]
    Authentication,
    /// The system random source failed.
    #[error("the system random source failed to produce a nonce")]
    Random,
}

/// The 32-byte data key, wiped from memory on drop. Never printed by `Debug`.
pub struct DataKey([u8; 32]);

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl DataKey {
    /// Takes the key bytes (the caller should wipe its own copy).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DataKey(bytes)
    }

    /// Copies the key from a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, StoreError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| StoreError::KeyLength(bytes.len()))?;
        Ok(DataKey(arr))
    }

    /// A fresh random key, for a shell that creates the key and then hands it to the keystore.
    pub fn generate() -> Result<Zeroizing<[u8; 32]>, StoreError> {
        let mut k = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(&mut k[..])
            .map_err(|_| StoreError::Random)?;
        Ok(k)
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// Seals and opens records under one data key.
pub struct SecureStore {
    key: DataKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SecureStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecureStore { key: <redacted> }")
    }
}

fn check_id(id: &str) -> Result<(), StoreError> {
    if id.is_empty() || id.len() > MAX_ID_BYTES || id.chars().any(char::is_control) {
        return Err(StoreError::BadId);
    }
    Ok(())
}

fn aad(kind: RecordKind, id: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(13 + 2 + 2 + id.len());
    a.extend_from_slice(b"mandrel-store");
    a.push(RECORD_VERSION);
    a.push(kind as u8);
    a.extend_from_slice(&(id.len() as u16).to_be_bytes());
    a.extend_from_slice(id.as_bytes());
    a
}

impl SecureStore {
    /// A store under `key` (from the platform keystore).
    pub fn new(key: DataKey) -> Self {
        SecureStore {
            key,
            rng: SystemRandom::new(),
        }
    }

    fn aead_key(&self) -> LessSafeKey {
        match UnboundKey::new(&AES_256_GCM, &self.key.0) {
            Ok(k) => LessSafeKey::new(k),
            Err(_) => unreachable!("AES-256-GCM takes any 32-byte key"),
        }
    }

    /// Encrypts `plaintext` as a record of `kind` under `id`; returns the record bytes.
    pub fn seal(
        &self,
        kind: RecordKind,
        id: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        check_id(id)?;
        if plaintext.len() > MAX_RECORD_PLAINTEXT {
            return Err(StoreError::TooLarge(plaintext.len()));
        }
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| StoreError::Random)?;
        let mut out = Vec::with_capacity(RECORD_HEADER_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(RECORD_MAGIC);
        out.push(RECORD_VERSION);
        out.push(kind as u8);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .aead_key()
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(kind, id)),
                &mut out[RECORD_HEADER_LEN..],
            )
            .map_err(|_| StoreError::TooLarge(plaintext.len()))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts a record, checking it is of `kind` and was sealed under `id`.
    pub fn open(
        &self,
        kind: RecordKind,
        id: &str,
        record: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        check_id(id)?;
        if record.len() < RECORD_HEADER_LEN + TAG_LEN {
            return Err(StoreError::Truncated(record.len()));
        }
        if record.len() - RECORD_HEADER_LEN - TAG_LEN > MAX_RECORD_PLAINTEXT {
            return Err(StoreError::TooLarge(
                record.len() - RECORD_HEADER_LEN - TAG_LEN,
            ));
        }
        if &record[..4] != RECORD_MAGIC {
            return Err(StoreError::BadMagic);
        }
        if record[4] != RECORD_VERSION {
            return Err(StoreError::UnsupportedVersion(record[4]));
        }
        let found = RecordKind::from_byte(record[5]).ok_or(StoreError::UnknownKind(record[5]))?;
        if found != kind {
            return Err(StoreError::KindMismatch {
                expected: kind,
                found,
            });
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&record[6..RECORD_HEADER_LEN]);
        let mut buf = Zeroizing::new(record[RECORD_HEADER_LEN..].to_vec());
        let len = self
            .aead_key()
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(kind, id)),
                &mut buf[..],
            )
            .map_err(|_| StoreError::Authentication)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(k: u8) -> SecureStore {
        SecureStore::new(DataKey::from_bytes([k; 32]))
    }

    #[test]
    fn round_trip_and_typed_failures() {
        let s = store(1);
        let rec = s
            .seal(RecordKind::Measurement, "scan-1", b"{\"size\":7}")
            .unwrap();
        assert_eq!(rec.len(), RECORD_HEADER_LEN + 10 + TAG_LEN);
        assert_eq!(
            &s.open(RecordKind::Measurement, "scan-1", &rec).unwrap()[..],
            b"{\"size\":7}"
        );
        // Fresh nonce per record.
        let rec2 = s
            .seal(RecordKind::Measurement, "scan-1", b"{\"size\":7}")
            .unwrap();
        assert_ne!(rec, rec2);
        assert_eq!(
            s.open(RecordKind::Measurement, "scan-2", &rec),
            Err(StoreError::Authentication)
        );
        assert_eq!(
            store(2).open(RecordKind::Measurement, "scan-1", &rec),
            Err(StoreError::Authentication)
        );
        assert!(matches!(
            s.open(RecordKind::Mesh, "scan-1", &rec),
            Err(StoreError::KindMismatch { .. })
        ));
        assert_eq!(
            s.open(RecordKind::Measurement, "scan-1", &rec[..20]),
            Err(StoreError::Truncated(20))
        );
        assert_eq!(
            s.open(RecordKind::Measurement, "scan-1", &rec[..rec.len() - 1]),
            Err(StoreError::Authentication)
        );
        assert_eq!(s.seal(RecordKind::Mesh, "", b"x"), Err(StoreError::BadId));
        assert_eq!(
            DataKey::from_slice(&[0; 31]).err(),
            Some(StoreError::KeyLength(31))
        );
        assert_eq!(
            format!("{:?}", DataKey::from_bytes([9; 32])),
            "DataKey(<redacted>)"
        );
    }
}

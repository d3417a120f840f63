//! Sealing a measurement for upload (HPKE envelope of `shared/spec/sealed-envelope.md`)
//! and encrypting records at rest under a data key the shell keeps in the platform keystore.
//!
//! Guarantees: nothing is sealed without a consent record (`ConsentRequired`); the data
//! key and decrypted records are wiped from Rust memory when dropped (the copies the
//! foreign runtime makes are the shell's to manage); keys are never printed.

use crate::error::{guard, MandrelError};
use mandrel_core::seal::{
    self as core, Consent as CoreConsent, DataKey, RecipientPublicKey, RecordKind as CoreKind,
    Scope, SealError, SealRequest, StoreError,
};

impl From<SealError> for MandrelError {
    fn from(e: SealError) -> Self {
        let msg = e.to_string();
        match e {
            SealError::NoConsent
            | SealError::Consent(_)
            | SealError::MeshNotConsented
            | SealError::ConsentAfterCreation { .. } => MandrelError::ConsentRequired(msg),
            SealError::BadScanId(_)
            | SealError::BadMeasurement(_)
            | SealError::BadMesh(_)
            | SealError::Limit(_)
            | SealError::BadBand(_) => MandrelError::InvalidConfig(msg),
            _ => MandrelError::Crypto(msg),
        }
    }
}

impl From<StoreError> for MandrelError {
    fn from(e: StoreError) -> Self {
        let msg = e.to_string();
        match e {
            StoreError::KeyLength(_) | StoreError::BadId | StoreError::TooLarge(_) => {
                MandrelError::InvalidConfig(msg)
            }
            _ => MandrelError::Storage(msg),
        }
    }
}

/// What the shopper agreed may leave the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConsentScope {
    /// The measurement only.
    Measurement,
    /// The measurement and the hand mesh.
    MeasurementAndMesh,
}

/// The shopper's consent, recorded by the shell when the shopper agrees.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Consent {
    /// Why the data is shared, as shown to the shopper (e.g. "ring sizing for order 1234").
    pub purpose: String,
    /// What may leave the device.
    pub scope: ConsentScope,
    /// Version of the privacy policy the shopper was shown.
    pub policy_version: String,
    /// When consent was given, RFC 3339 UTC (see [`now_rfc3339_utc`]).
    pub granted_at: String,
}

impl TryFrom<&Consent> for CoreConsent {
    type Error = MandrelError;
    fn try_from(c: &Consent) -> Result<Self, MandrelError> {
        let scope = match c.scope {
            ConsentScope::Measurement => Scope::Measurement,
            ConsentScope::MeasurementAndMesh => Scope::MeasurementAndMesh,
        };
        CoreConsent::new(&c.purpose, scope, &c.policy_version, &c.granted_at)
            .map_err(|e| MandrelError::ConsentRequired(format!("invalid consent: {e}")))
    }
}

/// The current time as RFC 3339 UTC, for `Consent.granted_at`.
#[uniffi::export]
pub fn now_rfc3339_utc() -> String {
    core::now_rfc3339_utc()
}

/// A fresh random scan id (32 hex characters) for `seal_*`.
#[uniffi::export]
pub fn new_scan_id() -> Result<String, MandrelError> {
    guard("new_scan_id", || Ok(core::new_scan_id()?))
}

pub(crate) fn core_consent(consent: Option<&Consent>) -> Result<CoreConsent, MandrelError> {
    let Some(consent) = consent else {
        return Err(SealError::NoConsent.into());
    };
    CoreConsent::try_from(consent)
}

pub(crate) fn seal_json(
    measurement: &serde_json::Value,
    consent: Option<&Consent>,
    recipient_public_key: &str,
    scan_id: &str,
    mesh_ply: Option<&[u8]>,
) -> Result<String, MandrelError> {
    let Some(consent) = consent else {
        return Err(SealError::NoConsent.into());
    };
    let consent = CoreConsent::try_from(consent)?;
    let recipient = RecipientPublicKey::from_base64url(recipient_public_key.trim())?;
    let request = SealRequest {
        scan_id,
        measurement,
        mesh_ply,
        consent: Some(&consent),
        created_at: None,
    };
    Ok(core::seal_measurement(&recipient, &request)?.to_json())
}

/// Seals a measurement given as the CLI's `--json` object text (e.g. one read back from
/// the store) for `recipient_public_key` (base64url X25519). Returns the envelope JSON to
/// upload. Throws `ConsentRequired` when `consent` is `None` or invalid.
#[uniffi::export]
pub fn seal_measurement_json(
    measurement_json: String,
    consent: Option<Consent>,
    recipient_public_key: String,
    scan_id: String,
) -> Result<String, MandrelError> {
    guard("seal_measurement_json", || {
        // Size first (a huge string is refused before parsing), then JSON object.
        let value = core::envelope::parse_measurement_json(measurement_json.as_bytes())?;
        seal_json(
            &value,
            consent.as_ref(),
            &recipient_public_key,
            &scan_id,
            None,
        )
    })
}

/// What a stored record holds (bound into the encryption: a record cannot be opened as
/// another kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RecordKind {
    /// A measurement (JSON).
    Measurement,
    /// A mesh (PLY).
    Mesh,
    /// A consent record (JSON).
    Consent,
    /// A sealed envelope waiting for upload.
    SealedEnvelope,
}

impl From<RecordKind> for CoreKind {
    fn from(k: RecordKind) -> Self {
        match k {
            RecordKind::Measurement => CoreKind::Measurement,
            RecordKind::Mesh => CoreKind::Mesh,
            RecordKind::Consent => CoreKind::Consent,
            RecordKind::SealedEnvelope => CoreKind::SealedEnvelope,
        }
    }
}

/// Encryption at rest (AES-256-GCM) under a 32-byte data key the shell keeps in the
/// Keychain / Android Keystore. The shell stores the returned bytes where it likes; each
/// record is bound to its kind and id.
#[derive(uniffi::Object)]
pub struct EncryptedStore {
    store: core::SecureStore,
}

#[uniffi::export]
impl EncryptedStore {
    /// A store under `data_key` (exactly 32 bytes; throws `InvalidConfig` otherwise).
    #[uniffi::constructor]
    pub fn new(data_key: Vec<u8>) -> Result<std::sync::Arc<Self>, MandrelError> {
        let mut data_key = zeroize::Zeroizing::new(data_key);
        guard("EncryptedStore.new", || {
            let key = DataKey::from_slice(&data_key)?;
            Ok(std::sync::Arc::new(Self {
                store: core::SecureStore::new(key),
            }))
        })
        .inspect(|_| zeroize::Zeroize::zeroize(&mut *data_key))
    }

    /// Encrypts `plaintext` as a record of `kind` named `id`; returns the record bytes.
    pub fn seal(
        &self,
        kind: RecordKind,
        id: String,
        plaintext: Vec<u8>,
    ) -> Result<Vec<u8>, MandrelError> {
        let plaintext = zeroize::Zeroizing::new(plaintext);
        guard("EncryptedStore.seal", || {
            Ok(self.store.seal(kind.into(), &id, &plaintext)?)
        })
    }

    /// Decrypts a record, checking its kind and id; throws `Storage` if it was altered,
    /// belongs to another id or kind, or the key is wrong.
    pub fn open(
        &self,
        kind: RecordKind,
        id: String,
        record: Vec<u8>,
    ) -> Result<Vec<u8>, MandrelError> {
        guard("EncryptedStore.open", || {
            let plain = self.store.open(kind.into(), &id, &record)?;
            Ok(plain.to_vec())
        })
    }
}

/// Seals `measurement` (as `finish()` returned it) for `recipient_public_key` (base64url
/// X25519, from the retailer) under `scan_id` (see [`new_scan_id`]). Returns the envelope
/// JSON to upload. Throws `ConsentRequired` when `consent` is `None` or invalid, `Crypto`
/// for a bad key.
#[uniffi::export]
pub fn seal_measurement(
    measurement: crate::measurement::RingMeasurement,
    consent: Option<Consent>,
    recipient_public_key: String,
    scan_id: String,
) -> Result<String, MandrelError> {
    guard("seal_measurement", || {
        let value = measurement_value(measurement)?;
        seal_json(
            &value,
            consent.as_ref(),
            &recipient_public_key,
            &scan_id,
            None,
        )
    })
}

/// [`seal_measurement`] with the hand mesh (`ScanSession.mesh_ply()`); needs consent scope
/// `MeasurementAndMesh`.
#[uniffi::export]
pub fn seal_measurement_with_mesh(
    measurement: crate::measurement::RingMeasurement,
    mesh_ply: Vec<u8>,
    consent: Option<Consent>,
    recipient_public_key: String,
    scan_id: String,
) -> Result<String, MandrelError> {
    guard("seal_measurement_with_mesh", || {
        let value = measurement_value(measurement)?;
        seal_json(
            &value,
            consent.as_ref(),
            &recipient_public_key,
            &scan_id,
            Some(&mesh_ply),
        )
    })
}

pub(crate) fn measurement_value(
    m: crate::measurement::RingMeasurement,
) -> Result<serde_json::Value, MandrelError> {
    serde_json::to_value(mandrel_core::measure::Measurement::from(m))
        .map_err(|e| MandrelError::Internal(format!("measurement JSON: {e}")))
}

//! Sealing before upload, consent, and encryption at rest.
//!
//! What this module guarantees:
//! - Nothing leaves the device unencrypted: [`seal_measurement`] is the only producer of
//!   upload bytes, an HPKE (RFC 9180, base mode, X25519 / HKDF-SHA256 / ChaCha20-Poly1305)
//!   [`Envelope`] per `shared/spec/sealed-envelope.md`, openable by any conforming HPKE
//!   implementation with the recipient's private key alone.
//! - Nothing is sealed without consent: a missing or malformed [`Consent`] and a mesh under
//!   scope `measurement` are typed [`SealError`]s; the consent and scan id travel in the
//!   authenticated header.
//! - Data minimisation: the plaintext is the measurement JSON, plus the mesh only with
//!   `measurement+mesh` (as a [`Bundle`]); there is no input for raw depth.
//! - At rest, [`SecureStore`] encrypts records with AES-256-GCM under a shell-supplied
//!   [`DataKey`] bound to record kind, id and format version.
//! - Cryptography comes from `ring` only; the core holds no static private keys: receivers
//!   compute X25519 themselves and call [`Envelope::open_with_dh`] (the CLI does).

pub mod bundle;
pub mod consent;
pub mod envelope;
#[cfg(feature = "internals")]
pub mod hpke;
#[cfg(not(feature = "internals"))]
pub(crate) mod hpke;
pub mod order;
pub mod store;

pub use bundle::{Bundle, BundleError};
pub use consent::{
    format_rfc3339_utc, now_rfc3339_utc, parse_rfc3339_utc, Consent, ConsentError, Scope,
};
pub use envelope::{
    new_scan_id, seal_measurement, seal_measurement_with_rng, Content, Envelope, Header, Opened,
    RecipientPublicKey, SealError, SealRequest, CONTENT_TYPE_BUNDLE, CONTENT_TYPE_JSON, INFO,
};
pub use hpke::HpkeError;
pub use order::{seal_band_order, seal_band_order_with_rng};
pub use store::{DataKey, RecordKind, SecureStore, StoreError};

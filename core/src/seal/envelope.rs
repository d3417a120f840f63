//! The sealed envelope, version 1 (`shared/spec/sealed-envelope.md`), and the consent-gated
//! sealing of a measurement.
//!
//! Guarantees:
//! - [`seal_measurement`] refuses to seal without a valid [`Consent`], refuses a mesh under
//!   scope `measurement`, and seals only a measurement JSON object (and, with
//!   `measurement+mesh`, a PLY mesh in a [`Bundle`]): it has no input for raw depth.
//! - The envelope is `{format, version, suite, recipient_key_id, header, enc, ciphertext}`;
//!   HPKE `info` is `mandrel-sealed-v1`, `aad` is the UTF-8 bytes of `header` exactly as
//!   stored, binary fields are base64url without padding: any RFC 9180 implementation opens
//!   it with the private key alone.
//! - [`Envelope::parse`] checks format, version, suite, key id shape and field encodings
//!   before any cryptography; [`Envelope::open_with_dh`] fails with a typed error on any
//!   change to header, enc or ciphertext.

use super::bundle::{Bundle, BundleError};
use super::consent::{now_rfc3339_utc, parse_rfc3339_utc, Consent, ConsentError};
use super::hpke::{self, HpkeError, N_ENC, N_PK};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SecureRandom;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// `format` field value.
pub const FORMAT: &str = "mandrel-sealed";
/// `version` field value.
pub const VERSION: u32 = 1;
/// `suite` field value.
pub const SUITE: &str = "X25519-HKDF-SHA256/HKDF-SHA256/ChaCha20Poly1305";
/// HPKE `info` for version 1.
pub const INFO: &[u8] = b"mandrel-sealed-v1";
/// Content type of a measurement-only plaintext.
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// Content type of a measurement + mesh [`Bundle`] plaintext.
pub const CONTENT_TYPE_BUNDLE: &str = "application/x-mandrel-bundle";
/// Largest measurement JSON accepted for sealing or opening (a measurement is a few KB;
/// anything this large is not one): [`crate::limits::MAX_MEASUREMENT_BYTES`].
pub const MAX_MEASUREMENT_BYTES: usize = crate::limits::MAX_MEASUREMENT_BYTES as usize;
/// Largest mesh PLY accepted for sealing or opening: [`crate::limits::MAX_MESH_BYTES`].
pub const MAX_MESH_BYTES: usize = crate::limits::MAX_MESH_BYTES as usize;

/// What can go wrong when sealing or opening an envelope.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// No consent record was given.
    #[error("refusing to seal: no consent record (the shopper must consent before anything leaves the device)")]
    NoConsent,
    /// The consent record (or a timestamp) is malformed.
    #[error("invalid consent: {0}")]
    Consent(#[from] ConsentError),
    /// A mesh was supplied but the consent scope is `measurement`.
    #[error(
        "refusing to seal the mesh: the consent scope is \"measurement\", not \"measurement+mesh\""
    )]
    MeshNotConsented,
    /// Consent was granted after the envelope's creation time.
    #[error("consent granted_at {granted_at} is later than the envelope created_at {created_at}")]
    ConsentAfterCreation {
        /// Consent time.
        granted_at: String,
        /// Envelope creation time.
        created_at: String,
    },
    /// The scan id is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    #[error("scan_id {0:?} must be 1 to 64 characters of A-Z a-z 0-9 . _ -")]
    BadScanId(String),
    /// The measurement is not a JSON object, or is implausibly large.
    #[error("the measurement must be a JSON object of at most 1 MiB: {0}")]
    BadMeasurement(String),
    /// The mesh is not a PLY file, or is too large.
    #[error("the mesh must be a PLY file of at most 32 MiB: {0}")]
    BadMesh(String),
    /// The band is not a well-formed binary STL, or is too large.
    #[error("the band to seal must be a binary STL of at most 256 MiB: {0}")]
    BadBand(String),
    /// The recipient public key is not 32 bytes of base64url.
    #[error("recipient public key: {0}")]
    BadPublicKey(String),
    /// The envelope JSON is malformed or a field is not what version 1 requires.
    #[error("malformed envelope: {0}")]
    Malformed(String),
    /// The envelope was sealed for a different key than the one used to open it.
    #[error("envelope is addressed to key id {envelope}, but this key's id is {key}")]
    WrongRecipient {
        /// Key id in the envelope.
        envelope: String,
        /// Key id of the key offered.
        key: String,
    },
    /// HPKE failed (key agreement, random source, or authentication on open).
    #[error(transparent)]
    Hpke(#[from] HpkeError),
    /// The decrypted bundle is malformed.
    #[error("decrypted bundle: {0}")]
    Bundle(#[from] BundleError),
    /// An input is over one of the [`crate::limits`] (checked before it is parsed).
    #[error(transparent)]
    Limit(#[from] crate::limits::LimitExceeded),
    /// An opened envelope's authenticated header breaks a rule `seal` enforces.
    #[error("envelope header: {0}")]
    BadHeader(String),
}

/// Parses a measurement given as JSON text for sealing: the size is checked against
/// [`MAX_MEASUREMENT_BYTES`] before parsing, and the value must be a JSON object.
pub fn parse_measurement_json(bytes: &[u8]) -> Result<serde_json::Value, SealError> {
    crate::limits::Limit::MeasurementBytes.check(bytes.len() as u64)?;
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| SealError::BadMeasurement(format!("it is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(SealError::BadMeasurement("it is not a JSON object".into()));
    }
    Ok(value)
}

/// The checks `seal` applies to a header, applied again by the receiving side to an
/// opened one: scan id charset, RFC 3339 times, a valid consent granted no later than the
/// envelope's creation, a known content type.
fn check_header(header: &Header) -> Result<(), SealError> {
    let bad = |e: SealError| SealError::BadHeader(e.to_string());
    check_scan_id(&header.scan_id).map_err(bad)?;
    header.consent.validate().map_err(|e| bad(e.into()))?;
    let created = parse_rfc3339_utc("created_at", &header.created_at).map_err(|e| bad(e.into()))?;
    if header
        .consent
        .granted_at_unix()
        .map_err(|e| bad(e.into()))?
        > created
    {
        return Err(bad(SealError::ConsentAfterCreation {
            granted_at: header.consent.granted_at.clone(),
            created_at: header.created_at.clone(),
        }));
    }
    match header.content_type.as_str() {
        CONTENT_TYPE_JSON | CONTENT_TYPE_BUNDLE => Ok(()),
        other => Err(SealError::Malformed(format!(
            "unknown content_type {other:?}"
        ))),
    }
}

/// A decrypted measurement: at most [`MAX_MEASUREMENT_BYTES`], a JSON object.
fn opened_measurement(bytes: &[u8]) -> Result<serde_json::Value, SealError> {
    parse_measurement_json(bytes)
}

/// A decrypted mesh: at most [`MAX_MESH_BYTES`], starting with the PLY magic.
fn check_opened_mesh(mesh: &[u8]) -> Result<(), SealError> {
    crate::limits::Limit::MeshBytes.check(mesh.len() as u64)?;
    if !is_ply(mesh) {
        return Err(SealError::BadMesh(
            "it does not start with the \"ply\" magic line".into(),
        ));
    }
    Ok(())
}

/// A recipient's X25519 public key (raw 32 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipientPublicKey([u8; N_PK]);

impl RecipientPublicKey {
    /// Wraps raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        hpke::public_key_bytes(bytes)
            .map(RecipientPublicKey)
            .map_err(|e| SealError::BadPublicKey(e.to_string()))
    }

    /// Parses base64url without padding (surrounding whitespace ignored).
    pub fn from_base64url(text: &str) -> Result<Self, SealError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|e| SealError::BadPublicKey(format!("not base64url without padding: {e}")))?;
        Self::from_bytes(&bytes)
    }

    /// The raw key.
    pub fn as_bytes(&self) -> &[u8; N_PK] {
        &self.0
    }

    /// base64url without padding.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// First 16 hex characters of SHA-256 of the raw key.
    pub fn key_id(&self) -> String {
        let d = ring::digest::digest(&ring::digest::SHA256, &self.0);
        d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The authenticated (not encrypted) header: what the receiver reads before opening and
/// what the consent covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Opaque scan identifier chosen by the app.
    pub scan_id: String,
    /// When the envelope was sealed, RFC 3339 UTC.
    pub created_at: String,
    /// The shopper's consent.
    pub consent: Consent,
    /// `application/json` or `application/x-mandrel-bundle`.
    pub content_type: String,
}

/// A sealed envelope as it travels (field order and names per the spec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Always `mandrel-sealed`.
    pub format: String,
    /// Always 1.
    pub version: u32,
    /// Always [`SUITE`].
    pub suite: String,
    /// First 16 hex characters of SHA-256 of the recipient public key.
    pub recipient_key_id: String,
    /// The header JSON text; its UTF-8 bytes are the HPKE aad.
    pub header: String,
    /// base64url (no padding) of the 32-byte encapsulated key.
    pub enc: String,
    /// base64url (no padding) of the AEAD ciphertext with its 16-byte tag.
    pub ciphertext: String,
}

/// What may be sealed: the measurement (as JSON) and, only under `measurement+mesh`, a mesh.
#[derive(Debug, Clone, Copy)]
pub struct SealRequest<'a> {
    /// Opaque scan id (1 to 64 of `[A-Za-z0-9._-]`); see [`new_scan_id`].
    pub scan_id: &'a str,
    /// The measurement, as the JSON object `mandrel measure --json` prints.
    pub measurement: &'a serde_json::Value,
    /// A PLY mesh to include (needs scope `measurement+mesh`).
    pub mesh_ply: Option<&'a [u8]>,
    /// The shopper's consent; `None` is refused with [`SealError::NoConsent`].
    pub consent: Option<&'a Consent>,
    /// Envelope creation time, RFC 3339 UTC; `None` = now, from the system clock.
    pub created_at: Option<&'a str>,
}

/// A random 128-bit scan id as 32 lowercase hex characters.
pub fn new_scan_id() -> Result<String, SealError> {
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| SealError::Hpke(HpkeError::Random))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn check_scan_id(id: &str) -> Result<(), SealError> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(SealError::BadScanId(id.chars().take(80).collect()))
    }
}

fn is_ply(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ply\n") || bytes.starts_with(b"ply\r\n")
}

/// Seals a measurement for `recipient` with the system random source. The only way data
/// leaves the core: the result holds ciphertext and the consented header, nothing else.
pub fn seal_measurement(
    recipient: &RecipientPublicKey,
    request: &SealRequest<'_>,
) -> Result<Envelope, SealError> {
    seal_measurement_with_rng(recipient, request, &ring::rand::SystemRandom::new())
}

/// [`seal_measurement`] with a caller-supplied random source (tests, known-answer checks).
pub fn seal_measurement_with_rng(
    recipient: &RecipientPublicKey,
    request: &SealRequest<'_>,
    rng: &dyn SecureRandom,
) -> Result<Envelope, SealError> {
    seal_with_band(recipient, request, None, rng)
}

/// The sealing of [`seal_measurement_with_rng`], with a band part (already checked by the
/// caller) that makes the plaintext a version 2 [`Bundle`].
pub(super) fn seal_with_band(
    recipient: &RecipientPublicKey,
    request: &SealRequest<'_>,
    band_stl: Option<&[u8]>,
    rng: &dyn SecureRandom,
) -> Result<Envelope, SealError> {
    let consent = request.consent.ok_or(SealError::NoConsent)?;
    consent.validate()?;
    if request.mesh_ply.is_some() && !consent.scope.allows_mesh() {
        return Err(SealError::MeshNotConsented);
    }
    check_scan_id(request.scan_id)?;
    let created_at = match request.created_at {
        Some(t) => t.to_string(),
        None => now_rfc3339_utc(),
    };
    let created_unix = parse_rfc3339_utc("created_at", &created_at)?;
    if consent.granted_at_unix()? > created_unix {
        return Err(SealError::ConsentAfterCreation {
            granted_at: consent.granted_at.clone(),
            created_at,
        });
    }
    if !request.measurement.is_object() {
        return Err(SealError::BadMeasurement("it is not a JSON object".into()));
    }
    let measurement_json = Zeroizing::new(
        serde_json::to_vec(request.measurement)
            .map_err(|e| SealError::BadMeasurement(e.to_string()))?,
    );
    if measurement_json.len() > MAX_MEASUREMENT_BYTES {
        return Err(SealError::BadMeasurement(format!(
            "{} bytes",
            measurement_json.len()
        )));
    }
    if let Some(mesh) = request.mesh_ply {
        if !is_ply(mesh) {
            return Err(SealError::BadMesh(
                "it does not start with the \"ply\" magic line".into(),
            ));
        }
        if mesh.len() > MAX_MESH_BYTES {
            return Err(SealError::BadMesh(format!("{} bytes", mesh.len())));
        }
    }
    let content_type = if request.mesh_ply.is_some() || band_stl.is_some() {
        CONTENT_TYPE_BUNDLE
    } else {
        CONTENT_TYPE_JSON
    };
    let header = Header {
        scan_id: request.scan_id.to_string(),
        created_at,
        consent: consent.clone(),
        content_type: content_type.to_string(),
    };
    let header_text =
        serde_json::to_string(&header).map_err(|e| SealError::Malformed(e.to_string()))?;
    // The plaintext buffer is encrypted in place below, so no plaintext copy outlives this
    // function (on error the HPKE layer wipes it). The spare capacity holds the tag.
    let mut in_out = match (request.mesh_ply, band_stl) {
        (None, None) => {
            let mut buf = Vec::with_capacity(measurement_json.len() + hpke::N_T);
            buf.extend_from_slice(&measurement_json);
            buf
        }
        (mesh, band) => Bundle::encode_with_band(&measurement_json, mesh, band),
    };
    let enc = hpke::seal_base_in_place(
        recipient.as_bytes(),
        INFO,
        header_text.as_bytes(),
        &mut in_out,
        rng,
    )?;
    let ciphertext = in_out;
    Ok(Envelope {
        format: FORMAT.to_string(),
        version: VERSION,
        suite: SUITE.to_string(),
        recipient_key_id: recipient.key_id(),
        header: header_text,
        enc: URL_SAFE_NO_PAD.encode(enc),
        ciphertext: URL_SAFE_NO_PAD.encode(ciphertext),
    })
}

/// The decrypted content of an envelope.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Content {
    /// `application/json`: the measurement.
    Measurement(serde_json::Value),
    /// `application/x-mandrel-bundle`: the measurement and the mesh PLY.
    MeasurementAndMesh {
        /// The measurement.
        measurement: serde_json::Value,
        /// The mesh as PLY bytes (a bundle may hold the measurement alone).
        mesh_ply: Option<Vec<u8>>,
    },
    /// `application/x-mandrel-bundle` version 2: an order of a fitted band, with the
    /// measurement it was made from (and the mesh, if consented).
    FittedBandOrder {
        /// The measurement.
        measurement: serde_json::Value,
        /// The mesh as PLY bytes, if included.
        mesh_ply: Option<Vec<u8>>,
        /// The band as binary STL (millimetres).
        band_stl: Vec<u8>,
    },
}

/// An opened envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    /// The authenticated header.
    pub header: Header,
    /// The decrypted content.
    pub content: Content,
    /// The raw plaintext bytes exactly as decrypted (wiped on drop).
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl Envelope {
    /// Serialises to the wire JSON (compact, one line).
    pub fn to_json(&self) -> String {
        // A struct of strings and an integer always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses and checks the wire JSON: format, version, suite, key id and the encodings of
    /// `enc` and `ciphertext` (no cryptography yet).
    /// Sizes are checked first: the whole envelope against
    /// [`crate::limits::MAX_ENVELOPE_BYTES`], then the header against
    /// [`crate::limits::MAX_HEADER_BYTES`].
    pub fn parse(bytes: &[u8]) -> Result<Envelope, SealError> {
        crate::limits::Limit::EnvelopeBytes.check(bytes.len() as u64)?;
        let env: Envelope =
            serde_json::from_slice(bytes).map_err(|e| SealError::Malformed(e.to_string()))?;
        if env.format != FORMAT {
            return Err(SealError::Malformed(format!(
                "format is {:?}, expected {FORMAT:?}",
                env.format
            )));
        }
        if env.version != VERSION {
            return Err(SealError::Malformed(format!(
                "version {} is not supported (expected {VERSION})",
                env.version
            )));
        }
        if env.suite != SUITE {
            return Err(SealError::Malformed(format!(
                "suite {:?} is not supported (expected {SUITE:?})",
                env.suite
            )));
        }
        if env.recipient_key_id.len() != 16
            || !env
                .recipient_key_id
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        {
            return Err(SealError::Malformed(
                "recipient_key_id must be 16 lowercase hex characters".into(),
            ));
        }
        crate::limits::Limit::HeaderBytes.check(env.header.len() as u64)?;
        env.enc_bytes()?;
        env.ciphertext_bytes()?;
        Ok(env)
    }

    /// The decoded 32-byte `enc`.
    pub fn enc_bytes(&self) -> Result<[u8; N_ENC], SealError> {
        let raw = URL_SAFE_NO_PAD.decode(&self.enc).map_err(|e| {
            SealError::Malformed(format!("enc is not base64url without padding: {e}"))
        })?;
        hpke::public_key_bytes(&raw)
            .map_err(|_| SealError::Malformed(format!("enc must be 32 bytes, got {}", raw.len())))
    }

    /// The decoded ciphertext (with tag).
    pub fn ciphertext_bytes(&self) -> Result<Vec<u8>, SealError> {
        let raw = URL_SAFE_NO_PAD.decode(&self.ciphertext).map_err(|e| {
            SealError::Malformed(format!("ciphertext is not base64url without padding: {e}"))
        })?;
        if raw.len() < hpke::N_T {
            return Err(SealError::Malformed(format!(
                "ciphertext of {} bytes is shorter than the 16-byte tag",
                raw.len()
            )));
        }
        Ok(raw)
    }

    /// The header, parsed (it is authenticated only once [`Envelope::open_with_dh`] succeeds).
    pub fn parsed_header(&self) -> Result<Header, SealError> {
        serde_json::from_str(&self.header).map_err(|e| SealError::Malformed(format!("header: {e}")))
    }

    /// Opens the envelope given the recipient's public key and `dh = X25519(skR, enc)`
    /// computed by the caller's X25519 implementation (the core holds no static keys).
    /// The receiving side trusts nothing `seal` would have refused: sizes are checked
    /// before decoding, and once decrypted the header is checked as `seal` checks it, the
    /// measurement must be a JSON object and the mesh a PLY, each within its size limit.
    pub fn open_with_dh(
        &self,
        recipient: &RecipientPublicKey,
        dh: &[u8; 32],
    ) -> Result<Opened, SealError> {
        let key_id = recipient.key_id();
        if key_id != self.recipient_key_id {
            return Err(SealError::WrongRecipient {
                envelope: self.recipient_key_id.clone(),
                key: key_id,
            });
        }
        crate::limits::Limit::HeaderBytes.check(self.header.len() as u64)?;
        // base64url: 4 characters per 3 bytes.
        crate::limits::Limit::BundleBytes
            .check((self.ciphertext.len() as u64 * 3 / 4).saturating_sub(hpke::N_T as u64))?;
        let enc = self.enc_bytes()?;
        let ct = self.ciphertext_bytes()?;
        let plaintext = hpke::open_base_with_dh(
            &enc,
            recipient.as_bytes(),
            dh,
            INFO,
            self.header.as_bytes(),
            &ct,
        )?;
        // Authenticated from here on.
        let header = self.parsed_header()?;
        check_header(&header)?;
        let content = match header.content_type.as_str() {
            CONTENT_TYPE_JSON => Content::Measurement(opened_measurement(&plaintext)?),
            CONTENT_TYPE_BUNDLE => {
                let bundle = Bundle::parse(&plaintext)?;
                if bundle.mesh_ply.is_some() && !header.consent.scope.allows_mesh() {
                    return Err(SealError::MeshNotConsented);
                }
                if let Some(mesh) = &bundle.mesh_ply {
                    check_opened_mesh(mesh)?;
                }
                let measurement = opened_measurement(&bundle.measurement_json)?;
                match bundle.band_stl {
                    Some(band_stl) => Content::FittedBandOrder {
                        measurement,
                        mesh_ply: bundle.mesh_ply,
                        band_stl,
                    },
                    None => Content::MeasurementAndMesh {
                        measurement,
                        mesh_ply: bundle.mesh_ply,
                    },
                }
            }
            other => {
                return Err(SealError::Malformed(format!(
                    "unknown content_type {other:?}"
                )))
            }
        };
        Ok(Opened {
            header,
            content,
            plaintext,
        })
    }
}

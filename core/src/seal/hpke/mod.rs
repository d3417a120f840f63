//! HPKE (RFC 9180), base mode, for one suite: DHKEM(X25519, HKDF-SHA256) (0x0020),
//! HKDF-SHA256 (0x0001), ChaCha20-Poly1305 (0x0003), built on `ring` primitives only.
//!
//! Guarantees:
//! - `LabeledExtract`, `LabeledExpand`, `ExtractAndExpand`, `Encap`, `KeySchedule`, the
//!   nonce computation and `Export` follow RFC 9180 §4, §4.1, §5.1, §5.2 and §5.3 byte for
//!   byte (checked against the RFC's Appendix A.2.1 vectors and the `hpke` crate in tests).
//! - The sender side ([`setup_base_sender`], [`seal_base`]) draws its ephemeral key from a
//!   caller-supplied [`SecureRandom`]; production callers pass `ring::rand::SystemRandom`.
//! - The recipient side never holds a static private key here (`ring` has none): the caller
//!   performs `DH(skR, pkE)` with its own X25519 implementation and hands the 32-byte result
//!   to [`setup_base_recipient_with_dh`] / [`open_base_with_dh`]. An all-zero DH result is
//!   rejected, as RFC 9180 §7.1.4 requires.
//! - Intermediate secrets (DH output, shared secret, PRKs, AEAD key, exporter secret) live in
//!   [`Zeroizing`] buffers and are wiped when dropped. `ring` keeps its own expanded copies
//!   (HMAC and ChaCha20 key state) which it does not wipe; see `PRIVACY.md`.
// The whole RFC 9180 context API (export, multi-message seal, single-shot seal, key
// derivation) is kept and checked against the RFC's test vectors; the product itself seals
// and opens single messages, so outside tests some of it is unused.
#![cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]

use ring::aead::{self, LessSafeKey, UnboundKey, CHACHA20_POLY1305};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::hkdf;
use ring::hmac;
use ring::rand::SecureRandom;
use zeroize::Zeroizing;

/// KEM identifier: DHKEM(X25519, HKDF-SHA256).
pub const KEM_ID: u16 = 0x0020;
/// KDF identifier: HKDF-SHA256.
pub const KDF_ID: u16 = 0x0001;
/// AEAD identifier: ChaCha20-Poly1305.
pub const AEAD_ID: u16 = 0x0003;
/// Length of the encapsulated key `enc` (an X25519 public key), bytes.
pub const N_ENC: usize = 32;
/// Length of an X25519 public key, bytes.
pub const N_PK: usize = 32;
/// Length of the KEM shared secret, bytes.
pub const N_SECRET: usize = 32;
/// Length of the AEAD key, bytes.
pub const N_K: usize = 32;
/// Length of the AEAD nonce, bytes.
pub const N_N: usize = 12;
/// Length of the AEAD tag, bytes.
pub const N_T: usize = 16;
/// Output length of the KDF's hash, bytes.
pub const N_H: usize = 32;

const MODE_BASE: u8 = 0x00;
const HPKE_V1: &[u8] = b"HPKE-v1";

/// `suite_id` of the KEM: "KEM" || I2OSP(kem_id, 2).
pub const KEM_SUITE_ID: [u8; 5] = [b'K', b'E', b'M', 0x00, 0x20];
/// `suite_id` of the key schedule: "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2).
pub const HPKE_SUITE_ID: [u8; 10] = [b'H', b'P', b'K', b'E', 0x00, 0x20, 0x00, 0x01, 0x00, 0x03];

/// What can go wrong in HPKE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HpkeError {
    /// A public key or `enc` was not 32 bytes.
    #[error("an X25519 public key (or enc) must be 32 bytes, got {0} bytes")]
    KeyLength(usize),
    /// X25519 rejected the peer key, or the DH result was all zeros (low-order point).
    #[error("X25519 key agreement failed: the public key is invalid or of low order (all-zero shared secret)")]
    KeyAgreement,
    /// The random source failed while generating the ephemeral key.
    #[error("the system random source failed to produce an ephemeral key")]
    Random,
    /// The ciphertext is shorter than the 16-byte tag.
    #[error("ciphertext of {0} bytes is shorter than the 16-byte authentication tag")]
    CiphertextTooShort(usize),
    /// Authentication failed: ciphertext, aad, enc, info or key do not match.
    #[error("HPKE open failed: the ciphertext, header/aad or enc was altered, or this is not the recipient's key")]
    OpenFailed,
    /// The plaintext is beyond what one ChaCha20-Poly1305 message may hold.
    #[error("plaintext of {0} bytes is too long for one ChaCha20-Poly1305 message")]
    PlaintextTooLong(usize),
    /// An export asked for more than 255 * 32 bytes.
    #[error("export length {0} exceeds the HKDF-SHA256 limit of 8160 bytes")]
    ExportTooLong(usize),
    /// The context's sequence number is exhausted.
    #[error("HPKE message limit reached: the sequence number would overflow")]
    MessageLimit,
}

/// Output-length marker for `ring::hkdf` expansion.
struct OkmLen(usize);
impl hkdf::KeyType for OkmLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// `LabeledExtract(salt, label, ikm)` = HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm).
/// Returns the 32-byte pseudorandom key.
pub fn labeled_extract(
    suite_id: &[u8],
    salt: &[u8],
    label: &[u8],
    ikm: &[u8],
) -> Zeroizing<[u8; N_H]> {
    // HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM); an empty salt is HashLen zeros, which
    // HMAC treats identically to the empty key (both are zero-padded to the block size).
    let key = hmac::Key::new(hmac::HMAC_SHA256, salt);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(HPKE_V1);
    ctx.update(suite_id);
    ctx.update(label);
    ctx.update(ikm);
    let tag = ctx.sign();
    let mut prk = Zeroizing::new([0u8; N_H]);
    prk.copy_from_slice(tag.as_ref());
    prk
}

/// `LabeledExpand(prk, label, info, L)` = HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" ||
/// suite_id || label || info, L), written into `out` (L = `out.len()`, at most 8160).
pub fn labeled_expand(
    suite_id: &[u8],
    prk: &[u8; N_H],
    label: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), HpkeError> {
    let len = out.len();
    if len > 255 * N_H {
        return Err(HpkeError::ExportTooLong(len));
    }
    let len_be = (len as u16).to_be_bytes();
    let parts: [&[u8]; 5] = [&len_be, HPKE_V1, suite_id, label, info];
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, prk);
    prk.expand(&parts, OkmLen(len))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| HpkeError::ExportTooLong(len))
}

/// DHKEM `ExtractAndExpand(dh, kem_context)`: the KEM shared secret.
fn extract_and_expand(
    dh: &[u8],
    enc: &[u8; N_ENC],
    pk_r: &[u8; N_PK],
) -> Result<Zeroizing<[u8; N_SECRET]>, HpkeError> {
    let mut kem_context = [0u8; N_ENC + N_PK];
    kem_context[..N_ENC].copy_from_slice(enc);
    kem_context[N_ENC..].copy_from_slice(pk_r);
    let eae_prk = labeled_extract(&KEM_SUITE_ID, b"", b"eae_prk", dh);
    let mut shared = Zeroizing::new([0u8; N_SECRET]);
    labeled_expand(
        &KEM_SUITE_ID,
        &eae_prk,
        b"shared_secret",
        &kem_context,
        &mut shared[..],
    )?;
    Ok(shared)
}

/// Parses a 32-byte X25519 public key (or `enc`).
pub fn public_key_bytes(bytes: &[u8]) -> Result<[u8; N_PK], HpkeError> {
    <[u8; N_PK]>::try_from(bytes).map_err(|_| HpkeError::KeyLength(bytes.len()))
}

/// X25519 `DeriveKeyPair(ikm)` private key (RFC 9180 §7.1.3): `sk = LabeledExpand(
/// LabeledExtract("", "dkp_prk", ikm), "sk", "", 32)`. Used to check the RFC vectors and to
/// derive receiver keys deterministically in tests.
pub fn derive_private_key(ikm: &[u8]) -> Zeroizing<[u8; 32]> {
    let dkp_prk = labeled_extract(&KEM_SUITE_ID, b"", b"dkp_prk", ikm);
    let mut sk = Zeroizing::new([0u8; 32]);
    // 32 <= 8160: cannot fail.
    let _ = labeled_expand(&KEM_SUITE_ID, &dkp_prk, b"sk", b"", &mut sk[..]);
    sk
}

/// Result of `Encap(pkR)`: the encapsulated key and the KEM shared secret.
pub struct Encapsulation {
    /// `enc`: the serialised ephemeral public key, sent to the recipient.
    pub enc: [u8; N_ENC],
    /// The KEM shared secret (wiped on drop).
    pub shared_secret: Zeroizing<[u8; N_SECRET]>,
}

/// DHKEM(X25519) `Encap(pkR)` with an ephemeral key drawn from `rng`.
pub fn encap(pk_r: &[u8; N_PK], rng: &dyn SecureRandom) -> Result<Encapsulation, HpkeError> {
    let sk_e = EphemeralPrivateKey::generate(&X25519, rng).map_err(|_| HpkeError::Random)?;
    let pk_e = sk_e.compute_public_key().map_err(|_| HpkeError::Random)?;
    let enc = public_key_bytes(pk_e.as_ref())?;
    let peer = UnparsedPublicKey::new(&X25519, pk_r);
    // ring rejects an all-zero X25519 output itself; the closure never sees one.
    let shared = agreement::agree_ephemeral(sk_e, &peer, |dh| extract_and_expand(dh, &enc, pk_r))
        .map_err(|_| HpkeError::KeyAgreement)??;
    Ok(Encapsulation {
        enc,
        shared_secret: shared,
    })
}

/// DHKEM(X25519) `Decap(enc, skR)`, given `dh = DH(skR, enc)` computed by the caller and the
/// recipient's public key `pkR`.
pub fn decap_with_dh(
    enc: &[u8; N_ENC],
    pk_r: &[u8; N_PK],
    dh: &[u8; 32],
) -> Result<Zeroizing<[u8; N_SECRET]>, HpkeError> {
    if dh.iter().fold(0u8, |acc, b| acc | b) == 0 {
        return Err(HpkeError::KeyAgreement);
    }
    extract_and_expand(dh, enc, pk_r)
}

/// `key_schedule_context` = mode || LabeledExtract("", "psk_id_hash", "") ||
/// LabeledExtract("", "info_hash", info), for base mode.
pub fn key_schedule_context(info: &[u8]) -> [u8; 1 + 2 * N_H] {
    let psk_id_hash = labeled_extract(&HPKE_SUITE_ID, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract(&HPKE_SUITE_ID, b"", b"info_hash", info);
    let mut ctx = [0u8; 1 + 2 * N_H];
    ctx[0] = MODE_BASE;
    ctx[1..1 + N_H].copy_from_slice(&psk_id_hash[..]);
    ctx[1 + N_H..].copy_from_slice(&info_hash[..]);
    ctx
}

/// The secrets of an HPKE context (base mode), as derived by `KeySchedule`.
pub struct KeySchedule {
    /// AEAD key (wiped on drop).
    pub key: Zeroizing<[u8; N_K]>,
    /// Base nonce, XORed with the sequence number for each message.
    pub base_nonce: [u8; N_N],
    /// Exporter secret (wiped on drop).
    pub exporter_secret: Zeroizing<[u8; N_H]>,
}

impl KeySchedule {
    /// RFC 9180 §5.1 `KeyScheduleS/R` in base mode (empty psk and psk_id).
    pub fn base(shared_secret: &[u8; N_SECRET], info: &[u8]) -> Self {
        let ks_context = key_schedule_context(info);
        let secret = labeled_extract(&HPKE_SUITE_ID, shared_secret, b"secret", b"");
        let mut key = Zeroizing::new([0u8; N_K]);
        let mut base_nonce = [0u8; N_N];
        let mut exporter_secret = Zeroizing::new([0u8; N_H]);
        // Fixed lengths far below the 8160-byte limit: these expansions cannot fail.
        let _ = labeled_expand(&HPKE_SUITE_ID, &secret, b"key", &ks_context, &mut key[..]);
        let _ = labeled_expand(
            &HPKE_SUITE_ID,
            &secret,
            b"base_nonce",
            &ks_context,
            &mut base_nonce,
        );
        let _ = labeled_expand(
            &HPKE_SUITE_ID,
            &secret,
            b"exp",
            &ks_context,
            &mut exporter_secret[..],
        );
        KeySchedule {
            key,
            base_nonce,
            exporter_secret,
        }
    }
}

/// Shared state of a sender or recipient context.
struct Context {
    key: LessSafeKey,
    base_nonce: [u8; N_N],
    exporter_secret: Zeroizing<[u8; N_H]>,
    seq: u64,
}

impl Context {
    fn new(ks: KeySchedule) -> Self {
        // A 32-byte key is always accepted by ChaCha20-Poly1305.
        let unbound = match UnboundKey::new(&CHACHA20_POLY1305, &ks.key[..]) {
            Ok(k) => k,
            Err(_) => unreachable!("ChaCha20-Poly1305 takes any 32-byte key"),
        };
        Context {
            key: LessSafeKey::new(unbound),
            base_nonce: ks.base_nonce,
            exporter_secret: ks.exporter_secret,
            seq: 0,
        }
    }

    fn nonce(&self) -> aead::Nonce {
        let mut n = self.base_nonce;
        for (b, s) in n[N_N - 8..].iter_mut().zip(self.seq.to_be_bytes()) {
            *b ^= s;
        }
        aead::Nonce::assume_unique_for_key(n)
    }

    fn increment(&mut self) -> Result<(), HpkeError> {
        self.seq = self.seq.checked_add(1).ok_or(HpkeError::MessageLimit)?;
        Ok(())
    }

    fn export(&self, exporter_context: &[u8], out: &mut [u8]) -> Result<(), HpkeError> {
        labeled_expand(
            &HPKE_SUITE_ID,
            &self.exporter_secret,
            b"sec",
            exporter_context,
            out,
        )
    }
}

/// An HPKE sender context (base mode): seals messages in sequence.
pub struct SenderContext(Context);

impl SenderContext {
    /// Builds a sender context from a derived key schedule.
    pub fn from_key_schedule(ks: KeySchedule) -> Self {
        SenderContext(Context::new(ks))
    }

    /// `Seal(aad, pt)`: ciphertext with the 16-byte tag appended; advances the sequence number.
    pub fn seal(&mut self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, HpkeError> {
        if self.0.seq == u64::MAX {
            return Err(HpkeError::MessageLimit);
        }
        let mut buf = Vec::with_capacity(plaintext.len() + N_T);
        buf.extend_from_slice(plaintext);
        self.0
            .key
            .seal_in_place_append_tag(self.0.nonce(), aead::Aad::from(aad), &mut buf)
            .map_err(|_| HpkeError::PlaintextTooLong(plaintext.len()))?;
        self.0.increment()?;
        Ok(buf)
    }

    /// `Seal(aad, pt)` in place: `in_out` holds the plaintext and is turned into the
    /// ciphertext with the tag appended (no plaintext copy is made). On error the buffer is
    /// wiped.
    pub fn seal_in_place(&mut self, aad: &[u8], in_out: &mut Vec<u8>) -> Result<(), HpkeError> {
        if self.0.seq == u64::MAX {
            zeroize::Zeroize::zeroize(in_out);
            return Err(HpkeError::MessageLimit);
        }
        let len = in_out.len();
        if let Err(_e) =
            self.0
                .key
                .seal_in_place_append_tag(self.0.nonce(), aead::Aad::from(aad), in_out)
        {
            zeroize::Zeroize::zeroize(in_out);
            return Err(HpkeError::PlaintextTooLong(len));
        }
        self.0.increment()
    }

    /// `Export(exporter_context, L)` into `out` (L = `out.len()`, at most 8160).
    pub fn export(&self, exporter_context: &[u8], out: &mut [u8]) -> Result<(), HpkeError> {
        self.0.export(exporter_context, out)
    }
}

/// An HPKE recipient context (base mode): opens messages in sequence.
pub struct RecipientContext(Context);

impl RecipientContext {
    /// Builds a recipient context from a derived key schedule.
    pub fn from_key_schedule(ks: KeySchedule) -> Self {
        RecipientContext(Context::new(ks))
    }

    /// `Open(aad, ct)`: the plaintext (wiped on drop), or [`HpkeError::OpenFailed`].
    pub fn open(&mut self, aad: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, HpkeError> {
        if ciphertext.len() < N_T {
            return Err(HpkeError::CiphertextTooShort(ciphertext.len()));
        }
        if self.0.seq == u64::MAX {
            return Err(HpkeError::MessageLimit);
        }
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let len = self
            .0
            .key
            .open_in_place(self.0.nonce(), aead::Aad::from(aad), &mut buf[..])
            .map_err(|_| HpkeError::OpenFailed)?
            .len();
        buf.truncate(len);
        self.0.increment()?;
        Ok(buf)
    }

    /// `Export(exporter_context, L)` into `out` (L = `out.len()`, at most 8160).
    pub fn export(&self, exporter_context: &[u8], out: &mut [u8]) -> Result<(), HpkeError> {
        self.0.export(exporter_context, out)
    }
}

/// `SetupBaseS(pkR, info)`: the encapsulated key and a sender context.
pub fn setup_base_sender(
    pk_r: &[u8; N_PK],
    info: &[u8],
    rng: &dyn SecureRandom,
) -> Result<([u8; N_ENC], SenderContext), HpkeError> {
    let encapsulation = encap(pk_r, rng)?;
    let ks = KeySchedule::base(&encapsulation.shared_secret, info);
    Ok((encapsulation.enc, SenderContext::from_key_schedule(ks)))
}

/// `SetupBaseR(enc, skR, info)` with `dh = DH(skR, enc)` computed by the caller.
pub fn setup_base_recipient_with_dh(
    enc: &[u8; N_ENC],
    pk_r: &[u8; N_PK],
    dh: &[u8; 32],
    info: &[u8],
) -> Result<RecipientContext, HpkeError> {
    let shared = decap_with_dh(enc, pk_r, dh)?;
    Ok(RecipientContext::from_key_schedule(KeySchedule::base(
        &shared, info,
    )))
}

/// Single-shot `SealBase(pkR, info, aad, pt)` (sequence number 0): `(enc, ciphertext)`.
pub fn seal_base(
    pk_r: &[u8; N_PK],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    rng: &dyn SecureRandom,
) -> Result<([u8; N_ENC], Vec<u8>), HpkeError> {
    let (enc, mut ctx) = setup_base_sender(pk_r, info, rng)?;
    let ct = ctx.seal(aad, plaintext)?;
    Ok((enc, ct))
}

/// Single-shot `SealBase` in place: `in_out` holds the plaintext and becomes the ciphertext
/// (tag appended); returns `enc`. On error the buffer is wiped.
pub fn seal_base_in_place(
    pk_r: &[u8; N_PK],
    info: &[u8],
    aad: &[u8],
    in_out: &mut Vec<u8>,
    rng: &dyn SecureRandom,
) -> Result<[u8; N_ENC], HpkeError> {
    let (enc, mut ctx) = match setup_base_sender(pk_r, info, rng) {
        Ok(x) => x,
        Err(e) => {
            zeroize::Zeroize::zeroize(in_out);
            return Err(e);
        }
    };
    ctx.seal_in_place(aad, in_out)?;
    Ok(enc)
}

/// Single-shot `OpenBase(enc, skR, info, aad, ct)` with `dh = DH(skR, enc)` computed by the
/// caller and `pk_r` the recipient's public key.
pub fn open_base_with_dh(
    enc: &[u8; N_ENC],
    pk_r: &[u8; N_PK],
    dh: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, HpkeError> {
    setup_base_recipient_with_dh(enc, pk_r, dh, info)?.open(aad, ciphertext)
}

#[cfg(test)]
mod rfc9180_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn suite_ids_spell_the_rfc_prefixes() {
        assert_eq!(&KEM_SUITE_ID[..3], b"KEM");
        assert_eq!(
            u16::from_be_bytes([KEM_SUITE_ID[3], KEM_SUITE_ID[4]]),
            KEM_ID
        );
        assert_eq!(&HPKE_SUITE_ID[..4], b"HPKE");
        assert_eq!(
            u16::from_be_bytes([HPKE_SUITE_ID[4], HPKE_SUITE_ID[5]]),
            KEM_ID
        );
        assert_eq!(
            u16::from_be_bytes([HPKE_SUITE_ID[6], HPKE_SUITE_ID[7]]),
            KDF_ID
        );
        assert_eq!(
            u16::from_be_bytes([HPKE_SUITE_ID[8], HPKE_SUITE_ID[9]]),
            AEAD_ID
        );
    }

    #[test]
    fn zero_dh_is_rejected() {
        let r = decap_with_dh(&[1; 32], &[2; 32], &[0; 32]);
        assert!(matches!(r, Err(HpkeError::KeyAgreement)));
    }

    #[test]
    fn low_order_recipient_key_is_rejected() {
        // The all-zero point is of low order: X25519 output would be all zeros.
        let rng = ring::rand::SystemRandom::new();
        let r = seal_base(&[0u8; 32], b"i", b"a", b"p", &rng);
        assert!(matches!(r, Err(HpkeError::KeyAgreement)));
    }

    #[test]
    fn short_ciphertext_is_typed() {
        let ks = KeySchedule::base(&[7; 32], b"x");
        let mut r = RecipientContext::from_key_schedule(ks);
        assert!(matches!(
            r.open(b"", &[0; 15]),
            Err(HpkeError::CiphertextTooShort(15))
        ));
    }

    #[test]
    fn rfc_a21_key_schedule_context() {
        // RFC 9180 A.2.1 key_schedule_context for info "Ode on a Grecian Urn".
        let ctx = key_schedule_context(&hex("4f6465206f6e2061204772656369616e2055726e"));
        assert_eq!(
            ctx.to_vec(),
            hex("00431df6cd95e11ff49d7013563baf7f11588c75a6611ee2a4404a49306ae4cfc5b69c5718a60cc5876c358d3f7fc31ddb598503f67be58ea1e798c0bb19eb9796")
        );
    }
}

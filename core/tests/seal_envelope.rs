//! Sealed envelope v1: consent gating, the wire format, interoperability with an independent
//! HPKE implementation (the `hpke` crate) in both directions, and tamper rejection of every
//! single bit of header, enc and ciphertext.
#![allow(deprecated)] // ring::test::rand::FixedSliceRandom (fixed ephemeral / recipient scalar in tests).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use mandrel_core::seal::{
    seal_measurement, seal_measurement_with_rng, Consent, Content, Envelope, RecipientPublicKey,
    Scope, SealError, SealRequest, CONTENT_TYPE_BUNDLE, CONTENT_TYPE_JSON, INFO,
};
use ring::agreement::{agree_ephemeral, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::test::rand::FixedSliceRandom;
use serde_json::json;

type Kem = X25519HkdfSha256;

/// A receiver key pair from the independent implementation: (secret bytes, public key).
fn receiver(seed: u8) -> ([u8; 32], RecipientPublicKey) {
    let (sk, pk) = Kem::derive_keypair(&[seed; 32]);
    let sk_bytes: [u8; 32] = sk.to_bytes().as_slice().try_into().unwrap();
    let pk = RecipientPublicKey::from_bytes(pk.to_bytes().as_slice()).unwrap();
    (sk_bytes, pk)
}

/// X25519(sk, enc) through ring (the core has no static keys; the CLI uses x25519-dalek).
fn dh(sk: &[u8; 32], enc: &[u8; 32]) -> [u8; 32] {
    let rng = FixedSliceRandom { bytes: sk };
    let k = EphemeralPrivateKey::generate(&X25519, &rng).unwrap();
    agree_ephemeral(k, &UnparsedPublicKey::new(&X25519, enc), |s| {
        <[u8; 32]>::try_from(s).unwrap()
    })
    .unwrap()
}

fn consent(scope: Scope) -> Consent {
    Consent::new(
        "ring sizing for order 1234",
        scope,
        "2026-11",
        "2026-11-30T08:00:00Z",
    )
    .unwrap()
}

fn measurement() -> serde_json::Value {
    json!({"status": "ok", "finger": "ring", "circumference_mm": 56.3, "sizes": {"us": 7.5}})
}

fn request<'a>(
    m: &'a serde_json::Value,
    c: Option<&'a Consent>,
    mesh: Option<&'a [u8]>,
) -> SealRequest<'a> {
    SealRequest {
        scan_id: "scan-0001",
        measurement: m,
        mesh_ply: mesh,
        consent: c,
        created_at: Some("2026-11-30T08:01:00Z"),
    }
}

/// Opens with the independent implementation: the aad is the header's UTF-8 bytes.
fn open_with_hpke_crate(env: &Envelope, sk: &[u8; 32]) -> Result<Vec<u8>, hpke::HpkeError> {
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(sk)?;
    let enc_bytes = URL_SAFE_NO_PAD.decode(&env.enc).unwrap();
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc_bytes)?;
    let ct = URL_SAFE_NO_PAD.decode(&env.ciphertext).unwrap();
    hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeR::Base,
        &sk,
        &enc,
        INFO,
        &ct,
        env.header.as_bytes(),
    )
}

fn open_with_mandrel(
    env: &Envelope,
    sk: &[u8; 32],
    pk: &RecipientPublicKey,
) -> Result<mandrel_core::seal::Opened, SealError> {
    let enc = env.enc_bytes()?;
    env.open_with_dh(pk, &dh(sk, &enc))
}

#[test]
fn envelope_has_the_spec_shape() {
    let (_, pk) = receiver(1);
    let m = measurement();
    let c = consent(Scope::Measurement);
    let env = seal_measurement(&pk, &request(&m, Some(&c), None)).unwrap();
    let wire: serde_json::Value = serde_json::from_str(&env.to_json()).unwrap();
    let keys: Vec<&str> = wire
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "format",
        "version",
        "suite",
        "recipient_key_id",
        "header",
        "enc",
        "ciphertext",
    ];
    let mut got = keys.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(wire["format"], "mandrel-sealed");
    assert_eq!(wire["version"], 1);
    assert_eq!(
        wire["suite"],
        "X25519-HKDF-SHA256/HKDF-SHA256/ChaCha20Poly1305"
    );
    // recipient_key_id: first 16 hex of SHA-256 of the raw public key.
    let digest = ring::digest::digest(&ring::digest::SHA256, pk.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(wire["recipient_key_id"], hex[..16]);
    // base64url, no padding: 32-byte enc is 43 characters.
    let enc = wire["enc"].as_str().unwrap();
    assert_eq!(enc.len(), 43);
    assert!(!enc.contains('=') && !enc.contains('+') && !enc.contains('/'));
    let header: serde_json::Value = serde_json::from_str(wire["header"].as_str().unwrap()).unwrap();
    assert_eq!(header["scan_id"], "scan-0001");
    assert_eq!(header["created_at"], "2026-11-30T08:01:00Z");
    assert_eq!(header["content_type"], CONTENT_TYPE_JSON);
    assert_eq!(header["consent"]["scope"], "measurement");
    assert_eq!(header["consent"]["purpose"], "ring sizing for order 1234");
    assert_eq!(header["consent"]["policy_version"], "2026-11");
    assert_eq!(header["consent"]["granted_at"], "2026-11-30T08:00:00Z");
    // Parses back exactly.
    assert_eq!(Envelope::parse(env.to_json().as_bytes()).unwrap(), env);
    // Ciphertext = measurement JSON + 16-byte tag; nothing else rides along.
    let ct = URL_SAFE_NO_PAD.decode(&env.ciphertext).unwrap();
    assert_eq!(ct.len(), serde_json::to_vec(&m).unwrap().len() + 16);
}

#[test]
fn consent_is_enforced() {
    let (_, pk) = receiver(1);
    let m = measurement();
    let mesh = b"ply\nformat binary_little_endian 1.0\nend_header\n".as_slice();
    assert!(matches!(
        seal_measurement(&pk, &request(&m, None, None)),
        Err(SealError::NoConsent)
    ));
    let c = consent(Scope::Measurement);
    assert!(matches!(
        seal_measurement(&pk, &request(&m, Some(&c), Some(mesh))),
        Err(SealError::MeshNotConsented)
    ));
    let mut bad = c.clone();
    bad.granted_at = "2026-11-31T00:00:00Z".into();
    assert!(matches!(
        seal_measurement(&pk, &request(&m, Some(&bad), None)),
        Err(SealError::Consent(_))
    ));
    let mut late = c.clone();
    late.granted_at = "2026-11-30T09:00:00Z".into();
    assert!(matches!(
        seal_measurement(&pk, &request(&m, Some(&late), None)),
        Err(SealError::ConsentAfterCreation { .. })
    ));
    let mut empty = c.clone();
    empty.purpose = String::new();
    assert!(matches!(
        seal_measurement(&pk, &request(&m, Some(&empty), None)),
        Err(SealError::Consent(_))
    ));
    // Not a measurement object; not a PLY; a bad scan id.
    let arr = json!([1, 2, 3]);
    assert!(matches!(
        seal_measurement(&pk, &request(&arr, Some(&c), None)),
        Err(SealError::BadMeasurement(_))
    ));
    let cm = consent(Scope::MeasurementAndMesh);
    assert!(matches!(
        seal_measurement(
            &pk,
            &request(&m, Some(&cm), Some(b"\x00\x01depth".as_slice()))
        ),
        Err(SealError::BadMesh(_))
    ));
    let mut r = request(&m, Some(&c), None);
    r.scan_id = "Jane Doe's hand";
    assert!(matches!(
        seal_measurement(&pk, &r),
        Err(SealError::BadScanId(_))
    ));
    let mut r = request(&m, Some(&c), None);
    r.created_at = Some("now");
    assert!(matches!(
        seal_measurement(&pk, &r),
        Err(SealError::Consent(_))
    ));
    // A low-order recipient key is refused.
    let zero = RecipientPublicKey::from_bytes(&[0; 32]).unwrap();
    assert!(matches!(
        seal_measurement(&zero, &request(&m, Some(&c), None)),
        Err(SealError::Hpke(_))
    ));
    assert!(matches!(
        RecipientPublicKey::from_base64url("abc"),
        Err(SealError::BadPublicKey(_))
    ));
}

#[test]
fn independent_implementation_opens_mandrel_envelopes() {
    let (sk, pk) = receiver(7);
    let m = measurement();
    let c = consent(Scope::Measurement);
    let env = seal_measurement(&pk, &request(&m, Some(&c), None)).unwrap();
    let pt = open_with_hpke_crate(&env, &sk).unwrap();
    assert_eq!(pt, serde_json::to_vec(&m).unwrap(), "byte for byte");
    let opened = open_with_mandrel(&env, &sk, &pk).unwrap();
    assert_eq!(opened.content, Content::Measurement(m.clone()));
    assert_eq!(opened.plaintext.to_vec(), pt);
    assert_eq!(opened.header.consent, c);

    // With the mesh: a bundle, opened by both.
    let cm = consent(Scope::MeasurementAndMesh);
    let mesh: Vec<u8> = [
        b"ply\nformat ascii 1.0\nelement vertex 0\nend_header\n".as_slice(),
        &[7u8; 1000],
    ]
    .concat();
    let env = seal_measurement(&pk, &request(&m, Some(&cm), Some(&mesh))).unwrap();
    assert_eq!(
        env.parsed_header().unwrap().content_type,
        CONTENT_TYPE_BUNDLE
    );
    let pt = open_with_hpke_crate(&env, &sk).unwrap();
    let bundle = mandrel_core::seal::Bundle::parse(&pt).unwrap();
    assert_eq!(bundle.mesh_ply.as_deref(), Some(mesh.as_slice()));
    match open_with_mandrel(&env, &sk, &pk).unwrap().content {
        Content::MeasurementAndMesh {
            measurement,
            mesh_ply,
        } => {
            assert_eq!(measurement, m);
            assert_eq!(mesh_ply, Some(mesh));
        }
        other => panic!("expected a bundle, got {other:?}"),
    }
    // measurement+mesh consent without a mesh: a plain measurement.
    let env = seal_measurement(&pk, &request(&m, Some(&cm), None)).unwrap();
    assert_eq!(env.parsed_header().unwrap().content_type, CONTENT_TYPE_JSON);
}

#[test]
fn mandrel_opens_what_the_independent_implementation_seals() {
    let (sk, pk) = receiver(9);
    let header = r#"{"scan_id":"x1","created_at":"2026-11-30T08:01:00Z","consent":{"purpose":"p","scope":"measurement","policy_version":"1","granted_at":"2026-11-30T08:00:00Z"},"content_type":"application/json"}"#;
    let pt = br#"{"circumference_mm":52.1}"#;
    let pk_h = <Kem as hpke::Kem>::PublicKey::from_bytes(pk.as_bytes()).unwrap();
    let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeS::Base,
        &pk_h,
        INFO,
        pt,
        header.as_bytes(),
    )
    .unwrap();
    let env = Envelope {
        format: "mandrel-sealed".into(),
        version: 1,
        suite: "X25519-HKDF-SHA256/HKDF-SHA256/ChaCha20Poly1305".into(),
        recipient_key_id: pk.key_id(),
        header: header.into(),
        enc: URL_SAFE_NO_PAD.encode(enc.to_bytes()),
        ciphertext: URL_SAFE_NO_PAD.encode(&ct),
    };
    let env = Envelope::parse(env.to_json().as_bytes()).unwrap();
    let opened = open_with_mandrel(&env, &sk, &pk).unwrap();
    assert_eq!(opened.plaintext.to_vec(), pt.to_vec());
    assert_eq!(opened.header.scan_id, "x1");
}

#[test]
fn deterministic_ephemeral_gives_reproducible_envelopes() {
    let (sk, pk) = receiver(3);
    let m = measurement();
    let c = consent(Scope::Measurement);
    let sk_e = [0x42u8; 32];
    let a = seal_measurement_with_rng(
        &pk,
        &request(&m, Some(&c), None),
        &FixedSliceRandom { bytes: &sk_e },
    )
    .unwrap();
    let b = seal_measurement_with_rng(
        &pk,
        &request(&m, Some(&c), None),
        &FixedSliceRandom { bytes: &sk_e },
    )
    .unwrap();
    assert_eq!(a, b);
    // The system random source gives a fresh ephemeral key every time.
    let x = seal_measurement(&pk, &request(&m, Some(&c), None)).unwrap();
    let y = seal_measurement(&pk, &request(&m, Some(&c), None)).unwrap();
    assert_ne!(x.enc, y.enc);
    assert_ne!(x.ciphertext, y.ciphertext);
    assert!(open_with_hpke_crate(&a, &sk).is_ok());
}

#[test]
fn wrong_key_and_malformed_envelopes_are_typed_errors() {
    let (_, pk) = receiver(1);
    let (sk2, pk2) = receiver(2);
    let m = measurement();
    let c = consent(Scope::Measurement);
    let env = seal_measurement(&pk, &request(&m, Some(&c), None)).unwrap();
    assert!(matches!(
        open_with_mandrel(&env, &sk2, &pk2),
        Err(SealError::WrongRecipient { .. })
    ));
    // Same key id claimed but the wrong secret: authentication fails.
    let enc = env.enc_bytes().unwrap();
    assert!(matches!(
        env.open_with_dh(&pk, &dh(&sk2, &enc)),
        Err(SealError::Hpke(mandrel_core::seal::HpkeError::OpenFailed))
    ));
    assert!(open_with_hpke_crate(&env, &sk2).is_err());

    let good = env.to_json();
    let cases = [
        good.replace("mandrel-sealed", "other"),
        good.replace("\"version\":1", "\"version\":2"),
        good.replace("ChaCha20Poly1305", "AES256GCM"),
        good.replace(&env.enc, &env.enc[..40]),
        good.replace(&env.enc, &format!("{}=", env.enc)),
        good.replace(&env.ciphertext, "AAAA"),
        good.replace("\"suite\"", "\"extra\":1,\"suite\""),
        good[..good.len() - 1].to_string(),
        "[]".to_string(),
    ];
    for (i, bad) in cases.iter().enumerate() {
        assert!(
            matches!(
                Envelope::parse(bad.as_bytes()),
                Err(SealError::Malformed(_))
            ),
            "case {i}: {bad}"
        );
    }
}

/// Every single-bit flip of header, enc or ciphertext fails to open, in mandrel and in the
/// independent implementation.
#[test]
fn every_single_bit_flip_is_rejected() {
    let (sk, pk) = receiver(5);
    let m = json!({"circumference_mm": 55.0});
    let c = consent(Scope::Measurement);
    let env = seal_measurement(&pk, &request(&m, Some(&c), None)).unwrap();
    let enc = env.enc_bytes().unwrap();
    let ct = env.ciphertext_bytes().unwrap();
    let header = env.header.as_bytes().to_vec();
    let mut flips = 0usize;
    let mut rejected = 0usize;

    for i in 0..header.len() * 8 {
        let mut h = header.clone();
        h[i / 8] ^= 1 << (i % 8);
        flips += 1;
        // A flip that breaks UTF-8 cannot even be carried in the JSON envelope: rejected.
        let Ok(text) = String::from_utf8(h) else {
            rejected += 1;
            continue;
        };
        let bad = Envelope {
            header: text,
            ..env.clone()
        };
        let mandrel = open_with_mandrel(&bad, &sk, &pk);
        let other = open_with_hpke_crate(&bad, &sk);
        assert!(
            mandrel.is_err() && other.is_err(),
            "header bit {i} accepted"
        );
        rejected += 1;
    }
    for i in 0..enc.len() * 8 {
        let mut e = enc;
        e[i / 8] ^= 1 << (i % 8);
        flips += 1;
        let bad = Envelope {
            enc: URL_SAFE_NO_PAD.encode(e),
            ..env.clone()
        };
        assert!(
            open_with_mandrel(&bad, &sk, &pk).is_err(),
            "enc bit {i} accepted"
        );
        assert!(
            open_with_hpke_crate(&bad, &sk).is_err(),
            "enc bit {i} accepted by hpke"
        );
        rejected += 1;
    }
    for i in 0..ct.len() * 8 {
        let mut c2 = ct.clone();
        c2[i / 8] ^= 1 << (i % 8);
        flips += 1;
        let bad = Envelope {
            ciphertext: URL_SAFE_NO_PAD.encode(&c2),
            ..env.clone()
        };
        assert!(
            open_with_mandrel(&bad, &sk, &pk).is_err(),
            "ct bit {i} accepted"
        );
        assert!(
            open_with_hpke_crate(&bad, &sk).is_err(),
            "ct bit {i} accepted by hpke"
        );
        rejected += 1;
    }
    assert_eq!(flips, rejected);
    assert_eq!(flips, (header.len() + 32 + ct.len()) * 8);
    eprintln!("single-bit flips rejected: {rejected} of {flips}");
    // And the untouched envelope still opens.
    assert!(open_with_mandrel(&env, &sk, &pk).is_ok());
}

/// A "random" source for the `hpke` crate that hands out a fixed ikm, so both
/// implementations use the same ephemeral key (the crate derives it with DeriveKeyPair(ikm)).
struct FixedIkm([u8; 32]);

impl hpke::rand_core::TryRng for FixedIkm {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(0)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.copy_from_slice(&self.0[..dst.len()]);
        Ok(())
    }
}
impl hpke::rand_core::TryCryptoRng for FixedIkm {}

/// With the same ephemeral key, mandrel and the `hpke` crate produce identical enc and
/// ciphertext for the envelope's info, header (aad) and plaintext: byte for byte.
#[test]
fn same_ephemeral_gives_identical_bytes_in_both_implementations() {
    let (_, pk) = receiver(11);
    let m = measurement();
    let c = consent(Scope::Measurement);
    let ikm = [0x5au8; 32];
    let sk_e = mandrel_core::seal::hpke::derive_private_key(&ikm);
    let env = seal_measurement_with_rng(
        &pk,
        &request(&m, Some(&c), None),
        &FixedSliceRandom { bytes: &sk_e[..] },
    )
    .unwrap();
    let pk_h = <Kem as hpke::Kem>::PublicKey::from_bytes(pk.as_bytes()).unwrap();
    let (enc, ct) = hpke::single_shot_seal_with_rng::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeS::Base,
        &pk_h,
        INFO,
        &serde_json::to_vec(&m).unwrap(),
        env.header.as_bytes(),
        &mut FixedIkm(ikm),
    )
    .unwrap();
    assert_eq!(env.enc_bytes().unwrap().to_vec(), enc.to_bytes().to_vec());
    assert_eq!(env.ciphertext_bytes().unwrap(), ct);
}

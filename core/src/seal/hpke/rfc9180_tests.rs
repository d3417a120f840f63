//! RFC 9180 Appendix A.2.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305,
//! base mode) known-answer tests for this module, with the vector kept beside them in
//! `rfc9180_a2_1_base.json`. The ephemeral key comes from a fixed-bytes random
//! source so the vector's `skEm` is used; the recipient's DH is done with ring too.
#![allow(deprecated)] // ring::test::rand::FixedSliceRandom lives in ring's deprecated test module.

use super::{self as hpke, KeySchedule, RecipientContext, SenderContext};
use ring::agreement::{agree_ephemeral, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::test::rand::FixedSliceRandom;
use serde_json::Value;

fn vector() -> Value {
    serde_json::from_str(include_str!("rfc9180_a2_1_base.json")).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn field(v: &Value, name: &str) -> Vec<u8> {
    hex(v[name]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {name} missing")))
}

fn arr32(b: &[u8]) -> [u8; 32] {
    b.try_into().unwrap()
}

/// X25519 public key of a given private scalar, via ring with a fixed "random" source.
fn public_of(sk: &[u8]) -> Vec<u8> {
    let rng = FixedSliceRandom { bytes: sk };
    let k = EphemeralPrivateKey::generate(&X25519, &rng).unwrap();
    k.compute_public_key().unwrap().as_ref().to_vec()
}

/// X25519(sk, pk) via ring with a fixed "random" source.
fn dh(sk: &[u8], pk: &[u8]) -> [u8; 32] {
    let rng = FixedSliceRandom { bytes: sk };
    let k = EphemeralPrivateKey::generate(&X25519, &rng).unwrap();
    agree_ephemeral(k, &UnparsedPublicKey::new(&X25519, pk), arr32).unwrap()
}

#[test]
fn vector_is_for_this_suite_in_base_mode() {
    let v = vector();
    assert_eq!(v["mode"], 0);
    assert_eq!(v["kem_id"].as_u64(), Some(u64::from(hpke::KEM_ID)));
    assert_eq!(v["kdf_id"].as_u64(), Some(u64::from(hpke::KDF_ID)));
    assert_eq!(v["aead_id"].as_u64(), Some(u64::from(hpke::AEAD_ID)));
}

#[test]
fn derive_key_pair_reproduces_the_vector_keys() {
    let v = vector();
    for (ikm, sk, pk) in [("ikmE", "skEm", "pkEm"), ("ikmR", "skRm", "pkRm")] {
        let derived = hpke::derive_private_key(&field(&v, ikm));
        assert_eq!(derived.to_vec(), field(&v, sk), "{sk}");
        assert_eq!(public_of(&derived[..]), field(&v, pk), "{pk}");
    }
}

#[test]
fn encap_and_key_schedule_match_the_vector() {
    let v = vector();
    let sk_e = field(&v, "skEm");
    let pk_r = arr32(&field(&v, "pkRm"));
    let rng = FixedSliceRandom { bytes: &sk_e };
    let e = hpke::encap(&pk_r, &rng).unwrap();
    assert_eq!(e.enc.to_vec(), field(&v, "enc"));
    assert_eq!(e.shared_secret.to_vec(), field(&v, "shared_secret"));

    // Decap on the recipient side gives the same shared secret.
    let dh_r = dh(&field(&v, "skRm"), &e.enc);
    let decap = hpke::decap_with_dh(&e.enc, &pk_r, &dh_r).unwrap();
    assert_eq!(decap.to_vec(), field(&v, "shared_secret"));

    let info = field(&v, "info");
    assert_eq!(
        hpke::key_schedule_context(&info).to_vec(),
        field(&v, "key_schedule_context")
    );
    let secret = hpke::labeled_extract(&hpke::HPKE_SUITE_ID, &e.shared_secret[..], b"secret", b"");
    assert_eq!(secret.to_vec(), field(&v, "secret"));
    let ks = KeySchedule::base(&e.shared_secret, &info);
    assert_eq!(ks.key.to_vec(), field(&v, "key"));
    assert_eq!(ks.base_nonce.to_vec(), field(&v, "base_nonce"));
    assert_eq!(ks.exporter_secret.to_vec(), field(&v, "exporter_secret"));
}

#[test]
fn encryptions_and_exports_match_and_open_back() {
    let v = vector();
    let sk_e = field(&v, "skEm");
    let sk_r = field(&v, "skRm");
    let pk_r = arr32(&field(&v, "pkRm"));
    let info = field(&v, "info");
    let rng = FixedSliceRandom { bytes: &sk_e };
    let (enc, mut sender): ([u8; 32], SenderContext) =
        hpke::setup_base_sender(&pk_r, &info, &rng).unwrap();
    let mut recipient: RecipientContext =
        hpke::setup_base_recipient_with_dh(&enc, &pk_r, &dh(&sk_r, &enc), &info).unwrap();
    let base_nonce = field(&v, "base_nonce");

    let encryptions = v["encryptions"].as_array().unwrap();
    assert_eq!(encryptions.len(), 6);
    let mut seq = 0u64;
    for e in encryptions {
        let target = e["seq"].as_u64().unwrap();
        // Advance both contexts to the vector's sequence number.
        while seq < target {
            let filler = sender.seal(b"", b"x").unwrap();
            recipient.open(b"", &filler).unwrap();
            seq += 1;
        }
        // The vector's nonce column is base_nonce XOR seq (checks the typed data itself).
        let mut nonce = base_nonce.clone();
        for (b, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *b ^= s;
        }
        assert_eq!(nonce, field(e, "nonce"), "nonce at seq {seq}");
        let pt = field(e, "pt");
        let aad = field(e, "aad");
        let ct = sender.seal(&aad, &pt).unwrap();
        assert_eq!(ct, field(e, "ct"), "ciphertext at seq {seq}");
        assert_eq!(
            recipient.open(&aad, &ct).unwrap().to_vec(),
            pt,
            "open at seq {seq}"
        );
        seq += 1;
    }

    for x in v["exports"].as_array().unwrap() {
        let mut out = vec![0u8; x["L"].as_u64().unwrap() as usize];
        sender
            .export(&field(x, "exporter_context"), &mut out)
            .unwrap();
        assert_eq!(out, field(x, "exported_value"));
        let mut out_r = vec![0u8; out.len()];
        recipient
            .export(&field(x, "exporter_context"), &mut out_r)
            .unwrap();
        assert_eq!(out_r, out);
    }
}

#[test]
fn single_shot_seal_and_open_match_sequence_zero() {
    let v = vector();
    let sk_e = field(&v, "skEm");
    let pk_r = arr32(&field(&v, "pkRm"));
    let first = &v["encryptions"][0];
    let (info, aad, pt) = (field(&v, "info"), field(first, "aad"), field(first, "pt"));
    let rng = FixedSliceRandom { bytes: &sk_e };
    let (enc, ct) = hpke::seal_base(&pk_r, &info, &aad, &pt, &rng).unwrap();
    assert_eq!(enc.to_vec(), field(&v, "enc"));
    assert_eq!(ct, field(first, "ct"));
    let dh_r = dh(&field(&v, "skRm"), &enc);
    let opened = hpke::open_base_with_dh(&enc, &pk_r, &dh_r, &info, &aad, &ct).unwrap();
    assert_eq!(opened.to_vec(), pt);
    // The wrong aad or info fails.
    assert_eq!(
        hpke::open_base_with_dh(&enc, &pk_r, &dh_r, &info, b"Count-1", &ct).unwrap_err(),
        hpke::HpkeError::OpenFailed
    );
    assert_eq!(
        hpke::open_base_with_dh(&enc, &pk_r, &dh_r, b"other info", &aad, &ct).unwrap_err(),
        hpke::HpkeError::OpenFailed
    );
}

//! "Order a fitted band" (issue 20): the measurement and the band STL sealed in one
//! envelope (bundle version 2), opened by mandrel and by an independent HPKE
//! implementation, under scope `measurement`; a malformed band is refused.
#![allow(deprecated)] // ring::test::rand::FixedSliceRandom (the recipient scalar in tests).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, Serializable};
use mandrel_core::seal::{
    seal_band_order, Bundle, Consent, Content, RecipientPublicKey, Scope, SealError, SealRequest,
    INFO,
};
use ring::agreement::{agree_ephemeral, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::test::rand::FixedSliceRandom;

type Kem = X25519HkdfSha256;

fn dh(sk: &[u8; 32], enc: &[u8; 32]) -> [u8; 32] {
    let rng = FixedSliceRandom { bytes: sk };
    let k = EphemeralPrivateKey::generate(&X25519, &rng).unwrap();
    agree_ephemeral(k, &UnparsedPublicKey::new(&X25519, enc), |s| {
        <[u8; 32]>::try_from(s).unwrap()
    })
    .unwrap()
}

/// A binary STL of `n` zero triangles.
fn stl(n: u32) -> Vec<u8> {
    let mut b = vec![0u8; 84 + 50 * n as usize];
    b[80..84].copy_from_slice(&n.to_le_bytes());
    b
}

#[test]
fn a_band_order_opens_with_measurement_and_band() {
    let (sk, pk) = Kem::derive_keypair(&[7u8; 32]);
    let sk: [u8; 32] = sk.to_bytes().as_slice().try_into().unwrap();
    let pk = RecipientPublicKey::from_bytes(pk.to_bytes().as_slice()).unwrap();
    let consent = Consent::new(
        "fitted band order 77",
        Scope::Measurement,
        "2026-11",
        "2026-11-30T08:00:00Z",
    )
    .unwrap();
    let m = serde_json::json!({"status": "ok", "ring_circumference_mm": 55.1});
    let request = SealRequest {
        scan_id: "order-77",
        measurement: &m,
        mesh_ply: None,
        consent: Some(&consent),
        created_at: Some("2026-11-30T08:01:00Z"),
    };
    let band = stl(3);
    let env = seal_band_order(&pk, &request, &band).unwrap();
    let opened = env
        .open_with_dh(&pk, &dh(&sk, &env.enc_bytes().unwrap()))
        .unwrap();
    assert_eq!(
        opened.content,
        Content::FittedBandOrder {
            measurement: m.clone(),
            mesh_ply: None,
            band_stl: band.clone(),
        }
    );
    // The independent implementation opens it to the same version 2 bundle.
    let skr = <Kem as hpke::Kem>::PrivateKey::from_bytes(&sk).unwrap();
    let enc_bytes = URL_SAFE_NO_PAD.decode(&env.enc).unwrap();
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc_bytes).unwrap();
    let ct = URL_SAFE_NO_PAD.decode(&env.ciphertext).unwrap();
    let plain = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeR::Base,
        &skr,
        &enc,
        INFO,
        &ct,
        env.header.as_bytes(),
    )
    .unwrap();
    assert_eq!(plain[8], 2);
    assert_eq!(Bundle::parse(&plain).unwrap().band_stl, Some(band));

    // A mesh still needs its scope; a truncated band is refused before sealing.
    let mesh = b"ply\nformat ascii 1.0\nend_header\n".to_vec();
    let with_mesh = SealRequest {
        mesh_ply: Some(&mesh),
        ..request
    };
    assert!(matches!(
        seal_band_order(&pk, &with_mesh, &stl(3)),
        Err(SealError::MeshNotConsented)
    ));
    let mut short = stl(3);
    short.pop();
    assert!(matches!(
        seal_band_order(&pk, &request, &short),
        Err(SealError::BadBand(_))
    ));
}

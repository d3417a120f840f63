//! Property tests: HPKE seal/open and store seal/open round-trips over random payloads up to
//! 10 MB (few cases for the big sizes, so CI stays fast), and every single-bit flip of a
//! store record rejected.
#![allow(deprecated)] // ring::test::rand::FixedSliceRandom for the recipient-side DH in tests.

use mandrel_core::seal::hpke;
use mandrel_core::seal::{DataKey, RecordKind, SecureStore, StoreError};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use ring::agreement::{agree_ephemeral, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::test::rand::FixedSliceRandom;

const MIB: usize = 1 << 20;

/// Pseudo-random bytes from a seed (fast enough for 10 MB payloads).
fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut v = vec![0u8; len];
    rng.fill(&mut v[..]);
    v
}

fn public_of(sk: &[u8; 32]) -> [u8; 32] {
    let k = EphemeralPrivateKey::generate(&X25519, &FixedSliceRandom { bytes: sk }).unwrap();
    k.compute_public_key().unwrap().as_ref().try_into().unwrap()
}

fn dh(sk: &[u8; 32], pk: &[u8; 32]) -> [u8; 32] {
    let k = EphemeralPrivateKey::generate(&X25519, &FixedSliceRandom { bytes: sk }).unwrap();
    agree_ephemeral(k, &UnparsedPublicKey::new(&X25519, pk), |s| {
        <[u8; 32]>::try_from(s).unwrap()
    })
    .unwrap()
}

fn hpke_round_trip(len: usize, seed: u64, sk_r: [u8; 32], aad: &[u8]) -> Result<(), TestCaseError> {
    let pt = payload(len, seed);
    let pk_r = public_of(&sk_r);
    let rng = ring::rand::SystemRandom::new();
    let (enc, ct) = hpke::seal_base(&pk_r, b"mandrel-sealed-v1", aad, &pt, &rng).unwrap();
    prop_assert_eq!(ct.len(), pt.len() + 16);
    let opened = hpke::open_base_with_dh(
        &enc,
        &pk_r,
        &dh(&sk_r, &enc),
        b"mandrel-sealed-v1",
        aad,
        &ct,
    )
    .unwrap();
    prop_assert!(opened[..] == pt[..]);
    Ok(())
}

fn store_round_trip(len: usize, seed: u64, key: [u8; 32], id: &str) -> Result<(), TestCaseError> {
    let pt = payload(len, seed);
    let store = SecureStore::new(DataKey::from_bytes(key));
    let rec = store.seal(RecordKind::Mesh, id, &pt).unwrap();
    prop_assert_eq!(rec.len(), pt.len() + 34);
    let back = store.open(RecordKind::Mesh, id, &rec).unwrap();
    prop_assert!(back[..] == pt[..]);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn hpke_round_trips_small(len in 0usize..64 * 1024, seed: u64, sk in any::<[u8; 32]>(),
                              aad in proptest::collection::vec(any::<u8>(), 0..300)) {
        // The all-zero scalar clamps to a valid key; ring accepts any 32 bytes.
        hpke_round_trip(len, seed, sk, &aad)?;
    }

    #[test]
    fn store_round_trips_small(len in 0usize..64 * 1024, seed: u64, key in any::<[u8; 32]>(),
                               id in "[a-zA-Z0-9._-]{1,64}") {
        store_round_trip(len, seed, key, &id)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn hpke_round_trips_up_to_10_mb(len in MIB..=10 * MIB, seed: u64, sk in any::<[u8; 32]>()) {
        hpke_round_trip(len, seed, sk, b"header")?;
    }

    #[test]
    fn store_round_trips_up_to_10_mb(len in MIB..=10 * MIB, seed: u64, key in any::<[u8; 32]>()) {
        store_round_trip(len, seed, key, "mesh-0001")?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Any single-bit flip anywhere in a random-size record is rejected (random bit).
    #[test]
    fn store_rejects_a_random_bit_flip(len in 0usize..4096, seed: u64, bit in any::<proptest::sample::Index>()) {
        let store = SecureStore::new(DataKey::from_bytes([3; 32]));
        let rec = store.seal(RecordKind::Measurement, "scan-1", &payload(len, seed)).unwrap();
        let i = bit.index(rec.len() * 8);
        let mut bad = rec.clone();
        bad[i / 8] ^= 1 << (i % 8);
        prop_assert!(store.open(RecordKind::Measurement, "scan-1", &bad).is_err());
    }
}

/// Every single-bit flip of a small store record is rejected (exhaustive), and so is a record
/// replayed under another id, another kind or read with another key.
#[test]
fn store_rejects_every_single_bit_flip() {
    let store = SecureStore::new(DataKey::from_bytes([9; 32]));
    let rec = store
        .seal(
            RecordKind::Measurement,
            "scan-42",
            br#"{"circumference_mm":54.9}"#,
        )
        .unwrap();
    let mut rejected = 0;
    for i in 0..rec.len() * 8 {
        let mut bad = rec.clone();
        bad[i / 8] ^= 1 << (i % 8);
        assert!(
            store
                .open(RecordKind::Measurement, "scan-42", &bad)
                .is_err(),
            "bit {i} accepted"
        );
        rejected += 1;
    }
    assert_eq!(rejected, rec.len() * 8);
    for cut in 0..rec.len() {
        assert!(store
            .open(RecordKind::Measurement, "scan-42", &rec[..cut])
            .is_err());
    }
    assert_eq!(
        store.open(RecordKind::Measurement, "scan-43", &rec),
        Err(StoreError::Authentication)
    );
    let other = SecureStore::new(DataKey::from_bytes([8; 32]));
    assert_eq!(
        other.open(RecordKind::Measurement, "scan-42", &rec),
        Err(StoreError::Authentication)
    );
    // Changing the kind byte is caught as a kind mismatch before decryption, or by the AAD.
    let mut as_mesh = rec.clone();
    as_mesh[5] = RecordKind::Mesh as u8;
    assert!(store
        .open(RecordKind::Measurement, "scan-42", &as_mesh)
        .is_err());
    assert_eq!(
        store.open(RecordKind::Mesh, "scan-42", &as_mesh),
        Err(StoreError::Authentication)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// The full envelope (consent header, bundle, HPKE) round-trips a random measurement
    /// object and a random mesh of up to 10 MB.
    #[test]
    fn envelope_round_trips_measurement_and_mesh(
        fields in proptest::collection::btree_map("[a-z_]{1,12}", -1e6f64..1e6, 0..20),
        mesh_len in 0usize..=10 * MIB,
        seed: u64,
        sk_r in any::<[u8; 32]>(),
    ) {
        use mandrel_core::seal::{seal_measurement, Consent, Content, RecipientPublicKey, Scope, SealRequest};
        let measurement = serde_json::to_value(&fields).unwrap();
        let mut mesh = b"ply\n".to_vec();
        mesh.extend_from_slice(&payload(mesh_len, seed));
        let pk = RecipientPublicKey::from_bytes(&public_of(&sk_r)).unwrap();
        let consent = Consent::new("p", Scope::MeasurementAndMesh, "1", "2026-01-01T00:00:00Z").unwrap();
        let env = seal_measurement(&pk, &SealRequest {
            scan_id: "prop",
            measurement: &measurement,
            mesh_ply: Some(&mesh),
            consent: Some(&consent),
            created_at: Some("2026-01-01T00:00:00Z"),
        }).unwrap();
        let enc = env.enc_bytes().unwrap();
        let opened = env.open_with_dh(&pk, &dh(&sk_r, &enc)).unwrap();
        // Exact bytes: the bundle holds serde_json's serialisation of the measurement and the
        // mesh unchanged. (Parsed values are compared too, to 1e-12 relative: serde_json's
        // default float parser may differ from the printed value in the last bit.)
        let bundle = mandrel_core::seal::Bundle::parse(&opened.plaintext).unwrap();
        prop_assert_eq!(&bundle.measurement_json, &serde_json::to_vec(&measurement).unwrap());
        prop_assert!(bundle.mesh_ply.as_deref() == Some(&mesh[..]));
        match opened.content {
            Content::MeasurementAndMesh { measurement: m, mesh_ply } => {
                prop_assert!(mesh_ply.as_deref() == Some(&mesh[..]));
                let m = m.as_object().unwrap();
                prop_assert_eq!(m.len(), fields.len());
                for (k, v) in &fields {
                    let got = m[k].as_f64().unwrap();
                    prop_assert!((got - v).abs() <= 1e-12 * v.abs().max(1.0), "{} {} {}", k, got, v);
                }
            }
            other => prop_assert!(false, "expected a bundle, got {:?}", other),
        }
    }
}

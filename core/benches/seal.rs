//! Sealing cost: a 50 KB measurement result (JSON only) and a 5 MB measurement + mesh bundle,
//! through the full consent-checked `seal_measurement` (HPKE X25519 + ChaCha20-Poly1305),
//! plus the at-rest store on the 5 MB mesh. Criterion prints time and MB/s (throughput).
//! `cargo bench -p mandrel-core --bench seal -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mandrel_core::seal::{
    seal_measurement, Consent, DataKey, RecipientPublicKey, RecordKind, Scope, SealRequest,
    SecureStore,
};
use std::hint::black_box;

/// A measurement-shaped JSON object of about `bytes` bytes (padded with a diagnostics array).
fn measurement(bytes: usize) -> serde_json::Value {
    let per = r#"{"x_m":0.0123,"y_m":-0.0456,"z_m":0.3012},"#.len();
    let n = bytes / per;
    let profile: Vec<_> = (0..n)
        .map(
            |i| serde_json::json!({"x_m": 0.0123 + i as f64 * 1e-6, "y_m": -0.0456, "z_m": 0.3012}),
        )
        .collect();
    serde_json::json!({"status": "ok", "circumference_mm": 56.2, "section_profile": profile})
}

/// A PLY-looking mesh of `bytes` bytes.
fn mesh(bytes: usize) -> Vec<u8> {
    let mut m = b"ply\nformat binary_little_endian 1.0\nelement vertex 1\nend_header\n".to_vec();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    while m.len() < bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        m.push(x as u8);
    }
    m
}

fn bench(c: &mut Criterion) {
    // Any valid X25519 public key will do: the base point u = 9.
    let mut pk = [0u8; 32];
    pk[0] = 9;
    let recipient = RecipientPublicKey::from_bytes(&pk).unwrap();
    let consent_m = Consent::new("bench", Scope::Measurement, "1", "2026-01-01T00:00:00Z").unwrap();
    let consent_mm = Consent::new(
        "bench",
        Scope::MeasurementAndMesh,
        "1",
        "2026-01-01T00:00:00Z",
    )
    .unwrap();

    let m50 = measurement(50_000);
    let m50_len = serde_json::to_vec(&m50).unwrap().len();
    let small = measurement(2_000);
    let mesh5 = mesh(5_000_000 - serde_json::to_vec(&small).unwrap().len());
    let bundle_len = mesh5.len() + serde_json::to_vec(&small).unwrap().len();

    let mut g = c.benchmark_group("seal");
    g.throughput(Throughput::Bytes(m50_len as u64));
    g.bench_function(format!("measurement_json_{}KB", m50_len / 1000), |b| {
        b.iter(|| {
            let req = SealRequest {
                scan_id: "bench-1",
                measurement: &m50,
                mesh_ply: None,
                consent: Some(&consent_m),
                created_at: Some("2026-01-01T00:00:01Z"),
            };
            black_box(seal_measurement(&recipient, &req).unwrap())
        })
    });
    g.throughput(Throughput::Bytes(bundle_len as u64));
    g.sample_size(10);
    g.bench_function(format!("mesh_bundle_{}MB", bundle_len / 1_000_000), |b| {
        b.iter(|| {
            let req = SealRequest {
                scan_id: "bench-2",
                measurement: &small,
                mesh_ply: Some(&mesh5),
                consent: Some(&consent_mm),
                created_at: Some("2026-01-01T00:00:01Z"),
            };
            black_box(seal_measurement(&recipient, &req).unwrap())
        })
    });
    let store = SecureStore::new(DataKey::from_bytes([7; 32]));
    g.throughput(Throughput::Bytes(mesh5.len() as u64));
    g.bench_function("store_mesh_5MB_aes256gcm", |b| {
        b.iter(|| black_box(store.seal(RecordKind::Mesh, "mesh-1", &mesh5).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

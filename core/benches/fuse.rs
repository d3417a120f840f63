//! Fusion cost on one thread: integrating one 640x480 frame into a volume (steady state,
//! blocks already allocated) and extracting the mesh. Frames come from the shared sample
//! scan `td-full-pose-01` when `../shared` is present, else from the virtual sensor.
//! `cargo bench -p mandrel-core --bench fuse -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion};
use mandrel_core::frame::{DepthFrame, Intrinsics};
use mandrel_core::fuse::{TsdfConfig, TsdfVolume};
use mandrel_core::mesh;
use mandrel_core::scan::ScanFolder;
use mandrel_sim::{Cylinder, NoiseModel, Plane, Scene, Sphere};
use nalgebra::{Isometry3, Matrix3, Point3, Rotation3, Translation3, UnitQuaternion, Vector3};
use rand::SeedableRng;
use std::hint::black_box;
use std::path::PathBuf;

type Frames = Vec<(DepthFrame, Intrinsics, Isometry3<f64>)>;

fn shared_frames() -> Option<(String, Frames)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/scans/td-full-pose-01");
    let scan = ScanFolder::open(&dir).ok()?;
    let frames: Frames = scan
        .frames()
        .filter_map(|f| f.ok())
        .filter_map(|f| Some((f.depth, f.intrinsics, f.pose?)))
        .collect();
    (!frames.is_empty()).then(|| ("td-full-pose-01".to_string(), frames))
}

fn look_at(eye: Point3<f64>, target: Point3<f64>) -> Isometry3<f64> {
    let z = (target - eye).normalize();
    let x = Vector3::z().cross(&z).normalize();
    let y = z.cross(&x);
    let r = Rotation3::from_matrix_unchecked(Matrix3::from_columns(&[x, y, z]));
    Isometry3::from_parts(
        Translation3::from(eye.coords),
        UnitQuaternion::from_rotation_matrix(&r),
    )
}

/// A fist-sized sphere with a finger-like cylinder, in front of a background plane.
fn synthetic_frames() -> (String, Frames) {
    let k = Intrinsics::new(640, 480, 590.0, 590.0, 319.5, 239.5).expect("valid intrinsics");
    let scene = Scene::new()
        .with(Sphere::new(Point3::origin(), 0.04).expect("sphere"))
        .with(
            Cylinder::finite(Point3::new(0.0, 0.0, 0.0), Vector3::x(), 0.009, 0.09)
                .expect("cylinder"),
        )
        .with(Plane::new(Point3::new(0.0, 0.0, -0.2), Vector3::z()).expect("plane"));
    let noise = NoiseModel::truedepth();
    let frames = (0..12)
        .map(|i| {
            let a = i as f64 / 12.0 * std::f64::consts::PI;
            let eye = Point3::new(0.3 * a.cos() * 0.6, 0.3 * a.sin() * 0.6, 0.24);
            let pose = look_at(eye, Point3::origin());
            let mut rng = rand_pcg::Pcg64::seed_from_u64(i);
            let d = mandrel_sim::render_depth(&scene, &k, &pose, &noise, &mut rng);
            (d, k, pose)
        })
        .collect();
    ("synthetic sphere + finger".to_string(), frames)
}

fn bench(c: &mut Criterion) {
    let (source, frames) = shared_frames().unwrap_or_else(synthetic_frames);
    let mut vol = TsdfVolume::new(TsdfConfig::default()).expect("default config");
    for (d, k, p) in &frames {
        vol.integrate(d, k, p).expect("integrate");
    }
    let m = mesh::extract(&vol);
    eprintln!(
        "fuse bench on {source}: {} frames, {} blocks, {:.1} MiB voxels, {} triangles",
        frames.len(),
        vol.block_count(),
        vol.voxel_bytes() as f64 / (1 << 20) as f64,
        m.triangles.len()
    );
    let mut g = c.benchmark_group("fuse");
    let mut i = 0;
    g.bench_function("integrate_640x480_frame", |b| {
        b.iter(|| {
            let (d, k, p) = &frames[i % frames.len()];
            i += 1;
            black_box(vol.integrate(d, k, p).expect("integrate"))
        })
    });
    g.bench_function("extract_mesh", |b| {
        b.iter(|| black_box(mesh::extract(&vol)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Fusion accuracy against analytic shapes seen by a virtual depth sensor (exact ray
//! intersections), plus bad-input checks of `TsdfVolume::integrate`.

use mandrel_core::frame::{DepthFrame, Intrinsics};
use mandrel_core::fuse::{FuseError, TsdfConfig, TsdfVolume};
use mandrel_core::mesh;
use mandrel_sim::{Cylinder, NoiseModel, Plane, Sphere, Surface};
use nalgebra::{Isometry3, Matrix3, Point3, Rotation3, Translation3, UnitQuaternion, Vector3};
use rand::SeedableRng;

fn intrinsics() -> Intrinsics {
    Intrinsics::new(640, 480, 590.0, 590.0, 319.5, 239.5).unwrap()
}

fn look_at(eye: Point3<f64>, target: Point3<f64>) -> Isometry3<f64> {
    let z = (target - eye).normalize();
    let a = if z.z.abs() < 0.9 {
        Vector3::z()
    } else {
        Vector3::x()
    };
    let x = a.cross(&z).normalize();
    let y = z.cross(&x);
    let r = Rotation3::from_matrix_unchecked(Matrix3::from_columns(&[x, y, z]));
    Isometry3::from_parts(
        Translation3::from(eye.coords),
        UnitQuaternion::from_rotation_matrix(&r),
    )
}

/// Depth from the virtual sensor (`mandrel_sim::render`): exact ray intersection plus
/// Gaussian depth noise of σ = `noise_m` at 0.3 m (growing with depth squared), nothing else.
fn render(
    shape: &dyn Surface,
    k: &Intrinsics,
    pose: &Isometry3<f64>,
    noise_m: f64,
    seed: u64,
) -> DepthFrame {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let noise = NoiseModel {
        sigma_at_30cm_m: noise_m,
        ..NoiseModel::none()
    };
    mandrel_sim::try_render_depth(shape, k, pose, &noise, &mut rng).unwrap()
}

fn dist(shape: &dyn Surface, p: &Point3<f64>) -> f64 {
    shape
        .signed_distance(p)
        .expect("analytic shapes have exact distances")
}

/// Camera positions on a sphere of radius `dist` around `target`, `n` views.
fn orbit(target: Point3<f64>, dist: f64, n: usize, axis_tilt: f64) -> Vec<Isometry3<f64>> {
    (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            let el = axis_tilt * (3.0 * a).sin();
            let eye =
                target + Vector3::new(a.cos() * el.cos(), a.sin() * el.cos(), el.sin()) * dist;
            look_at(eye, target)
        })
        .collect()
}

fn fuse(shape: &dyn Surface, poses: &[Isometry3<f64>], noise_m: f64) -> TsdfVolume {
    let k = intrinsics();
    let mut vol = TsdfVolume::new(TsdfConfig::default()).unwrap();
    for (i, p) in poses.iter().enumerate() {
        let f = render(shape, &k, p, noise_m, i as u64 + 1);
        vol.integrate(&f, &k, p).unwrap();
    }
    vol
}

fn rms(v: &[f64]) -> f64 {
    (v.iter().map(|e| e * e).sum::<f64>() / v.len() as f64).sqrt()
}

/// Raycast errors (metres) from a view not used for fusion.
fn raycast_errors(vol: &TsdfVolume, shape: &dyn Surface, pose: &Isometry3<f64>) -> Vec<f64> {
    let img = vol.raycast(&intrinsics(), pose);
    img.points
        .iter()
        .filter(|p| p.x.is_finite())
        .map(|p| dist(shape, &p.cast::<f64>()))
        .collect()
}

#[test]
fn sphere_raycast_is_accurate() {
    let c = Point3::new(0.02, -0.01, 0.05);
    let shape = Sphere::new(c, 0.03).unwrap();
    let poses = orbit(c, 0.3, 24, 0.6);
    for noise in [0.0, 0.0006] {
        let vol = fuse(&shape, &poses, noise);
        let errs = raycast_errors(&vol, &shape, &look_at(c + Vector3::new(0.1, 0.25, 0.1), c));
        let e = rms(&errs) * 1000.0;
        eprintln!(
            "sphere noise {noise}: raycast hits {} rms {e:.4} mm, blocks {}",
            errs.len(),
            vol.block_count()
        );
        assert!(errs.len() > 10_000);
        assert!(e < if noise == 0.0 { 0.15 } else { 0.35 }, "rms {e} mm");
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let k = intrinsics();
    let mut vol = TsdfVolume::new(TsdfConfig::default()).unwrap();
    let pose = Isometry3::identity();
    let small = DepthFrame::from_metres(2, 2, vec![0.3; 4]).unwrap();
    let e = vol.integrate(&small, &k, &pose).unwrap_err();
    assert!(matches!(e, FuseError::Frame(_)), "{e}");
    assert!(e.to_string().contains("2x2"), "{e}");
    let f = DepthFrame::from_metres(640, 480, vec![0.3; 640 * 480]).unwrap();
    let mut bad_k = k;
    bad_k.fx = 0.0;
    let e = vol.integrate(&f, &bad_k, &pose).unwrap_err();
    assert!(e.to_string().contains("focal"), "{e}");
    bad_k.fx = f64::NAN;
    assert!(vol.integrate(&f, &bad_k, &pose).is_err());
    let mut bad_pose = pose;
    bad_pose.translation.vector.x = f64::NAN;
    let e = vol.integrate(&f, &k, &bad_pose).unwrap_err();
    assert!(matches!(e, FuseError::Pose(_)), "{e}");
    bad_pose.translation.vector.x = 1e6;
    assert!(matches!(
        vol.integrate(&f, &k, &bad_pose),
        Err(FuseError::Pose(_))
    ));
    assert_eq!(
        vol.block_count(),
        0,
        "failed frames must not change the volume"
    );
    // NaN / negative depth is "no depth": nothing integrated, no panic.
    let nan = DepthFrame::from_metres(640, 480, vec![f32::NAN; 640 * 480]).unwrap();
    let s = vol.integrate(&nan, &k, &pose).unwrap();
    assert_eq!(s.pixels_used, 0);
    let neg = DepthFrame::from_metres(640, 480, vec![-0.3; 640 * 480]).unwrap();
    assert_eq!(vol.integrate(&neg, &k, &pose).unwrap().pixels_used, 0);
    // Out of range depth is counted, not integrated.
    let far = DepthFrame::from_metres(640, 480, vec![2.0; 640 * 480]).unwrap();
    let s = vol.integrate(&far, &k, &pose).unwrap();
    assert_eq!(s.rejected_range, 640 * 480);
    assert_eq!(vol.block_count(), 0);
    // Raycast with invalid input: no hits, no panic.
    let img = vol.raycast(&bad_k, &pose);
    assert_eq!(img.hit_count(), 0);
    assert!(vol.try_raycast(&bad_k, &pose).is_err());
}

#[test]
fn memory_cap_is_a_typed_error_and_changes_nothing() {
    let k = intrinsics();
    let cfg = TsdfConfig {
        memory_cap_bytes: 100 * mandrel_core::fuse::BLOCK_BYTES,
        ..Default::default()
    };
    let mut vol = TsdfVolume::new(cfg).unwrap();
    let f = DepthFrame::from_metres(640, 480, vec![0.3; 640 * 480]).unwrap();
    let e = vol.integrate(&f, &k, &Isometry3::identity()).unwrap_err();
    assert!(matches!(e, FuseError::MemoryCap { .. }), "{e}");
    assert!(e.to_string().contains("memory cap"), "{e}");
    assert_eq!(vol.block_count(), 0);
}

#[test]
fn flying_pixels_are_rejected() {
    // A near plane over half the image, a far plane over the other half, and a column of
    // flying pixels between them at the boundary.
    let k = intrinsics();
    let mut d = vec![0.0f32; 640 * 480];
    for v in 0..480 {
        for u in 0..640 {
            d[v * 640 + u] = if u < 320 {
                0.25
            } else if u == 320 {
                0.35
            } else {
                0.45
            };
        }
    }
    let f = DepthFrame::from_metres(640, 480, d).unwrap();
    let mut vol = TsdfVolume::new(TsdfConfig::default()).unwrap();
    let s = vol.integrate(&f, &k, &Isometry3::identity()).unwrap();
    // Column 319 (near side), 320 (flying) and 321 (far side) are on the discontinuity.
    assert_eq!(s.rejected_edge, 3 * 480, "{s:?}");
    // No voxel near the flying pixels' depth was observed as surface.
    let p = Point3::new((320.0 - 319.5) / 590.0 * 0.35, 0.0, 0.35f32);
    assert!(vol.sdf_at(&p).is_none_or(|s| s.abs() > 0.002));
}

/// Mesh vertex errors (metres) to the true surface, for vertices `keep` selects.
fn mesh_errors(
    vol: &TsdfVolume,
    shape: &dyn Surface,
    keep: impl Fn(&Point3<f64>) -> bool,
) -> (Vec<f64>, mesh::Mesh) {
    let m = mesh::extract(vol);
    let errs = m
        .vertices
        .iter()
        .map(|p| p.cast::<f64>())
        .filter(|p| keep(p))
        .map(|p| dist(shape, &p))
        .collect();
    (errs, m)
}

fn check_shape(
    name: &str,
    shape: &dyn Surface,
    poses: &[Isometry3<f64>],
    keep: impl Fn(&Point3<f64>) -> bool + Copy,
) -> Vec<mesh::Mesh> {
    let mut meshes = Vec::new();
    for (noise, limit_mm) in [(0.0, 0.15), (0.0006, 0.35)] {
        let vol = fuse(shape, poses, noise);
        let (errs, m) = mesh_errors(&vol, shape, keep);
        let e = rms(&errs) * 1000.0;
        let bias = errs.iter().sum::<f64>() / errs.len() as f64 * 1000.0;
        let max = errs.iter().fold(0.0f64, |a, e| a.max(e.abs())) * 1000.0;
        eprintln!(
            "{name} noise {:.1} mm: {} vertices checked, rms {e:.4} mm, bias {bias:+.4} mm, max {max:.3} mm, {} triangles, {} blocks",
            noise * 1000.0,
            errs.len(),
            m.triangles.len(),
            vol.block_count()
        );
        assert!(errs.len() > 2000, "{name}: only {} vertices", errs.len());
        assert!(
            e <= limit_mm,
            "{name} noise {noise}: rms {e} mm > {limit_mm} mm"
        );
        meshes.push(m);
    }
    meshes
}

#[test]
fn sphere_mesh_is_accurate_and_closed() {
    let c = Point3::new(0.01, 0.02, -0.03);
    let shape = Sphere::new(c, 0.025).unwrap();
    let mut poses = orbit(c, 0.3, 20, 0.5);
    // Views from above and below close the poles.
    poses.push(look_at(c + Vector3::new(0.01, 0.0, 0.3), c));
    poses.push(look_at(c + Vector3::new(0.0, 0.01, -0.3), c));
    let meshes = check_shape("sphere r 25 mm", &shape, &poses, |_| true);
    for m in &meshes {
        let topo = m.topology();
        eprintln!("sphere topology: {topo:?}");
        assert_eq!(topo.components, 1, "{topo:?}");
        assert_eq!(topo.boundary_edges, 0, "{topo:?}");
        assert_eq!(topo.non_manifold_edges, 0, "{topo:?}");
        // Normals point away from the centre.
        let outward = m
            .vertices
            .iter()
            .zip(&m.normals)
            .filter(|(p, n)| (p.cast::<f64>() - c).normalize().dot(&n.cast::<f64>()) > 0.9)
            .count();
        assert!(outward as f64 > 0.99 * m.vertices.len() as f64);
        // Area within 1 % of 4 pi r^2 noise-free; noise roughens the surface a little.
        let area = m.area_m2();
        let truth = 4.0 * std::f64::consts::PI * 0.025f64.powi(2);
        let tol = if std::ptr::eq(m, &meshes[0]) {
            0.01
        } else {
            0.03
        };
        assert!((area / truth - 1.0).abs() < tol, "area {area} vs {truth}");
    }
}

#[test]
fn finger_cylinder_mesh_is_accurate() {
    let c = Point3::new(0.0, 0.0, 0.0);
    let shape = Cylinder::infinite(c, Vector3::z(), 0.009).unwrap();
    let poses = orbit(c, 0.25, 24, 0.35);
    check_shape("cylinder r 9 mm", &shape, &poses, |p| p.z.abs() < 0.02);
}

#[test]
fn plane_mesh_is_accurate() {
    let c = Point3::new(0.0, 0.0, 0.0);
    let n = Vector3::new(0.2, -0.1, 1.0).normalize();
    let shape = Plane::new(c, n).unwrap();
    let poses: Vec<_> = (0..16)
        .map(|i| {
            let a = i as f64 / 16.0 * std::f64::consts::TAU;
            let tilt = 0.6 * (i % 3) as f64 / 2.0;
            let dir =
                (n * tilt.cos() + Vector3::new(a.cos(), a.sin(), 0.0) * tilt.sin()).normalize();
            look_at(c + dir * 0.3, c)
        })
        .collect();
    check_shape("plane", &shape, &poses, |p| (p - c).norm() < 0.04);
}

#[test]
fn finger_with_truedepth_artefacts_stays_accurate() {
    // A 9 mm finger 4 cm in front of a flat background, seen over a 150° arc by the
    // TrueDepth-like sensor model: flying pixels at the silhouette, grazing dropouts,
    // quantisation and σ = 0.6 mm noise at 0.3 m.
    let finger = Cylinder::infinite(Point3::origin(), Vector3::z(), 0.009).unwrap();
    let back = Plane::new(Point3::new(-0.04, 0.0, 0.0), Vector3::x()).unwrap();
    let scene = mandrel_sim::Scene::new().with(finger.clone()).with(back);
    let k = intrinsics();
    let noise = NoiseModel::truedepth();
    let mut vol = TsdfVolume::new(TsdfConfig::default()).unwrap();
    let mut rejected_edge = 0;
    for i in 0..24 {
        let a = (i as f64 / 23.0 - 0.5) * 150f64.to_radians();
        let eye = Point3::new(a.cos(), a.sin(), 0.2 * (3.0 * a).sin()) * 0.25;
        let pose = look_at(eye, Point3::origin());
        let mut rng = rand_pcg::Pcg64::seed_from_u64(100 + i);
        let f = mandrel_sim::try_render_depth(&scene, &k, &pose, &noise, &mut rng).unwrap();
        rejected_edge += vol.integrate(&f, &k, &pose).unwrap().rejected_edge;
    }
    let m = mesh::extract(&vol);
    let errs: Vec<f64> = m
        .vertices
        .iter()
        .map(|p| p.cast::<f64>())
        .filter(|p| p.z.abs() < 0.02 && p.x > -0.03)
        .map(|p| dist(&finger, &p))
        .collect();
    let e = rms(&errs) * 1000.0;
    let max = errs.iter().fold(0.0f64, |a, e| a.max(e.abs())) * 1000.0;
    eprintln!(
        "finger + background, TrueDepth model: {} vertices, rms {e:.4} mm, max {max:.3} mm, {rejected_edge} edge pixels rejected",
        errs.len()
    );
    assert!(rejected_edge > 1000);
    assert!(errs.len() > 2000);
    assert!(e <= 0.35, "rms {e} mm");
    // No flying-pixel debris between finger and background.
    assert!(max < 2.0, "max {max} mm");
}

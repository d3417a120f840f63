//! Virtual sensor step 1: exact ray intersection, signed distances, the renderer and its
//! noise model.

use mandrel_core::frame::Intrinsics;
use mandrel_sim::render::{render_clean, try_render_depth};
use mandrel_sim::*;
use nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector3};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

fn k640() -> Intrinsics {
    Intrinsics::new(640, 480, 590.0, 590.0, 319.5, 239.5).unwrap()
}

/// A camera at `eye` looking at `target` (OpenCV axes: z forward, y down).
fn look_at(eye: Point3<f64>, target: Point3<f64>) -> Isometry3<f64> {
    let z = (target - eye).normalize();
    let up = if z.y.abs() < 0.9 {
        Vector3::y()
    } else {
        Vector3::x()
    };
    let x = up.cross(&z).normalize();
    let y = z.cross(&x);
    let r = nalgebra::Rotation3::from_basis_unchecked(&[x, y, z]);
    Isometry3::from_parts(
        Translation3::from(eye.coords),
        UnitQuaternion::from_rotation_matrix(&r),
    )
}

fn ray(o: [f64; 3], d: [f64; 3]) -> Ray {
    Ray::new(Point3::from(o), Vector3::from(d)).unwrap()
}

#[test]
fn sphere_hit_is_exact() {
    let s = Sphere::new(Point3::new(0.0, 0.0, 1.0), 0.25).unwrap();
    let h = s
        .intersect(&ray([0.0, 0.0, 0.0], [0.0, 0.0, 1.0]), 0.0, 10.0)
        .unwrap();
    assert!((h.t - 0.75).abs() < 1e-12);
    assert!((h.normal - Vector3::new(0.0, 0.0, -1.0)).norm() < 1e-12);
    // From inside: exits.
    let h = s
        .intersect(&ray([0.0, 0.0, 1.0], [1.0, 0.0, 0.0]), 0.0, 10.0)
        .unwrap();
    assert!((h.t - 0.25).abs() < 1e-12);
    assert!((h.normal - Vector3::x()).norm() < 1e-12);
    // t_max respected; miss.
    assert!(s
        .intersect(&ray([0.0, 0.0, 0.0], [0.0, 0.0, 1.0]), 0.0, 0.7)
        .is_none());
    assert!(s
        .intersect(&ray([0.0, 0.3, 0.0], [0.0, 0.0, 1.0]), 0.0, 10.0)
        .is_none());
}

#[test]
fn plane_and_cylinders_hit_exactly() {
    let p = Plane::new(Point3::new(0.0, 0.0, 0.5), Vector3::new(0.0, 0.0, -2.0)).unwrap();
    let h = p
        .intersect(&ray([0.1, 0.2, 0.0], [0.0, 0.0, 1.0]), 0.0, 9.0)
        .unwrap();
    assert!((h.t - 0.5).abs() < 1e-12);
    assert_eq!(p.signed_distance(&Point3::new(0.0, 0.0, 0.0)), Some(0.5));

    // Infinite cylinder along y through (0,0,1), radius 0.1: ray along z hits at 0.9.
    let c = Cylinder::infinite(Point3::new(0.0, 0.0, 1.0), Vector3::y(), 0.1).unwrap();
    let h = c
        .intersect(&ray([0.0, 5.0, 0.0], [0.0, 0.0, 1.0]), 0.0, 9.0)
        .unwrap();
    assert!((h.t - 0.9).abs() < 1e-12, "{}", h.t);
    assert!(c.bounding_sphere().is_none());
    // Finite: a ray along the axis hits the cap.
    let c =
        Cylinder::between(Point3::new(0.0, 0.0, 1.0), Point3::new(0.0, 0.0, 1.2), 0.05).unwrap();
    let h = c
        .intersect(&ray([0.01, 0.0, 0.0], [0.0, 0.0, 1.0]), 0.0, 9.0)
        .unwrap();
    assert!((h.t - 1.0).abs() < 1e-12);
    assert!((h.normal + Vector3::z()).norm() < 1e-12);
    // Beside the finite cylinder: miss.
    assert!(c
        .intersect(&ray([0.0, 0.0, 0.0], [0.0, 1.0, 0.0]), 0.0, 9.0)
        .is_none());

    // Elliptic cylinder along z with a = 0.02 along x, b = 0.01 along y.
    let e = EllipticCylinder::new(
        Point3::origin(),
        Vector3::z(),
        Vector3::x(),
        0.02,
        0.01,
        None,
    )
    .unwrap();
    let h = e
        .intersect(&ray([-1.0, 0.0, 0.3], [1.0, 0.0, 0.0]), 0.0, 9.0)
        .unwrap();
    assert!((h.t - 0.98).abs() < 1e-12);
    let h = e
        .intersect(&ray([0.0, -1.0, 0.3], [0.0, 1.0, 0.0]), 0.0, 9.0)
        .unwrap();
    assert!((h.t - 0.99).abs() < 1e-12);
}

#[test]
fn every_hit_lies_on_the_surface() {
    let shapes: Vec<Box<dyn Surface>> = vec![
        Box::new(Sphere::new(Point3::new(0.01, -0.02, 0.3), 0.05).unwrap()),
        Box::new(
            Cylinder::finite(
                Point3::new(0.0, 0.0, 0.3),
                Vector3::new(1.0, 0.3, 0.2),
                0.02,
                0.06,
            )
            .unwrap(),
        ),
        Box::new(
            EllipticCylinder::new(
                Point3::new(0.0, 0.01, 0.3),
                Vector3::new(0.2, 1.0, 0.1),
                Vector3::new(1.0, 0.0, 0.3),
                0.011,
                0.0093,
                Some(0.05),
            )
            .unwrap(),
        ),
        Box::new(
            Ellipsoid::new(
                Point3::new(0.0, 0.0, 0.28),
                Vector3::new(0.3, 0.1, 1.0),
                Vector3::x(),
                Vector3::new(0.03, 0.012, 0.05),
            )
            .unwrap(),
        ),
    ];
    let mut rng = Pcg64::seed_from_u64(7);
    for s in &shapes {
        let mut hits = 0;
        for _ in 0..4000 {
            let o = Point3::new(
                rng.random_range(-0.2..0.2),
                rng.random_range(-0.2..0.2),
                rng.random_range(-0.1..0.05),
            );
            let target = Point3::new(
                rng.random_range(-0.06..0.06),
                rng.random_range(-0.06..0.06),
                rng.random_range(0.22..0.38),
            );
            let r = Ray::new(o, target - o).unwrap();
            if let Some(h) = s.intersect(&r, 0.0, 10.0) {
                hits += 1;
                let p = r.at(h.t);
                let d = s.signed_distance(&p).unwrap();
                assert!(d.abs() < 1e-9, "{s:?}: hit off surface by {d}");
                // The normal is the distance gradient.
                let eps = 1e-6;
                let g = Vector3::new(
                    s.signed_distance(&(p + Vector3::x() * eps)).unwrap()
                        - s.signed_distance(&(p - Vector3::x() * eps)).unwrap(),
                    s.signed_distance(&(p + Vector3::y() * eps)).unwrap()
                        - s.signed_distance(&(p - Vector3::y() * eps)).unwrap(),
                    s.signed_distance(&(p + Vector3::z() * eps)).unwrap()
                        - s.signed_distance(&(p - Vector3::z() * eps)).unwrap(),
                ) / (2.0 * eps);
                // Skip the rims of capped cylinders, where the gradient is undefined.
                if (g.norm() - 1.0).abs() < 1e-3 {
                    assert!(
                        (g.normalize() - h.normal).norm() < 1e-3,
                        "{s:?}: normal {:?} vs gradient {g:?}",
                        h.normal
                    );
                }
                // Nothing nearer: the segment before the hit is outside the solid.
                let mid = r.at(h.t * 0.5);
                assert!(s.signed_distance(&mid).unwrap() > -1e-12 || h.t < 1e-9);
            }
        }
        assert!(hits > 200, "{s:?}: only {hits} hits");
    }
}

#[test]
fn ellipse_and_ellipsoid_distances_match_brute_force() {
    let e = Ellipsoid::new(
        Point3::origin(),
        Vector3::z(),
        Vector3::x(),
        Vector3::new(0.03, 0.02, 0.012),
    )
    .unwrap();
    let c = EllipticCylinder::new(
        Point3::origin(),
        Vector3::z(),
        Vector3::x(),
        0.011,
        0.008,
        None,
    )
    .unwrap();
    let mut rng = Pcg64::seed_from_u64(3);
    // Dense surface samples.
    let mut ell_pts = Vec::new();
    for i in 0..400 {
        let th = std::f64::consts::PI * (i as f64 + 0.5) / 400.0;
        for j in 0..800 {
            let ph = 2.0 * std::f64::consts::PI * j as f64 / 800.0;
            ell_pts.push(Vector3::new(
                0.03 * th.sin() * ph.cos(),
                0.02 * th.sin() * ph.sin(),
                0.012 * th.cos(),
            ));
        }
    }
    for _ in 0..30 {
        let q = Vector3::new(
            rng.random_range(-0.05..0.05),
            rng.random_range(-0.05..0.05),
            rng.random_range(-0.05..0.05),
        );
        let exact = e.signed_distance(&Point3::from(q)).unwrap();
        let brute = ell_pts
            .iter()
            .map(|p| (p - q).norm())
            .fold(f64::INFINITY, f64::min);
        assert!((exact.abs() - brute).abs() < 2e-4, "{exact} vs {brute}");
        assert!(exact.abs() <= brute + 1e-12);
        // Elliptic cylinder: 2D.
        let d2 = c.signed_distance(&Point3::from(q)).unwrap();
        let b2 = (0..20000)
            .map(|j| {
                let ph = 2.0 * std::f64::consts::PI * j as f64 / 20000.0;
                ((0.011 * ph.cos() - q.x).powi(2) + (0.008 * ph.sin() - q.y).powi(2)).sqrt()
            })
            .fold(f64::INFINITY, f64::min);
        assert!((d2.abs() - b2).abs() < 5e-6, "{d2} vs {b2}");
        let inside = (q.x / 0.011).powi(2) + (q.y / 0.008).powi(2) < 1.0;
        assert_eq!(d2 < 0.0, inside);
    }
}

#[test]
fn frustum_hits_lie_on_the_tapered_section() {
    let f = EllipticFrustum::new(
        Point3::new(0.0, 0.0, 0.25),
        Point3::new(0.0, 0.04, 0.25),
        Vector3::x(),
        0.01,
        0.0085,
        0.8,
    )
    .unwrap();
    let k = k640();
    let cam = look_at(Point3::new(0.02, 0.02, 0.0), Point3::new(0.0, 0.02, 0.25));
    let clean = render_clean(&f, &k, &cam).unwrap();
    let mut n = 0;
    for v in 0..480u32 {
        for u in 0..640u32 {
            let z = clean.z_m[(v * 640 + u) as usize];
            if z > 0.0 {
                n += 1;
                let pw = cam * k.unproject(u as f64, v as f64, z);
                // local: s along y from y=0, x along x, y-axis of section along -z or z.
                let s = pw.y;
                if s > 1e-4 && s < 0.04 - 1e-4 {
                    let (a, b) = f.semi_axes_at(s);
                    let r = (pw.x / a).powi(2) + ((pw.z - 0.25) / b).powi(2);
                    assert!((r - 1.0).abs() < 1e-6, "pixel {u},{v}: {r}");
                }
            }
        }
    }
    assert!(n > 2000, "{n} pixels");
}

fn test_scene() -> Scene {
    let mut s = Scene::new();
    s.push(Sphere::new(Point3::new(0.0, 0.0, 0.3), 0.03).unwrap());
    s.push(
        Cylinder::between(
            Point3::new(-0.05, 0.04, 0.28),
            Point3::new(0.06, 0.03, 0.3),
            0.01,
        )
        .unwrap(),
    );
    s.push(
        Ellipsoid::new(
            Point3::new(0.03, -0.03, 0.27),
            Vector3::new(1.0, 1.0, 0.2),
            Vector3::z(),
            Vector3::new(0.01, 0.008, 0.02),
        )
        .unwrap(),
    );
    s.push(
        EllipticFrustum::new(
            Point3::new(-0.04, -0.02, 0.26),
            Point3::new(0.01, -0.05, 0.33),
            Vector3::z(),
            0.009,
            0.007,
            0.8,
        )
        .unwrap(),
    );
    s.push(
        EllipticCylinder::new(
            Point3::new(-0.02, 0.01, 0.25),
            Vector3::new(0.2, 1.0, 0.5),
            Vector3::x(),
            0.008,
            0.006,
            Some(0.03),
        )
        .unwrap(),
    );
    s.push(Plane::new(Point3::new(0.0, 0.0, 0.4), Vector3::new(0.0, 0.1, -1.0)).unwrap());
    s
}

#[test]
fn rasterised_render_equals_brute_force_ray_casting() {
    let scene = test_scene();
    let k = Intrinsics::new(160, 120, 150.0, 150.0, 79.5, 59.5).unwrap();
    let cam = look_at(Point3::new(0.05, 0.02, 0.0), Point3::new(0.0, 0.0, 0.3));
    let clean = render_clean(&scene, &k, &cam).unwrap();
    for v in 0..120u32 {
        for u in 0..160u32 {
            let d = k.ray(u as f64, v as f64);
            let r = Ray::new(Point3::from(cam.translation.vector), cam.rotation * d).unwrap();
            let want = scene
                .intersect(&r, 0.0, f64::INFINITY)
                .map_or(0.0, |h| h.t * d.z);
            let got = clean.z_m[(v * 160 + u) as usize];
            assert!((want - got).abs() < 1e-12, "pixel {u},{v}: {got} vs {want}");
        }
    }
}

#[test]
fn noise_free_depth_is_exact_camera_z() {
    let s = Sphere::new(Point3::new(0.02, 0.01, 0.0), 0.04).unwrap();
    let cam = look_at(Point3::new(0.0, -0.1, -0.25), Point3::new(0.0, 0.0, 0.0));
    let k = k640();
    let mut rng = Pcg64::seed_from_u64(1);
    let f = try_render_depth(&s, &k, &cam, &NoiseModel::none(), &mut rng).unwrap();
    let mut n = 0;
    let mut max_err: f64 = 0.0;
    for v in 0..480 {
        for u in 0..640 {
            let z = f.at(u, v) as f64;
            if z > 0.0 {
                n += 1;
                let p = cam * k.unproject(u as f64, v as f64, z);
                max_err = max_err.max(s.signed_distance(&p).unwrap().abs());
            }
        }
    }
    // Sphere of 4 cm at ~27 cm: about π (0.04·590/0.27)² ≈ 24k pixels.
    assert!(n > 20_000, "{n}");
    assert!(max_err < 1e-6, "max surface error {max_err} m");
}

fn plane_frame(noise: &NoiseModel, dist: f64, seed: u64) -> Vec<f32> {
    let p = Plane::new(Point3::new(0.0, 0.0, dist), -Vector3::z()).unwrap();
    let mut rng = Pcg64::seed_from_u64(seed);
    let f = try_render_depth(&p, &k640(), &Isometry3::identity(), noise, &mut rng).unwrap();
    f.depth_m().to_vec()
}

#[test]
fn depth_noise_grows_with_distance_squared() {
    let mut noise = NoiseModel::truedepth();
    noise.quantisation_m = None;
    for (dist, want_mm) in [(0.3, 0.6), (0.45, 0.6 * 2.25)] {
        let d = plane_frame(&noise, dist, 11);
        let errs: Vec<f64> = d
            .iter()
            .filter(|&&z| z > 0.0)
            .map(|&z| z as f64 - dist)
            .collect();
        assert!(errs.len() > 290_000);
        let mean = errs.iter().sum::<f64>() / errs.len() as f64;
        let sd = (errs.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / errs.len() as f64).sqrt();
        assert!(mean.abs() < 2e-5, "bias {mean}");
        assert!(
            (sd * 1000.0 - want_mm).abs() < 0.03 * want_mm,
            "σ at {dist} m: {} mm, expected {want_mm}",
            sd * 1000.0
        );
    }
    let lidar = plane_frame(&NoiseModel::lidar(), 0.3, 2);
    let sd = (lidar
        .iter()
        .filter(|&&z| z > 0.0)
        .map(|&z| (z as f64 - 0.3).powi(2))
        .sum::<f64>()
        / lidar.iter().filter(|&&z| z > 0.0).count() as f64)
        .sqrt();
    assert!((sd - 0.004).abs() < 0.0003, "lidar σ {sd}");
}

#[test]
fn quantisation_and_range() {
    let mut noise = NoiseModel::none();
    noise.quantisation_m = Some(0.001);
    let d = plane_frame(&noise, 0.3004, 0);
    assert!(d.iter().all(|&z| (z - 0.300).abs() < 1e-6));
    noise.max_range_m = 0.25;
    let d = plane_frame(&noise, 0.3004, 0);
    assert!(d.iter().all(|&z| z == 0.0));
}

#[test]
fn rendering_is_deterministic_per_seed() {
    let scene = test_scene();
    let k = k640();
    let cam = look_at(Point3::new(0.0, 0.0, 0.0), Point3::new(0.0, 0.0, 0.3));
    let n = NoiseModel::truedepth();
    let a = try_render_depth(&scene, &k, &cam, &n, &mut Pcg64::seed_from_u64(5)).unwrap();
    let b = try_render_depth(&scene, &k, &cam, &n, &mut Pcg64::seed_from_u64(5)).unwrap();
    let c = try_render_depth(&scene, &k, &cam, &n, &mut Pcg64::seed_from_u64(6)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn flying_pixels_sit_between_foreground_and_background() {
    // A sphere at 0.25 m in front of a wall at 0.35 m.
    let scene = Scene::new()
        .with(Sphere::new(Point3::new(0.0, 0.0, 0.25), 0.03).unwrap())
        .with(Plane::new(Point3::new(0.0, 0.0, 0.35), -Vector3::z()).unwrap());
    let k = k640();
    let cam = Isometry3::identity();
    let clean = render_clean(&scene, &k, &cam).unwrap();
    let count_between = |f: &[f32]| {
        f.iter()
            .zip(&clean.z_m)
            .filter(|(&z, &c)| {
                let z = z as f64;
                z > 0.24 && z < 0.34 && (z - c).abs() > 0.005 // not the sphere's own depth
            })
            .count()
    };
    let mut none = NoiseModel::none();
    let f0 = try_render_depth(&scene, &k, &cam, &none, &mut Pcg64::seed_from_u64(1)).unwrap();
    assert_eq!(count_between(f0.depth_m()), 0);
    none.flying_pixel_prob = 0.5;
    let f1 = try_render_depth(&scene, &k, &cam, &none, &mut Pcg64::seed_from_u64(1)).unwrap();
    // The sphere's outline is ~2π·0.03·590/0.25 ≈ 445 px long, two pixels per edge step.
    let n = count_between(f1.depth_m());
    assert!(n > 250 && n < 900, "{n} flying pixels");
}

#[test]
fn grazing_pixels_drop_out() {
    let s = Sphere::new(Point3::new(0.0, 0.0, 0.3), 0.05).unwrap();
    let k = k640();
    let cam = Isometry3::identity();
    let clean = render_clean(&s, &k, &cam).unwrap();
    let mut noise = NoiseModel::none();
    noise.grazing_start_deg = 70.0;
    noise.grazing_full_deg = 80.0;
    let f = try_render_depth(&s, &k, &cam, &noise, &mut Pcg64::seed_from_u64(9)).unwrap();
    let (mut steep_kept, mut flat_kept, mut flat) = (0, 0, 0);
    for (i, &c) in clean.cos_incidence.iter().enumerate() {
        if clean.z_m[i] <= 0.0 {
            continue;
        }
        let kept = f.depth_m()[i] > 0.0;
        if c < 80f64.to_radians().cos() && kept {
            steep_kept += 1;
        }
        if c > 70f64.to_radians().cos() {
            flat += 1;
            flat_kept += kept as usize;
        }
    }
    assert_eq!(steep_kept, 0);
    assert_eq!(flat_kept, flat);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let o = Point3::origin();
    assert!(matches!(Sphere::new(o, -1.0), Err(SimError::Shape(_))));
    assert!(matches!(
        Sphere::new(Point3::new(f64::NAN, 0.0, 0.0), 1.0),
        Err(SimError::Shape(_))
    ));
    assert!(matches!(
        Plane::new(o, Vector3::zeros()),
        Err(SimError::Shape(_))
    ));
    assert!(matches!(
        Cylinder::between(o, o, 0.01),
        Err(SimError::Shape(_))
    ));
    assert!(matches!(
        Ellipsoid::new(o, Vector3::z(), Vector3::x(), Vector3::new(0.1, 0.0, 0.1)),
        Err(SimError::Shape(_))
    ));
    assert!(matches!(
        EllipticFrustum::new(
            o,
            Point3::new(0.0, 0.0, 0.1),
            Vector3::x(),
            0.01,
            0.01,
            f64::INFINITY
        ),
        Err(SimError::Shape(_))
    ));
    let msg = Sphere::new(o, f64::NAN).unwrap_err().to_string();
    assert!(msg.contains("sphere radius"), "{msg}");
    let s = Sphere::new(Point3::new(0.0, 0.0, 0.3), 0.05).unwrap();
    let mut rng = Pcg64::seed_from_u64(0);
    let mut bad_noise = NoiseModel::truedepth();
    bad_noise.flying_pixel_prob = 2.0;
    assert!(matches!(
        try_render_depth(&s, &k640(), &Isometry3::identity(), &bad_noise, &mut rng),
        Err(SimError::Noise(_))
    ));
    let mut k = k640();
    k.fx = 0.0;
    assert!(matches!(
        try_render_depth(
            &s,
            &k,
            &Isometry3::identity(),
            &NoiseModel::none(),
            &mut rng
        ),
        Err(SimError::Frame(_))
    ));
    // The infallible form degrades to an empty frame of the requested size.
    let f = render_depth(
        &s,
        &k,
        &Isometry3::identity(),
        &NoiseModel::none(),
        &mut rng,
    );
    assert_eq!((f.width(), f.height(), f.valid_count()), (640, 480, 0));
    k.width = 0;
    let f = render_depth(
        &s,
        &k,
        &Isometry3::identity(),
        &NoiseModel::none(),
        &mut rng,
    );
    assert_eq!((f.width(), f.height()), (1, 1));
}

//! Test support for tracking: a tiny exact ray-caster over ellipsoids (a hand-like cluster),
//! an orbit trajectory, and trajectory error metrics. Independent of `mandrel_sim` on purpose.
#![allow(dead_code)]

use mandrel_core::frame::{DepthFrame, Intrinsics};
use mandrel_core::track::ModelMap;
use nalgebra::{Isometry3, Point3, Rotation3, Translation3, UnitQuaternion, Vector3};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

/// An ellipsoid: centre, orientation, semi-axes (metres).
#[derive(Clone, Copy)]
pub struct Ellipsoid {
    pub centre: Point3<f64>,
    pub rot: Rotation3<f64>,
    pub radii: Vector3<f64>,
}

impl Ellipsoid {
    /// Ray parameter of the first hit and the outward unit normal there.
    fn hit(&self, o: &Point3<f64>, d: &Vector3<f64>) -> Option<(f64, Vector3<f64>)> {
        let inv = self.rot.inverse();
        let ol = inv * (o - self.centre);
        let dl = inv * d;
        let os = ol.component_div(&self.radii);
        let ds = dl.component_div(&self.radii);
        let a = ds.dot(&ds);
        let b = 2.0 * os.dot(&ds);
        let c = os.dot(&os) - 1.0;
        let disc = b * b - 4.0 * a * c;
        if disc < 0.0 {
            return None;
        }
        let t = (-b - disc.sqrt()) / (2.0 * a);
        if t <= 0.0 {
            return None;
        }
        let pl = ol + dl * t;
        let nl = pl.component_div(&self.radii.component_mul(&self.radii));
        Some((t, (self.rot * nl).normalize()))
    }
}

/// A scene: a union of ellipsoids.
#[derive(Clone)]
pub struct Scene {
    pub parts: Vec<Ellipsoid>,
}

impl Scene {
    /// First hit along a world ray: distance and normal.
    pub fn hit(&self, o: &Point3<f64>, d: &Vector3<f64>) -> Option<(f64, Vector3<f64>)> {
        self.parts
            .iter()
            .filter_map(|e| e.hit(o, d))
            .min_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// A hand-like cluster centred at `centre`: a flattened palm and five fingers of
    /// different lengths and directions (well-conditioned for ICP, like a real hand).
    pub fn hand(centre: Point3<f64>) -> Self {
        let e = |c: [f64; 3], rpy: [f64; 3], r: [f64; 3]| Ellipsoid {
            centre: centre + Vector3::new(c[0], c[1], c[2]),
            rot: Rotation3::from_euler_angles(rpy[0], rpy[1], rpy[2]),
            radii: Vector3::new(r[0], r[1], r[2]),
        };
        Self {
            parts: vec![
                e([0.0, 0.0, 0.0], [0.0, 0.0, 0.1], [0.045, 0.05, 0.014]),
                e(
                    [-0.035, -0.075, 0.0],
                    [0.0, 0.0, 0.25],
                    [0.009, 0.04, 0.008],
                ),
                e(
                    [-0.012, -0.088, 0.002],
                    [0.0, 0.0, 0.08],
                    [0.0095, 0.045, 0.0085],
                ),
                e(
                    [0.012, -0.085, 0.001],
                    [0.0, 0.0, -0.05],
                    [0.0095, 0.043, 0.0085],
                ),
                e(
                    [0.034, -0.07, -0.002],
                    [0.0, 0.0, -0.2],
                    [0.008, 0.035, 0.0075],
                ),
                e([0.06, 0.02, 0.005], [0.3, 0.0, -1.0], [0.011, 0.035, 0.01]),
                e([0.0, 0.065, 0.0], [0.0, 0.0, 0.0], [0.03, 0.03, 0.02]),
            ],
        }
    }

    /// A single large sphere: "a different scene" for garbage-frame tests.
    pub fn ball(centre: Point3<f64>) -> Self {
        Self {
            parts: vec![Ellipsoid {
                centre,
                rot: Rotation3::identity(),
                radii: Vector3::new(0.06, 0.06, 0.06),
            }],
        }
    }

    /// Renders depth (metres along the optical axis) with Gaussian noise of σ
    /// `noise_at_30cm_m * (z / 0.3)^2`.
    pub fn render(
        &self,
        k: &Intrinsics,
        pose: &Isometry3<f64>,
        noise_at_30cm_m: f64,
        seed: u64,
    ) -> DepthFrame {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        let normal = Normal::new(0.0, 1.0).unwrap();
        let o = Point3::from(pose.translation.vector);
        let mut d = vec![0.0f32; (k.width * k.height) as usize];
        for v in 0..k.height {
            for u in 0..k.width {
                let ray_c = k.ray(u as f64, v as f64);
                let ray_w = pose.rotation * ray_c;
                if let Some((t, _)) = self.hit(&o, &ray_w) {
                    let z = t * ray_c.z;
                    let sigma = noise_at_30cm_m * (z / 0.3).powi(2);
                    let n: f64 = normal.sample(&mut rng);
                    d[(v * k.width + u) as usize] = (z + sigma * n) as f32;
                }
            }
        }
        DepthFrame::from_metres(k.width, k.height, d).unwrap()
    }

    /// An exact model vertex/normal map rendered from `pose` (a perfect "raycast").
    pub fn model_map(&self, k: &Intrinsics, pose: &Isometry3<f64>) -> ModelMap {
        let o = Point3::from(pose.translation.vector);
        let n = (k.width * k.height) as usize;
        let mut pts = vec![Point3::new(f32::NAN, f32::NAN, f32::NAN); n];
        let mut nrm = vec![Vector3::zeros(); n];
        for v in 0..k.height {
            for u in 0..k.width {
                let ray_w = pose.rotation * k.ray(u as f64, v as f64);
                if let Some((t, nn)) = self.hit(&o, &ray_w) {
                    let i = (v * k.width + u) as usize;
                    pts[i] = nalgebra::convert(o + ray_w * t);
                    nrm[i] = nalgebra::convert(nn);
                }
            }
        }
        ModelMap::new(*k, *pose, pts, nrm).unwrap()
    }
}

/// A camera at `eye` looking at `target` (OpenCV axes: z forward, y down), `up` hint.
pub fn look_at(eye: Point3<f64>, target: Point3<f64>, up: Vector3<f64>) -> Isometry3<f64> {
    let z = (target - eye).normalize();
    let x = (-up).cross(&z).normalize();
    let y = z.cross(&x);
    let r = Rotation3::from_basis_unchecked(&[x, y, z]);
    Isometry3::from_parts(
        Translation3::from(eye.coords),
        UnitQuaternion::from_rotation_matrix(&r),
    )
}

/// An orbit of `n` poses around `target` at `radius_m`, `step_deg` apart, with a gentle
/// vertical wobble and roll (so all six degrees of freedom move).
pub fn orbit(target: Point3<f64>, radius_m: f64, n: usize, step_deg: f64) -> Vec<Isometry3<f64>> {
    (0..n)
        .map(|i| {
            let a = (i as f64 * step_deg).to_radians();
            let elev = 0.25 * (i as f64 * 0.3).sin();
            let eye = target
                + Vector3::new(
                    radius_m * a.sin() * elev.cos(),
                    radius_m * elev.sin(),
                    -radius_m * a.cos() * elev.cos(),
                );
            let roll = 0.1 * (i as f64 * 0.2).cos();
            look_at(eye, target, Vector3::new(roll.sin(), -roll.cos(), 0.0))
        })
        .collect()
}

/// Re-expresses `est` in the truth frame by aligning the first poses (truth0 * est0⁻¹ * est).
pub fn align_first(est: &[Isometry3<f64>], truth: &[Isometry3<f64>]) -> Vec<Isometry3<f64>> {
    let g = truth[0] * est[0].inverse();
    est.iter().map(|e| g * e).collect()
}

/// RMSE of translation (mm) and rotation (degrees) between paired poses.
pub fn rmse(est: &[Isometry3<f64>], truth: &[Isometry3<f64>]) -> (f64, f64) {
    let n = est.len().min(truth.len()).max(1) as f64;
    let mut t2 = 0.0;
    let mut r2 = 0.0;
    for (e, t) in est.iter().zip(truth) {
        t2 += ((e.translation.vector - t.translation.vector).norm() * 1000.0).powi(2);
        r2 += (e.inverse() * t).rotation.angle().to_degrees().powi(2);
    }
    ((t2 / n).sqrt(), (r2 / n).sqrt())
}

/// Perturbs poses like a platform tracker: slow drift plus jitter (translation metres,
/// rotation radians per frame).
pub fn platform_poses(truth: &[Isometry3<f64>], seed: u64) -> Vec<Isometry3<f64>> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let mut drift_t = Vector3::zeros();
    let mut drift_r = Vector3::zeros();
    let drift_dir_t = Vector3::new(0.6, -0.5, 0.62).normalize();
    truth
        .iter()
        .map(|t| {
            drift_t +=
                drift_dir_t * 0.00005 + Vector3::from_fn(|_, _| normal.sample(&mut rng)) * 0.00002;
            drift_r += Vector3::from_fn(|_, _| normal.sample(&mut rng)) * 0.0004;
            let jitter_t = Vector3::from_fn(|_, _| normal.sample(&mut rng)) * 0.0006;
            let jitter_r = Vector3::from_fn(|_, _| normal.sample(&mut rng)) * 0.002;
            let _ = rng.random::<u8>();
            Isometry3::new(drift_t + jitter_t, drift_r + jitter_r) * t
        })
        .collect()
}

/// Best rigid alignment (Kabsch on camera centres) of `est` onto `truth`, applied to `est`:
/// the standard absolute trajectory error (ATE) alignment, free of the world-frame choice.
pub fn align_best(est: &[Isometry3<f64>], truth: &[Isometry3<f64>]) -> Vec<Isometry3<f64>> {
    let n = est.len().min(truth.len());
    if n < 3 {
        return align_first(est, truth);
    }
    let ce = est[..n]
        .iter()
        .map(|e| e.translation.vector)
        .sum::<Vector3<f64>>()
        / n as f64;
    let ct = truth[..n]
        .iter()
        .map(|t| t.translation.vector)
        .sum::<Vector3<f64>>()
        / n as f64;
    let mut h = nalgebra::Matrix3::zeros();
    for (e, t) in est.iter().zip(truth) {
        h += (e.translation.vector - ce) * (t.translation.vector - ct).transpose();
    }
    let svd = h.svd(true, true);
    let (Some(u), Some(vt)) = (svd.u, svd.v_t) else {
        return align_first(est, truth);
    };
    let mut d = nalgebra::Matrix3::identity();
    if (vt.transpose() * u.transpose()).determinant() < 0.0 {
        d[(2, 2)] = -1.0;
    }
    let r = vt.transpose() * d * u.transpose();
    let rot = UnitQuaternion::from_matrix(&r);
    let g = Isometry3::from_parts(Translation3::from(ct - rot * ce), rot);
    est.iter().map(|e| g * e).collect()
}

//! Where the ring estimate's noise-dependent shrink comes from: the section fit alone (true
//! poses, true MCP/PIP axis, no tracking or finger location) on parametric hands, with depth
//! noise off and on, silhouette tangents on and off, and axis refinement on and off. Prints
//! the mean signed error per variant; run with `--ignored --nocapture` (`ABLATION_ONLY=text`
//! runs the variants whose name contains it). `ring_bias_pose_jitter` adds random rigid pose
//! errors and eroded edges to the section fit alone; `tracked_pose_radial_bias` measures how
//! far a pose-less session's tracked cameras sit nearer their target than the true ones
//! (`ABLATION_NOISE` sets the noise, mm). `fused_model_radial_offset`,
//! `single_frame_registration_shift` and `growing_model_registration_shift` separate the
//! fused model's offset from the registration's (`ABLATION_SEEDS=n` runs seeds 100..100+n;
//! `ABLATION_SDF_ITERS` sets the tracked session's SDF refinement iterations).

mod common;
#[path = "webxr_hand/glb.rs"]
mod glb;
#[path = "accuracy_support/mod.rs"]
mod harness;
#[path = "webxr_hand/load.rs"]
mod load;

use mandrel_core::measure::observe::{FrameObservations, ObserveConfig, Roi};
use mandrel_core::measure::section::{FingerAxis, SectionConfig, SectionMeasurer};
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{NoiseModel, PoseDrift, SimOptions, SimScan};
use rand::SeedableRng;
use rayon::prelude::*;

#[derive(Clone, Copy, PartialEq)]
#[allow(clippy::enum_variant_names)] // the variants name where the poses come from
enum Poses {
    /// The exact camera poses, the exact axis: the section fit alone.
    True,
    /// The drifted platform poses the frames carry, the exact axis.
    Platform,
    /// The whole session (tracking refinement, landmark location) with drifted poses.
    Session,
    /// The whole session without pose drift.
    SessionNoDrift,
    /// The whole session, frames without poses (tracked).
    SessionNoPoses,
    /// The whole session, silhouette pixels dropped or pushed back (the harness's
    /// `eroded` edge model).
    SessionEroded,
}

#[allow(clippy::too_many_arguments)]
fn ring_err(
    seed: u64,
    noise_mm: f64,
    tangents: bool,
    refine: bool,
    flying: bool,
    poses: Poses,
    frames: usize,
) -> Option<f64> {
    let mut noise = NoiseModel {
        sigma_at_30cm_m: noise_mm * 1e-3,
        ..NoiseModel::truedepth()
    };
    if !flying {
        noise.flying_pixel_prob = 0.0;
    }
    let scan = SimScan::generate(
        seed,
        &SimOptions {
            frames,
            poses_given: poses != Poses::SessionNoPoses,
            pose_drift: if matches!(poses, Poses::True | Poses::SessionNoDrift) {
                PoseDrift::none()
            } else {
                PoseDrift::default()
            },
            noise: Some(noise),
            ..SimOptions::default()
        },
    )
    .ok()?;
    let ft = &scan.finger_truth;
    if !matches!(poses, Poses::True | Poses::Platform) {
        let mut s = ScanSession::new(SessionConfig::new(scan.target)).ok()?;
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        for f in &scan.frames {
            let mut f = f.clone();
            if poses == Poses::SessionEroded {
                f.depth = harness::erode_edges(&f.depth, &mut rng);
            }
            s.push_frame(f).ok()?;
        }
        let m = s.finish().ok()?;
        return Some(m.ring_circumference_mm? - scan.truth.ring_circumference_mm);
    }
    let axis = FingerAxis::new(ft.mcp, ft.pip).ok()?;
    let cfg = ObserveConfig {
        roi: Some(Roi::around_finger(axis.mcp, axis.pip, 0.03)),
        tangents,
        ..Default::default()
    };
    let obs: Vec<FrameObservations> = scan
        .frames
        .iter()
        .zip(&scan.true_poses)
        .filter_map(|(f, p)| {
            let p = if poses == Poses::Platform {
                f.pose?
            } else {
                *p
            };
            FrameObservations::extract_with(f, &p, &cfg).ok()
        })
        .collect();
    let sc = SectionConfig {
        refine_axis: refine,
        ..Default::default()
    };
    let m = SectionMeasurer::new(&obs, &axis, &sc).ok()?;
    let (r, _) = m.ring().ok()?;
    Some((r.perimeter_m - ft.ring_circumference_m) * 1e3)
}

#[test]
#[ignore = "diagnostic: prints the ablation table"]
fn ring_bias_ablation() {
    let seeds: Vec<u64> = (100..108).collect();
    use Poses::*;
    for (name, noise, tangents, refine, flying, poses, frames) in [
        ("no noise", 0.0, true, true, true, True, 32),
        ("noise 0.4", 0.4, true, true, true, True, 32),
        ("noise 1.0", 1.0, true, true, true, True, 32),
        ("noise 1.0, no flying px", 1.0, true, true, false, True, 32),
        ("noise 1.0, no tangents", 1.0, false, true, true, True, 32),
        (
            "noise 1.0, true axis only",
            1.0,
            true,
            false,
            true,
            True,
            32,
        ),
        (
            "noise 0.4, platform poses",
            0.4,
            true,
            true,
            true,
            Platform,
            32,
        ),
        (
            "noise 1.0, platform poses",
            1.0,
            true,
            true,
            true,
            Platform,
            32,
        ),
        (
            "noise 0.4, session, no drift",
            0.4,
            true,
            true,
            true,
            SessionNoDrift,
            32,
        ),
        (
            "noise 1.0, session, no drift",
            1.0,
            true,
            true,
            true,
            SessionNoDrift,
            32,
        ),
        ("noise 0.4, session", 0.4, true, true, true, Session, 32),
        ("noise 1.0, session", 1.0, true, true, true, Session, 32),
        (
            "noise 1.0, session, 96 frames",
            1.0,
            true,
            true,
            true,
            Session,
            96,
        ),
        (
            "noise 1.0, session, no poses",
            1.0,
            true,
            true,
            true,
            SessionNoPoses,
            32,
        ),
        (
            "noise 1.0, session, eroded edges",
            1.0,
            true,
            true,
            true,
            SessionEroded,
            32,
        ),
        (
            "noise 1.0, session, 96 frames, no drift",
            1.0,
            true,
            true,
            true,
            SessionNoDrift,
            96,
        ),
    ] {
        if let Ok(only) = std::env::var("ABLATION_ONLY") {
            if !name.contains(only.as_str()) {
                continue;
            }
        }
        let e: Vec<f64> = seeds
            .par_iter()
            .filter_map(|&s| ring_err(s, noise, tangents, refine, flying, poses, frames))
            .collect();
        let mean = e.iter().sum::<f64>() / e.len().max(1) as f64;
        let txt: Vec<String> = e.iter().map(|v| format!("{v:+.2}")).collect();
        println!(
            "{name:28} n {} mean {mean:+.3} mm: {}",
            e.len(),
            txt.join(" ")
        );
    }
}

/// The section fit alone (exact axis) on frames whose true poses carry an independent rigid
/// error per frame: `trans_mm` and `rot_deg` 1-sigma per component, as a pose-less tracker's
/// residual jitter. `tangents` and `shifts` switch the silhouette term and the per-frame
/// offsets.
#[allow(clippy::too_many_arguments)]
fn jitter_err(
    seed: u64,
    noise_mm: f64,
    trans_mm: f64,
    rot_deg: f64,
    tangents: bool,
    shifts: bool,
    erode: bool,
    edge_prior_px: Option<f64>,
) -> Option<f64> {
    use nalgebra::{Isometry3, Translation3, UnitQuaternion, Vector3};
    use rand_distr::{Distribution, Normal};
    let scan = SimScan::generate(
        seed,
        &SimOptions {
            frames: 32,
            pose_drift: PoseDrift::none(),
            noise: Some(NoiseModel {
                sigma_at_30cm_m: noise_mm * 1e-3,
                ..NoiseModel::truedepth()
            }),
            ..SimOptions::default()
        },
    )
    .ok()?;
    let ft = &scan.finger_truth;
    let axis = FingerAxis::new(ft.mcp, ft.pip).ok()?;
    let cfg = ObserveConfig {
        roi: Some(Roi::around_finger(axis.mcp, axis.pip, 0.03)),
        tangents,
        ..Default::default()
    };
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed ^ 0x5eed);
    let nt = Normal::new(0.0, trans_mm.max(1e-12) * 1e-3).ok()?;
    let nr = Normal::new(0.0, rot_deg.max(1e-12).to_radians()).ok()?;
    let obs: Vec<FrameObservations> = scan
        .frames
        .iter()
        .zip(&scan.true_poses)
        .filter_map(|(f, p)| {
            // A rigid error about the finger (the world origin region), applied in world.
            let c = axis.mcp.coords;
            let r = UnitQuaternion::from_scaled_axis(Vector3::new(
                nr.sample(&mut rng),
                nr.sample(&mut rng),
                nr.sample(&mut rng),
            ));
            let t = Vector3::new(
                nt.sample(&mut rng),
                nt.sample(&mut rng),
                nt.sample(&mut rng),
            );
            let about = Isometry3::from_parts(Translation3::from(c + t - r * c), r);
            let p = about * p;
            if erode {
                let mut f = f.clone();
                f.depth = harness::erode_edges(&f.depth, &mut rng);
                return FrameObservations::extract_with(&f, &p, &cfg).ok();
            }
            FrameObservations::extract_with(f, &p, &cfg).ok()
        })
        .collect();
    let mut sc = SectionConfig {
        frame_shifts: shifts,
        ..Default::default()
    };
    if let Some(b) = edge_prior_px {
        sc.edge_bias_prior_px = b;
    }
    let m = SectionMeasurer::new(&obs, &axis, &sc).ok()?;
    let (r, _) = m.ring().ok()?;
    Some((r.perimeter_m - ft.ring_circumference_m) * 1e3)
}

#[test]
#[ignore = "diagnostic: prints the pose-jitter ablation"]
fn ring_bias_pose_jitter() {
    let seeds: Vec<u64> = (100..108).collect();
    for (name, noise, tmm, rdeg, tangents, shifts, erode, prior) in [
        (
            "jitter 0, noise 1.0",
            1.0,
            0.0,
            0.0,
            true,
            false,
            false,
            None,
        ),
        (
            "jitter 0.3mm 0.15deg, noise 1.0",
            1.0,
            0.3,
            0.15,
            true,
            false,
            false,
            None,
        ),
        (
            "jitter 0.3mm, noise 1.0",
            1.0,
            0.3,
            0.0,
            true,
            false,
            false,
            None,
        ),
        (
            "jitter 0.15deg, noise 1.0",
            1.0,
            0.0,
            0.15,
            true,
            false,
            false,
            None,
        ),
        (
            "jitter 0.3/0.15, no tangents",
            1.0,
            0.3,
            0.15,
            false,
            false,
            false,
            None,
        ),
        (
            "jitter 0.3/0.15, frame shifts",
            1.0,
            0.3,
            0.15,
            true,
            true,
            false,
            None,
        ),
        (
            "jitter 0.3/0.15, noise 0.4",
            0.4,
            0.3,
            0.15,
            true,
            false,
            false,
            None,
        ),
        (
            "jitter 0.6/0.3, noise 1.0",
            1.0,
            0.6,
            0.3,
            true,
            false,
            false,
            None,
        ),
        (
            "jitter 0.6/0.3, no tangents",
            1.0,
            0.6,
            0.3,
            false,
            false,
            false,
            None,
        ),
        ("eroded, noise 1.0", 1.0, 0.0, 0.0, true, false, true, None),
        (
            "eroded, noise 1.0, no tangents",
            1.0,
            0.0,
            0.0,
            false,
            false,
            true,
            None,
        ),
        (
            "eroded, noise 1.0, edge prior 5px",
            1.0,
            0.0,
            0.0,
            true,
            false,
            true,
            Some(5.0),
        ),
        ("eroded, noise 0.4", 0.4, 0.0, 0.0, true, false, true, None),
        (
            "eroded, noise 0.4, no tangents",
            0.4,
            0.0,
            0.0,
            false,
            false,
            true,
            None,
        ),
    ] {
        if let Ok(only) = std::env::var("ABLATION_ONLY") {
            if !name.contains(only.as_str()) {
                continue;
            }
        }
        let e: Vec<f64> = seeds
            .par_iter()
            .filter_map(|&s| jitter_err(s, noise, tmm, rdeg, tangents, shifts, erode, prior))
            .collect();
        let mean = e.iter().sum::<f64>() / e.len().max(1) as f64;
        let txt: Vec<String> = e.iter().map(|v| format!("{v:+.2}")).collect();
        println!(
            "{name:34} n {} mean {mean:+.3} mm: {}",
            e.len(),
            txt.join(" ")
        );
    }
}

/// A pose-less session's tracked poses against the true ones: every frame's depth offset of
/// the true ring point (after the best rigid map from the tracker's world to the true one)
/// split by least squares into a world shift seen along each view axis and a radial bias
/// `b` (every camera nearer its target by `b`: the fused finger shrinks by about `2π b`).
/// Returns (radial bias mm, ring error mm).
fn tracked_radial_bias(seed: u64, noise_mm: f64, frames: usize) -> Option<(f64, f64)> {
    use nalgebra::{Matrix4, UnitQuaternion, Vector3, Vector4};
    let scan = SimScan::generate(
        seed,
        &SimOptions {
            frames,
            poses_given: false,
            noise: Some(NoiseModel {
                sigma_at_30cm_m: noise_mm * 1e-3,
                ..NoiseModel::truedepth()
            }),
            ..SimOptions::default()
        },
    )
    .ok()?;
    let x = scan.finger_truth.ring_point;
    let mut cfg = SessionConfig::new(scan.target);
    if let Some(n) = std::env::var("ABLATION_SDF_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        cfg.track.sdf_refine_iterations = n;
    }
    let mut s = ScanSession::new(cfg).ok()?;
    let mut est = Vec::new();
    for (f, t) in scan.frames.iter().zip(&scan.true_poses) {
        if let Some(p) = s.push_frame(f.clone()).ok()?.pose {
            est.push((p, *t));
        }
    }
    let m = s.finish().ok()?;
    let err = m.ring_circumference_mm? - scan.truth.ring_circumference_mm;
    // The rigid map W (true world -> tracker world): p ≈ W t for every frame.
    let ws: Vec<_> = est.iter().map(|(p, t)| p * t.inverse()).collect();
    let mut q = Vector4::zeros();
    let q0 = ws[0].rotation.into_inner().coords;
    for w in &ws {
        let c = w.rotation.into_inner().coords;
        q += if c.dot(&q0) < 0.0 { -c } else { c };
    }
    let rot = UnitQuaternion::from_quaternion(nalgebra::Quaternion::from(q));
    let tr = ws
        .iter()
        .map(|w| w.translation.vector)
        .sum::<Vector3<f64>>()
        / ws.len() as f64;
    let w = nalgebra::Isometry3::from_parts(tr.into(), rot);
    let xw = w * x;
    let (mut a, mut bv) = (Matrix4::<f64>::zeros(), Vector4::<f64>::zeros());
    for (p, t) in &est {
        let ze = (p.inverse() * xw).z;
        let zt = (t.inverse() * x).z;
        let zd = t.rotation * Vector3::z();
        let v = Vector4::new(zd.x, zd.y, zd.z, 1.0);
        a += v * v.transpose();
        bv += v * (ze - zt);
    }
    let f = a.cholesky()?.solve(&bv);
    Some((f[3] * 1e3, err))
}

#[test]
#[ignore = "diagnostic: prints the tracked poses' radial bias"]
fn tracked_pose_radial_bias() {
    let seeds: Vec<u64> = std::env::var("ABLATION_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(100..108, |n: u64| 100..100 + n)
        .collect();
    let noise: f64 = std::env::var("ABLATION_NOISE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let r: Vec<(u64, Option<(f64, f64)>)> = seeds
        .par_iter()
        .map(|&s| (s, tracked_radial_bias(s, noise, 32)))
        .collect();
    for (s, v) in &r {
        match v {
            Some((b, e)) => println!(
                "seed {s}: radial bias {b:+.3} mm (2πb {:+.2} mm), ring error {e:+.2} mm",
                2.0 * std::f64::consts::PI * b
            ),
            None => println!("seed {s}: not sized"),
        }
    }
}

/// A session fused at the frames' exact poses (no refinement, no measuring).
fn fuse_at_true_poses(seed: u64, noise_mm: f64, frames: usize) -> Option<(SimScan, ScanSession)> {
    let scan = SimScan::generate(
        seed,
        &SimOptions {
            frames,
            poses_given: true,
            pose_drift: PoseDrift::none(),
            noise: Some(NoiseModel {
                sigma_at_30cm_m: noise_mm * 1e-3,
                ..NoiseModel::truedepth()
            }),
            ..SimOptions::default()
        },
    )
    .ok()?;
    let mut cfg = SessionConfig::new(scan.target);
    cfg.refine_platform_poses = false;
    cfg.keep_observations = false;
    let mut s = ScanSession::new(cfg).ok()?;
    for (f, t) in scan.frames.iter().zip(&scan.true_poses) {
        let mut f = f.clone();
        f.pose = Some(*t);
        if let Err(e) = s.push_frame(f) {
            eprintln!("seed {seed}: {e}");
            return None;
        }
    }
    Some((scan, s))
}

/// Whether `p` lies within 5 mm of the ring's plane and 15 mm of the finger axis.
fn near_ring(scan: &SimScan, p: &nalgebra::Point3<f64>) -> bool {
    let v = p - scan.finger_truth.ring_point;
    let ax = scan.finger_truth.axis;
    let along = v.dot(&ax);
    along.abs() < 0.005 && (v - ax * along).norm() < 0.015
}

/// The fused model's surface against the true one: frames fused at their exact poses,
/// raycast from every true pose, and the distance along the true normal from the true
/// surface to each hit near the ring (positive: the model lies outside). Returns (mean,
/// median) in mm.
fn fused_model_offset(seed: u64, noise_mm: f64, frames: usize) -> Option<(f64, f64)> {
    use mandrel_sim::{Ray, Surface};
    use nalgebra::Point3;
    let (scan, s) = fuse_at_true_poses(seed, noise_mm, frames)?;
    let scene = scan.hand.scene();
    let mut d = Vec::new();
    for (f, t) in scan.frames.iter().zip(&scan.true_poses) {
        let img = s.volume().raycast(&f.intrinsics, t);
        for p in img.points.iter().filter(|p| p.x.is_finite()) {
            let p = p.cast::<f64>();
            if !near_ring(&scan, &p) {
                continue;
            }
            let o = Point3::from(t.translation.vector);
            let Ok(ray) = Ray::new(o, p - o) else {
                continue;
            };
            if let Some(h) = scene.intersect(&ray, 0.0, 10.0) {
                let cos = -h.normal.dot(&ray.dir);
                if cos > 0.3 {
                    d.push(-((p - o).norm() - h.t) * cos * 1e3);
                }
            }
        }
    }
    if d.is_empty() {
        return None;
    }
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    d.sort_by(|a, b| a.total_cmp(b));
    Some((mean, d[d.len() / 2]))
}

/// What the point-to-SDF refinement sees at the true poses: every frame's live points near
/// the ring, their fused distance divided by the field's gradient length (as
/// `track::sdf` uses it) against their true distance along the true normal (both positive
/// outside, mm). Returns (mean fused residual, mean true residual), over points whose
/// fused residual is within 6 mm.
fn sdf_residual_offset(seed: u64, noise_mm: f64, frames: usize) -> Option<(f64, f64)> {
    use mandrel_sim::{Ray, Surface};
    use nalgebra::{Point3, Vector3};
    let (scan, s) = fuse_at_true_poses(seed, noise_mm, frames)?;
    let vol = s.volume();
    let scene = scan.hand.scene();
    let h = 0.0005f32;
    let (mut sum_f, mut sum_t, mut n) = (0.0, 0.0, 0usize);
    for (f, t) in scan.frames.iter().zip(&scan.true_poses) {
        let k = &f.intrinsics;
        let w = f.depth.width() as usize;
        for (i, &z) in f.depth.depth_m().iter().enumerate() {
            if !(z > 0.0) {
                continue;
            }
            let (u, v) = ((i % w) as f64, (i / w) as f64);
            let z = z as f64;
            let pc = Point3::new((u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z, z);
            let p = t * pc;
            if !near_ring(&scan, &p) {
                continue;
            }
            let pf = p.cast::<f32>();
            let Some(r) = vol.sdf_at(&pf) else { continue };
            let mut g = Vector3::zeros();
            let mut ok = true;
            for a in 0..3 {
                let mut e = Vector3::zeros();
                e[a] = h;
                match (vol.sdf_at(&(pf + e)), vol.sdf_at(&(pf - e))) {
                    (Some(x1), Some(x0)) => g[a] = (x1 - x0) / (2.0 * h),
                    _ => ok = false,
                }
            }
            let gn = g.norm();
            if !ok || !(0.25..=4.0).contains(&gn) || (r / gn).abs() > 0.006 {
                continue;
            }
            let o = Point3::from(t.translation.vector);
            let Ok(ray) = Ray::new(o, p - o) else {
                continue;
            };
            if let Some(hit) = scene.intersect(&ray, 0.0, 10.0) {
                let cos = -hit.normal.dot(&ray.dir);
                if cos > 0.3 {
                    sum_f += (r / gn) as f64;
                    sum_t += -((p - o).norm() - hit.t) * cos;
                    n += 1;
                }
            }
        }
    }
    (n > 0).then(|| (sum_f / n as f64 * 1e3, sum_t / n as f64 * 1e3))
}

fn ablation_seeds() -> Vec<u64> {
    std::env::var("ABLATION_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(100..108, |n: u64| 100..100 + n)
        .collect()
}

fn ablation_noise() -> f64 {
    std::env::var("ABLATION_NOISE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0)
}

#[test]
#[ignore = "diagnostic: prints the fused model's offset from the true surface"]
fn fused_model_radial_offset() {
    let noise = ablation_noise();
    type Row = (u64, Option<(f64, f64)>, Option<(f64, f64)>);
    let r: Vec<Row> = ablation_seeds()
        .par_iter()
        .map(|&s| {
            (
                s,
                fused_model_offset(s, noise, 32),
                sdf_residual_offset(s, noise, 32),
            )
        })
        .collect();
    for (s, m, r) in &r {
        if let (Some((m, md)), Some((rf, rt))) = (m, r) {
            println!(
                "seed {s}: model offset mean {m:+.3} mm, median {md:+.3} mm; live points: \
                 SDF residual {rf:+.3} mm, true {rt:+.3} mm"
            );
        } else {
            println!("seed {s}: no model");
        }
    }
}

/// One-frame registration against a model fused at the exact poses: each frame tracked
/// pose-less from its true pose (the tracker primed with it), and the tracked camera's
/// depth of the true ring point minus the true one (negative: the camera registered nearer
/// the finger). Returns the mean over the tracked frames, mm.
fn single_frame_depth_shift(
    seed: u64,
    noise_mm: f64,
    frames: usize,
    sdf_iters: usize,
) -> Option<f64> {
    use mandrel_core::track::{TrackConfig, TrackStatus, Tracker};
    let (scan, s) = fuse_at_true_poses(seed, noise_mm, frames)?;
    let x = scan.finger_truth.ring_point;
    let mut d = Vec::new();
    for (f, t) in scan.frames.iter().zip(&scan.true_poses) {
        let mut tr = Tracker::new(TrackConfig {
            sdf_refine_iterations: sdf_iters,
            ..TrackConfig::default()
        })
        .ok()?;
        tr.bootstrap(&f.depth, Some(*t));
        tr.bootstrap(&f.depth, Some(*t));
        let Ok(r) = tr.track(&f.depth, &f.intrinsics, s.volume(), None) else {
            continue;
        };
        if r.health.status == TrackStatus::Ok {
            d.push(((r.pose.inverse() * x).z - (t.inverse() * x).z) * 1e3);
        }
    }
    (!d.is_empty()).then(|| d.iter().sum::<f64>() / d.len() as f64)
}

#[test]
#[ignore = "diagnostic: prints single-frame registration's depth shift against a true model"]
fn single_frame_registration_shift() {
    let noise = ablation_noise();
    let r: Vec<(u64, Option<f64>, Option<f64>)> = ablation_seeds()
        .par_iter()
        .map(|&s| {
            (
                s,
                single_frame_depth_shift(s, noise, 32, 0),
                single_frame_depth_shift(s, noise, 32, 6),
            )
        })
        .collect();
    for (s, a, b) in &r {
        println!("seed {s}: depth shift ICP only {a:+.3?} mm, with SDF refinement {b:+.3?} mm");
    }
}

/// As [`single_frame_depth_shift`], but each frame registered against the model fused from
/// the frames before it only (at their exact poses), as a pose-less session's growing model.
/// Returns the mean depth shift (mm) without and with the SDF refinement, over frames 2...
fn growing_model_depth_shift(seed: u64, noise_mm: f64, frames: usize) -> Option<(f64, f64)> {
    use mandrel_core::track::{TrackConfig, TrackStatus, Tracker};
    let scan = SimScan::generate(
        seed,
        &SimOptions {
            frames,
            poses_given: true,
            pose_drift: PoseDrift::none(),
            noise: Some(NoiseModel {
                sigma_at_30cm_m: noise_mm * 1e-3,
                ..NoiseModel::truedepth()
            }),
            ..SimOptions::default()
        },
    )
    .ok()?;
    let mut cfg = SessionConfig::new(scan.target);
    cfg.refine_platform_poses = false;
    cfg.keep_observations = false;
    let mut s = ScanSession::new(cfg).ok()?;
    let x = scan.finger_truth.ring_point;
    let mut d = [Vec::new(), Vec::new()];
    for (i, (f, t)) in scan.frames.iter().zip(&scan.true_poses).enumerate() {
        if i >= 2 {
            for (j, iters) in [0usize, 6].into_iter().enumerate() {
                let mut tr = Tracker::new(TrackConfig {
                    sdf_refine_iterations: iters,
                    ..TrackConfig::default()
                })
                .ok()?;
                tr.bootstrap(&f.depth, Some(*t));
                tr.bootstrap(&f.depth, Some(*t));
                if let Ok(r) = tr.track(&f.depth, &f.intrinsics, s.volume(), None) {
                    if r.health.status == TrackStatus::Ok {
                        d[j].push(((r.pose.inverse() * x).z - (t.inverse() * x).z) * 1e3);
                    }
                }
            }
        }
        let mut f = f.clone();
        f.pose = Some(*t);
        s.push_frame(f).ok()?;
    }
    let m = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    if std::env::var("ABLATION_VERBOSE").is_ok() {
        let txt: Vec<String> = d[1].iter().map(|v| format!("{v:+.2}")).collect();
        println!("seed {seed} per frame with refinement: {}", txt.join(" "));
    }
    Some((m(&d[0]), m(&d[1])))
}

#[test]
#[ignore = "diagnostic: prints registration's depth shift against a growing true-pose model"]
fn growing_model_registration_shift() {
    let noise = ablation_noise();
    let r: Vec<(u64, Option<(f64, f64)>)> = ablation_seeds()
        .par_iter()
        .map(|&s| (s, growing_model_depth_shift(s, noise, 32)))
        .collect();
    for (s, v) in &r {
        if let Some((a, b)) = v {
            println!("seed {s}: depth shift ICP only {a:+.3} mm, with SDF refinement {b:+.3} mm");
        }
    }
}

/// Where an edge model's error enters a session with platform poses: one stage at a time.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Stage {
    /// The section fit alone: exact poses, exact axis.
    Fit,
    /// The section fit alone at the poses a session refined (exact axis); `drift` starts
    /// the refinement from drifted platform poses, else from the exact ones.
    FitRefinedPoses { drift: bool },
    /// The whole session (its own finger location and axis); `refine` switches the pose
    /// refinement, `drift` the platform poses' drift.
    Session { drift: bool, refine: bool },
    /// The whole session, frames without poses (tracked).
    SessionNoPoses,
}

/// Ring error (mm) of one scan at one [`Stage`], frames eroded (`erode`) or with the
/// simulator's own edges.
fn stage_err(seed: u64, noise_mm: f64, erode: bool, stage: Stage) -> Option<f64> {
    let drift = match stage {
        Stage::Fit | Stage::SessionNoPoses => false,
        Stage::FitRefinedPoses { drift } | Stage::Session { drift, .. } => drift,
    };
    let scan = SimScan::generate(
        seed,
        &SimOptions {
            frames: 32,
            poses_given: stage != Stage::SessionNoPoses,
            pose_drift: if drift {
                PoseDrift::default()
            } else {
                PoseDrift::none()
            },
            noise: Some(NoiseModel {
                sigma_at_30cm_m: noise_mm * 1e-3,
                ..NoiseModel::truedepth()
            }),
            ..SimOptions::default()
        },
    )
    .ok()?;
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed ^ 0xe0de);
    let frames: Vec<_> = scan
        .frames
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if erode {
                f.depth = match std::env::var("ABLATION_DROP")
                    .ok()
                    .and_then(|v| v.parse::<f64>().ok())
                {
                    Some(p) => harness::erode_edges_with(&f.depth, &mut rng, p),
                    None => harness::erode_edges(&f.depth, &mut rng),
                };
            }
            f
        })
        .collect();
    let ft = &scan.finger_truth;
    let session = |refine: bool| -> Option<(ScanSession, Vec<Option<nalgebra::Isometry3<f64>>>)> {
        let mut cfg = SessionConfig::new(scan.target);
        cfg.refine_platform_poses = refine;
        if let Some(r) = std::env::var("ABLATION_EDGE_JUMP")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            cfg.track.edge_jump_ratio = r;
        }
        let mut s = ScanSession::new(cfg).ok()?;
        let mut poses = Vec::new();
        for f in &frames {
            poses.push(s.push_frame(f.clone()).ok()?.pose);
        }
        Some((s, poses))
    };
    let poses: Vec<nalgebra::Isometry3<f64>> = match stage {
        Stage::Session { .. } | Stage::SessionNoPoses => {
            let (s, _) = session(!matches!(stage, Stage::Session { refine: false, .. }))?;
            let m = s.finish().ok()?;
            return Some(m.ring_circumference_mm? - scan.truth.ring_circumference_mm);
        }
        Stage::Fit => scan.true_poses.clone(),
        Stage::FitRefinedPoses { .. } => session(true)?.1.into_iter().collect::<Option<_>>()?,
    };
    let axis = FingerAxis::new(ft.mcp, ft.pip).ok()?;
    let cfg = ObserveConfig {
        roi: Some(Roi::around_finger(axis.mcp, axis.pip, 0.03)),
        ..Default::default()
    };
    let obs: Vec<FrameObservations> = frames
        .iter()
        .zip(&poses)
        .filter_map(|(f, p)| FrameObservations::extract_with(f, p, &cfg).ok())
        .collect();
    let sc = SectionConfig::default();
    let m = SectionMeasurer::new(&obs, &axis, &sc).ok()?;
    let (r, _) = m.ring().ok()?;
    Some((r.perimeter_m - ft.ring_circumference_m) * 1e3)
}

/// The eroded-edge error split by stage (`ABLATION_EDGES=sim` for the simulator's own
/// edges, `ABLATION_DROP` the share of eroded edge pixels dropped rather than pushed back,
/// `ABLATION_EDGE_JUMP` the tracker's edge threshold, `ABLATION_NOISE`, `ABLATION_SEEDS`,
/// `ABLATION_ONLY` as above).
#[test]
#[ignore = "diagnostic: prints the edge model's error per session stage"]
fn edge_stage_ablation() {
    let erode = std::env::var("ABLATION_EDGES").map_or(true, |v| v != "sim");
    let noise = ablation_noise();
    let seeds = ablation_seeds();
    for (name, stage) in [
        ("fit, true poses, true axis", Stage::Fit),
        (
            "fit, refined exact poses, true axis",
            Stage::FitRefinedPoses { drift: false },
        ),
        (
            "fit, refined drifted poses, true axis",
            Stage::FitRefinedPoses { drift: true },
        ),
        (
            "session, exact poses, no refinement",
            Stage::Session {
                drift: false,
                refine: false,
            },
        ),
        (
            "session, exact poses, refined",
            Stage::Session {
                drift: false,
                refine: true,
            },
        ),
        (
            "session, drifted poses, refined",
            Stage::Session {
                drift: true,
                refine: true,
            },
        ),
        ("session, no poses (tracked)", Stage::SessionNoPoses),
    ] {
        if let Ok(only) = std::env::var("ABLATION_ONLY") {
            if !name.contains(only.as_str()) {
                continue;
            }
        }
        let e: Vec<f64> = seeds
            .par_iter()
            .filter_map(|&s| stage_err(s, noise, erode, stage))
            .collect();
        let mean = e.iter().sum::<f64>() / e.len().max(1) as f64;
        let sd = (e.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (e.len().max(2) - 1) as f64)
            .sqrt();
        let txt: Vec<String> = e.iter().map(|v| format!("{v:+.2}")).collect();
        println!(
            "{} noise {noise} {name:40} n {} mean {mean:+.3} sd {sd:.3} mm: {}",
            if erode { "eroded" } else { "sim" },
            e.len(),
            txt.join(" ")
        );
    }
}

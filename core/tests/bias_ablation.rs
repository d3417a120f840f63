//! Where the ring estimate's noise-dependent shrink comes from: the section fit alone (true
//! poses, true MCP/PIP axis, no tracking or finger location) on parametric hands, with depth
//! noise off and on, silhouette tangents on and off, and axis refinement on and off. Prints
//! the mean signed error per variant; run with `--ignored --nocapture` (`ABLATION_ONLY=text`
//! runs the variants whose name contains it). `ring_bias_pose_jitter` adds random rigid pose
//! errors and eroded edges to the section fit alone; `tracked_pose_radial_bias` measures how
//! far a pose-less session's tracked cameras sit nearer their target than the true ones
//! (`ABLATION_NOISE` sets the noise, mm).

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
    let mut s = ScanSession::new(SessionConfig::new(scan.target)).ok()?;
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
    let seeds: Vec<u64> = (100..108).collect();
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

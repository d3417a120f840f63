//! Where the ring estimate's noise-dependent shrink comes from: the section fit alone (true
//! poses, true MCP/PIP axis, no tracking or finger location) on parametric hands, with depth
//! noise off and on, silhouette tangents on and off, and axis refinement on and off. Prints
//! the mean signed error per variant; run with `--ignored --nocapture` (`ABLATION_ONLY=text`
//! runs the variants whose name contains it).

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

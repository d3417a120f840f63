//! Per-scan lateral scale on virtual scans whose intrinsics are wrong: the sensor renders
//! with the true focal length, the scan is handed one 3 % too short or too long, and
//! [`estimate_lateral_scale`] must find the ratio from the scan's own observations (platform
//! poses with the default drift, the finger's region of interest, as a session keeps them).
//!
//! Through a whole session (`a_wrong_focal_length_is_never_a_confident_size_through_the_session`)
//! a scan 3 % off must not end `ok` and the true focal length must leave the measurement
//! alone. The ignored `scale_noise_bias_sweep` prints the data the estimator's noise offset
//! is fitted on. The ignored `fixed_pattern_and_focal_error_through_the_session` prints what the fixed
//! noise pattern and a wrong focal length do to the measured ring and its σ:
//! `cargo test --release -p mandrel-core --test focal_scale_virtual -- --ignored --nocapture`.

use mandrel_core::frame::{Frame, Intrinsics};
use mandrel_core::measure::focal_scale::{estimate_lateral_scale, LateralScale, ScaleView};
use mandrel_core::measure::observe::{FrameObservations, ObserveConfig, Roi};
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{Coverage, NoiseModel, SimOptions, SimScan};

fn options(frames: usize, noise: NoiseModel) -> SimOptions {
    SimOptions {
        frames,
        coverage: Coverage::Full,
        poses_given: true,
        noise: Some(noise),
        ..SimOptions::default()
    }
}

/// The scan's frames with the focal lengths multiplied by `factor` (what a phone with a
/// wrong factory calibration delivers).
fn with_focal(frames: &[Frame], factor: f64) -> Vec<Frame> {
    frames
        .iter()
        .map(|f| {
            let k = f.intrinsics;
            let k = Intrinsics::new(k.width, k.height, k.fx * factor, k.fy * factor, k.cx, k.cy)
                .expect("intrinsics");
            Frame::new(f.depth.clone(), k, f.pose, f.landmarks.clone(), f.timestamp).expect("frame")
        })
        .collect()
}

fn estimate(sim: &SimScan, frames: &[Frame]) -> (f64, f64) {
    let e = estimate_full(sim, frames);
    (e.scale, e.sigma)
}

fn estimate_full(sim: &SimScan, frames: &[Frame]) -> LateralScale {
    let ft = &sim.finger_truth;
    let cfg = ObserveConfig {
        roi: Some(Roi::around_finger(ft.mcp, ft.pip, 0.02)),
        tangents: false,
        ..ObserveConfig::default()
    };
    let kept: Vec<(FrameObservations, nalgebra::Isometry3<f64>)> = frames
        .iter()
        .map(|f| {
            let pose = f.pose.expect("platform pose");
            (
                FrameObservations::extract_with(f, &pose, &cfg).expect("observe"),
                pose,
            )
        })
        .collect();
    let views: Vec<ScaleView<'_>> = kept
        .iter()
        .map(|(o, p)| ScaleView {
            observations: o,
            camera_to_world: *p,
        })
        .collect();
    estimate_lateral_scale(&views).expect("lateral scale")
}

#[test]
fn a_three_percent_focal_error_is_found_from_the_scan_itself() {
    let mut worst: f64 = 0.0;
    let mut worst_z: f64 = 0.0;
    for seed in [11u64, 12, 13] {
        let sim = SimScan::generate(seed, &options(24, NoiseModel::truedepth())).expect("sim");
        for factor in [0.97, 1.0, 1.03] {
            let (s, sigma) = estimate(&sim, &with_focal(&sim.frames, factor));
            println!("seed {seed} focal x{factor}: scale {s:.4} ± {sigma:.4}");
            worst = worst.max((s - factor).abs());
            worst_z = worst_z.max((s - factor).abs() / sigma);
            assert!(sigma > 0.0 && sigma < 0.02, "σ {sigma}");
            assert!(
                (s - factor).abs() < 3.0 * sigma,
                "{s} ± {sigma} vs {factor}"
            );
        }
    }
    println!("worst |error| {worst:.4}, worst |error|/σ {worst_z:.2}");
    assert!(worst < 0.012, "worst scale error {worst}");
}

#[test]
#[ignore = "several full sessions; run in release with --ignored --nocapture"]
fn fixed_pattern_and_focal_error_through_the_session() {
    let measure = |sim: &SimScan, frames: &[Frame]| {
        let mut cfg = SessionConfig::new(sim.target);
        cfg.min_frames = 1;
        let mut session = ScanSession::new(cfg).expect("session");
        for f in frames {
            session.push_frame(f.clone()).expect("push");
        }
        let m = session.finish().expect("finish");
        (
            m.ring_circumference_mm
                .map(|r| r - sim.truth.ring_circumference_mm),
            m.uncertainty_mm,
            m.status,
        )
    };
    let frames = std::env::var("FOCAL_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24usize);
    let n: u64 = std::env::var("FOCAL_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    println!("| seed | fixed share | err mm | σ mm | status |");
    for seed in 100..100 + n {
        for share in [0.0, NoiseModel::truedepth_fitted().fixed_pattern_share] {
            let noise = NoiseModel {
                fixed_pattern_share: share,
                fixed_pattern_seed: seed,
                ..NoiseModel::truedepth_fitted()
            };
            let sim = SimScan::generate(seed, &options(frames, noise)).expect("sim");
            let (e, s, st) = measure(&sim, &sim.frames);
            println!("| {seed} | {share} | {e:?} | {s:?} | {st:?} |");
        }
    }
    println!("| seed | focal factor | err mm | σ mm | status | estimated scale |");
    for seed in 100..100 + n.min(3) {
        let sim = SimScan::generate(seed, &options(frames, NoiseModel::truedepth())).expect("sim");
        for factor in [0.97, 1.0, 1.03] {
            let fr = with_focal(&sim.frames, factor);
            let (e, s, st) = measure(&sim, &fr);
            let (sc, ss) = estimate(&sim, &fr);
            println!("| {seed} | {factor} | {e:?} | {s:?} | {st:?} | {sc:.4} ± {ss:.4} |");
        }
    }
}

#[test]
#[ignore = "ablation of the estimator's offset; run in release with --ignored --nocapture"]
fn scale_offset_ablation() {
    use mandrel_sim::PoseDrift;
    let variants: [(&str, NoiseModel, bool); 4] = [
        ("no noise, true poses", NoiseModel::none(), false),
        (
            "noise without flying pixels, true poses",
            NoiseModel {
                flying_pixel_prob: 0.0,
                ..NoiseModel::truedepth()
            },
            false,
        ),
        ("truedepth, true poses", NoiseModel::truedepth(), false),
        ("truedepth, drift", NoiseModel::truedepth(), true),
    ];
    for (name, noise, drift) in variants {
        for seed in [11u64, 12] {
            let opts = SimOptions {
                pose_drift: if drift {
                    PoseDrift::default()
                } else {
                    PoseDrift::none()
                },
                ..options(24, noise.clone())
            };
            let sim = SimScan::generate(seed, &opts).expect("sim");
            let r: Vec<String> = [0.97, 1.0, 1.03]
                .iter()
                .map(|&f| {
                    let (s, sg) = estimate(&sim, &with_focal(&sim.frames, f));
                    format!("{s:.4}±{sg:.4}")
                })
                .collect();
            println!("{name} seed {seed}: {}", r.join(" "));
        }
    }
}

/// One session over `frames`, as an app would run it.
fn session_measure(
    sim: &SimScan,
    frames: &[Frame],
) -> (
    mandrel_core::measure::Measurement,
    mandrel_core::measure::MeasureDetail,
) {
    let mut cfg = SessionConfig::new(sim.target);
    cfg.min_frames = 1;
    let mut session = ScanSession::new(cfg).expect("session");
    for f in frames {
        session.push_frame(f.clone()).expect("push");
    }
    session.finish_detailed().expect("finish")
}

#[test]
fn a_wrong_focal_length_is_never_a_confident_size_through_the_session() {
    use mandrel_core::measure::{Reason, Status};
    for seed in [100u64, 101, 102] {
        let sim = SimScan::generate(seed, &options(24, NoiseModel::truedepth())).expect("sim");
        for factor in [0.97, 1.0, 1.03] {
            let (m, d) = session_measure(&sim, &with_focal(&sim.frames, factor));
            let err = m
                .ring_circumference_mm
                .map(|r| r - sim.truth.ring_circumference_mm);
            let est = d
                .lateral_scale
                .expect("platform poses give a lateral scale");
            println!(
                "seed {seed} focal x{factor}: err {err:.2?} σ {:.2?} {:?} {:?}, scale {:.4} ± {:.4}",
                m.uncertainty_mm, m.status, m.reasons, est.scale, est.sigma
            );
            assert!(
                (est.scale - factor).abs() < 3.0 * est.sigma,
                "seed {seed} x{factor}: {est:?}"
            );
            if let (Status::Ok, Some(e), Some(s)) = (m.status, err, m.uncertainty_mm) {
                assert!(
                    e.abs() <= 1.3 || e.abs() <= 2.0 * s,
                    "seed {seed} x{factor}: confident wrong size {e:.2} mm at σ {s:.2}"
                );
            }
            if factor == 1.0 {
                // The right focal length leaves the measurement alone.
                assert!((est.scale - 1.0).abs() <= 3.0 * est.sigma, "{est:?}");
            } else {
                assert_eq!(m.status, Status::NeedsRescan, "seed {seed} x{factor}");
                assert!(m.reasons.contains(&Reason::TooNoisy), "{:?}", m.reasons);
                assert!(m.sizes.is_none() && m.recommended.is_none());
                // σ carries what the scale implies for the circumference.
                let (r, s) = (m.ring_circumference_mm.unwrap(), m.uncertainty_mm.unwrap());
                assert!(s >= r * (est.scale - 1.0).abs(), "σ {s} for {est:?}");
            }
        }
    }
}

/// The depth-noise offset of the estimator ([`SCALE_BIAS_PER_NOISE_VAR`]): randomised
/// virtual scans at several noise levels (seeds 200…, 24–47 frames), each given its true
/// focal length and one 3 % off, the estimate printed with the offset taken back out, and
/// the least-squares fit of `1 − scale` against the noise variance at the true focal length.
///
/// [`SCALE_BIAS_PER_NOISE_VAR`]: mandrel_core::measure::focal_scale::SCALE_BIAS_PER_NOISE_VAR
#[test]
#[ignore = "dozens of virtual scans; run in release with --ignored --nocapture"]
fn scale_noise_bias_sweep() {
    let n: u64 = std::env::var("FOCAL_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let noises = [
        ("truedepth", NoiseModel::truedepth()),
        ("truedepth fitted", NoiseModel::truedepth_fitted()),
        (
            "σ30 0.4 mm",
            NoiseModel {
                sigma_at_30cm_m: 0.0004,
                ..NoiseModel::truedepth()
            },
        ),
        (
            "σ30 0.8 mm",
            NoiseModel {
                sigma_at_30cm_m: 0.0008,
                ..NoiseModel::truedepth()
            },
        ),
        (
            "σ30 1.0 mm",
            NoiseModel {
                sigma_at_30cm_m: 0.001,
                ..NoiseModel::truedepth()
            },
        ),
    ];
    let (mut num, mut den) = (0.0, 0.0);
    println!("| noise model | seed | frames | view noise mm | ×0.97 | ×1.00 | ×1.03 |");
    for (name, noise) in noises {
        for seed in 200..200 + n {
            let frames = 24 + (seed as usize * 7) % 24;
            let Ok(sim) = SimScan::generate(seed, &options(frames, noise.clone())) else {
                continue;
            };
            let mut cells = Vec::new();
            let mut noise_m = 0.0;
            for factor in [0.97, 1.0, 1.03] {
                let e = estimate_full(&sim, &with_focal(&sim.frames, factor));
                let raw = e.scale - e.noise_offset;
                noise_m = e.noise_m;
                if factor == 1.0 {
                    num += (1.0 - raw) * e.noise_m.powi(2);
                    den += e.noise_m.powi(4);
                }
                cells.push(format!("{raw:.4} → {:.4}", e.scale));
            }
            println!(
                "| {name} | {seed} | {frames} | {:.2} | {} |",
                noise_m * 1e3,
                cells.join(" | ")
            );
        }
    }
    println!(
        "least-squares offset per noise variance: {:.0} per m²",
        num / den
    );
}

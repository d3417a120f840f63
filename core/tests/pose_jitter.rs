//! What per-frame pose error does to the measurement, apart from tracking: virtual scans
//! with exact poses, each frame's pose perturbed by a synthetic rigid error, the perturbed
//! poses given to a [`ScanSession`] as fixed poses (no refinement, no tracking; the
//! platform-drift allowance off, as for tracked poses), and the signed ring error, sigma and
//! status compared scan by scan with the same scan at zero jitter.
//!
//! `pose_jitter_ablation` is `#[ignore]`d (minutes): `cargo test --release -p mandrel-core
//! --test pose_jitter -- --ignored --nocapture`. It prints a row per session and a table
//! per scenario (orbit: parametric hands filmed all round; front: the still camera and
//! turning hand of `Coverage::Turn`), jitter level and kind (independent per frame, or
//! smooth over neighbouring frames). Environment: `JITTER_N` scans per scenario (default
//! 16), `JITTER_LEVELS` (comma-separated RMS translations, mm; default 0,0.25,0.5,1),
//! `JITTER_ONLY` (`orbit` or `front`), `JITTER_KINDS` (`iid`, `smooth` or both),
//! `JITTER_THREADS` (default 1), `JITTER_RUNS=1` (the jackknife also over runs of
//! consecutive frames, `SectionConfig::jackknife_runs`).

use mandrel_core::hand::{Finger, Hand};
use mandrel_core::measure::Status;
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{Coverage, NoiseModel, PoseDrift, SimOptions, SimScan};
use nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector3};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use std::sync::Mutex;

/// Lever (metres) that turns a rotation error into the displacement it causes: a frame's
/// rotation error (1-sigma per axis) moves a point this far from the pivot as far as its
/// translation error moves every point.
const ROTATION_LEVER_M: f64 = 0.1;

/// Gaussian smoothing width (frames) of the correlated kind.
const SMOOTH_FRAMES: f64 = 4.0;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Scenario {
    Orbit,
    Front,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Iid,
    Smooth,
}

/// The scan of `scenario` number `i`, with its exact poses.
fn scan(scenario: Scenario, i: u64) -> Option<SimScan> {
    let seed = match scenario {
        Scenario::Orbit => 2600 + i,
        Scenario::Front => 2700 + i,
    };
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let side = if rng.random::<bool>() {
        Hand::Left
    } else {
        Hand::Right
    };
    let opts = match scenario {
        Scenario::Orbit => SimOptions {
            frames: 32 + rng.random_range(0..33usize),
            poses_given: true,
            pose_drift: PoseDrift::none(),
            hand_side: Some(side),
            finger: [Finger::Index, Finger::Middle, Finger::Ring, Finger::Little]
                [rng.random_range(0..4usize)],
            noise: Some(NoiseModel {
                sigma_at_30cm_m: rng.random_range(0.3..1.2) * 1e-3,
                ..NoiseModel::truedepth()
            }),
            ..SimOptions::default()
        },
        Scenario::Front => SimOptions {
            coverage: Coverage::Turn,
            poses_given: false,
            frames: 45,
            hand_side: Some(side),
            body_behind: Some(false),
            ..SimOptions::default()
        },
    };
    SimScan::generate(seed, &opts).ok()
}

/// Per-frame rigid errors (world frame, about `pivot`): translation RMS `level_m` (3-D),
/// rotation RMS `level_m / ROTATION_LEVER_M` rad (3-D); independent per frame or smoothed
/// over [`SMOOTH_FRAMES`] and rescaled to the same RMS.
fn jitter(
    poses: &[Isometry3<f64>],
    level_m: f64,
    kind: Kind,
    pivot: &Point3<f64>,
    seed: u64,
) -> Vec<Isometry3<f64>> {
    let n = poses.len();
    if level_m <= 0.0 {
        return poses.to_vec();
    }
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let unit = Normal::new(0.0, 1.0).expect("unit normal");
    // Six components per frame, each of unit RMS over the frames.
    let mut comp: Vec<Vec<f64>> = (0..6)
        .map(|_| (0..n).map(|_| unit.sample(&mut rng)).collect())
        .collect();
    if kind == Kind::Smooth {
        let half = (3.0 * SMOOTH_FRAMES).ceil() as isize;
        for c in &mut comp {
            let s: Vec<f64> = (0..n as isize)
                .map(|i| {
                    let (mut a, mut w) = (0.0, 0.0);
                    for j in (i - half).max(0)..=(i + half).min(n as isize - 1) {
                        let k = (-0.5 * ((j - i) as f64 / SMOOTH_FRAMES).powi(2)).exp();
                        a += k * c[j as usize];
                        w += k;
                    }
                    a / w
                })
                .collect();
            *c = s;
        }
    }
    for c in &mut comp {
        let rms = (c.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
        if rms > 0.0 {
            c.iter_mut().for_each(|v| *v /= rms);
        }
    }
    let per = level_m / 3f64.sqrt();
    poses
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let t = Vector3::new(comp[0][i], comp[1][i], comp[2][i]) * per;
            let r = UnitQuaternion::from_scaled_axis(
                Vector3::new(comp[3][i], comp[4][i], comp[5][i]) * (per / ROTATION_LEVER_M),
            );
            let c = pivot.coords;
            Isometry3::from_parts(Translation3::from(c + t - r * c), r) * p
        })
        .collect()
}

#[derive(Debug, Clone)]
struct Row {
    scenario: Scenario,
    kind: Kind,
    level_mm: f64,
    scan: u64,
    err_mm: Option<f64>,
    sigma_mm: Option<f64>,
    ok: bool,
}

fn measure(sim: &SimScan, poses: &[Isometry3<f64>]) -> (Option<f64>, Option<f64>, bool, String) {
    let mut cfg = SessionConfig::new(sim.target);
    cfg.refine_platform_poses = false;
    // Fixed poses stand in for tracked ones: no allowance for platform drift.
    cfg.measure.section.pose_drift_sigma_m = 0.0;
    cfg.measure.section.jackknife_runs = std::env::var("JITTER_RUNS").is_ok_and(|v| v == "1");
    let Ok(mut s) = ScanSession::new(cfg) else {
        return (None, None, false, "session".into());
    };
    for (f, p) in sim.frames.iter().zip(poses) {
        let mut f = f.clone();
        f.pose = Some(*p);
        if let Err(e) = s.push_frame(f) {
            return (None, None, false, format!("push: {e}"));
        }
    }
    match s.finish_detailed() {
        Ok((m, d)) => {
            let parts = d.ring.as_ref().map_or(String::new(), |r| {
                let p = &r.sigma_parts;
                format!(
                    "hull {:+.3} sec {:.3} fit {:.3} fr {:.3} pose {:.3} resid {:.3} {:?}",
                    (r.perimeter_m - r.model_perimeter_m) * 1e3,
                    r.sigma_m * 1e3,
                    p.fit_m * 1e3,
                    p.frames_m * 1e3,
                    p.pose_m * 1e3,
                    r.residual_rms_m * 1e3,
                    m.reasons
                )
            });
            (
                m.ring_circumference_mm
                    .map(|r| r - sim.truth.ring_circumference_mm),
                m.uncertainty_mm,
                m.status == Status::Ok,
                parts,
            )
        }
        Err(e) => (None, None, false, format!("finish: {e}")),
    }
}

fn env_list(name: &str) -> Option<Vec<String>> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len().max(2) - 1) as f64).sqrt()
}

#[test]
#[ignore = "diagnostic: minutes; prints the pose-jitter table"]
fn pose_jitter_ablation() {
    let n: u64 = std::env::var("JITTER_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let levels: Vec<f64> = env_list("JITTER_LEVELS")
        .map(|l| l.iter().filter_map(|s| s.parse().ok()).collect())
        .unwrap_or_else(|| vec![0.0, 0.25, 0.5, 1.0]);
    let kinds: Vec<Kind> = match env_list("JITTER_KINDS") {
        Some(k) => [Kind::Iid, Kind::Smooth]
            .into_iter()
            .filter(|kind| {
                k.iter()
                    .any(|s| format!("{kind:?}").eq_ignore_ascii_case(s))
            })
            .collect(),
        None => vec![Kind::Iid, Kind::Smooth],
    };
    let scenarios: Vec<Scenario> = match std::env::var("JITTER_ONLY").ok().as_deref() {
        Some("orbit") => vec![Scenario::Orbit],
        Some("front") => vec![Scenario::Front],
        _ => vec![Scenario::Orbit, Scenario::Front],
    };
    let threads: usize = std::env::var("JITTER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let jobs: Vec<(Scenario, u64)> = scenarios
        .iter()
        .flat_map(|&sc| (0..n).map(move |i| (sc, i)))
        .collect();
    let next = Mutex::new(jobs.into_iter());
    let rows = Mutex::new(Vec::<Row>::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let Some((sc, i)) = next.lock().unwrap().next() else {
                    break;
                };
                let Some(sim) = scan(sc, i) else {
                    println!("{sc:?} #{i}: simulation failed");
                    continue;
                };
                let pivot = sim.finger_truth.ring_point;
                for &kind in &kinds {
                    for &level in &levels {
                        if level == 0.0 && kind != kinds[0] {
                            continue;
                        }
                        let poses =
                            jitter(&sim.true_poses, level * 1e-3, kind, &pivot, 77 + i * 31);
                        let (err_mm, sigma_mm, ok, parts) = measure(&sim, &poses);
                        println!(
                            "{sc:?} {kind:?} {level:.2} #{i}: err {} sigma {} {} | {parts}",
                            err_mm.map_or("-".into(), |e| format!("{e:+.3}")),
                            sigma_mm.map_or("-".into(), |s| format!("{s:.3}")),
                            if ok { "ok" } else { "needs_rescan" },
                        );
                        rows.lock().unwrap().push(Row {
                            scenario: sc,
                            kind,
                            level_mm: level,
                            scan: i,
                            err_mm,
                            sigma_mm,
                            ok,
                        });
                    }
                }
            });
        }
    });
    let rows = rows.into_inner().unwrap();
    println!(
        "| scenario | jitter | level mm | n | ok % | bias | Δ bias vs 0 (± SE) | sd of Δ | mean abs | mean σ | within 1σ | within 2σ |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &sc in &scenarios {
        let base = |i: u64| {
            rows.iter()
                .find(|r| r.scenario == sc && r.level_mm == 0.0 && r.scan == i)
                .and_then(|r| r.err_mm)
        };
        for &kind in &kinds {
            for &level in &levels {
                let sel: Vec<&Row> = rows
                    .iter()
                    .filter(|r| {
                        r.scenario == sc && r.level_mm == level && (level == 0.0 || r.kind == kind)
                    })
                    .collect();
                if level == 0.0 && kind != kinds[0] {
                    continue;
                }
                let sized: Vec<(f64, f64)> = sel
                    .iter()
                    .filter_map(|r| Some((r.err_mm?, r.sigma_mm?)))
                    .collect();
                let errs: Vec<f64> = sized.iter().map(|e| e.0).collect();
                let d: Vec<f64> = sel
                    .iter()
                    .filter_map(|r| Some(r.err_mm? - base(r.scan)?))
                    .collect();
                let within = |k: f64| {
                    100.0 * sized.iter().filter(|(e, s)| e.abs() <= k * s).count() as f64
                        / sized.len().max(1) as f64
                };
                println!(
                    "| {sc:?} | {} | {level:.2} | {} | {:.0} | {:+.3} | {:+.3} ± {:.3} | {:.3} | {:.3} | {:.3} | {:.0} % | {:.0} % |",
                    if level == 0.0 { "none".to_string() } else { format!("{kind:?}") },
                    sized.len(),
                    100.0 * sel.iter().filter(|r| r.ok).count() as f64 / sel.len().max(1) as f64,
                    mean(&errs),
                    mean(&d),
                    sd(&d) / (d.len().max(1) as f64).sqrt(),
                    sd(&d),
                    mean(&errs.iter().map(|e| e.abs()).collect::<Vec<_>>()),
                    mean(&sized.iter().map(|e| e.1).collect::<Vec<_>>()),
                    within(1.0),
                    within(2.0),
                );
            }
        }
    }
    assert!(rows.iter().any(|r| r.err_mm.is_some()), "no scan was sized");
}

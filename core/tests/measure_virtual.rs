//! Issue 4 acceptance over randomised virtual hands, through the pipeline a phone runs:
//! a [`ScanSession`] is fed the simulated frames (platform poses with drift, noisy 2D
//! landmarks on most frames) and `finish` measures the ring; once with landmarks and once
//! landmark-free (a second session with `use_landmarks = false`).
//!
//! Hands vary in side, size (ring 48–72 mm), ellipticity (0.80–0.95), knuckles, curl and
//! placement (from the seed); depth noise is scaled 0.7–1.6x the TrueDepth model; every
//! fourth hand is filmed from the back only (dorsal coverage, table behind the palm).
//!
//! Acceptance (`fifty_virtual_hands_through_the_session`, over hands reported `ok`):
//! mean |error| ≤ 0.3 mm, |error| ≤ 1σ on ≥ 68 %, ≤ 2σ on ≥ 95 %, no `ok` beyond 1 mm, and
//! a floor on the share of `ok` results (the constants). It runs in CI (about 3.5 min on
//! two idle cores).
//!
//! `MEASURE_VIRTUAL_N` sets the number of hands (default 50), `MEASURE_VIRTUAL_FRAMES` the
//! frames per hand (default 16, to keep this within CI's budget on two cores);
//! `MEASURE_VIRTUAL_WEBS=0` leaves out the skin webs between the fingers (`SimOptions::webs`,
//! on by default).

use mandrel_core::measure::{Measurement, Status};
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{Coverage, NoiseModel, SimOptions, SimScan};
use std::sync::Mutex;

/// Least share of hands measured `ok` with landmarks (measured 5/6 and 6/8; every fourth
/// hand is dorsal and expected `needs_rescan`).
const MIN_OK_RATE_LANDMARKS: f64 = 0.6;
/// Least share of hands measured `ok` without landmarks: a guard against a finder that
/// refuses everything, not a product target (the ring position from phalanx proportions
/// costs more σ than the 0.4 mm `ok` rule allows on most hands, every fourth hand is
/// dorsal, which the landmark-free finder does not attempt, and the ring sigma carries
/// `MODEL_SIGMA_MM`; docs/tuning.md#measure gives the measured share).
const MIN_OK_RATE_GEOMETRIC: f64 = 0.1;

#[derive(Debug, Clone)]
struct Row {
    seed: u64,
    landmarks: bool,
    coverage: Coverage,
    err_mm: Option<f64>,
    sigma_mm: Option<f64>,
    status: Status,
    reasons: String,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn options(seed: u64, frames: usize) -> SimOptions {
    // Noise scale spread evenly over the seeds, independent of the hand drawn from the seed.
    let scale = 0.7 + 0.9 * ((seed * 7919) % 97) as f64 / 96.0;
    let mut noise = NoiseModel::truedepth();
    noise.sigma_at_30cm_m *= scale;
    SimOptions {
        frames,
        coverage: if seed % 4 == 3 {
            Coverage::Dorsal
        } else {
            Coverage::Full
        },
        noise: Some(noise),
        webs: env_usize("MEASURE_VIRTUAL_WEBS", 1) != 0,
        ..SimOptions::default()
    }
}

/// The measurement and the ring section's widest unobserved arc (degrees).
fn measure(sim: &SimScan, use_landmarks: bool) -> (Measurement, Option<f64>) {
    let mut cfg = SessionConfig::new(sim.target);
    cfg.use_landmarks = use_landmarks;
    cfg.min_frames = 1;
    let mut session = ScanSession::new(cfg).expect("session");
    for f in &sim.frames {
        session.push_frame(f.clone()).expect("push frame");
    }
    let (m, detail) = session.finish_detailed().expect("finish");
    (m, detail.ring.map(|r| r.largest_gap_deg))
}

fn run(seed: u64, frames: usize) -> Vec<Row> {
    let opts = options(seed, frames);
    let sim = SimScan::generate(seed, &opts).expect("sim");
    [true, false]
        .into_iter()
        .map(|lm| {
            let (m, gap) = measure(&sim, lm);
            let err_mm = m
                .ring_circumference_mm
                .map(|r| r - sim.truth.ring_circumference_mm);
            let row = Row {
                seed,
                landmarks: lm,
                coverage: opts.coverage,
                err_mm,
                sigma_mm: m.uncertainty_mm,
                status: m.status,
                reasons: format!("{:?}", m.reasons),
            };
            println!(
                "seed {seed} {:?} {:?} {:?} landmarks {lm}: truth {:.2} err {} sigma {} {:?} {} gap {}",
                sim.target.hand,
                sim.target.finger,
                opts.coverage,
                sim.truth.ring_circumference_mm,
                err_mm.map_or("-".into(), |e| format!("{e:+.3}")),
                m.uncertainty_mm.map_or("-".into(), |s| format!("{s:.3}")),
                m.status,
                row.reasons,
                gap.map_or("-".into(), |g| format!("{g:.0}"))
            );
            row
        })
        .collect()
}

/// Runs `seeds` on two threads (CI has two cores), rows sorted by seed.
fn run_all(seeds: std::ops::Range<u64>, frames: usize) -> Vec<Row> {
    let next = Mutex::new(seeds.clone());
    let rows = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some(seed) = next.lock().unwrap().next() else {
                    break;
                };
                let r = run(seed, frames);
                rows.lock().unwrap().extend(r);
            });
        }
    });
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by_key(|r| (r.seed, !r.landmarks));
    rows
}

struct Summary {
    n: usize,
    ok: usize,
    mean_abs_mm: f64,
    within_1s: f64,
    within_2s: f64,
    worst_ok_mm: f64,
}

fn summarise(rows: &[&Row], label: &str) -> Summary {
    let ok: Vec<&&Row> = rows.iter().filter(|r| r.status == Status::Ok).collect();
    let errs: Vec<(f64, f64)> = ok
        .iter()
        .filter_map(|r| Some((r.err_mm?.abs(), r.sigma_mm?)))
        .collect();
    let k = errs.len().max(1) as f64;
    let s = Summary {
        n: rows.len(),
        ok: ok.len(),
        mean_abs_mm: errs.iter().map(|e| e.0).sum::<f64>() / k,
        within_1s: errs.iter().filter(|e| e.0 <= e.1).count() as f64 / k,
        within_2s: errs.iter().filter(|e| e.0 <= 2.0 * e.1).count() as f64 / k,
        worst_ok_mm: errs.iter().map(|e| e.0).fold(0.0, f64::max),
    };
    let measured: Vec<f64> = rows.iter().filter_map(|r| r.err_mm.map(f64::abs)).collect();
    println!(
        "{label}: {} hands, {} ok ({:.0} %); over ok: mean |err| {:.3} mm, worst {:.3} mm, \
         within 1 sigma {:.0} %, within 2 sigma {:.0} %; all {} measured: mean |err| {:.3} mm",
        s.n,
        s.ok,
        100.0 * s.ok as f64 / s.n.max(1) as f64,
        s.mean_abs_mm,
        s.worst_ok_mm,
        100.0 * s.within_1s,
        100.0 * s.within_2s,
        measured.len(),
        measured.iter().sum::<f64>() / measured.len().max(1) as f64
    );
    for r in rows {
        if r.status == Status::Ok {
            if let (Some(e), Some(sg)) = (r.err_mm, r.sigma_mm) {
                if e.abs() > 2.0 * sg {
                    println!(
                        "  outside 2 sigma: seed {} {:?} err {e:+.3} sigma {sg:.3}",
                        r.seed, r.coverage
                    );
                }
            }
        }
    }
    s
}

fn check(s: &Summary, label: &str, min_ok_rate: f64) {
    assert!(s.ok > 0, "{label}: no hand measured ok");
    assert!(
        s.mean_abs_mm <= 0.3,
        "{label}: mean |err| {:.3} mm > 0.3 mm",
        s.mean_abs_mm
    );
    assert!(
        s.worst_ok_mm <= 1.0,
        "{label}: an ok result is {:.3} mm off (> 1 mm)",
        s.worst_ok_mm
    );
    assert!(
        s.within_1s >= 0.68,
        "{label}: only {:.0} % within 1 sigma",
        100.0 * s.within_1s
    );
    assert!(
        s.within_2s >= 0.95,
        "{label}: only {:.0} % within 2 sigma",
        100.0 * s.within_2s
    );
    let rate = s.ok as f64 / s.n as f64;
    assert!(
        rate >= min_ok_rate,
        "{label}: ok on {:.0} % of hands (floor {:.0} %)",
        100.0 * rate,
        100.0 * min_ok_rate
    );
}

/// Issue 4 acceptance: ≥ 50 virtual hands through `ScanSession`, with and without landmarks.
#[test]
fn fifty_virtual_hands_through_the_session() {
    let n = env_usize("MEASURE_VIRTUAL_N", 50) as u64;
    let frames = env_usize("MEASURE_VIRTUAL_FRAMES", 16);
    let t = std::time::Instant::now();
    let rows = run_all(300..300 + n, frames);
    println!(
        "{} sessions in {:.1} s",
        rows.len(),
        t.elapsed().as_secs_f64()
    );
    let lm: Vec<&Row> = rows.iter().filter(|r| r.landmarks).collect();
    let geo: Vec<&Row> = rows.iter().filter(|r| !r.landmarks).collect();
    let s_lm = summarise(&lm, "with landmarks");
    let s_geo = summarise(&geo, "landmark-free");
    check(&s_lm, "with landmarks", MIN_OK_RATE_LANDMARKS);
    check(&s_geo, "landmark-free", MIN_OK_RATE_GEOMETRIC);
}

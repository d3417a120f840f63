//! Issue 14 item 6: randomised front-camera scans (still phone, hand turning back → side →
//! palm, torso and face fixed to the camera, no poses) through the [`ScanSession`] a phone
//! runs, with and without landmarks, both hands.
//!
//! `front_camera_randomised_set` is `#[ignore]`d (tens of minutes): run it with
//! `cargo test --release --locked -p mandrel-core --test front_virtual -- --ignored --nocapture`.
//! It prints a row per session and the table (n, ok %, mean |err|, p95 |err|, within 1σ
//! and 2σ, frames to `Done`), then checks the acceptance: ≥ 90 % `ok`, mean |err| ≤ 0.3 mm,
//! |err| ≤ 2σ on ≥ 95 % of the `ok` results. Environment: `FRONT_VIRTUAL_N` scans (default
//! 50; each is measured with and without landmarks), `FRONT_VIRTUAL_FRAMES` (default 90),
//! `FRONT_VIRTUAL_BODY=0` leaves out the torso and face (the control),
//! `FRONT_VIRTUAL_THREADS` (default 1).
//!
//! `front_scan_ci_sized` is the small fixed-seed version that runs in CI.

use mandrel_core::hand::Hand;
use mandrel_core::measure::Status;
use mandrel_core::session::{Hint, ScanSession, SessionConfig};
use mandrel_sim::{Coverage, SimOptions, SimScan};
use std::sync::Mutex;

#[derive(Debug, Clone)]
struct Row {
    seed: u64,
    landmarks: bool,
    err_mm: Option<f64>,
    sigma_mm: Option<f64>,
    status: Status,
    frames_to_done: Option<usize>,
    ms_per_frame: f64,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn options(seed: u64, frames: usize, body: bool) -> SimOptions {
    SimOptions {
        coverage: Coverage::Turn,
        poses_given: false,
        frames,
        hand_side: Some(if seed.is_multiple_of(2) {
            Hand::Left
        } else {
            Hand::Right
        }),
        body_behind: Some(body),
        ..SimOptions::default()
    }
}

/// Pushes every frame, records when guidance first says `Done`, then finishes.
fn run_session(sim: &SimScan, use_landmarks: bool, seed: u64) -> Row {
    let mut cfg = SessionConfig::new(sim.target);
    cfg.use_landmarks = use_landmarks;
    let mut session = ScanSession::new(cfg).expect("session");
    let mut done_at = None;
    let t = std::time::Instant::now();
    for (i, f) in sim.frames.iter().enumerate() {
        match session.push_frame(f.clone()) {
            Ok(r) => {
                if done_at.is_none() && r.guidance.hint == Hint::Done {
                    done_at = Some(i + 1);
                }
            }
            Err(e) => {
                println!("seed {seed} landmarks {use_landmarks}: push_frame {i}: {e}");
                break;
            }
        }
    }
    let ms_per_frame = t.elapsed().as_secs_f64() * 1e3 / sim.frames.len().max(1) as f64;
    let (err_mm, sigma_mm, status, reasons) = match session.finish() {
        Ok(m) => (
            m.ring_circumference_mm
                .map(|r| r - sim.truth.ring_circumference_mm),
            m.uncertainty_mm,
            m.status,
            format!("{:?}", m.reasons),
        ),
        Err(e) => (None, None, Status::NeedsRescan, format!("error: {e}")),
    };
    println!(
        "seed {seed} {:?} landmarks {use_landmarks}: truth {:.2} err {} sigma {} {:?} {} done at {} ({:.0} ms/frame)",
        sim.target.hand,
        sim.truth.ring_circumference_mm,
        err_mm.map_or("-".into(), |e| format!("{e:+.3}")),
        sigma_mm.map_or("-".into(), |s| format!("{s:.3}")),
        status,
        reasons,
        done_at.map_or("-".into(), |d| d.to_string()),
        ms_per_frame
    );
    Row {
        seed,
        landmarks: use_landmarks,
        err_mm,
        sigma_mm,
        status,
        frames_to_done: done_at,
        ms_per_frame,
    }
}

fn run_all(seeds: std::ops::Range<u64>, frames: usize, body: bool, threads: usize) -> Vec<Row> {
    let next = Mutex::new(seeds);
    let rows = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let Some(seed) = next.lock().unwrap().next() else {
                    break;
                };
                let sim = SimScan::generate(seed, &options(seed, frames, body)).expect("sim");
                for lm in [true, false] {
                    let r = run_session(&sim, lm, seed);
                    rows.lock().unwrap().push(r);
                }
            });
        }
    });
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by_key(|r| (r.seed, !r.landmarks));
    rows
}

/// Table figures over `rows`.
struct Summary {
    n: usize,
    ok_rate: f64,
    mean_abs_mm: f64,
    p95_abs_mm: f64,
    within_1s: f64,
    within_2s: f64,
}

fn summarise(rows: &[&Row], label: &str) -> Summary {
    let ok: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r.status == Status::Ok)
        .filter_map(|r| Some((r.err_mm?.abs(), r.sigma_mm?)))
        .collect();
    let k = ok.len().max(1) as f64;
    let mut abs: Vec<f64> = ok.iter().map(|e| e.0).collect();
    abs.sort_by(f64::total_cmp);
    let p95 = abs
        .get(((abs.len() as f64 * 0.95).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(f64::NAN);
    let done: Vec<usize> = rows.iter().filter_map(|r| r.frames_to_done).collect();
    let mut done_sorted = done.clone();
    done_sorted.sort_unstable();
    let s = Summary {
        n: rows.len(),
        ok_rate: ok.len() as f64 / rows.len().max(1) as f64,
        mean_abs_mm: abs.iter().sum::<f64>() / k,
        p95_abs_mm: p95,
        within_1s: ok.iter().filter(|e| e.0 <= e.1).count() as f64 / k,
        within_2s: ok.iter().filter(|e| e.0 <= 2.0 * e.1).count() as f64 / k,
    };
    let ms = rows.iter().map(|r| r.ms_per_frame).sum::<f64>() / rows.len().max(1) as f64;
    println!(
        "| {label} | {} | {:.0} % | {:.3} | {:.3} | {:.0} % | {:.0} % | {} of {} (median {}) | {:.0} |",
        s.n,
        100.0 * s.ok_rate,
        s.mean_abs_mm,
        s.p95_abs_mm,
        100.0 * s.within_1s,
        100.0 * s.within_2s,
        done.len(),
        rows.len(),
        done_sorted
            .get(done_sorted.len() / 2)
            .map_or("-".into(), |d| d.to_string()),
        ms
    );
    s
}

fn table(rows: &[Row]) -> Vec<Summary> {
    println!("| set | n | ok | mean abs err mm | p95 abs err mm | within 1 sigma | within 2 sigma | reached Done | ms/frame |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let lm: Vec<&Row> = rows.iter().filter(|r| r.landmarks).collect();
    let geo: Vec<&Row> = rows.iter().filter(|r| !r.landmarks).collect();
    let all: Vec<&Row> = rows.iter().collect();
    vec![
        summarise(&all, "all"),
        summarise(&lm, "with landmarks"),
        summarise(&geo, "landmark-free"),
    ]
}

/// Issue 14 item 6 acceptance over ≥ 50 randomised front-camera scans (see the module doc).
#[test]
#[ignore = "tens of minutes; run with --ignored --nocapture"]
fn front_camera_randomised_set() {
    let n = env_usize("FRONT_VIRTUAL_N", 50) as u64;
    let frames = env_usize("FRONT_VIRTUAL_FRAMES", 90);
    let body = env_usize("FRONT_VIRTUAL_BODY", 1) != 0;
    let threads = env_usize("FRONT_VIRTUAL_THREADS", 1);
    println!("front-camera set: {n} scans x {frames} frames, body behind: {body}");
    let rows = run_all(1400..1400 + n, frames, body, threads);
    let s = &table(&rows)[0];
    assert!(s.n >= 100 || n < 50, "fewer sessions than asked");
    assert!(
        s.ok_rate >= 0.9,
        "ok on {:.0} % (< 90 %)",
        100.0 * s.ok_rate
    );
    assert!(s.mean_abs_mm <= 0.3, "mean |err| {:.3} mm", s.mean_abs_mm);
    assert!(
        s.within_2s >= 0.95,
        "within 2 sigma {:.0} %",
        100.0 * s.within_2s
    );
}

/// A fixed-seed front scan, small enough for CI: the virtual sensor's turning hand and
/// structured-light depth measured with the exact hand-to-camera poses given (as platform
/// poses) and no body behind (tracking and background handling are what the ignored set
/// exercises): it must come out `ok` within 2σ (+0.1 mm) of the truth.
#[test]
fn front_scan_ci_sized() {
    let mut sim = SimScan::generate(1401, &options(1401, 45, false)).expect("sim");
    for (f, p) in sim.frames.iter_mut().zip(&sim.true_poses) {
        f.pose = Some(*p);
    }
    let row = run_session(&sim, true, 1401);
    assert_eq!(row.status, Status::Ok, "{row:?}");
    let (e, s) = (row.err_mm.unwrap().abs(), row.sigma_mm.unwrap());
    assert!(e <= 2.0 * s + 0.1, "|err| {e:.3} mm at sigma {s:.3}");
}

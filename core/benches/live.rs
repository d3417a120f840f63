//! Live budget of the front-camera scan (issue 14): the whole `push_frame` per frame and
//! `finish`, on one thread (a one-thread rayon pool), on the shared front scans
//! (`td-front-nopose-06`, `webxr-front-nopose-07`; skipped when `../shared` is absent) and
//! on a virtual front scan (seed 1414, torso and face behind).
//!
//! For each scan it first replays every frame into a fresh session and prints the
//! per-frame `push_frame` wall time (median, p95, max), the frame at which guidance first
//! said `Done`, and the `finish` time; then
//! criterion times `finish` on the filled session and `push_frame` over a replay of the
//! scan. Targets (≤ 33 ms per frame, median and p95; `finish` ≤ 300 ms) are printed next to
//! the figures, never asserted.
//!
//! `cargo bench -p mandrel-core --bench live`; `MANDREL_LIVE_FRAMES=N` replays only the
//! first N frames of each scan (the full replay of a scan whose tracking is lost takes
//! minutes on a loaded machine); `MANDREL_LIVE_SCANS=a,b` picks scans (`virtual` for the
//! virtual one); `MANDREL_LIVE_NO_LANDMARKS=1` runs the sessions without landmarks (the
//! hand's region carried from frame to frame instead of the landmarks' hull).
//!
//! Besides wall times it prints each frame's CPU time (median, p95; on a machine shared
//! with other work the wall time also counts other processes' turns on the core) and the
//! session's per-stage means (tracking with segmentation, fusion, observation extraction,
//! and the rest: mostly the provisional measurement every `provisional_every` frames).

use criterion::{criterion_group, criterion_main, Criterion};
use mandrel_core::frame::Frame;
use mandrel_core::hand::Target;
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{Hint, ScanSession, SessionConfig};
use mandrel_sim::{Coverage, SimOptions, SimScan};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const FRAME_BUDGET_MS: f64 = 33.0;
const FINISH_BUDGET_MS: f64 = 300.0;

fn frame_limit() -> usize {
    std::env::var("MANDREL_LIVE_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX)
}

fn wanted(name: &str) -> bool {
    match std::env::var("MANDREL_LIVE_SCANS") {
        Ok(list) => list.split(',').any(|s| s.trim() == name),
        Err(_) => true,
    }
}

fn scans() -> Vec<(String, Target, Vec<Frame>)> {
    let mut out = Vec::new();
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/scans");
    for name in ["td-front-nopose-06", "webxr-front-nopose-07"] {
        if !wanted(name) {
            continue;
        }
        let Ok(scan) = ScanFolder::open(shared.join(name)) else {
            println!("live bench: {name} absent (no ../shared), skipped");
            continue;
        };
        let frames: Result<Vec<Frame>, _> = (0..scan.len().min(frame_limit()))
            .map(|i| scan.frame(i))
            .collect();
        match frames {
            Ok(f) => out.push((name.to_string(), scan.manifest.target, f)),
            Err(e) => println!("live bench: {name} unreadable ({e}), skipped"),
        }
    }
    if wanted("virtual") {
        let opts = SimOptions {
            coverage: Coverage::Turn,
            poses_given: false,
            frames: 90.min(frame_limit()).max(1),
            ..SimOptions::default()
        };
        let sim = SimScan::generate(1414, &opts).expect("virtual front scan");
        out.push(("virtual front seed 1414".into(), sim.target, sim.frames));
    }
    out
}

/// The session configuration of the bench (see `MANDREL_LIVE_NO_LANDMARKS`).
fn config(target: Target) -> SessionConfig {
    let mut c = SessionConfig::new(target);
    if std::env::var_os("MANDREL_LIVE_NO_LANDMARKS").is_some_and(|v| v != "0") {
        c.use_landmarks = false;
    }
    c
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// CPU time (nanoseconds) the process's threads have run so far, from the scheduler's
/// per-thread statistics (Linux); `None` elsewhere. On a machine shared with other work a
/// frame's wall time also counts the time other processes held the core; its CPU time
/// does not (the calling thread waits on the one-thread pool without spinning, so the
/// work is counted once).
fn cpu_ns() -> Option<u64> {
    let mut sum = 0u64;
    for e in std::fs::read_dir("/proc/self/task").ok()? {
        let path = e.ok()?.path().join("schedstat");
        let text = std::fs::read_to_string(path).ok()?;
        sum += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(sum)
}

/// Replays the scan into a fresh session: per-frame push wall times and CPU times (ms;
/// CPU times empty where unavailable), the frame (1-based) at which guidance first said
/// `Done`, and the session.
fn replay(target: Target, frames: &[Frame]) -> (Vec<f64>, Vec<f64>, Option<usize>, ScanSession) {
    let mut s = ScanSession::new(config(target)).expect("session");
    let mut times = Vec::with_capacity(frames.len());
    let mut cpu = Vec::with_capacity(frames.len());
    let mut done = None;
    for (i, f) in frames.iter().enumerate() {
        let f = f.clone();
        let c = cpu_ns();
        let t = Instant::now();
        let r = s.push_frame(f);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        if let (Some(a), Some(b)) = (c, cpu_ns()) {
            cpu.push(b.saturating_sub(a) as f64 * 1e-6);
        }
        if done.is_none() && r.is_ok_and(|r| r.guidance.hint == Hint::Done) {
            done = Some(i + 1);
        }
    }
    (times, cpu, done, s)
}

fn bench(c: &mut Criterion) {
    // One thread: the phone gives the pipeline one core.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global();
    for (name, target, frames) in scans() {
        let (mut times, mut cpu, done, session) = replay(target, &frames);
        // The frames without a provisional measurement (every `provisional_every`-th).
        let every = config(target).provisional_every.max(1);
        let mut plain: Vec<f64> = times
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + 1) % every != 0)
            .map(|(_, t)| *t)
            .collect();
        plain.sort_by(f64::total_cmp);
        times.sort_by(f64::total_cmp);
        let mut cpu_plain: Vec<f64> = cpu
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + 1) % every != 0)
            .map(|(_, t)| *t)
            .collect();
        cpu_plain.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        if !cpu.is_empty() {
            println!(
                "live bench {name}: push_frame CPU time median {:.1} ms, p95 {:.1} ms, max {:.1} ms; \
                 without the frames of a provisional measurement median {:.1} ms, p95 {:.1} ms",
                percentile(&cpu, 0.5),
                percentile(&cpu, 0.95),
                cpu.last().copied().unwrap_or(f64::NAN),
                percentile(&cpu_plain, 0.5),
                percentile(&cpu_plain, 0.95),
            );
        }
        let c0 = cpu_ns();
        let t = Instant::now();
        let m = session.finish();
        let finish_ms = t.elapsed().as_secs_f64() * 1e3;
        if let (Some(a), Some(b)) = (c0, cpu_ns()) {
            println!(
                "live bench {name}: finish CPU time {:.0} ms",
                b.saturating_sub(a) as f64 * 1e-6
            );
        }
        let lost = session.tracking_summary().frames_lost;
        // Per-stage means over the replay (one thread: the stages run one after another,
        // so the rest is the per-frame work between them, mostly the provisional
        // measurement).
        let st = session.timings();
        let n = frames.len().max(1) as f64;
        println!(
            "live bench {name}: frames without a provisional measurement: median {:.1} ms, \
             p95 {:.1} ms; per frame track {:.1} ms, fuse {:.1} ms, observe {:.1} ms, \
             rest {:.1} ms (total {:.1} ms)",
            percentile(&plain, 0.5),
            percentile(&plain, 0.95),
            st.track / n,
            st.fuse / n,
            st.observe / n,
            (st.total - st.track - st.fuse - st.observe) / n,
            st.total / n,
        );
        println!(
            "live bench {name}: {} frames, push_frame median {:.1} ms, p95 {:.1} ms, max {:.1} ms \
             (target <= {FRAME_BUDGET_MS} ms); finish {:.0} ms (target <= {FINISH_BUDGET_MS} ms); \
             {lost} frames lost; guidance Done at frame {}; {}",
            frames.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times.last().copied().unwrap_or(f64::NAN),
            finish_ms,
            done.map_or("-".to_string(), |d| d.to_string()),
            match m {
                Ok(m) => format!(
                    "{:?} {:?} ring {:?} mm sigma {:?}",
                    m.status, m.reasons, m.ring_circumference_mm, m.uncertainty_mm
                ),
                Err(e) => format!("finish failed: {e}"),
            }
        );
        let mut g = c.benchmark_group(format!("live/{name}"));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(5));
        g.bench_function("finish", |b| b.iter(|| session.finish()));
        // push_frame over a replay: a session carried across iterations, restarted at the
        // end of the scan; only the push calls are timed.
        g.bench_function("push_frame", |b| {
            let mut s = ScanSession::new(config(target)).expect("session");
            let mut i = 0usize;
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    if i == frames.len() {
                        s = ScanSession::new(config(target)).expect("session");
                        i = 0;
                    }
                    let f = frames[i].clone();
                    let t = Instant::now();
                    let _ = s.push_frame(f);
                    spent += t.elapsed();
                    i += 1;
                }
                spent
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

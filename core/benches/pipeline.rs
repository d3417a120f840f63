//! Whole-pipeline time of one scan through a [`ScanSession`] (pose refinement, fusion,
//! observations, localisation, sections): prints the session's per-stage wall times
//! (`timings_ms`) and the process CPU time, averaged over a few runs. The scan is the shared
//! sample `td-full-pose-01` (40 frames, 640x480, platform poses) when `../shared` is
//! present, else a virtual-sensor scan (seed 7). Frames are decoded before timing.
//!
//! `cargo bench -p mandrel-core --bench pipeline` (add `RAYON_NUM_THREADS=1` for the
//! single-thread figures; wall times are inflated when other processes share the CPU, the
//! CPU time is the figure to compare then).

use mandrel_core::frame::Frame;
use mandrel_core::hand::Target;
use mandrel_core::measure::Timings;
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{SimOptions, SimScan};
use std::path::PathBuf;

/// User + system CPU time of this process (all threads), seconds (Linux; `None` elsewhere).
fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks / 100.0)
}

fn load() -> (String, Target, Vec<Frame>) {
    let name = std::env::var("MANDREL_BENCH_SCAN").unwrap_or_else(|_| "td-full-pose-01".into());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/scans")
        .join(&name);
    if let Ok(scan) = ScanFolder::open(&dir) {
        let frames: Result<Vec<Frame>, _> = (0..scan.len()).map(|i| scan.frame(i)).collect();
        if let Ok(frames) = frames {
            return (name, scan.manifest.target, frames);
        }
    }
    let sim = SimScan::generate(7, &SimOptions::default()).expect("virtual scan");
    ("virtual sensor seed 7".into(), sim.target, sim.frames)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is parsed.
    let (name, target, frames) = load();
    let runs = std::env::var("MANDREL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3usize)
        .max(1);
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    let (w, h) = frames
        .first()
        .map_or((0, 0), |f| (f.intrinsics.width, f.intrinsics.height));
    println!(
        "pipeline bench on {name}: {} frames {w}x{h}, {runs} runs, RAYON_NUM_THREADS={threads}",
        frames.len()
    );
    let mut sum = Timings::default();
    let mut cpu = 0.0;
    for run in 0..runs {
        let frames = frames.clone();
        let c0 = process_cpu_s();
        let mut session = ScanSession::new(SessionConfig::new(target)).expect("session");
        for f in frames {
            session.push_frame(f).expect("frame");
        }
        let m = session.finish().expect("measurement");
        let c1 = process_cpu_s();
        let t = m.timings_ms;
        if let (Some(a), Some(b)) = (c0, c1) {
            cpu += b - a;
        }
        println!(
            "run {run}: {:?} ring {:?} mm; ms: track {:.0} fuse {:.0} observe {:.0} locate {:.0} section {:.0} total {:.0}",
            m.status, m.ring_circumference_mm, t.track, t.fuse, t.observe, t.locate, t.section, t.total
        );
        sum.track += t.track;
        sum.fuse += t.fuse;
        sum.observe += t.observe;
        sum.locate += t.locate;
        sum.section += t.section;
        sum.total += t.total;
    }
    let n = runs as f64;
    println!(
        "mean wall ms per scan: track {:.0}, fuse {:.0}, observe {:.0}, locate {:.0}, section {:.0}, total {:.0}; process CPU {:.0} ms per scan",
        sum.track / n,
        sum.fuse / n,
        sum.observe / n,
        sum.locate / n,
        sum.section / n,
        sum.total / n,
        cpu * 1000.0 / n
    );
}

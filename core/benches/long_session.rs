//! Memory of one long session: pushes a virtual-sensor scan's frames over and over (30 fps
//! timestamps) for `MANDREL_LONG_SESSION_FRAMES` frames (default 18,000: 10 minutes), then
//! finishes, and prints the kept observation bytes, the frames dropped by the bounded
//! store, and the process's resident and peak memory (Linux `/proc/self/status`) along the
//! way. Run with and without landmarks (`MANDREL_LONG_SESSION_LANDMARKS=0`): without them
//! observations are not cropped to the finger, the worst case for the store.
//!
//! `cargo bench -p mandrel-core --bench long_session`

use mandrel_core::limits::MAX_SESSION_OBSERVATION_BYTES;
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{SimOptions, SimScan};

/// `VmRSS` and `VmHWM` of this process, MiB (Linux; zeros elsewhere).
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let n: usize = std::env::var("MANDREL_LONG_SESSION_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(18_000);
    let landmarks = std::env::var("MANDREL_LONG_SESSION_LANDMARKS").map_or(true, |v| v != "0");
    let sim = SimScan::generate(7, &SimOptions::default()).expect("virtual scan");
    let mut cfg = SessionConfig::new(sim.target);
    cfg.use_landmarks = landmarks;
    let mut session = ScanSession::new(cfg).expect("session");
    let (w, h) = (
        sim.frames[0].intrinsics.width,
        sim.frames[0].intrinsics.height,
    );
    println!(
        "long session: {n} frames cycled from {} virtual {w}x{h} frames, landmarks {landmarks}, budget {} MiB",
        sim.frames.len(),
        MAX_SESSION_OBSERVATION_BYTES >> 20
    );
    let t0 = std::time::Instant::now();
    for i in 0..n {
        let mut f = sim.frames[i % sim.frames.len()].clone();
        f.timestamp = i as f64 / 30.0;
        if !landmarks {
            f.landmarks = None;
        }
        session.push_frame(f).expect("frame");
        if (i + 1) % 1000 == 0 || i + 1 == n {
            let (rss, hwm) = rss_mib();
            println!(
                "frame {:>6}: observations {:>6.1} MiB kept, {:>6} frames dropped; RSS {rss:.0} MiB, peak {hwm:.0} MiB; {:.0} s",
                i + 1,
                session.observation_bytes() as f64 / (1 << 20) as f64,
                session.observations_dropped(),
                t0.elapsed().as_secs_f64()
            );
        }
    }
    let m = session.finish();
    let (rss, hwm) = rss_mib();
    println!(
        "finish: {:?}; RSS {rss:.0} MiB, peak {hwm:.0} MiB",
        m.map(|m| (m.status, m.ring_circumference_mm))
    );
}

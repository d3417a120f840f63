//! Memory of one long session: pushes a virtual-sensor scan's frames over and over (30 fps
//! timestamps) for `MANDREL_LONG_SESSION_FRAMES` frames (default 18,000: 10 minutes), then
//! finishes, and prints the kept observation bytes, the frames dropped by the bounded
//! store, and the process's resident and peak memory (Linux `/proc/self/status`) along the
//! way, and the peak during `finish` alone (the peak is reset before it). Run with and
//! without landmarks (`MANDREL_LONG_SESSION_LANDMARKS=0`): without them observations are
//! not cropped to the finger, the worst case for the store. `MANDREL_LONG_SESSION_SENSOR`
//! picks the virtual sensor: `truedepth` (640x480, default) or `lidar` (256x192). With
//! `MANDREL_LONG_SESSION_DISTINCT=1` every pass over the scan is a new virtual scan of the
//! same hand in the same place (another camera path and noise), so no frame repeats an
//! earlier one: the worst case for `finish`, which measures each distinct view once.
//!
//! `cargo bench -p mandrel-core --bench long_session`

use std::sync::atomic::Ordering;

#[path = "../tests/counting_alloc/mod.rs"]
mod counting_alloc;
use counting_alloc::{LIVE, PEAK};

use mandrel_core::limits::MAX_SESSION_OBSERVATION_BYTES;
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{Sensor, SimOptions, SimScan};

/// Live heap bytes and their peak so far, MiB.
fn heap_mib() -> (f64, f64) {
    let mib = |b: usize| b as f64 / (1 << 20) as f64;
    (
        mib(LIVE.load(Ordering::Relaxed)),
        mib(PEAK.load(Ordering::Relaxed)),
    )
}

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

/// Depth bytes of a virtual scan's frames, MiB.
fn sensor_depth_mib(s: &SimScan) -> f64 {
    s.frames
        .iter()
        .map(|f| std::mem::size_of_val(f.depth.depth_m()))
        .sum::<usize>() as f64
        / (1 << 20) as f64
}

fn main() {
    let n: usize = std::env::var("MANDREL_LONG_SESSION_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(18_000);
    let landmarks = std::env::var("MANDREL_LONG_SESSION_LANDMARKS").map_or(true, |v| v != "0");
    let sensor = match std::env::var("MANDREL_LONG_SESSION_SENSOR").as_deref() {
        Ok("lidar") => Sensor::Lidar,
        _ => Sensor::TrueDepth,
    };
    let opts = SimOptions {
        sensor,
        ..SimOptions::default()
    };
    let distinct = std::env::var("MANDREL_LONG_SESSION_DISTINCT").is_ok_and(|v| v == "1");
    let mut sim = SimScan::generate(7, &opts).expect("virtual scan");
    let same_hand = SimOptions {
        hand: Some(sim.hand.params().clone()),
        ..opts.clone()
    };
    let mut cfg = SessionConfig::new(sim.target);
    cfg.use_landmarks = landmarks;
    let mut session = ScanSession::new(cfg).expect("session");
    let (w, h) = (
        sim.frames[0].intrinsics.width,
        sim.frames[0].intrinsics.height,
    );
    println!(
        "long session: {n} frames cycled from {} virtual {w}x{h} frames (a new scan each pass: {distinct}), landmarks {landmarks}, budget {} MiB",
        sim.frames.len(),
        MAX_SESSION_OBSERVATION_BYTES >> 20
    );
    let t0 = std::time::Instant::now();
    for i in 0..n {
        let pass = i / sim.frames.len();
        if distinct && pass > 0 && i % sim.frames.len() == 0 {
            sim = SimScan::generate(7 + pass as u64, &same_hand).expect("virtual scan");
        }
        let mut f = sim.frames[i % sim.frames.len()].clone();
        f.timestamp = i as f64 / 30.0;
        if !landmarks {
            f.landmarks = None;
        }
        session.push_frame(f).expect("frame");
        if (i + 1) % 1000 == 0 || i + 1 == n {
            let (rss, hwm) = rss_mib();
            let (live, _) = heap_mib();
            println!(
                "frame {:>6}: observations {:>6.1} MiB kept, {:>6} frames dropped; heap {live:.0} MiB; RSS {rss:.0} MiB, peak {hwm:.0} MiB; {:.0} s",
                i + 1,
                session.observation_bytes() as f64 / (1 << 20) as f64,
                session.observations_dropped(),
                t0.elapsed().as_secs_f64()
            );
        }
    }
    let (_, push_peak) = rss_mib();
    let (heap_before, heap_peak_push) = heap_mib();
    // The virtual sensor's frames are the test's, not the session's: free them before
    // `finish`, and report the session's share of the heap without them.
    let sensor_mib = sensor_depth_mib(&sim);
    drop(sim);
    let (heap_session, _) = heap_mib();
    // Reset the peaks (the RSS one on Linux), so that they show what `finish` reaches.
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let t = std::time::Instant::now();
    let m = session.finish();
    let (rss, hwm) = rss_mib();
    let (_, heap_peak_finish) = heap_mib();
    println!(
        "finish: {:?}, {:.1} s",
        m.map(|m| (
            m.status,
            m.ring_circumference_mm,
            m.frames_used,
            m.duplicate_frames
        )),
        t.elapsed().as_secs_f64(),
    );
    println!(
        "heap: {heap_before:.0} MiB before finish, peak {heap_peak_push:.0} MiB while pushing, {heap_peak_finish:.0} MiB during finish"
    );
    println!(
        "session alone (the sensor's frames, {sensor_mib:.0} MiB per scan and up to two scans while the next is made, freed): heap {heap_session:.0} MiB before finish, peak {heap_peak_finish:.0} MiB during finish"
    );
    println!(
        "RSS: {rss:.0} MiB after finish, peak {push_peak:.0} MiB while pushing, {} during finish",
        if reset {
            format!("{hwm:.0} MiB")
        } else {
            "unknown (peak not reset)".into()
        }
    );
}

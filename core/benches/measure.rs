//! Measurement cost: observation extraction per 640x480 frame (with a finger region of
//! interest, as the pipeline uses it), one ring cross-section (axis refinement, fit and
//! jackknife) and the knuckle search, on a simulated 40-frame TrueDepth hand scan.
//! Prints wall and thread-CPU milliseconds (CPU time does not depend on machine load).
//! `cargo bench -p mandrel-core --bench measure -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion};
use mandrel_core::measure::observe::{FrameObservations, ObserveConfig, Roi};
use mandrel_core::measure::section::{FingerAxis, SectionConfig, SectionMeasurer};
use mandrel_sim::capture::{PoseDrift, SimOptions, SimScan};
use std::hint::black_box;
use std::time::Instant;

/// This thread's CPU time in nanoseconds (Linux), if available.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn report(name: &str, reps: u32, f: &mut dyn FnMut()) {
    let c0 = thread_cpu_ns();
    let t0 = Instant::now();
    for _ in 0..reps {
        f();
    }
    let wall = t0.elapsed().as_secs_f64() * 1e3 / reps as f64;
    let cpu = match (c0, thread_cpu_ns()) {
        (Some(a), Some(b)) => format!("{:.2} ms CPU", (b - a) as f64 / 1e6 / reps as f64),
        _ => "CPU n/a".into(),
    };
    eprintln!("{name}: {wall:.2} ms wall, {cpu} per call");
}

fn bench(c: &mut Criterion) {
    let opts = SimOptions {
        frames: 40,
        pose_drift: PoseDrift::none(),
        ..Default::default()
    };
    let scan = SimScan::generate(7, &opts).expect("simulate");
    let ft = &scan.finger_truth;
    let axis = FingerAxis::new(ft.mcp, ft.pip).expect("axis");
    let cfg = ObserveConfig {
        roi: Some(Roi::around_finger(axis.mcp, axis.pip, 0.03)),
        ..Default::default()
    };
    let frame = &scan.frames[0];
    let pose = scan.true_poses[0];
    let obs: Vec<FrameObservations> = scan
        .frames
        .iter()
        .zip(&scan.true_poses)
        .map(|(f, p)| FrameObservations::extract_with(f, p, &cfg).expect("observe"))
        .collect();
    let sc = SectionConfig {
        pose_drift_sigma_m: 0.0,
        ..Default::default()
    };
    report("observe one frame (ROI)", 20, &mut || {
        black_box(FrameObservations::extract_with(frame, &pose, &cfg).unwrap());
    });
    report("observe one frame (whole image)", 5, &mut || {
        black_box(FrameObservations::extract(frame, &pose).unwrap());
    });
    report("ring section (40 frames)", 5, &mut || {
        let m = SectionMeasurer::new(&obs, &axis, &sc).unwrap();
        black_box(m.ring().unwrap());
    });
    report("ring + knuckle (40 frames)", 3, &mut || {
        let m = SectionMeasurer::new(&obs, &axis, &sc).unwrap();
        let (_, ax) = m.ring().unwrap();
        black_box(m.knuckle(Some(&ax)).unwrap());
    });
    let mut g = c.benchmark_group("measure");
    g.sample_size(10);
    g.bench_function("observe_frame_roi", |b| {
        b.iter(|| FrameObservations::extract_with(black_box(frame), &pose, &cfg).unwrap())
    });
    g.bench_function("ring_section_40_frames", |b| {
        b.iter(|| {
            let m = SectionMeasurer::new(black_box(&obs), &axis, &sc).unwrap();
            m.ring().unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The memory `finish` adds to a session is bounded by construction (`docs/limits.md`,
//! "What a session holds"): this drives the measurement a session's `finish` runs over a
//! worst-case store, counting every heap byte with its own global allocator (so this file
//! is its own test binary), and checks the peak against the documented bound.
//!
//! The worst case: the store filled to just under [`MAX_SESSION_OBSERVATION_BYTES`] with
//! distinct TrueDepth frames whose samples all lie in the region the fit gathers from, so
//! that the fit's input reaches its budget and every sample of it reaches the cloud.

use std::sync::atomic::Ordering;

#[path = "counting_alloc/mod.rs"]
mod counting_alloc;
use counting_alloc::{LIVE, PEAK};

use mandrel_core::limits::{
    MAX_FIT_FRAMES, MAX_FIT_OBSERVATION_BYTES, MAX_SESSION_OBSERVATION_BYTES,
};
use mandrel_core::measure::locate::LandmarkView;
use mandrel_core::measure::observe::{FrameObservations, ObserveConfig};
use mandrel_core::measure::{measure_detailed, MeasureInput, MeasureOptions, TrackingSummary};
use mandrel_sim::{Sensor, SimOptions, SimScan};
use nalgebra::{Point3, Vector3};

const MIB: usize = 1 << 20;

/// Threads the measurement runs on (the cores of a large phone): the section fits run side
/// by side, each with its own working set, so the bound depends on it.
const THREADS: usize = 8;

/// What `finish` may add to the session's heap with [`THREADS`] threads, as
/// `docs/limits.md` adds it up: the fit's input and the cloud gathered from it (each at
/// most the fit budget), and per thread one slice's working set (at most
/// [`SLICE_WORKING_SET_BYTES`]), plus the copies of the per-frame bookkeeping (distinct
/// frames, landmark views) that measuring makes.
fn finish_bound_bytes(frames: usize, views: usize) -> usize {
    2 * MAX_FIT_OBSERVATION_BYTES as usize
        + THREADS * SLICE_WORKING_SET_BYTES
        + KNUCKLE_SLICES_BYTES
        + frames * 64
        + views * std::mem::size_of::<LandmarkView>()
}

/// One slice's working set at most (`docs/limits.md`): its observations (at most 16,000
/// samples and 4,000 tangents, 88 bytes each, plus 24 bytes of fit state each) and the
/// fit's normal equations (six `p × p` matrices of `f64` at a time: the equations, their
/// factor, the inverse and its scaled copy, and the covariances of the fit and of a
/// jackknife refit; `p` at most `2 * MAX_FIT_FRAMES` frame offsets plus 16 shape
/// parameters).
const SLICE_WORKING_SET_BYTES: usize = {
    let p = 2 * MAX_FIT_FRAMES as usize + 16;
    20_000 * (88 + 24) + 6 * p * p * 8
};

/// The knuckle scan keeps its 11 fitted slices (3,000 samples and 4,000 tangents, 88
/// bytes each) while it picks the largest.
const KNUCKLE_SLICES_BYTES: usize = 11 * 7_000 * 88;

/// Everything within the region the section fit gathers from (a capsule 16 + 6 mm around
/// the MCP–PIP segment, extended 5 + 8 mm past both ends), less a margin.
fn in_fit_region(p: &Point3<f32>, mcp: &Point3<f64>, pip: &Point3<f64>) -> bool {
    let p: Point3<f64> = p.cast();
    let dir = (pip - mcp).normalize();
    let len = (pip - mcp).norm();
    let t = (p - mcp).dot(&dir);
    t >= -0.012 && t <= len + 0.012 && (p - mcp).norm_squared() - t * t <= 0.021 * 0.021
}

#[test]
fn finish_on_a_full_store_of_fit_region_frames_stays_within_the_documented_bound() {
    let opts = SimOptions {
        sensor: Sensor::TrueDepth,
        ..SimOptions::default()
    };
    let sim = SimScan::generate(11, &opts).expect("virtual scan");
    let cfg = ObserveConfig::default();
    let mut frames = Vec::new();
    let mut views = Vec::new();
    for (f, pose) in sim.frames.iter().zip(&sim.true_poses) {
        if let Some(l) = f.landmarks.clone() {
            views.push(LandmarkView::new(*pose, f.intrinsics, l, Some(&f.depth)));
        }
        frames.push(FrameObservations::extract_with(f, pose, &cfg).expect("observe"));
    }
    let mut measure = MeasureOptions::new(sim.target);
    measure.use_landmarks = true;
    let run = |obs: &[FrameObservations], views: &[LandmarkView]| {
        let input = MeasureInput {
            observations: obs,
            landmark_views: views,
            surface: None,
            tracking: TrackingSummary {
                frames_total: obs.len(),
                ..Default::default()
            },
            upstream: Default::default(),
        };
        measure_detailed(&input, &measure).expect("measure")
    };
    let (_, detail) = run(&frames, &views);
    let finger = detail.finger.expect("the virtual finger is located");
    let (mcp, pip) = (finger.mcp.position, finger.pip.position);
    drop(sim);
    // Crop every frame to the fit region: every byte of the store is then fit input.
    for o in frames.iter_mut() {
        o.points.retain(|p| in_fit_region(&p.position, &mcp, &pip));
        o.tangents.retain(|t| in_fit_region(&t.point, &mcp, &pip));
        o.points.shrink_to_fit();
        o.tangents.shrink_to_fit();
    }
    frames.retain(|o| !o.points.is_empty());
    assert!(frames.len() >= 20, "{} frames see the finger", frames.len());
    // Fill the store with distinct copies: each copy's camera moves by 2 mm steps on a
    // grid (more than the near-duplicate test's 1.5 mm), the samples stay where they are
    // (moved by a micrometre, so that no copy repeats another bit for bit).
    let frame_bytes =
        |o: &FrameObservations| o.heap_bytes() + std::mem::size_of::<FrameObservations>();
    let budget = MAX_SESSION_OBSERVATION_BYTES as usize;
    let mut store: Vec<FrameObservations> = Vec::new();
    let mut bytes = 0;
    'fill: for copy in 0usize.. {
        let (i, j, k) = (copy % 9, (copy / 9) % 9, copy / 81);
        let shift = Vector3::new(i as f64 - 4.0, j as f64 - 4.0, k as f64 - 4.0) * 0.002;
        for f in &frames {
            if bytes + frame_bytes(f) > budget {
                break 'fill;
            }
            let mut o = f.clone();
            o.camera_centre += shift;
            // A micrometre per copy: other bits (not a replayed frame), the same surface.
            for p in o.points.iter_mut() {
                p.position.x += copy as f32 * 1e-6;
            }
            o.timestamp += copy as f64 * 10.0;
            bytes += frame_bytes(&o);
            store.push(o);
        }
    }
    store.shrink_to_fit();
    assert!(
        bytes > budget - 2 * MIB,
        "store {bytes} bytes, budget {budget}"
    );
    assert!(
        store.len() > MAX_FIT_FRAMES as usize,
        "{} frames",
        store.len()
    );
    frames.clear();
    frames.shrink_to_fit();

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .expect("thread pool");
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let (m, detail) = pool.install(|| run(&store, &views));
    let peak = PEAK.load(Ordering::Relaxed);
    let added = peak - before;
    let bound = finish_bound_bytes(store.len(), views.len());
    println!(
        "LandmarkView {} bytes, FrameObservations {} bytes",
        std::mem::size_of::<LandmarkView>(),
        std::mem::size_of::<FrameObservations>()
    );
    println!(
        "store {} frames, {:.1} MiB; heap {:.1} MiB before finish, {:.1} MiB peak: finish added {:.1} MiB (bound {:.1} MiB); {:?} {:?} mm, {} frames used",
        store.len(),
        bytes as f64 / MIB as f64,
        before as f64 / MIB as f64,
        peak as f64 / MIB as f64,
        added as f64 / MIB as f64,
        bound as f64 / MIB as f64,
        m.status,
        m.ring_circumference_mm,
        m.frames_used
    );
    // The worst case was measured, not refused: the sections were fitted.
    assert!(detail.ring.is_some(), "{m:?}");
    assert!(m.frames_used <= MAX_FIT_FRAMES as usize);
    assert_eq!(m.duplicate_frames.total(), 0, "{:?}", m.duplicate_frames);
    assert!(
        added <= bound,
        "finish added {added} bytes, over the documented bound of {bound}"
    );
}

//! Tracking cost per frame at 640x480 on one thread: steady state (constant-velocity guess,
//! projective ICP) and relocalisation (k-d tree ICP first). Prints ms per frame.
//! `cargo bench -p mandrel-core --bench track -- --warm-up-time 1 --measurement-time 3`

#[path = "../tests/track_support/mod.rs"]
mod track_support;

use criterion::{criterion_group, criterion_main, Criterion};
use mandrel_core::frame::Intrinsics;
use mandrel_core::track::{TrackConfig, TrackStatus, Tracker};
use nalgebra::Point3;
use std::hint::black_box;
use track_support::{orbit, Scene};

fn bench(c: &mut Criterion) {
    let k = Intrinsics::new(640, 480, 590.0, 590.0, 319.5, 239.5).unwrap();
    let centre = Point3::new(0.0, 0.0, 0.3);
    let scene = Scene::hand(centre);
    let truth = orbit(centre, 0.28, 3, 4.0);
    let depth: Vec<_> = truth
        .iter()
        .enumerate()
        .map(|(i, t)| scene.render(&k, t, 0.0006, i as u64 + 1))
        .collect();
    // Steady state: two frames accepted, so the next guess is a constant-velocity prediction.
    let mut warm = Tracker::new(TrackConfig::default()).unwrap();
    warm.bootstrap(&depth[0], Some(truth[0]));
    let map1 = scene.model_map(&k, &truth[0]);
    let r = warm.track_map(&depth[1], &k, &map1, None).unwrap();
    assert_eq!(r.health.status, TrackStatus::Ok);
    let map2 = scene.model_map(&k, &r.pose);
    // Wall time is inflated when other processes share the CPU; the thread's own CPU time
    // (Linux schedstat) is printed beside it as the figure that does not depend on load.
    let thread_cpu_ns = || -> Option<u64> {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let runs = 30;
    let wall = std::time::Instant::now();
    let cpu0 = thread_cpu_ns();
    for _ in 0..runs {
        let mut t = warm.clone();
        black_box(t.track_map(&depth[2], &k, &map2, None).unwrap());
    }
    let wall_ms = wall.elapsed().as_secs_f64() * 1e3 / runs as f64;
    match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) => println!(
            "track 640x480 steady state: {wall_ms:.2} ms/frame wall, {:.2} ms/frame thread CPU ({runs} runs)",
            (b - a) as f64 / 1e6 / runs as f64
        ),
        _ => println!("track 640x480 steady state: {wall_ms:.2} ms/frame wall ({runs} runs)"),
    }
    let mut group = c.benchmark_group("track_640x480");
    group.bench_function("steady_state", |b| {
        b.iter(|| {
            let mut t = warm.clone();
            let r = t.track_map(black_box(&depth[2]), &k, &map2, None).unwrap();
            assert_eq!(r.health.status, TrackStatus::Ok);
            r
        })
    });
    let mut fresh = Tracker::new(TrackConfig::default()).unwrap();
    fresh.bootstrap(&depth[0], Some(truth[0]));
    group.bench_function("relocalise_kdtree", |b| {
        b.iter(|| {
            let mut t = fresh.clone();
            t.track_map(black_box(&depth[1]), &k, &map1, None).unwrap()
        })
    });
    let platform = nalgebra::Isometry3::new(
        nalgebra::Vector3::new(0.001, 0.0, -0.001),
        nalgebra::Vector3::new(0.0, 0.002, 0.0),
    ) * truth[2];
    let map_p = scene.model_map(&k, &platform);
    group.bench_function("refine_platform_pose", |b| {
        b.iter(|| {
            let mut t = warm.clone();
            t.track_map(black_box(&depth[2]), &k, &map_p, Some(platform))
                .unwrap()
        })
    });
    // The whole per-frame tracking step against a fused volume: raycast (half resolution),
    // projective ICP and the SDF refinement.
    let mut vol = mandrel_core::fuse::TsdfVolume::new(Default::default()).unwrap();
    vol.integrate(&depth[0], &k, &truth[0]).unwrap();
    vol.integrate(&depth[1], &k, &r.pose).unwrap();
    let k_half = k.scaled_to(320, 240).unwrap();
    let runs = 10;
    let cpu0 = thread_cpu_ns();
    for _ in 0..runs {
        black_box(vol.raycast(&k_half, &r.pose));
    }
    let cpu1 = thread_cpu_ns();
    for _ in 0..runs {
        let mut t = warm.clone();
        black_box(t.track(&depth[2], &k, &vol, None).unwrap());
    }
    let cpu2 = thread_cpu_ns();
    if let (Some(a), Some(b), Some(c)) = (cpu0, cpu1, cpu2) {
        println!(
            "raycast 320x240: {:.2} ms CPU; full track() 640x480 (raycast + ICP + SDF refinement): {:.2} ms CPU ({runs} runs)",
            (b - a) as f64 / 1e6 / runs as f64,
            (c - b) as f64 / 1e6 / runs as f64
        );
    }
    group.bench_function("track_with_volume", |bch| {
        bch.iter(|| {
            let mut t = warm.clone();
            t.track(black_box(&depth[2]), &k, &vol, None).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

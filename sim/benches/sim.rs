//! Virtual sensor cost: one 640x480 hand frame (clean render of ~40 primitives, then the
//! TrueDepth noise model), the hand's ground truth, and a whole 40-frame scan (frames are
//! rendered on all cores with scoped threads). Prints time per iteration.
//! `cargo bench -p mandrel-sim --bench sim -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion};
use mandrel_core::hand::{Finger, Hand};
use mandrel_sim::render::{apply_noise, render_clean};
use mandrel_sim::{HandModel, HandParams, NoiseModel, SimOptions, SimScan};
use rand::SeedableRng;
use rand_pcg::Pcg64;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let scan = SimScan::generate(
        1,
        &SimOptions {
            frames: 8,
            ..Default::default()
        },
    )
    .expect("simulated scan");
    let k = scan.frames[0].intrinsics;
    let pose = scan.true_poses[3];
    let mut g = c.benchmark_group("sim");
    g.bench_function("render_clean_640x480_hand", |b| {
        b.iter(|| render_clean(black_box(scan.hand.scene()), &k, &pose).expect("render"))
    });
    let clean = render_clean(scan.hand.scene(), &k, &pose).expect("render");
    let noise = NoiseModel::truedepth();
    let mut rng = Pcg64::seed_from_u64(3);
    g.bench_function("noise_truedepth_640x480", |b| {
        b.iter(|| apply_noise(black_box(&clean), &noise, &mut rng).expect("noise"))
    });
    g.bench_function("hand_model_and_truth", |b| {
        b.iter(|| {
            let p = HandParams::random(&mut Pcg64::seed_from_u64(5), Hand::Left);
            HandModel::new(p)
                .and_then(|h| h.finger_truth(Finger::Ring))
                .expect("truth")
        })
    });
    g.sample_size(10);
    g.bench_function("generate_40_frames_640x480", |b| {
        b.iter(|| SimScan::generate(black_box(7), &SimOptions::default()).expect("scan"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

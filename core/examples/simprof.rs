use mandrel_core::sim::*;
use mandrel_core::scan::{Finger, Hand};
use rand::SeedableRng;
use std::time::Instant;
fn main() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
    let p = HandParams::random(&mut rng, Hand::Left);
    let t = Instant::now();
    let hand = HandModel::new(p).unwrap();
    let tr = hand.finger_truth(Finger::Ring).unwrap();
    println!("model+truth {:.1} ms", t.elapsed().as_secs_f64()*1e3);
    let mut n = 0; hand.scene().for_each_primitive(&mut |_| n += 1); println!("{n} primitives");
    let o = SimOptions { frames: 1, ..Default::default() };
    let s = SimScan::generate(1, &o).unwrap();
    let k = s.frames[0].intrinsics;
    for pose in s.true_poses.iter() {
        let t = Instant::now();
        let mut c = None;
        for _ in 0..10 { c = Some(render::render_clean(s.hand.scene(), &k, pose).unwrap()); }
        println!("clean {:.2} ms", t.elapsed().as_secs_f64()*1e2);
        let c = c.unwrap();
        let t = Instant::now();
        for _ in 0..10 { render::apply_noise(&c, &NoiseModel::truedepth(), &mut rng).unwrap(); }
        println!("noise {:.2} ms, valid {}", t.elapsed().as_secs_f64()*1e2, c.z_m.iter().filter(|z| **z>0.0).count());
    }
    let _ = tr;
    let t = Instant::now();
    let s = SimScan::generate(2, &SimOptions::default()).unwrap();
    println!("generate 40: {:.0} ms {}", t.elapsed().as_secs_f64()*1e3, s.frames.len());
}

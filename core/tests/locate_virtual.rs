//! Finger localisation on virtual hands (out of sample: the joint proportions of the
//! geometric finder were calibrated on the shared scans, not on these hands). Landmark
//! triangulation is asserted; the landmark-free finder's figures are printed, and asserted
//! only with `LOCATE_GEOMETRIC_ACCEPTANCE=1` (its target is not met on these hands yet).

use mandrel_core::fuse::{TsdfConfig, TsdfVolume};
use mandrel_core::measure::locate::{from_landmarks, geometric, LandmarkView, LocateConfig};
use mandrel_core::mesh;
use mandrel_core::sim::{SimOptions, SimScan};
use nalgebra::Point3;

fn p(a: [f64; 3]) -> Point3<f64> {
    Point3::new(a[0], a[1], a[2])
}

#[test]
fn landmark_and_geometric_localisation_on_virtual_hands() {
    let opts = SimOptions {
        frames: 24,
        ..SimOptions::default()
    };
    let (mut lm_worst, mut geo_worst, mut geo_fail) = (0.0f64, 0.0f64, 0);
    let mut geo_errs = vec![];
    let n: u64 = std::env::var("LOCATE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    for seed in 0..n {
        let sim = SimScan::generate(1000 + seed, &opts).expect("sim");
        let t = &sim.truth;
        let views: Vec<LandmarkView> = sim
            .frames
            .iter()
            .filter_map(|f| {
                Some(LandmarkView::new(
                    f.pose?,
                    f.intrinsics,
                    f.landmarks.clone()?,
                    Some(&f.depth),
                ))
            })
            .collect();
        let found = from_landmarks(&views, sim.target.finger, &LocateConfig::default())
            .expect("landmark localisation");
        let e_lm = (found.ring_point() - p(t.ring_point)).norm() * 1e3;
        lm_worst = lm_worst.max(e_lm);

        let mut vol = TsdfVolume::new(TsdfConfig::default()).unwrap();
        for (f, pose) in sim.frames.iter().zip(&sim.true_poses) {
            vol.integrate(&f.depth, &f.intrinsics, pose).unwrap();
        }
        let mut m = mesh::extract(&vol);
        m.remove_small_components(200);
        if std::env::var("LOCATE_DEBUG").is_ok() {
            let cands = geometric::find_fingers(&m.vertices, &m.normals);
            for (i, c) in cands.iter().enumerate() {
                let tm = (p(t.mcp) - c.base).dot(&c.direction);
                let tp = (p(t.pip) - c.base).dot(&c.direction);
                let d = p(t.pip) - c.base;
                let off = (d - c.direction * d.dot(&c.direction)).norm();
                println!(
                    "  cand {i}: len {:.1} mm truth mcp t {:.1} pip t {:.1} off {:.1} base {:.3?}",
                    c.length_m() * 1e3,
                    tm * 1e3,
                    tp * 1e3,
                    off * 1e3,
                    c.base.coords.as_slice()
                );
            }
            println!("  named {:?}", geometric::name_fingers(&cands));
        }
        match geometric::locate(&m.vertices, &m.normals, sim.target) {
            Ok(g) => {
                let e = (g.ring_point() - p(t.ring_point)).norm() * 1e3;
                let axis = (p(t.pip) - p(t.mcp)).normalize();
                let tilt = g
                    .direction()
                    .dot(&axis)
                    .clamp(-1.0, 1.0)
                    .acos()
                    .to_degrees();
                println!(
                    "seed {seed}: {:?} {:?} landmarks ring point {e_lm:.2} mm; geometric {e:.1} mm tilt {tilt:.1} deg",
                    sim.target.hand, sim.target.finger
                );
                geo_worst = geo_worst.max(e);
                geo_errs.push(e);
            }
            Err(e) => {
                println!("seed {seed}: landmarks ring point {e_lm:.2} mm; geometric failed: {e}");
                geo_fail += 1;
            }
        }
    }
    let mean = geo_errs.iter().sum::<f64>() / geo_errs.len().max(1) as f64;
    println!(
        "landmarks worst {lm_worst:.2} mm; geometric: {geo_fail}/{n} failed, mean {mean:.1} mm, worst {geo_worst:.1} mm"
    );
    assert!(
        lm_worst < 2.0,
        "landmark ring point off by {lm_worst:.2} mm"
    );
    if std::env::var("LOCATE_GEOMETRIC_ACCEPTANCE").is_ok() {
        // Not met yet on these hands (see the report): ring point within 8 mm everywhere.
        assert!(
            geo_worst < 8.0,
            "geometric ring point off by {geo_worst:.1} mm"
        );
        assert!(
            geo_fail * 5 <= n,
            "geometric finder failed on {geo_fail}/{n} hands"
        );
    }
}

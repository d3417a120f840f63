//! Virtual sensor step 2: the parametric hand, its ground truth, and simulated scans.

mod common;

use mandrel_core::hand::{Finger, Hand};
use mandrel_core::scan::ScanFolder;
use mandrel_sim::shapes::Surface;
use mandrel_sim::*;
use nalgebra::{Isometry3, Point3};
use rand::SeedableRng;
use rand_pcg::Pcg64;
use std::time::Instant;

fn ramanujan(a: f64, b: f64) -> f64 {
    let h = ((a - b) / (a + b)).powi(2);
    std::f64::consts::PI * (a + b) * (1.0 + 3.0 * h / (10.0 + (4.0 - 3.0 * h).sqrt()))
}

#[test]
fn numerical_truth_matches_the_ellipse_formula_when_the_section_is_an_ellipse() {
    for seed in 0..6 {
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut p = HandParams::random(
            &mut rng,
            if seed % 2 == 0 {
                Hand::Left
            } else {
                Hand::Right
            },
        );
        for f in p.fingers.iter_mut() {
            f.palmar_pad = 0.0;
        }
        p.hand_to_world = Isometry3::new(
            nalgebra::Vector3::new(0.03, -0.02, 0.05),
            nalgebra::Vector3::new(0.3, -1.1, 0.4),
        );
        let ring = p.fingers[2].clone();
        let hand = HandModel::new(p).unwrap();
        let t = hand.finger_truth(Finger::Ring).unwrap();
        let want = ramanujan(ring.half_width_m, ring.half_width_m * ring.thickness_ratio);
        assert!(
            (t.ring_circumference_m - want).abs() < 1e-5,
            "seed {seed}: numerical {} mm vs ellipse {} mm",
            t.ring_circumference_m * 1e3,
            want * 1e3
        );
        assert!((t.ellipticity - ring.thickness_ratio).abs() < 1e-3);
        // The knuckle is the bulge: larger than the ring section, max near PIP.
        assert!(t.knuckle_circumference_m > t.ring_circumference_m);
        assert!(t.knuckle_offset_m.abs() <= 0.005 + 1e-12);
        // The axis runs MCP → PIP and the ring point is the midpoint.
        assert!(((t.pip - t.mcp).normalize() - t.axis).norm() < 1e-12);
        assert!((t.ring_point - nalgebra::center(&t.mcp, &t.pip)).norm() < 1e-12);
    }
}

#[test]
fn a_palmar_pad_makes_the_section_non_elliptic_and_larger() {
    let mut rng = Pcg64::seed_from_u64(42);
    let mut p = HandParams::random(&mut rng, Hand::Right);
    p.fingers[2].palmar_pad = 1.0;
    let ring = p.fingers[2].clone();
    let hand = HandModel::new(p).unwrap();
    let t = hand.finger_truth(Finger::Ring).unwrap();
    let ellipse = ramanujan(ring.half_width_m, ring.half_width_m * ring.thickness_ratio);
    let extra_mm = (t.ring_circumference_m - ellipse) * 1e3;
    assert!(extra_mm > 0.2 && extra_mm < 3.0, "pad adds {extra_mm} mm");
}

#[test]
fn random_hands_have_plausible_truth() {
    for seed in 0..20 {
        let mut rng = Pcg64::seed_from_u64(seed);
        let hand = HandModel::new(HandParams::random(&mut rng, Hand::Left)).unwrap();
        for finger in [Finger::Index, Finger::Middle, Finger::Ring, Finger::Little] {
            let t = hand.finger_truth(finger).unwrap();
            let ring_mm = t.ring_circumference_m * 1e3;
            let knuckle_mm = t.knuckle_circumference_m * 1e3;
            assert!(
                (38.0..80.0).contains(&ring_mm),
                "seed {seed} {finger:?}: {ring_mm}"
            );
            assert!(
                knuckle_mm > ring_mm && knuckle_mm < ring_mm * 1.35,
                "{knuckle_mm} vs {ring_mm}"
            );
            assert!((0.74..1.0).contains(&t.ellipticity), "{}", t.ellipticity);
            let len = (t.pip - t.mcp).norm();
            assert!((0.025..0.06).contains(&len), "MCP–PIP {len} m");
        }
    }
    assert!(
        HandModel::new(HandParams::random(&mut Pcg64::seed_from_u64(1), Hand::Left))
            .unwrap()
            .finger_truth(Finger::Thumb)
            .is_err()
    );
}

#[test]
fn neighbouring_fingers_are_close_but_separate() {
    let mut rng = Pcg64::seed_from_u64(5);
    let p = HandParams::random(&mut rng, Hand::Right);
    let hand = HandModel::new(p).unwrap();
    let t = hand.finger_truth(Finger::Ring).unwrap();
    let (_, side, _) = hand.finger_frame(Finger::Ring).unwrap();
    // Cast from the ring point sideways: first the ring finger's own flank, then (after a
    // small gap) the neighbour's, on both sides.
    for s in [1.0, -1.0] {
        let ray = Ray::new(t.ring_point, side * s).unwrap();
        let own = hand.scene().intersect(&ray, 0.0, 1.0).unwrap();
        let mut t0 = own.t + 1e-7;
        // Skip hits of other primitives of the same finger that end inside it.
        let mut next = None;
        while let Some(h) = hand.scene().intersect(&ray, t0, 1.0) {
            if h.t - own.t > 1e-5 {
                next = Some(h);
                break;
            }
            t0 = h.t + 1e-7;
        }
        let gap = next.map(|h| h.t - own.t).unwrap_or(f64::INFINITY);
        assert!(gap > 1e-4 && gap < 0.006, "side {s}: gap {gap} m");
    }
}

#[test]
fn landmarks_match_the_projected_joints() {
    let opts = SimOptions {
        landmark_noise_px: 0.0,
        landmark_missing_rate: 0.0,
        frames: 6,
        ..Default::default()
    };
    let scan = SimScan::generate(3, &opts).unwrap();
    let t = &scan.finger_truth;
    let (m, p) = Finger::Ring.mcp_pip_landmarks();
    for (f, pose) in scan.frames.iter().zip(&scan.true_poses) {
        let lm = f.landmarks.as_ref().expect("landmarks");
        let k = f.intrinsics;
        for (idx, world) in [(m, t.mcp), (p, t.pip)] {
            let px = k.project(&(pose.inverse() * world)).unwrap();
            assert!((lm.points()[idx] - px).norm() < 1e-9);
        }
        // The ring point is in view and near the image centre.
        let rp = k.project(&(pose.inverse() * t.ring_point)).unwrap();
        assert!(
            (rp.x - k.cx).abs() < 60.0 && (rp.y - k.cy).abs() < 60.0,
            "{rp:?}"
        );
    }
}

#[test]
fn depth_pixels_lie_on_the_hand() {
    let opts = SimOptions {
        frames: 4,
        noise: Some(NoiseModel::none()),
        pose_drift: PoseDrift::none(),
        ..Default::default()
    };
    let scan = SimScan::generate(9, &opts).unwrap();
    for f in &scan.frames {
        let pose = f.pose.unwrap();
        let k = f.intrinsics;
        let cam = Point3::from(pose.translation.vector);
        let mut n = 0;
        for v in (0..k.height).step_by(7) {
            for u in (0..k.width).step_by(7) {
                let z = f.depth.at(u, v) as f64;
                if z <= 0.0 {
                    continue;
                }
                n += 1;
                // Re-cast the pixel's ray: the first hit is at the stored depth.
                let p = pose * k.unproject(u as f64, v as f64, z);
                let ray = Ray::new(cam, p - cam).unwrap();
                let h = scan.hand.scene().intersect(&ray, 0.0, 10.0).unwrap();
                assert!((ray.at(h.t) - p).norm() < 1e-6);
            }
        }
        assert!(n > 500, "only {n} sampled hand pixels");
    }
}

#[test]
fn dorsal_scans_have_a_table_behind_the_hand() {
    let count = |table: Option<bool>, coverage| {
        let opts = SimOptions {
            frames: 3,
            coverage,
            table,
            ..Default::default()
        };
        let scan = SimScan::generate(17, &opts).unwrap();
        scan.frames
            .iter()
            .map(|f| f.depth.valid_count())
            .sum::<usize>()
    };
    let with = count(None, Coverage::Dorsal);
    let without = count(Some(false), Coverage::Dorsal);
    assert!(with > without * 2, "{with} vs {without} valid pixels");
    assert_eq!(
        count(None, Coverage::Full),
        count(Some(false), Coverage::Full)
    );
}

#[test]
fn generation_is_deterministic_and_fast() {
    let opts = SimOptions::default();
    let t0 = Instant::now();
    let first = SimScan::generate(13, &opts).unwrap();
    let dt = t0.elapsed();
    assert_eq!(first.frames.len(), 40);
    println!(
        "40-frame 640x480 TrueDepth scan generated in {:.0} ms",
        dt.as_secs_f64() * 1e3
    );
    let small = SimOptions {
        frames: 8,
        ..Default::default()
    };
    let a = SimScan::generate(11, &small).unwrap();
    let b = SimScan::generate(11, &small).unwrap();
    let c = SimScan::generate(12, &small).unwrap();
    assert_eq!(a.truth, b.truth);
    assert_eq!(a.frames.len(), 8);
    for (x, y) in a.frames.iter().zip(&b.frames) {
        assert_eq!(x.depth, y.depth);
        assert_eq!(x.pose, y.pose);
        assert_eq!(x.landmarks, y.landmarks);
    }
    assert_ne!(a.truth.ring_circumference_mm, c.truth.ring_circumference_mm);
    // Landmarks missing on some frames at the default 12 % rate, present on most.
    let big = first;
    let with = big.frames.iter().filter(|f| f.landmarks.is_some()).count();
    assert!((25..40).contains(&with), "{with} frames with landmarks");
}

#[test]
fn camera_paths_follow_the_coverage() {
    for (coverage, min_span, max_span) in [
        (Coverage::Full, 250.0, 310.0),
        (Coverage::Dorsal, 110.0, 160.0),
    ] {
        let opts = SimOptions {
            coverage,
            frames: 30,
            ..Default::default()
        };
        let scan = SimScan::generate(21, &opts).unwrap();
        let (axis, side, dorsal) = scan.hand.finger_frame(Finger::Ring).unwrap();
        let rp = scan.finger_truth.ring_point;
        let mut angles = Vec::new();
        for p in &scan.true_poses {
            let v = Point3::from(p.translation.vector) - rp;
            let d = v.norm();
            assert!((0.18..0.37).contains(&d), "distance {d}");
            let perp = v - axis * v.dot(&axis);
            angles.push(perp.dot(&side).atan2(perp.dot(&dorsal)).to_degrees());
            // Looking at the ring point within a few degrees.
            let view = p.rotation * nalgebra::Vector3::z();
            let ang = view
                .angle(&(rp - Point3::from(p.translation.vector)))
                .to_degrees();
            assert!(ang < 6.0, "look-at error {ang}°");
        }
        // Unwrap and measure the span.
        let mut total = 0.0;
        for w in angles.windows(2) {
            let mut d = w[1] - w[0];
            if d > 180.0 {
                d -= 360.0;
            }
            if d < -180.0 {
                d += 360.0;
            }
            total += d;
        }
        assert!(
            (min_span..max_span).contains(&total.abs()),
            "{coverage:?}: span {total}"
        );
        if coverage == Coverage::Dorsal {
            assert!(angles.iter().all(|a| a.abs() < 95.0), "{angles:?}");
        }
    }
}

#[test]
fn pose_drift_is_platform_like() {
    let scan = SimScan::generate(4, &SimOptions::default()).unwrap();
    let errs: Vec<f64> = scan
        .frames
        .iter()
        .zip(&scan.true_poses)
        .map(|(f, t)| (f.pose.unwrap().translation.vector - t.translation.vector).norm() * 1e3)
        .collect();
    let max = errs.iter().cloned().fold(0.0, f64::max);
    assert!(max > 0.3 && max < 6.0, "max pose error {max} mm");
    let none = SimScan::generate(
        4,
        &SimOptions {
            poses_given: false,
            frames: 3,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(none.frames.iter().all(|f| f.pose.is_none()));
    assert!(!none.truth.poses_given);
}

#[test]
fn scan_folder_round_trip_and_truth_format() {
    let dir = std::env::temp_dir().join(format!("mandrel-sim-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = SimOptions {
        frames: 5,
        sensor: Sensor::Lidar,
        coverage: Coverage::Dorsal,
        ..Default::default()
    };
    let scan = SimScan::generate(8, &opts).unwrap();
    write_scan_with_truth(&dir, &scan).unwrap();
    let folder = ScanFolder::open(&dir).unwrap();
    assert_eq!(folder.len(), 5);
    assert_eq!(folder.manifest.target, scan.target);
    assert_eq!(folder.manifest.intrinsics.width, 256);
    for (i, f) in folder.frames().enumerate() {
        let f = f.unwrap();
        let orig = &scan.frames[i];
        let pd = f.pose.unwrap().translation.vector - orig.pose.unwrap().translation.vector;
        assert!(pd.norm() < 1e-9);
        for (a, b) in f.depth.depth_m().iter().zip(orig.depth.depth_m()) {
            assert!((a - b).abs() < 6e-5, "{a} vs {b}");
        }
        assert_eq!(f.landmarks.is_some(), orig.landmarks.is_some());
    }
    let text = std::fs::read_to_string(dir.join("truth.json")).unwrap();
    let back: Truth = serde_json::from_str(&text).unwrap();
    assert!((back.ring_circumference_mm - scan.truth.ring_circumference_mm).abs() < 1e-9);
    assert_eq!(back.notes, scan.truth.notes);
    for (a, b) in back
        .true_poses
        .iter()
        .flatten()
        .zip(scan.truth.true_poses.iter().flatten())
    {
        assert!((a - b).abs() < 1e-12);
    }
    assert_eq!(back.true_poses.len(), 5);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["coverage"], "dorsal");
    std::fs::remove_dir_all(&dir).unwrap();
    // The shared generator's truth.json files parse as the same structure.
    if let Some(shared) = common::shared_scan("td-full-pose-01") {
        let t: Truth =
            serde_json::from_str(&std::fs::read_to_string(shared.join("truth.json")).unwrap())
                .unwrap();
        assert!((t.ring_circumference_mm - 68.7577).abs() < 1e-3);
        assert_eq!(t.coverage, Coverage::Full);
    }
}

#[test]
fn bad_options_are_typed_errors() {
    let bad = |o: SimOptions| match SimScan::generate(1, &o) {
        Err(SimError::Options(m)) => m,
        other => panic!(
            "expected an options error, got {:?}",
            other.map(|s| s.truth)
        ),
    };
    assert!(bad(SimOptions {
        frames: 0,
        ..Default::default()
    })
    .contains("frames"));
    assert!(bad(SimOptions {
        finger: Finger::Thumb,
        ..Default::default()
    })
    .contains("thumb"));
    assert!(bad(SimOptions {
        landmark_missing_rate: 1.5,
        ..Default::default()
    })
    .contains("landmark_missing_rate"));
    assert!(bad(SimOptions {
        landmark_noise_px: f64::NAN,
        ..Default::default()
    })
    .contains("landmark_noise_px"));
    let mut p = HandParams::random(&mut Pcg64::seed_from_u64(0), Hand::Left);
    p.fingers[2].half_width_m = 0.5;
    assert!(bad(SimOptions {
        hand: Some(p),
        ..Default::default()
    })
    .contains("half width"));
    let mut n = NoiseModel::truedepth();
    n.sigma_at_30cm_m = -1.0;
    assert!(matches!(
        SimScan::generate(
            1,
            &SimOptions {
                noise: Some(n),
                ..Default::default()
            }
        ),
        Err(SimError::Noise(_))
    ));
}

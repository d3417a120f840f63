//! The front-camera scenario: a still camera, a turning hand, a body fixed to the camera.

use mandrel_core::hand::Hand;
use mandrel_sim::*;
use nalgebra::Point3;

fn front(frames: usize, body: bool) -> SimOptions {
    SimOptions {
        coverage: Coverage::Turn,
        poses_given: false,
        frames,
        hand_side: Some(Hand::Right),
        body_behind: Some(body),
        ..SimOptions::default()
    }
}

#[test]
fn the_hand_turns_from_its_back_to_its_palm_in_front_of_a_still_camera() {
    let s = SimScan::generate(11, &front(24, true)).unwrap();
    assert_eq!(s.frames.len(), 24);
    assert_eq!(s.true_poses.len(), 24);
    assert_eq!(s.truth.true_poses.len(), 24);
    assert_eq!(s.truth.coverage, Coverage::Turn);
    assert!(!s.truth.poses_given);
    assert!(s.frames.iter().all(|f| f.pose.is_none()));
    // The camera looks at the ring from 0.17–0.36 m.
    let ring = Point3::from(nalgebra::Vector3::from(s.truth.ring_point));
    for t in &s.true_poses {
        let d = (t.translation.vector - ring.coords).norm();
        assert!((0.17..0.36).contains(&d), "camera {d} m from the ring");
    }
    // First frame looks at the back of the finger, the last at its palm side.
    let (_, _, dorsal) = s
        .hand
        .finger_frame(mandrel_core::hand::Finger::Ring)
        .unwrap();
    let facing = |i: usize| {
        let eye = s.true_poses[i].translation.vector;
        (eye - ring.coords).normalize().dot(&dorsal)
    };
    assert!(facing(0) > 0.6, "first frame faces the back: {}", facing(0));
    assert!(
        facing(23) < -0.6,
        "last frame faces the palm: {}",
        facing(23)
    );
}

#[test]
fn the_body_sits_40_to_60_cm_away_and_can_be_switched_off() {
    let far = |s: &SimScan| {
        s.frames
            .iter()
            .map(|f| f.depth.depth_m().iter().filter(|&&z| z > 0.39).count())
            .sum::<usize>()
    };
    let near_max = |s: &SimScan| {
        s.frames
            .iter()
            .flat_map(|f| f.depth.depth_m().iter().copied())
            .filter(|&z| z > 0.39)
            .fold(0.0f32, f32::max)
    };
    let with = SimScan::generate(5, &front(6, true)).unwrap();
    let without = SimScan::generate(5, &front(6, false)).unwrap();
    assert!(far(&with) > 6 * 5000, "body pixels: {}", far(&with));
    assert!(near_max(&with) < 0.75);
    assert_eq!(far(&without), 0);
    // Same seed, same hand and path: only the background differs.
    assert_eq!(with.true_poses, without.true_poses);
    assert_eq!(
        with.truth.ring_circumference_mm,
        without.truth.ring_circumference_mm
    );
}

#[test]
fn front_scans_are_deterministic_and_reject_platform_poses() {
    let a = SimScan::generate(9, &front(4, true)).unwrap();
    let b = SimScan::generate(9, &front(4, true)).unwrap();
    for (x, y) in a.frames.iter().zip(&b.frames) {
        assert_eq!(x.depth.depth_m(), y.depth.depth_m());
        assert_eq!(x.landmarks, y.landmarks);
    }
    let bad = SimOptions {
        poses_given: true,
        ..front(4, true)
    };
    assert!(matches!(
        SimScan::generate(1, &bad),
        Err(SimError::Options(_))
    ));
    let lidar = SimOptions {
        sensor: Sensor::Lidar,
        ..front(4, true)
    };
    assert!(matches!(
        SimScan::generate(1, &lidar),
        Err(SimError::Options(_))
    ));
}

#[test]
fn the_projector_shadow_darkens_the_background_left_of_the_hand() {
    // Noise-free but for the shadow: compare pixels just left and right of the hand.
    let model = StructuredLight {
        edge_drop_prob: 0.0,
        edge_fatten_prob: 0.0,
        edge_max_mix: 0.0,
        dropout_rate: 0.0,
        min_return: 0.0,
        ..StructuredLight::truedepth(0.0006)
    };
    let opts = SimOptions {
        structured_light: Some(model),
        ..front(1, true)
    };
    let s = SimScan::generate(2, &opts).unwrap();
    let d = &s.frames[0].depth;
    let (w, h) = (d.width() as usize, d.height() as usize);
    let z = d.depth_m();
    // Count empty pixels within 6 px left / right of a hand (< 0.38 m) run in each row.
    let (mut left_holes, mut right_holes) = (0, 0);
    for v in 0..h {
        for u in 8..w - 8 {
            let i = v * w + u;
            let hand = z[i] > 0.0 && z[i] < 0.38;
            if hand && z[i - 1] == 0.0 && z[i - 7] == 0.0 {
                left_holes += 1;
            }
            if hand && z[i + 1] == 0.0 && z[i + 7] == 0.0 {
                right_holes += 1;
            }
        }
    }
    assert!(
        left_holes > 3 * right_holes.max(1),
        "shadow left {left_holes}, right {right_holes}"
    );
}

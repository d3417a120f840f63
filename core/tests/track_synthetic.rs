//! Tracking against the own virtual sensor (exact ellipsoid ray-caster in `track_support`):
//! trajectory recovery, garbage frames, platform-pose refinement, bad input.

mod track_support;

use mandrel_core::frame::{DepthFrame, Intrinsics};
use mandrel_core::track::{LostReason, TrackConfig, TrackError, TrackStatus, Tracker};
use nalgebra::{Isometry3, Point3};
use track_support::*;

fn camera() -> Intrinsics {
    Intrinsics::new(320, 240, 300.0, 300.0, 159.5, 119.5).unwrap()
}

/// Tracks `frames` frame-to-model against exact model maps rendered at the previous estimate.
fn track_sequence(
    scene: &Scene,
    k: &Intrinsics,
    truth: &[Isometry3<f64>],
    noise_m: f64,
) -> (Vec<Isometry3<f64>>, Vec<mandrel_core::track::TrackHealth>) {
    let mut tracker = Tracker::new(TrackConfig::default()).unwrap();
    let mut est = Vec::new();
    let mut health = Vec::new();
    // The estimate lives in the frame of the first camera; the scene is rendered in truth
    // coordinates, so the model map is rendered at truth0 * est.
    let g = truth[0];
    for (i, t) in truth.iter().enumerate() {
        let depth = scene.render(k, t, noise_m, i as u64 + 1);
        let res = if i == 0 {
            tracker.bootstrap(&depth, None)
        } else {
            let last = tracker.last_pose().unwrap();
            let map_world = scene.model_map(k, &(g * last));
            // Express the map in the tracker's world (first camera) frame.
            let gi: Isometry3<f32> = nalgebra::convert(g.inverse());
            let map = mandrel_core::track::ModelMap::new(
                *k,
                last,
                map_world.points.iter().map(|p| gi * p).collect(),
                map_world.normals.iter().map(|n| gi * n).collect(),
            )
            .unwrap();
            tracker.track_map(&depth, k, &map, None).unwrap()
        };
        est.push(res.pose);
        health.push(res.health);
    }
    (est, health)
}

#[test]
fn recovers_orbit_trajectory_without_poses() {
    let centre = Point3::new(0.02, -0.01, 0.4);
    let scene = Scene::hand(centre);
    let truth = orbit(centre, 0.3, 30, 4.0);
    let k = camera();
    let (est, health) = track_sequence(&scene, &k, &truth, 0.0006);
    for (i, h) in health.iter().enumerate() {
        assert_eq!(h.status, TrackStatus::Ok, "frame {i}: {h:?}");
    }
    let (t_mm, r_deg) = rmse(&align_first(&est, &truth), &truth);
    eprintln!("synthetic orbit: RMSE translation {t_mm:.3} mm, rotation {r_deg:.3} deg");
    let worst = health
        .iter()
        .skip(1)
        .map(|h| h.residual_m)
        .fold(0.0, f64::max);
    eprintln!("worst residual {:.3} mm", worst * 1000.0);
    assert!(t_mm <= 1.0, "translation RMSE {t_mm} mm");
    assert!(r_deg <= 0.3, "rotation RMSE {r_deg} deg");
}

#[test]
fn garbage_frames_are_lost_and_do_not_derail_tracking() {
    let centre = Point3::new(0.0, 0.0, 0.4);
    let scene = Scene::hand(centre);
    let truth = orbit(centre, 0.3, 8, 3.0);
    let k = camera();
    let g = truth[0];
    let gi: Isometry3<f32> = nalgebra::convert(g.inverse());
    let mut tracker = Tracker::new(TrackConfig::default()).unwrap();
    let d0 = scene.render(&k, &truth[0], 0.0006, 1);
    assert_eq!(tracker.bootstrap(&d0, None).health.status, TrackStatus::Ok);
    let model_at = |pose: &Isometry3<f64>| {
        let m = scene.model_map(&k, &(g * pose));
        mandrel_core::track::ModelMap::new(
            k,
            *pose,
            m.points.iter().map(|p| gi * p).collect(),
            m.normals.iter().map(|n| gi * n).collect(),
        )
        .unwrap()
    };
    let mut est = vec![tracker.last_pose().unwrap()];
    for (i, true_pose) in truth.iter().enumerate().skip(1) {
        let last = tracker.last_pose().unwrap();
        let map = model_at(&last);
        // Before every good frame, three garbage frames.
        let n = (k.width * k.height) as usize;
        let mut s = 12345u64 + i as u64;
        let noise: Vec<f32> = (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                0.15 + ((s >> 33) as f32 / (1u64 << 31) as f32) * 0.4
            })
            .collect();
        let garbage = [
            (
                "noise",
                DepthFrame::from_metres(k.width, k.height, noise).unwrap(),
            ),
            (
                "empty",
                DepthFrame::from_metres(k.width, k.height, vec![0.0; n]).unwrap(),
            ),
            (
                "other scene",
                Scene::ball(Point3::new(0.05, 0.05, 0.33)).render(&k, true_pose, 0.0006, 99),
            ),
        ];
        for (what, d) in &garbage {
            let r = tracker.track_map(d, &k, &map, None).unwrap();
            assert_eq!(
                r.health.status,
                TrackStatus::Lost,
                "{what} frame {i} accepted: {:?}",
                r.health
            );
            assert!(r.health.lost_reason.is_some());
            if *what == "empty" {
                assert_eq!(r.health.lost_reason, Some(LostReason::NoDepth));
            }
            assert_eq!(
                tracker.last_pose(),
                Some(last),
                "lost frame moved the tracker"
            );
        }
        let d = scene.render(&k, true_pose, 0.0006, i as u64 + 1);
        let r = tracker.track_map(&d, &k, &map, None).unwrap();
        assert_eq!(
            r.health.status,
            TrackStatus::Ok,
            "good frame {i} after garbage: {:?}",
            r.health
        );
        est.push(r.pose);
    }
    let (t_mm, r_deg) = rmse(&align_first(&est, &truth), &truth);
    eprintln!("with garbage frames interleaved: RMSE {t_mm:.3} mm, {r_deg:.3} deg");
    assert!(t_mm <= 1.0 && r_deg <= 0.3);
}

#[test]
fn refinement_lowers_platform_pose_error() {
    let centre = Point3::new(0.0, 0.02, 0.35);
    let scene = Scene::hand(centre);
    let truth = orbit(centre, 0.28, 25, 5.0);
    let platform = platform_poses(&truth, 7);
    let k = camera();
    let mut tracker = Tracker::new(TrackConfig::default()).unwrap();
    let mut refined = Vec::new();
    for (i, (t, p)) in truth.iter().zip(&platform).enumerate() {
        let d = scene.render(&k, t, 0.0006, 50 + i as u64);
        let r = if i == 0 {
            // Anchor the world with the true first pose, so errors are absolute.
            tracker.bootstrap(&d, Some(*t))
        } else {
            // Exact model (the world is the truth frame here) rendered at the platform pose.
            let map = scene.model_map(&k, p);
            tracker.track_map(&d, &k, &map, Some(*p)).unwrap()
        };
        assert_eq!(
            r.health.status,
            TrackStatus::Ok,
            "frame {i}: {:?}",
            r.health
        );
        refined.push(r.pose);
    }
    let before = rmse(&platform[1..], &truth[1..]);
    let after = rmse(&refined[1..], &truth[1..]);
    eprintln!(
        "refinement: platform RMSE {:.3} mm / {:.3} deg -> refined {:.3} mm / {:.3} deg",
        before.0, before.1, after.0, after.1
    );
    assert!(
        after.0 < 0.5 * before.0,
        "translation not improved: {before:?} -> {after:?}"
    );
    assert!(
        after.1 < before.1,
        "rotation not improved: {before:?} -> {after:?}"
    );
}

#[test]
fn bad_platform_pose_cannot_be_overridden_by_degenerate_geometry() {
    // A lone ball constrains no rotation about its centre: ICP alone is degenerate.
    let centre = Point3::new(0.0, 0.0, 0.3);
    let scene = Scene::ball(centre);
    let k = camera();
    let truth = orbit(centre, 0.25, 3, 4.0);
    let d = scene.render(&k, &truth[1], 0.0006, 3);
    let map = scene.model_map(&k, &truth[0]);
    // Without a platform pose: degenerate -> lost.
    let mut t = Tracker::new(TrackConfig::default()).unwrap();
    t.bootstrap(&scene.render(&k, &truth[0], 0.0006, 2), Some(truth[0]));
    let r = t.track_map(&d, &k, &map, None).unwrap();
    assert_eq!(r.health.status, TrackStatus::Lost, "{:?}", r.health);
    assert_eq!(r.health.lost_reason, Some(LostReason::Degenerate));
    // With a platform pose: kept in the unconstrained directions, corrected in the others.
    let platform = Isometry3::new(
        nalgebra::Vector3::new(0.001, -0.0008, 0.0006),
        nalgebra::Vector3::zeros(),
    ) * truth[1];
    let mut t = Tracker::new(TrackConfig::default()).unwrap();
    t.bootstrap(&scene.render(&k, &truth[0], 0.0006, 2), Some(truth[0]));
    let r = t.track_map(&d, &k, &map, Some(platform)).unwrap();
    assert_eq!(r.health.status, TrackStatus::Ok, "{:?}", r.health);
    let (dm, ddeg) = mandrel_core::track::pose_distance(&truth[1], &r.pose);
    let (pm, _) = mandrel_core::track::pose_distance(&truth[1], &platform);
    eprintln!(
        "ball: platform off {:.3} mm, refined off {:.3} mm {:.3} deg",
        pm * 1e3,
        dm * 1e3,
        ddeg
    );
    assert!(dm < pm, "refinement did not help: {dm} vs {pm}");
    assert!(ddeg < 0.2, "rotation wandered {ddeg} deg");
}

#[test]
fn bad_inputs_are_typed_errors() {
    let k = camera();
    let mut t = Tracker::new(TrackConfig::default()).unwrap();
    let d = DepthFrame::from_metres(10, 10, vec![0.3; 100]).unwrap();
    let map = Scene::ball(Point3::new(0.0, 0.0, 0.3)).model_map(&k, &Isometry3::identity());
    let e = t.track_map(&d, &k, &map, None).unwrap_err();
    assert!(matches!(e, TrackError::Frame(_)), "{e}");
    assert!(e.to_string().contains("10x10"), "{e}");
    let good = Scene::ball(Point3::new(0.0, 0.0, 0.3)).render(&k, &Isometry3::identity(), 0.0, 1);
    let mut bad_pose = Isometry3::identity();
    bad_pose.translation.vector.x = f64::NAN;
    let e = t.track_map(&good, &k, &map, Some(bad_pose)).unwrap_err();
    assert!(e.to_string().contains("non-finite"), "{e}");
    let cfg = TrackConfig {
        iterations: vec![3],
        ..TrackConfig::default()
    };
    let e = Tracker::new(cfg).unwrap_err();
    assert!(e.to_string().contains("iterations"), "{e}");
    let cfg = TrackConfig {
        max_residual_m: f64::NAN,
        ..TrackConfig::default()
    };
    assert!(Tracker::new(cfg)
        .unwrap_err()
        .to_string()
        .contains("max_residual_m"));
    let e =
        mandrel_core::track::ModelMap::new(k, Isometry3::identity(), vec![], vec![]).unwrap_err();
    assert!(matches!(e, TrackError::ModelSize { .. }), "{e}");
}

//! The front-camera scene (`../shared/scans/*-front-*`): a hand turned in front of a still
//! camera, no poses, the torso behind it. Every frame must be tracked, and the tracked
//! camera-to-hand trajectory must match `true_poses` after a rigid alignment (no scale):
//! RMSE at most 1 mm and 0.5°.

mod common;

use mandrel_core::frame::pose::from_row_major;
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{FrameOutcome, ScanSession, SessionConfig};
use nalgebra::{Isometry3, Matrix3, Rotation3, Translation3, UnitQuaternion, Vector3};

/// The rigid transform `a` -> `b` minimising the squared distances between camera centres
/// (Umeyama without scale).
fn align(a: &[Isometry3<f64>], b: &[Isometry3<f64>]) -> Isometry3<f64> {
    let n = a.len() as f64;
    let ca = a.iter().map(|p| p.translation.vector).sum::<Vector3<f64>>() / n;
    let cb = b.iter().map(|p| p.translation.vector).sum::<Vector3<f64>>() / n;
    let mut h = Matrix3::zeros();
    for (p, q) in a.iter().zip(b) {
        h += (p.translation.vector - ca) * (q.translation.vector - cb).transpose();
    }
    let svd = h.svd(true, true);
    let (u, vt) = (svd.u.unwrap(), svd.v_t.unwrap());
    let mut d = Matrix3::identity();
    if (vt.transpose() * u.transpose()).determinant() < 0.0 {
        d[(2, 2)] = -1.0;
    }
    let r = Rotation3::from_matrix_unchecked(vt.transpose() * d * u.transpose());
    Isometry3::from_parts(
        Translation3::from(cb - r * ca),
        UnitQuaternion::from_rotation_matrix(&r),
    )
}

/// Trajectory RMSE (millimetres, degrees) of `est` against `truth` after [`align`].
fn trajectory_rmse(est: &[Isometry3<f64>], truth: &[Isometry3<f64>]) -> (f64, f64) {
    let t = align(est, truth);
    let (mut se, mut sa) = (0.0, 0.0);
    for (e, q) in est.iter().zip(truth) {
        let e = t * e;
        se += (e.translation.vector - q.translation.vector).norm_squared();
        sa += (e.rotation.inverse() * q.rotation)
            .angle()
            .to_degrees()
            .powi(2);
    }
    let n = est.len() as f64;
    ((se / n).sqrt() * 1e3, (sa / n).sqrt())
}

fn check(name: &str, use_landmarks: bool) -> Option<String> {
    let dir = common::shared_scan(name)?;
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let true_poses: Vec<Isometry3<f64>> = truth["true_poses"]
        .as_array()
        .expect("true_poses")
        .iter()
        .map(|p| {
            let v: Vec<f64> = serde_json::from_value(p.clone()).unwrap();
            from_row_major(&v).unwrap()
        })
        .collect();
    let scan = ScanFolder::open(&dir).expect("scan");
    assert_eq!(
        true_poses.len(),
        scan.len(),
        "{name}: one true pose per frame"
    );
    let mut cfg = SessionConfig::new(scan.manifest.target);
    cfg.use_landmarks = use_landmarks;
    let mut s = ScanSession::new(cfg).unwrap();
    let (mut est, mut truth_kept, mut lost) = (vec![], vec![], 0);
    for (i, truth) in true_poses.iter().enumerate().take(scan.len()) {
        let r = s.push_frame(scan.frame(i).expect("frame")).expect("push");
        match r.pose.filter(|_| r.outcome != FrameOutcome::TrackingLost) {
            Some(p) => {
                est.push(p);
                truth_kept.push(*truth);
            }
            None => lost += 1,
        }
    }
    let (mm, deg) = trajectory_rmse(&est, &truth_kept);
    let ms = s.timings().total / scan.len() as f64;
    println!(
        "{name} (landmarks {use_landmarks}): {lost} lost of {}; trajectory RMSE {mm:.3} mm, {deg:.3} deg; {ms:.0} ms per frame",
        scan.len()
    );
    if lost > 0 || mm > 1.0 || deg > 0.5 {
        return Some(format!(
            "{name} (landmarks {use_landmarks}): {lost} lost, RMSE {mm:.3} mm / {deg:.3} deg"
        ));
    }
    None
}

#[test]
fn front_scans_track_every_frame_on_the_true_trajectory() {
    let names: Vec<String> = common::shared_scan_names()
        .into_iter()
        .filter(|n| common::is_front_scene(n))
        .collect();
    let failures: Vec<String> = names
        .iter()
        .flat_map(|n| [check(n, true), check(n, false)])
        .flatten()
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn the_alignment_recovers_a_rigid_offset_exactly() {
    let truth: Vec<Isometry3<f64>> = (0..10)
        .map(|i| {
            let a = i as f64 * 0.3;
            Isometry3::new(
                Vector3::new(0.3 * a.cos(), 0.1 * i as f64, 0.3 * a.sin()),
                Vector3::new(0.0, a, 0.1),
            )
        })
        .collect();
    let offset = Isometry3::new(Vector3::new(0.5, -0.2, 0.1), Vector3::new(0.3, -0.4, 1.0));
    let est: Vec<Isometry3<f64>> = truth.iter().map(|p| offset * p).collect();
    let (mm, deg) = trajectory_rmse(&est, &truth);
    assert!(mm < 1e-6 && deg < 1e-4, "{mm} {deg}");
    let mut bent = est.clone();
    bent[3].translation.vector.x += 0.002;
    assert!(trajectory_rmse(&bent, &truth).0 > 0.3);
}

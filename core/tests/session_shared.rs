//! Whole scans from `../shared/scans` pushed through a ScanSession frame by frame: poses
//! given or tracked, landmarks located, observations kept, measurement produced.

mod common;

use mandrel_core::measure::{Reason, Status};
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{FrameOutcome, Hint, ScanSession, SessionConfig};
use nalgebra::Point3;

fn p3(v: &serde_json::Value) -> Point3<f64> {
    let a: Vec<f64> = serde_json::from_value(v.clone()).expect("point");
    Point3::new(a[0], a[1], a[2])
}

fn run(name: &str) {
    let Some(dir) = common::shared_scan(name) else {
        return;
    };
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let scan = ScanFolder::open(&dir).unwrap();
    let mut s = ScanSession::new(SessionConfig::new(scan.manifest.target)).unwrap();
    let mut lost = 0;
    for i in 0..scan.len() {
        let r = s.push_frame(scan.frame(i).unwrap()).unwrap();
        if r.outcome == FrameOutcome::TrackingLost {
            lost += 1;
        }
    }
    let g = s.guidance();
    let (m, d) = s.finish_detailed().unwrap();
    let ring_err = m
        .ring_circumference_mm
        .map(|r| r - truth["ring_circumference_mm"].as_f64().unwrap());
    println!(
        "{name}: frames {} lost {lost} guidance {g:?} observations {:.1} MB ring err {ring_err:?} sigma {:?} status {:?} {:?} timings {:?}",
        scan.len(),
        s.observation_bytes() as f64 / 1e6,
        m.uncertainty_mm,
        m.status,
        m.reasons,
        m.timings_ms
    );
    if lost * 4 >= scan.len() {
        // Tracking failed: the only acceptable outcome is an honest rescan request.
        assert_eq!(
            m.status,
            Status::NeedsRescan,
            "{name}: ok despite {lost} lost frames"
        );
        assert!(
            m.reasons.contains(&Reason::TrackingLost),
            "{name}: {:?}",
            m.reasons
        );
        assert!(m.sizes.is_none());
        return;
    }
    let f = d.finger.expect("finger located");
    // Pose-less scans live in the first camera's frame: compare in a frame-free way.
    let len_true = (p3(&truth["pip"]) - p3(&truth["mcp"])).norm();
    let len_err_mm = (f.axis_length_m() - len_true).abs() * 1e3;
    if scan.manifest.frames[0].pose.is_some() {
        let e = (f.ring_point() - p3(&truth["ring_point"])).norm() * 1e3;
        assert!(e < 2.0, "{name}: ring point off by {e:.2} mm");
    }
    assert!(
        len_err_mm < 3.0,
        "{name}: axis length off by {len_err_mm:.2} mm"
    );
    assert!(g.frames_fused * 4 >= scan.len() * 3);
    assert!(
        g.coverage_deg >= 300.0,
        "{name}: coverage {}",
        g.coverage_deg
    );
    assert_ne!(g.hint, Hint::ShowPalmSide, "{name}: filmed all round");
    // Observations are cropped to the finger: bounded memory.
    let bytes = s.observation_bytes();
    assert!(
        bytes < 40_000_000,
        "{name}: observations hold {bytes} bytes"
    );
}

#[test]
fn session_on_td_full_pose_01() {
    run("td-full-pose-01");
}

#[test]
fn session_on_td_full_nopose_03() {
    run("td-full-nopose-03");
}

/// Filmed from the back of the hand only: guidance keeps asking for the palm side (it
/// never says `Done`), and the measurement says why it cannot give a size.
#[test]
fn session_on_td_dorsal_pose_02_asks_for_the_palm_side() {
    let Some(dir) = common::shared_scan("td-dorsal-pose-02") else {
        return;
    };
    let scan = ScanFolder::open(&dir).unwrap();
    let mut s = ScanSession::new(SessionConfig::new(scan.manifest.target)).unwrap();
    let mut hints = Vec::new();
    for i in 0..scan.len() {
        hints.push(s.push_frame(scan.frame(i).unwrap()).unwrap().guidance.hint);
    }
    let g = s.guidance();
    let m = s.finish().unwrap();
    println!(
        "dorsal: guidance {g:?}, status {:?} {:?}, sigma {:?}",
        m.status, m.reasons, m.uncertainty_mm
    );
    assert_eq!(g.hint, Hint::ShowPalmSide, "{g:?}");
    assert!(!hints.contains(&Hint::Done), "{hints:?}");
    assert_eq!(m.status, Status::NeedsRescan);
    assert!(
        m.reasons.contains(&Reason::InsufficientCoverage),
        "{:?}",
        m.reasons
    );
    assert!(m.sizes.is_none());
}

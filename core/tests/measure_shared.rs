//! End-to-end measurement over the independent scans in `../shared/scans`, driven offline:
//! poses from scan.json (pose-less scans: truth's `true_poses` stand in for the tracker),
//! observations per frame, landmark localisation, section fits, status.

mod common;

use mandrel_core::frame::pose;
use mandrel_core::measure::locate::LandmarkView;
use mandrel_core::measure::observe::{FrameObservations, ObserveConfig};
use mandrel_core::measure::{
    measure_detailed, MeasureInput, MeasureOptions, Reason, Status, TrackingSummary,
};
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{ScanSession, SessionConfig};
use std::path::Path;

struct Row {
    name: String,
    err_mm: Option<f64>,
    sigma_mm: Option<f64>,
    knuckle_err_mm: Option<f64>,
    status: Status,
    reasons: Vec<Reason>,
    /// Whether the measurement carries sizes or a recommendation.
    has_sizes: bool,
}

fn run(dir: &Path, use_landmarks: bool) -> Row {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let scan = ScanFolder::open(dir).expect("scan");
    let mut obs = vec![];
    let mut views = vec![];
    let cfg = ObserveConfig {
        stride: 1,
        ..Default::default()
    };
    for i in 0..scan.len() {
        let f = scan.frame(i).expect("frame");
        let pose = match f.pose {
            Some(p) => p,
            None => {
                let m: Vec<f64> = serde_json::from_value(truth["true_poses"][i].clone()).unwrap();
                pose::from_row_major(&m).unwrap()
            }
        };
        if let Some(l) = f.landmarks.clone() {
            views.push(LandmarkView::new(pose, f.intrinsics, l, Some(&f.depth)));
        }
        obs.push(FrameObservations::extract_with(&f, &pose, &cfg).expect("observe"));
    }
    let mut opts = MeasureOptions::new(scan.manifest.target);
    opts.use_landmarks = use_landmarks;
    let input = MeasureInput {
        observations: &obs,
        landmark_views: &views,
        surface: None,
        tracking: TrackingSummary {
            frames_total: scan.len(),
            ..Default::default()
        },
        upstream: Default::default(),
    };
    let (m, _d) = measure_detailed(&input, &opts).expect("measure");
    let truth_ring = truth["ring_circumference_mm"].as_f64().unwrap();
    let truth_knuckle = truth["knuckle_circumference_mm"].as_f64().unwrap();
    let row = Row {
        name: name.clone(),
        err_mm: m.ring_circumference_mm.map(|r| r - truth_ring),
        sigma_mm: m.uncertainty_mm,
        knuckle_err_mm: m.knuckle_circumference_mm.map(|k| k - truth_knuckle),
        status: m.status,
        reasons: m.reasons.clone(),
        has_sizes: m.sizes.is_some() || m.recommended.is_some(),
    };
    println!(
        "{name} landmarks={use_landmarks}: ring {:?} (truth {truth_ring:.2}) err {:?} sigma {:?} knuckle err {:?} cov {:.0} frames {} status {:?} {:?} timings {:?}",
        m.ring_circumference_mm.map(|v| (v * 100.0).round() / 100.0),
        row.err_mm.map(|v| (v * 1000.0).round() / 1000.0),
        row.sigma_mm.map(|v| (v * 1000.0).round() / 1000.0),
        row.knuckle_err_mm.map(|v| (v * 1000.0).round() / 1000.0),
        m.coverage_deg,
        m.frames_used,
        m.status,
        m.reasons,
        m.timings_ms
    );
    row
}

fn all(use_landmarks: bool) -> Vec<Row> {
    common::shared_scan_names()
        .iter()
        .map(|n| run(&common::shared_scan(n).unwrap(), use_landmarks))
        .collect()
}

/// The guarantee that holds at every stage of development: a scan reported `ok` is within
/// half a US half size (0.65 mm) or within 2.5 of its own sigmas; otherwise it must say
/// `needs_rescan`. Never a confident wrong size.
fn assert_honest(rows: &[Row]) {
    for r in rows {
        if r.status == Status::Ok {
            let err = r.err_mm.expect("ok has a circumference").abs();
            let sigma = r.sigma_mm.expect("ok has an uncertainty");
            assert!(
                err <= 0.65_f64.max(2.5 * sigma),
                "{}: confident wrong size: err {err:.3} mm, sigma {sigma:.3} mm",
                r.name
            );
            assert!(r.knuckle_err_mm.is_some());
        }
    }
}

#[test]
fn shared_scans_never_confidently_wrong_with_landmarks() {
    assert_honest(&all(true));
}

/// One scan pushed frame by frame through a [`ScanSession`] (poses refined against the fused
/// model, as the CLI and the bindings run it), with landmarks.
fn run_session(name: &str) -> Row {
    let dir = common::shared_scan(name).expect("shared scan");
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let scan = ScanFolder::open(&dir).expect("scan");
    let mut s = ScanSession::new(SessionConfig::new(scan.manifest.target)).unwrap();
    for i in 0..scan.len() {
        s.push_frame(scan.frame(i).expect("frame")).expect("push");
    }
    let m = s.finish().expect("finish");
    let truth_ring = truth["ring_circumference_mm"].as_f64().unwrap();
    let truth_knuckle = truth["knuckle_circumference_mm"].as_f64().unwrap();
    let row = Row {
        name: name.to_string(),
        err_mm: m.ring_circumference_mm.map(|r| r - truth_ring),
        sigma_mm: m.uncertainty_mm,
        knuckle_err_mm: m.knuckle_circumference_mm.map(|k| k - truth_knuckle),
        status: m.status,
        reasons: m.reasons.clone(),
        has_sizes: m.sizes.is_some() || m.recommended.is_some(),
    };
    println!(
        "{name} (session, landmarks): status {:?} {:?} err {:?} sigma {:?} knuckle err {:?} total {:.0} ms",
        m.status, m.reasons, row.err_mm, row.sigma_mm, row.knuckle_err_mm, m.timings_ms.total
    );
    row
}

/// Issue 4 acceptance, as far as it is met, through the session: every full-coverage
/// TrueDepth scan with landmarks is `ok` within 0.3 mm; every `ok` is within 0.5 mm and within
/// 2 of its sigmas; the dorsal-only scan (palm side never seen) asks for a rescan and says
/// why (`insufficient_coverage`); LiDAR is within 1 mm or asks for a rescan, and its sigma
/// covers its error (2 sigma).
#[test]
fn shared_scans_meet_accuracy_target_with_landmarks() {
    if common::shared_dir().is_none() {
        return;
    }
    let mut failures = Vec::new();
    for name in common::shared_scan_names() {
        let r = run_session(&name);
        let front = common::is_front_scene(&name);
        let full_td = name.starts_with("td-") && !name.contains("dorsal") && !front;
        match (r.status, r.err_mm, r.sigma_mm) {
            (Status::Ok, Some(e), Some(s)) if front => {
                // Front scenes (hand turned before a still camera, tracked without poses)
                // are held to issue 14's accuracy target by the ignored test below; here
                // an `ok` must never be a wrong size: one US half size (1.3 mm) off and
                // outside 2 sigma.
                if e.abs() > 1.3 && e.abs() > 2.0 * s {
                    failures.push(format!(
                        "{name}: ok but a wrong size: err {e:+.3} mm (sigma {s:.3})"
                    ));
                }
            }
            (Status::Ok, Some(e), Some(s)) => {
                if e.abs() > 0.5 || e.abs() > 2.0 * s {
                    failures.push(format!("{name}: ok but err {e:+.3} mm (sigma {s:.3})"));
                }
                if full_td && e.abs() > 0.3 {
                    failures.push(format!("{name}: err {e:+.3} mm > 0.3 mm"));
                }
                if name.contains("dorsal") {
                    failures.push(format!("{name}: ok from dorsal views only ({e:+.3} mm)"));
                }
            }
            (Status::Ok, _, _) => failures.push(format!("{name}: ok without a size")),
            (Status::NeedsRescan, e, s) => {
                if r.reasons.is_empty() {
                    failures.push(format!("{name}: needs_rescan without a reason"));
                }
                if front && r.has_sizes {
                    failures.push(format!("{name}: front scene: a rescan that carries sizes"));
                }
                if name.contains("dorsal") && !r.reasons.contains(&Reason::InsufficientCoverage) {
                    failures.push(format!(
                        "{name}: dorsal-only rescan without insufficient_coverage: {:?}",
                        r.reasons
                    ));
                }
                if full_td {
                    failures.push(format!("{name}: needs_rescan (err {e:?}, sigma {s:?})"));
                }
                if let (Some(e), Some(s)) = (e, s) {
                    if !name.contains("dorsal") && e.abs() > 1.0 && e.abs() > 2.0 * s {
                        failures.push(format!(
                            "{name}: err {e:+.3} mm not covered by sigma {s:.3}"
                        ));
                    }
                }
            }
            (other, _, _) => failures.push(format!("{name}: unexpected status {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Issue 14's target for the front scenes (hand turned before a still camera, no poses):
/// `ok` within 0.3 mm and within 2 of its sigmas, with landmarks. Not met yet (the front
/// scans' figures are in docs/tuning.md), so the test is ignored until it is; run it with
/// `--ignored`.
#[test]
#[ignore = "issue 14 open: the front scenes are not yet within 0.3 mm"]
fn front_scenes_meet_accuracy_target_with_landmarks() {
    if common::shared_dir().is_none() {
        return;
    }
    let mut failures = Vec::new();
    for name in common::shared_scan_names() {
        if !common::is_front_scene(&name) {
            continue;
        }
        let r = run_session(&name);
        match (r.status, r.err_mm, r.sigma_mm) {
            (Status::Ok, Some(e), Some(s)) if e.abs() <= 0.3 && e.abs() <= 2.0 * s => {}
            (status, e, s) => failures.push(format!(
                "{name}: {status:?} {:?} err {e:?} sigma {s:?}",
                r.reasons
            )),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

//! Landmark localisation against the independent generator's truth (`../shared/scans`).
//!
//! Poses: the scan's own (tracker-like, perturbed) poses where given; for pose-less scans the
//! truth's `true_poses` stand in for the tracker (this test isolates localisation).

mod common;

use mandrel_core::frame::pose;
use mandrel_core::measure::locate::{from_landmarks, LandmarkView, LocateConfig};
use mandrel_core::scan::ScanFolder;
use nalgebra::Point3;

fn p3(v: &serde_json::Value) -> Point3<f64> {
    let a: Vec<f64> = serde_json::from_value(v.clone()).expect("point");
    Point3::new(a[0], a[1], a[2])
}

#[test]
#[allow(clippy::needless_range_loop)]
fn landmark_triangulation_matches_truth_on_shared_scans() {
    let names = common::shared_scan_names();
    if names.is_empty() {
        return;
    }
    for name in names {
        let dir = common::shared_scan(&name).expect("shared");
        let scan = ScanFolder::open(&dir).expect("open");
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap())
                .unwrap();
        let true_poses = truth["true_poses"].as_array().cloned().unwrap_or_default();
        let mut views = vec![];
        for i in 0..scan.len() {
            let f = scan.frame(i).expect("frame");
            let pose = match f.pose {
                Some(p) => p,
                None => {
                    let m: Vec<f64> = serde_json::from_value(true_poses[i].clone()).unwrap();
                    pose::from_row_major(&m).unwrap()
                }
            };
            if let Some(l) = f.landmarks.clone() {
                views.push(LandmarkView::new(pose, f.intrinsics, l, Some(&f.depth)));
            }
        }
        let finger = scan.manifest.target.finger;
        let found = from_landmarks(&views, finger, &LocateConfig::default()).expect("locate");
        let e_mcp = (found.mcp.position - p3(&truth["mcp"])).norm() * 1000.0;
        let e_pip = (found.pip.position - p3(&truth["pip"])).norm() * 1000.0;
        let ring_true = p3(&truth["ring_point"]);
        let e_ring = (found.ring_point() - ring_true).norm() * 1000.0;
        let axis_true = (p3(&truth["pip"]) - p3(&truth["mcp"])).normalize();
        let tilt_deg = found
            .direction()
            .dot(&axis_true)
            .clamp(-1.0, 1.0)
            .acos()
            .to_degrees();
        println!(
            "{name}: views {} mcp err {e_mcp:.2} mm (sigma {:.2}, used {}, rej {}, behind skin {:?}) pip err {e_pip:.2} mm (sigma {:.2}, rej {}) ring point {e_ring:.2} mm, tilt {tilt_deg:.2} deg, {:?}",
            views.len(),
            found.mcp.sigma_m * 1000.0,
            found.mcp.views_used,
            found.mcp.views_rejected,
            found.mcp.depth_behind_skin_m.map(|d| (d * 1000.0 * 10.0).round() / 10.0),
            found.pip.sigma_m * 1000.0,
            found.pip.views_rejected,
            found.method
        );
        assert!(e_mcp < 2.0, "{name}: MCP off by {e_mcp:.2} mm");
        assert!(e_pip < 2.0, "{name}: PIP off by {e_pip:.2} mm");
        assert!(tilt_deg < 3.0, "{name}: axis tilted {tilt_deg:.2} deg");
    }
}

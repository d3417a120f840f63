//! The session's focal-length check on the shared scans with platform poses: the lateral
//! scale each one gives and the measurement. Prints a table row per scan; asserts that each
//! scan (rendered with the focal length it states) is estimated within 3σ of scale one, so
//! the check leaves it alone.
//! `cargo test --release -p mandrel-core --test focal_scale_shared -- --ignored --nocapture`

mod common;

use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{ScanSession, SessionConfig};

#[test]
#[ignore = "four whole shared scans through a session; run in release with --ignored --nocapture"]
fn lateral_scale_of_the_shared_pose_scans() {
    println!("| scan | frames | lateral scale | err mm | σ mm | status |");
    for name in [
        "td-full-pose-01",
        "td-dorsal-pose-02",
        "td-full-pose-index-04",
        "lidar-full-pose-05",
    ] {
        let Some(dir) = common::shared_scan(name) else {
            return;
        };
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
        let scan = ScanFolder::open(&dir).unwrap();
        let mut s = ScanSession::new(SessionConfig::new(scan.manifest.target)).unwrap();
        for i in 0..scan.len() {
            s.push_frame(scan.frame(i).unwrap()).unwrap();
        }
        let (m, d) = s.finish_detailed().unwrap();
        let err = m
            .ring_circumference_mm
            .map(|r| r - truth["ring_circumference_mm"].as_f64().unwrap());
        let ls = d.lateral_scale.map_or("none".to_string(), |l| {
            format!("{:.4} ± {:.4}", l.scale, l.sigma)
        });
        println!(
            "| {name} | {} | {ls} | {err:.2?} | {:.2?} | {:?} {:?} |",
            scan.len(),
            m.uncertainty_mm,
            m.status,
            m.reasons
        );
        let l = d
            .lateral_scale
            .expect("platform poses give a lateral scale");
        assert!((l.scale - 1.0).abs() <= 3.0 * l.sigma, "{name}: {l:?}");
    }
}

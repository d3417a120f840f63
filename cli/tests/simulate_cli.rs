//! `mandrel simulate` end to end: writes a scan folder that reads back, with truth.json;
//! refuses to overwrite without --force; bad options exit 2.

use mandrel_core::hand::Hand;
use mandrel_core::scan::ScanFolder;
use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mandrel-sim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn mandrel(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mandrel"))
        .args(args)
        .output()
        .expect("run mandrel");
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn simulate_writes_a_readable_scan_with_truth() {
    let dir = scratch("ok");
    let d = dir.to_str().unwrap();
    let (code, out) = mandrel(&[
        "simulate",
        d,
        "--seed",
        "7",
        "--frames",
        "5",
        "--sensor",
        "lidar",
        "--coverage",
        "dorsal",
        "--no-poses",
        "--hand",
        "right",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("truth: ring"), "{out}");
    let scan = ScanFolder::open(&dir).unwrap();
    assert_eq!(scan.len(), 5);
    assert_eq!(scan.manifest.target.hand, Hand::Right);
    assert_eq!(scan.manifest.intrinsics.width, 256);
    for f in scan.frames() {
        let f = f.unwrap();
        assert!(f.pose.is_none());
        assert!(f.depth.valid_count() > 500);
    }
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    assert_eq!(truth["coverage"], "dorsal");
    assert_eq!(truth["poses_given"], false);
    assert_eq!(truth["true_poses"].as_array().unwrap().len(), 5);
    let ring = truth["ring_circumference_mm"].as_f64().unwrap();
    assert!((40.0..80.0).contains(&ring), "{ring}");
    // Same seed, same truth.
    let (code, out) = mandrel(&[
        "simulate", d, "--seed", "7", "--frames", "5", "--sensor", "lidar",
    ]);
    assert_eq!(code, 2, "overwrite without --force: {out}");
    assert!(out.contains("--force"), "{out}");
    let (code, out) = mandrel(&[
        "simulate",
        d,
        "--seed",
        "7",
        "--frames",
        "5",
        "--sensor",
        "lidar",
        "--coverage",
        "dorsal",
        "--no-poses",
        "--hand",
        "right",
        "--force",
    ]);
    assert_eq!(code, 0, "{out}");
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    assert_eq!(
        again["ring_circumference_mm"],
        truth["ring_circumference_mm"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn simulate_rejects_bad_options_with_exit_2() {
    let dir = scratch("bad");
    let d = dir.to_str().unwrap();
    let (code, out) = mandrel(&["simulate", d, "--frames", "0"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("frames"), "{out}");
    let (code, out) = mandrel(&["simulate", d, "--landmark-noise-px=-3"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("landmark_noise_px"), "{out}");
    assert!(!dir.join("scan.json").exists());
}

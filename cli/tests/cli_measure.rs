//! `mandrel measure` end to end: JSON schema, exit codes, bad input.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mandrel"))
}

/// `../shared/scans/NAME` beside the repository; `None` (skip) when absent, except under CI.
fn shared_scan(name: &str) -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/scans")
        .join(name);
    if d.join("scan.json").is_file() {
        return Some(d);
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("CI=true but {} is missing", d.display());
    }
    eprintln!("SKIP: {} not found", d.display());
    None
}

#[test]
fn json_output_has_the_issue_schema_and_matching_exit_code() {
    let Some(dir) = shared_scan("td-full-pose-01") else {
        return;
    };
    let out = bin()
        .arg("measure")
        .arg(&dir)
        .arg("--json")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {stdout}"));
    for key in [
        "status",
        "reasons",
        "hand",
        "finger",
        "ring_circumference_mm",
        "knuckle_circumference_mm",
        "uncertainty_mm",
        "sizes",
        "recommended",
        "coverage_deg",
        "frames_used",
        "timings_ms",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {stdout}");
    }
    assert_eq!(v["hand"], "left");
    assert_eq!(v["finger"], "ring");
    let code = out.status.code();
    match v["status"].as_str() {
        Some("ok") => {
            assert_eq!(code, Some(0));
            assert!(v["reasons"].as_array().unwrap().is_empty());
        }
        Some("needs_rescan") => {
            assert_eq!(code, Some(3));
            assert!(!v["reasons"].as_array().unwrap().is_empty());
            assert!(v["sizes"].is_null());
        }
        other => panic!("bad status {other:?}"),
    }
    assert!(v["timings_ms"]["total"].as_f64().unwrap() > 0.0);
}

#[test]
fn human_summary_names_the_finger() {
    let Some(dir) = shared_scan("td-full-pose-01") else {
        return;
    };
    let out = bin()
        .args(["measure", "--finger", "ring", "--hand", "left"])
        .arg(&dir)
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.starts_with("left hand, ring finger"), "{s}");
    assert!(matches!(out.status.code(), Some(0) | Some(3)));
}

#[test]
fn missing_folder_is_bad_input() {
    let out = bin()
        .args(["measure", "/nonexistent/mandrel-scan", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scan.json"));
    assert!(out.stdout.is_empty());
}

#[test]
fn malformed_manifest_is_bad_input() {
    let dir = std::env::temp_dir().join(format!("mandrel-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("scan.json"), "{\"format\": \"nope\"}").unwrap();
    let out = bin().arg("measure").arg(&dir).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unknown_finger_is_bad_input() {
    let out = bin()
        .args(["measure", ".", "--finger", "toe"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("toe"));
}

/// `--poses-out`: one entry per frame, each a row-major rigid 4x4 (or null), and the same
/// measurement as without it.
#[test]
fn poses_out_writes_one_rigid_pose_per_frame() {
    let Some(dir) = shared_scan("td-full-pose-01") else {
        return;
    };
    let out = std::env::temp_dir().join(format!("mandrel-poses-{}.json", std::process::id()));
    let o = bin()
        .args(["measure", "--json", "--poses-out"])
        .arg(&out)
        .arg(&dir)
        .output()
        .expect("run");
    assert!(matches!(o.status.code(), Some(0) | Some(3)), "{o:?}");
    let text = std::fs::read_to_string(&out).expect("poses written");
    let _ = std::fs::remove_file(&out);
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let poses = v["poses"].as_array().expect("poses array");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("scan.json")).unwrap()).unwrap();
    assert_eq!(poses.len(), manifest["frames"].as_array().unwrap().len());
    let mut some = 0;
    for p in poses {
        if p.is_null() {
            continue;
        }
        some += 1;
        let m: Vec<f64> = serde_json::from_value(p.clone()).expect("16 numbers");
        assert_eq!(m.len(), 16);
        assert_eq!(&m[12..], &[0.0, 0.0, 0.0, 1.0]);
        // The rotation block is orthonormal.
        for r in 0..3 {
            let n: f64 = (0..3).map(|c| m[4 * r + c] * m[4 * r + c]).sum();
            assert!((n - 1.0).abs() < 1e-6, "{m:?}");
        }
    }
    assert!(
        some > poses.len() / 2,
        "{some} of {} frames posed",
        poses.len()
    );
}

//! `mandrel fuse` end to end on a simulated scan without poses: the frames go through the
//! session, which tracks them (no frame is skipped for lack of a pose), and the mesh and the
//! `--stats --json` line are written; a bad output extension exits 2.

use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mandrel-fuse-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn mandrel(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mandrel"))
        .args(args)
        .output()
        .expect("run mandrel");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn fuse_tracks_frames_without_poses_through_the_session() {
    let dir = scratch("nopose");
    let scan = dir.join("scan");
    let s = scan.to_str().unwrap();
    let (code, _, err) = mandrel(&["simulate", s, "--seed", "3", "--frames", "20", "--no-poses"]);
    assert_eq!(code, 0, "{err}");
    let ply = dir.join("mesh.ply");
    let (code, out, err) = mandrel(&["fuse", s, "-o", ply.to_str().unwrap(), "--stats", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("skipped"), "{err}");
    let j: serde_json::Value =
        serde_json::from_str(out.trim().lines().last().expect("a JSON line")).expect("JSON");
    assert_eq!(j["frames_pushed"], 20, "{j}");
    let summary = &j["tracking"]["summary"];
    assert_eq!(summary["frames_total"], 20, "{j}");
    assert_eq!(summary["frames_tracked"], 20, "{j}");
    let fused = j["frames"].as_u64().unwrap();
    let lost = j["tracking_lost"].as_u64().unwrap();
    assert!(fused >= 15, "{j}");
    assert_eq!(fused + lost + j["no_usable_depth"].as_u64().unwrap(), 20);
    assert_eq!(j["tracking"]["per_frame"].as_array().unwrap().len(), 20);
    assert!(j["triangles"].as_u64().unwrap() > 10_000, "{j}");
    for key in [
        "integrate_ms_per_frame",
        "push_cpu_ms_per_frame",
        "extract_cpu_ms",
    ] {
        assert!(j[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {j}");
    }
    let bytes = std::fs::read(&ply).expect("mesh written");
    assert!(bytes.starts_with(b"ply\nformat binary_little_endian"));

    let (code, _, err) = mandrel(&["fuse", s, "-o", dir.join("m.stl").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("extension"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

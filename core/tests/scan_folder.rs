//! Scan folder reading against the independent sample scans, and malformed inputs.
mod common;

use mandrel_core::scan::{ScanError, ScanFolder};
use std::fs;

#[test]
fn reads_every_shared_scan() {
    for name in common::shared_scan_names() {
        let dir = common::shared_scan(&name).unwrap();
        let scan = ScanFolder::open(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(scan.len() >= 10, "{name}: {} frames", scan.len());
        let f = scan.frame(0).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(f.depth.width(), scan.manifest.intrinsics.width);
        let valid = f.depth.valid_count();
        assert!(valid > 1000, "{name}: only {valid} valid pixels");
        // Depths are hand-scale: between 5 cm and 2 m.
        let max = f.depth.depth_m().iter().cloned().fold(0.0f32, f32::max);
        assert!(max > 0.05 && max < 2.0, "{name}: max depth {max}");
    }
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mandrel-scan-test-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn missing_and_malformed_manifests_are_typed_errors() {
    let d = tmp("missing");
    let e = ScanFolder::open(&d).unwrap_err();
    assert!(matches!(e, ScanError::Io { .. }), "{e}");
    assert!(e.to_string().contains("scan.json"));

    fs::write(d.join("scan.json"), "{ not json").unwrap();
    let e = ScanFolder::open(&d).unwrap_err();
    assert!(matches!(e, ScanError::Manifest { .. }), "{e}");

    let good = r#"{"format":"mandrel-scan","version":1,"sensor":"x",
      "intrinsics":{"width":4,"height":3,"fx":0.0,"fy":5.0,"cx":1.5,"cy":1.0},
      "depth_scale":1000.0,"target":{"hand":"left","finger":"ring"},
      "frames":[{"depth":"depth/000000.png","timestamp":0.0,"pose":null,"landmarks":null}]}"#;
    fs::write(d.join("scan.json"), good).unwrap();
    let e = ScanFolder::open(&d).unwrap_err();
    assert!(e.to_string().contains("focal"), "{e}");

    fs::write(
        d.join("scan.json"),
        good.replace("\"fx\":0.0", "\"fx\":5.0")
            .replace("\"version\":1", "\"version\":7"),
    )
    .unwrap();
    assert!(ScanFolder::open(&d)
        .unwrap_err()
        .to_string()
        .contains("version 7"));

    fs::write(
        d.join("scan.json"),
        good.replace("\"fx\":0.0", "\"fx\":5.0")
            .replace("\"ring\"", "\"toe\""),
    )
    .unwrap();
    assert!(matches!(
        ScanFolder::open(&d).unwrap_err(),
        ScanError::Manifest { .. }
    ));

    fs::write(
        d.join("scan.json"),
        good.replace("\"fx\":0.0", "\"fx\":5.0")
            .replace("depth/000000.png", "../../etc/passwd"),
    )
    .unwrap();
    assert!(ScanFolder::open(&d)
        .unwrap_err()
        .to_string()
        .contains("inside the scan folder"));

    // Valid manifest, missing PNG: the whole manifest is checked when the folder is
    // opened, before any frame is decoded; the error names the file.
    fs::write(
        d.join("scan.json"),
        good.replace("\"fx\":0.0", "\"fx\":5.0"),
    )
    .unwrap();
    let e = ScanFolder::open(&d).unwrap_err();
    assert!(e.to_string().contains("000000.png"), "{e}");

    // A bad pose in a frame is reported with its index, also at open.
    fs::write(
        d.join("scan.json"),
        good.replace("\"fx\":0.0", "\"fx\":5.0")
            .replace("\"pose\":null", "\"pose\":[1,0,0,0,0,1,0,0,0,0,1,0,0,0,0]"),
    )
    .unwrap();
    fs::create_dir_all(d.join("depth")).unwrap();
    fs::write(d.join("depth/000000.png"), b"not a png").unwrap();
    assert!(matches!(
        ScanFolder::open(&d).unwrap_err(),
        ScanError::Frame { index: 0, .. }
    ));
    fs::remove_dir_all(d.join("depth")).unwrap();

    fs::write(
        d.join("scan.json"),
        good.replace("\"fx\":0.0", "\"fx\":5.0").replace(
            r#"[{"depth":"depth/000000.png","timestamp":0.0,"pose":null,"landmarks":null}]"#,
            "[]",
        ),
    )
    .unwrap();
    assert!(matches!(
        ScanFolder::open(&d).unwrap_err(),
        ScanError::Empty
    ));
}

#[test]
fn write_then_read_round_trips() {
    let Some(src) = common::shared_scan("td-full-pose-01") else {
        return;
    };
    let scan = ScanFolder::open(&src).unwrap();
    let frames: Vec<_> = scan.frames().take(3).map(|f| f.unwrap()).collect();
    let d = tmp("roundtrip");
    let clipped =
        mandrel_core::scan::write_scan(&d, "synthetic", scan.manifest.target, 10000.0, &frames)
            .unwrap();
    assert_eq!(clipped, 0);
    let back = ScanFolder::open(&d).unwrap();
    assert_eq!(back.len(), 3);
    for (i, frame) in frames.iter().enumerate() {
        let b = back.frame(i).unwrap();
        assert_eq!(b.depth.depth_m(), frame.depth.depth_m());
        let (p, q) = (b.pose.unwrap(), frame.pose.unwrap());
        assert!((p.to_homogeneous() - q.to_homogeneous()).abs().max() < 1e-6);
    }
}

//! `mandrel demo`: runs the whole pipeline on a simulated hand and writes its three files.

use std::process::Command;

#[test]
fn demo_writes_mesh_overlay_and_section() {
    let dir = std::env::temp_dir().join(format!("mandrel-demo-test-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_mandrel"))
        .args(["demo", "--seed", "3", "-o"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "exit {:?}: {stdout} {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("truth: ring"), "{stdout}");
    let ply = std::fs::read(dir.join("mesh.ply")).unwrap();
    assert!(ply.starts_with(b"ply\n"));
    assert!(ply.len() > 10_000, "mesh too small: {} bytes", ply.len());
    for name in ["overlay.png", "section.png"] {
        let img = image::open(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(img.width() >= 200 && img.height() >= 200, "{name} is tiny");
        // Something was drawn: more than one colour.
        let rgb = img.to_rgb8();
        let first = *rgb.get_pixel(0, 0);
        assert!(rgb.pixels().any(|p| *p != first), "{name} is blank");
    }
    std::fs::remove_dir_all(&dir).ok();
}

//! `mandrel cad` end to end: a simulated scan is measured, and the band is written as STL,
//! 3MF, DXF and SVG that read back (stl_io, threemf, dxf) with the same triangles and
//! contour; a measurement without fit geometry and a bad option exit 2.

use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mandrel-cad-cli-{}-{name}", std::process::id()));
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
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn cad_writes_four_files_that_read_back() {
    let dir = scratch("ok");
    let scan = dir.join("scan");
    let (code, _) = mandrel(&["simulate", scan.to_str().unwrap(), "--seed", "4"]);
    assert_eq!(code, 0);
    let (code, json) = mandrel(&["measure", scan.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "seed 4 measures ok: {json}");
    let m = dir.join("m.json");
    std::fs::write(&m, &json).unwrap();
    let base = dir.join("out/band");
    let (code, report) = mandrel(&[
        "cad",
        m.to_str().unwrap(),
        "--width",
        "3",
        "--thickness",
        "1.5",
        "--fit",
        "loose",
        "-o",
        base.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{report}");
    let r: serde_json::Value = serde_json::from_str(&report).unwrap();
    let err = r["inner_perimeter_error_mm"].as_f64().unwrap();
    assert!(err.abs() <= 0.05, "{r}");
    assert!(r["min_wall_mm"].as_f64().unwrap() >= 1.45, "{r}");
    assert_eq!(r["closed_manifold"], true);

    let stl = std::fs::read(base.with_extension("stl")).unwrap();
    let mesh = stl_io::read_stl(&mut std::io::Cursor::new(&stl)).unwrap();
    mesh.validate().expect("closed, oriented STL");
    let triangles = r["triangles"].as_u64().unwrap() as usize;
    assert_eq!(mesh.faces.len(), triangles);

    let models = threemf::read(std::fs::File::open(base.with_extension("3mf")).unwrap()).unwrap();
    let object_meshes: Vec<_> = models
        .iter()
        .flat_map(|m| m.resources.object.iter())
        .filter_map(|o| o.mesh.as_ref())
        .collect();
    assert_eq!(object_meshes.len(), 1);
    assert_eq!(object_meshes[0].triangles.triangle.len(), triangles);

    let drawing = dxf::Drawing::load_file(base.with_extension("dxf")).unwrap();
    let polys: Vec<_> = drawing
        .entities()
        .filter_map(|e| match &e.specific {
            dxf::entities::EntityType::LwPolyline(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(polys.len(), 1);
    assert!(polys[0].is_closed());
    let v = &polys[0].vertices;
    let perimeter: f64 = (0..v.len())
        .map(|i| {
            let (a, b) = (&v[i], &v[(i + 1) % v.len()]);
            (a.x - b.x).hypot(a.y - b.y)
        })
        .sum();
    let target = r["target_perimeter_mm"].as_f64().unwrap();
    assert!(
        (perimeter - target).abs() <= 0.05,
        "{perimeter} vs {target}"
    );
    let svg = std::fs::read_to_string(base.with_extension("svg")).unwrap();
    assert!(svg.contains("id=\"inner-contour\""));

    // A measurement from before fit geometry existed: a clear refusal, exit 2.
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    old.as_object_mut().unwrap().remove("fit_geometry");
    std::fs::write(&m, old.to_string()).unwrap();
    let (code, _) = mandrel(&["cad", m.to_str().unwrap(), "-o", base.to_str().unwrap()]);
    assert_eq!(code, 2);
    let (code, _) = mandrel(&[
        "cad",
        m.to_str().unwrap(),
        "--fit",
        "tight",
        "-o",
        base.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

//! `mandrel measure --report`, the progress bar's silence off a terminal, the versioned
//! measurement JSON and its schema (`docs/measurement.schema.json`), and envelopes sealed
//! before the JSON was versioned.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mandrel"))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mandrel-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `../shared/scans/NAME` beside the repository; `None` (skip) when absent, except under CI.
fn shared_scan(name: &str) -> Option<PathBuf> {
    let d = repo().join("../shared/scans").join(name);
    if d.join("scan.json").is_file() {
        return Some(d);
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("CI=true but {} is missing", d.display());
    }
    eprintln!("SKIP: {} not found", d.display());
    None
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The committed schema, compiled.
fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("docs/measurement.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the committed schema compiles")
}

fn assert_valid(v: &serde_json::Value, what: &str) {
    let errors: Vec<String> = validator().iter_errors(v).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{what} fails the schema: {errors:?}\n{v}"
    );
}

/// What a progress bar would leave on stderr: carriage returns, escape codes, its template.
fn has_bar(stderr: &str) -> bool {
    stderr.contains('\r')
        || stderr.contains('\u{1b}')
        || stderr.contains("ETA")
        || stderr.contains("track+fuse")
}

/// A small simulated scan (12 frames), written once per test that needs it.
fn small_scan(name: &str) -> PathBuf {
    let dir = scratch(name);
    let out = bin()
        .args(["simulate", "--seed", "5", "--frames", "12"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "simulate: {}", text(&out.stderr));
    dir
}

#[test]
fn measure_json_through_a_pipe_is_pure_json_and_no_bar() {
    let scan = small_scan("pipe");
    let out = bin()
        .arg("measure")
        .arg(&scan)
        .arg("--json")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(matches!(out.status.code(), Some(0) | Some(3)), "{stderr}");
    assert!(
        stdout.starts_with('{') && stdout.ends_with("}\n"),
        "{stdout:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON object");
    assert_eq!(v["format"], "mandrel.measurement");
    assert_eq!(v["version"], mandrel_core::MEASUREMENT_VERSION);
    assert_valid(&v, "measure --json");
    assert!(!has_bar(&stderr), "stderr shows a progress bar: {stderr:?}");
    // The human summary piped: still no bar.
    let out = bin().arg("measure").arg(&scan).output().unwrap();
    assert!(!has_bar(&text(&out.stderr)), "{:?}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ring finger"),
        "{}",
        text(&out.stdout)
    );
    std::fs::remove_dir_all(&scan).ok();
}

/// Checks a report folder: every file exists and parses.
fn check_report(dir: &Path, stdout_json: Option<&serde_json::Value>) {
    for name in [
        "result.json",
        "mesh.ply",
        "section.png",
        "overlay.png",
        "profile.png",
        "report.html",
    ] {
        assert!(
            dir.join(name).is_file(),
            "{name} missing in {}",
            dir.display()
        );
    }
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap();
    assert_valid(&result, "result.json");
    if let Some(s) = stdout_json {
        assert_eq!(&result, s, "result.json differs from the --json output");
    }
    let ply = std::fs::read(dir.join("mesh.ply")).unwrap();
    assert!(
        ply.starts_with(b"ply\n") && ply.len() > 10_000,
        "mesh.ply: {} bytes",
        ply.len()
    );
    for (name, min_w, min_h) in [
        ("section.png", 600, 600),
        ("overlay.png", 200, 150),
        ("profile.png", 800, 450),
    ] {
        let img = image::open(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            img.width() >= min_w && img.height() >= min_h,
            "{name} is {}x{}",
            img.width(),
            img.height()
        );
        let rgb = img.to_rgb8();
        let first = *rgb.get_pixel(0, 0);
        let differing = rgb.pixels().filter(|p| **p != first).count();
        assert!(
            differing > 2000,
            "{name} is nearly blank ({differing} pixels drawn)"
        );
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    let images: Vec<&str> = html.split("data:image/png;base64,").skip(1).collect();
    assert_eq!(images.len(), 3, "the report embeds three pictures");
    use base64::Engine;
    for img in images {
        let b64 = &img[..img.find('"').unwrap()];
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        image::load_from_memory_with_format(&png, image::ImageFormat::Png).expect("embedded PNG");
    }
    assert!(
        !html.contains("src=\"http") && !html.contains("<script"),
        "the report is self-contained"
    );
    for needle in ["Timings", "coverage", "ring circumference"] {
        assert!(html.contains(needle), "report.html lacks {needle}");
    }
    match result["status"].as_str() {
        Some("ok") => {
            // Sizes in every system, and the knuckle advice.
            for needle in [
                "ISO 8653",
                "US / Canada",
                "UK / Australia",
                "Japan",
                "Switzerland",
                "India",
                "China",
                "Knuckle advice",
            ] {
                assert!(html.contains(needle), "report.html lacks {needle}");
            }
        }
        _ => {
            assert!(html.contains("Why a rescan is needed"));
            assert!(html.matches("<li>").count() >= result["reasons"].as_array().unwrap().len());
        }
    }
}

#[test]
fn report_for_a_shared_scan_writes_every_file() {
    let Some(scan) = shared_scan("td-full-pose-01") else {
        return;
    };
    let dir = scratch("shared");
    let out = bin()
        .arg("measure")
        .arg(&scan)
        .arg("--json")
        .arg("--report")
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        text(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout stays pure JSON");
    check_report(&dir, Some(&v));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("truth (simulated scan)"),
        "truth.json is shown"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn report_for_a_rescan_names_the_reasons() {
    // A dorsal-only scan of few frames: a rescan with its reasons in plain words (or, if
    // the pipeline measures it after all, a full report); either way every file parses.
    let dir = scratch("dorsal-scan");
    let out = bin()
        .args([
            "simulate",
            "--seed",
            "2",
            "--frames",
            "10",
            "--coverage",
            "dorsal",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = scratch("dorsal-report");
    let out = bin()
        .arg("measure")
        .arg(&dir)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        text(&out.stderr)
    );
    check_report(&report, None);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&report).ok();
}

#[test]
fn committed_schema_is_the_generated_one() {
    let out = bin().arg("schema").output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(repo().join("docs/measurement.schema.json")).unwrap();
    assert_eq!(
        text(&out.stdout),
        committed,
        "docs/measurement.schema.json is stale: regenerate it with `mandrel schema -o docs/measurement.schema.json`"
    );
}

#[test]
fn envelope_sealed_before_versioning_still_opens_and_reads_as_version_1() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/legacy-envelope-v1");
    let out: Output = bin()
        .arg("open")
        .arg(data.join("sealed.json"))
        .arg("--key")
        .arg(data.join("test-key.key"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let payload = &v["measurement"];
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("measurement.json")).unwrap())
            .unwrap();
    assert_eq!(payload, &original);
    assert!(
        payload.get("version").is_none(),
        "the committed payload predates the version"
    );
    assert_valid(payload, "the legacy payload");
    let m: mandrel_core::Measurement = serde_json::from_value(payload.clone()).unwrap();
    assert_eq!(m.format, mandrel_core::MEASUREMENT_FORMAT);
    assert_eq!(m.version, 1);
    assert_eq!(
        m.ring_circumference_mm,
        original["ring_circumference_mm"].as_f64()
    );
    // Written again, it carries the current format version.
    let again = serde_json::to_value(&m).unwrap();
    assert_eq!(again["format"], "mandrel.measurement");
    assert_eq!(
        again["version"], 1,
        "re-serialising keeps the version it was read as"
    );
}

#[test]
fn a_bad_status_fails_the_schema() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/legacy-envelope-v1");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("measurement.json")).unwrap())
            .unwrap();
    v["status"] = "maybe".into();
    assert!(
        !validator().is_valid(&v),
        "a bad status must fail the schema"
    );
}

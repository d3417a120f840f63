//! `mandrel keygen` / `seal` / `open` end to end: key files, consent gating, round trip with
//! and without the mesh, and loud non-zero failure on tampering and on the wrong key.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mandrel"))
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mandrel-seal-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run mandrel")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let prefix = dir.join(name);
    let o = run(bin().arg("keygen").arg(&prefix));
    assert!(o.status.success(), "{}", text(&o));
    (prefix.with_extension("pub"), prefix.with_extension("key"))
}

fn write_result(dir: &Path) -> PathBuf {
    let p = dir.join("result.json");
    fs::write(
        &p,
        r#"{"status":"ok","finger":"ring","circumference_mm":56.25,"sizes":{"us":7.5}}"#,
    )
    .unwrap();
    p
}

fn seal(
    dir: &Path,
    result: &Path,
    to: &Path,
    scope: &str,
    mesh: Option<&Path>,
    out: &str,
) -> Output {
    let mut c = bin();
    c.arg("seal")
        .arg(result)
        .arg("--to")
        .arg(to)
        .args(["--purpose", "ring sizing for order 77", "--scope", scope])
        .args(["--policy-version", "2026-11", "--scan-id", "scan-77"])
        .arg("-o")
        .arg(dir.join(out));
    if let Some(m) = mesh {
        c.arg("--mesh").arg(m);
    }
    run(&mut c)
}

#[test]
fn keygen_writes_base64url_keys_with_a_private_mode() {
    let d = scratch("keygen");
    let (pub_path, key_path) = keygen(&d, "retailer");
    for p in [&pub_path, &key_path] {
        let t = fs::read_to_string(p).unwrap();
        let t = t.trim();
        assert_eq!(t.len(), 43, "32 bytes base64url without padding: {t}");
        assert!(t
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
    assert_ne!(fs::read(&pub_path).unwrap(), fs::read(&key_path).unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Refuses to overwrite, exit 2.
    let o = run(bin().arg("keygen").arg(d.join("retailer")));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // Two key pairs differ.
    let (pub2, _) = keygen(&d, "other");
    assert_ne!(fs::read(&pub_path).unwrap(), fs::read(&pub2).unwrap());
}

#[test]
fn seal_then_open_round_trips_and_tampering_fails_loudly() {
    let d = scratch("roundtrip");
    let (pub_path, key_path) = keygen(&d, "r");
    let result = write_result(&d);
    let o = seal(&d, &result, &pub_path, "measurement", None, "sealed.json");
    assert!(o.status.success(), "{}", text(&o));
    let sealed = d.join("sealed.json");
    let envelope: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&sealed).unwrap()).unwrap();
    assert_eq!(envelope["format"], "mandrel-sealed");
    // No plaintext measurement value appears on the wire.
    assert!(!fs::read_to_string(&sealed).unwrap().contains("56.25"));

    let o = run(bin()
        .arg("open")
        .arg(&sealed)
        .arg("--key")
        .arg(&key_path)
        .arg("--json"));
    assert!(o.status.success(), "{}", text(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["measurement"]["circumference_mm"], 56.25);
    assert_eq!(out["header"]["scan_id"], "scan-77");
    assert_eq!(
        out["header"]["consent"]["purpose"],
        "ring sizing for order 77"
    );
    assert_eq!(out["header"]["consent"]["scope"], "measurement");
    assert_eq!(out["header"]["consent"]["policy_version"], "2026-11");
    assert!(out["mesh_bytes"].is_null());

    // Tamper with each field: change one character of header, enc, ciphertext.
    for field in ["header", "enc", "ciphertext"] {
        let mut env = envelope.clone();
        let s = env[field].as_str().unwrap().to_string();
        let mut chars: Vec<char> = s.chars().collect();
        let i = if field == "header" { 15 } else { 5 };
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        env[field] = serde_json::Value::String(chars.into_iter().collect());
        let p = d.join(format!("tampered-{field}.json"));
        fs::write(&p, env.to_string()).unwrap();
        let o = run(bin().arg("open").arg(&p).arg("--key").arg(&key_path));
        assert!(!o.status.success(), "{field}: {}", text(&o));
        assert!(text(&o).contains("REJECTED"), "{field}: {}", text(&o));
        assert!(!String::from_utf8_lossy(&o.stdout).contains("56.25"));
    }

    // Wrong key: non-zero and loud.
    let (_, other_key) = keygen(&d, "other");
    let o = run(bin().arg("open").arg(&sealed).arg("--key").arg(&other_key));
    assert!(!o.status.success());
    assert!(
        text(&o).contains("REJECTED") && text(&o).contains("wrong private key"),
        "{}",
        text(&o)
    );

    // Not an envelope at all: bad input, exit 2.
    let o = run(bin().arg("open").arg(&result).arg("--key").arg(&key_path));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn mesh_needs_the_mesh_scope_and_round_trips_with_it() {
    let d = scratch("mesh");
    let (pub_path, key_path) = keygen(&d, "r");
    let result = write_result(&d);
    let mesh = d.join("hand.ply");
    let mut ply =
        b"ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float x\nend_header\n"
            .to_vec();
    ply.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    fs::write(&mesh, &ply).unwrap();

    let o = seal(
        &d,
        &result,
        &pub_path,
        "measurement",
        Some(&mesh),
        "no.json",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("measurement+mesh"));
    assert!(!d.join("no.json").exists());

    let o = seal(
        &d,
        &result,
        &pub_path,
        "measurement+mesh",
        Some(&mesh),
        "yes.json",
    );
    assert!(o.status.success(), "{}", text(&o));
    let out_mesh = d.join("out.ply");
    let o = run(bin()
        .arg("open")
        .arg(d.join("yes.json"))
        .arg("--key")
        .arg(&key_path)
        .arg("--mesh-out")
        .arg(&out_mesh));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(fs::read(&out_mesh).unwrap(), ply);
    assert!(text(&o).contains(&format!("{} bytes of PLY", ply.len())));

    // Bad consent inputs are bad input (exit 2).
    let o = run(bin()
        .arg("seal")
        .arg(&result)
        .arg("--to")
        .arg(&pub_path)
        .args(["--purpose", "", "--scope", "measurement", "-o"])
        .arg(d.join("x.json")));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run(bin()
        .arg("seal")
        .arg(&result)
        .arg("--to")
        .arg(&pub_path)
        .args([
            "--purpose",
            "p",
            "--scope",
            "measurement",
            "--granted-at",
            "2026-11-30 08:00",
            "-o",
        ])
        .arg(d.join("x.json")));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

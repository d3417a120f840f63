//! The auditor's checks behind PRIVACY.md's "the core never..." claims:
//! 1. `mandrel-core`'s normal dependency tree, on every target, holds no networking, HTTP,
//!    TLS, async-runtime or telemetry crate (`cargo tree -p mandrel-core -e normal`).
//! 2. `core/src` names no socket API, spawns no processes, prints nothing (no scan data in
//!    logs), and writes files only in the allow-listed writers.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates that would give the core a way to talk to a network (or ship data off the device).
const DENY: &[&str] = &[
    // HTTP clients and servers
    "reqwest",
    "hyper",
    "hyper-util",
    "ureq",
    "curl",
    "curl-sys",
    "isahc",
    "surf",
    "attohttpc",
    "http-body",
    "h2",
    "h3",
    "tiny_http",
    "actix-web",
    "axum",
    "warp",
    "rocket",
    "tonic",
    "grpcio",
    // sockets, event loops, async runtimes
    "mio",
    "socket2",
    "tokio",
    "async-std",
    "smol",
    "async-io",
    "async-net",
    "polling",
    "quinn",
    "libp2p",
    "tungstenite",
    "tokio-tungstenite",
    "websocket",
    "zmq",
    "nng",
    "rumqttc",
    "paho-mqtt",
    "lettre",
    "ssh2",
    "trust-dns-resolver",
    "hickory-resolver",
    // TLS stacks (only needed to talk to a server)
    "rustls",
    "native-tls",
    "openssl",
    "openssl-sys",
    "boring",
    "boring-sys",
    // telemetry and crash reporting
    "sentry",
    "opentelemetry",
    "opentelemetry-otlp",
    "datadog",
    "bugsnag",
    "prometheus",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn core_dependency_tree_has_no_networking_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo_root())
        .args([
            "tree",
            "-p",
            "mandrel-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--target",
            "all",
            "--locked",
        ])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"mandrel-core") && crates.contains(&"ring"),
        "unexpected cargo tree output:\n{tree}"
    );
    let found: Vec<&str> = crates
        .iter()
        .copied()
        .filter(|c| DENY.contains(c))
        .collect();
    assert!(
        found.is_empty(),
        "mandrel-core depends on networking/telemetry crates {found:?}: the core must stay \
         offline (see PRIVACY.md). Move that code out of the core or justify and update the deny list."
    );
    let mut unique: Vec<&str> = crates.clone();
    unique.sort_unstable();
    unique.dedup();
    eprintln!(
        "mandrel-core normal dependencies (all targets): {} crates, none denied",
        unique.len()
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read core/src") {
        let p = entry.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Source text without `//` comments (so docs may name what the code never does).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `needle` occurs in `line` not as the tail of a longer identifier (`println!` does not
/// match inside `eprintln!`).
fn contains_token(line: &str, needle: &str) -> bool {
    line.match_indices(needle).any(|(i, _)| {
        !line[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn core_source_opens_no_socket_spawns_nothing_and_prints_nothing() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 5, "core/src not found at {}", src.display());
    let forbidden = [
        ("std::net", "socket API"),
        ("TcpStream", "socket API"),
        ("TcpListener", "socket API"),
        ("UdpSocket", "socket API"),
        ("UnixStream", "socket API"),
        ("std::process", "process spawning"),
        ("Command::new", "process spawning"),
        ("println!", "printing (scan data must not reach logs)"),
        ("eprintln!", "printing (scan data must not reach logs)"),
        ("print!(", "printing (scan data must not reach logs)"),
        ("eprint!(", "printing (scan data must not reach logs)"),
        ("dbg!(", "printing (scan data must not reach logs)"),
        ("log::", "logging (scan data must not reach logs)"),
        ("tracing::", "logging (scan data must not reach logs)"),
    ];
    // Files the core writes only when asked to: scan folders (`scan::write_scan`). The
    // simulated scans' writer lives in mandrel-sim, outside the phone crate.
    let file_writers = ["scan.rs"];
    let writes = [
        "fs::write",
        "File::create",
        "OpenOptions",
        "fs::copy",
        "fs::rename",
    ];
    let mut problems = Vec::new();
    for f in &files {
        let code = code_of(f);
        // Test modules may print; production code may not. Cut at `#[cfg(test)]`.
        let prod = code.split("#[cfg(test)]").next().unwrap_or("");
        let rel = f.strip_prefix(&src).unwrap_or(f).display().to_string();
        for (line_no, line) in prod.lines().enumerate() {
            for (needle, what) in forbidden {
                if contains_token(line, needle) {
                    problems.push(format!("{rel}:{}: `{needle}` ({what})", line_no + 1));
                }
            }
        }
        if !file_writers.iter().any(|w| Path::new(&rel) == Path::new(w)) {
            for w in writes {
                if prod.contains(w) {
                    problems.push(format!(
                        "{rel}: `{w}` (file writes are allowed only in {file_writers:?}; update PRIVACY.md if a new writer is needed)"
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "privacy claims violated:\n{}",
        problems.join("\n")
    );
    eprintln!("checked {} files in core/src", files.len());
}

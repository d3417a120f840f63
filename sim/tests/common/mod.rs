//! Shared helpers for the simulator's integration tests: locating `../shared` beside the
//! repository (the same rule as mandrel-core's test helpers).

use std::path::PathBuf;

/// `../shared` beside the repository, if present. When it is absent the test is skipped with
/// a message, except under `CI=true`, where CI always provides it and its absence fails.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if dir.join("scans").is_dir() {
        return Some(dir.canonicalize().unwrap_or(dir));
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!(
            "CI=true but {} is missing: CI must provide ../shared",
            dir.display()
        );
    }
    eprintln!(
        "SKIP: {} not found; shared-data tests skipped",
        dir.display()
    );
    None
}

/// A scan folder under `../shared/scans`, or `None` (skipped) as for [`shared_dir`].
pub fn shared_scan(name: &str) -> Option<PathBuf> {
    shared_dir().map(|d| d.join("scans").join(name))
}

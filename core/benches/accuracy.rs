//! Accuracy harness on hands the tuning never saw: a randomised set of virtual scans
//! (parametric hands straight and flexed, the WebXR generic hand meshes faceted, Loop-smoothed
//! and flexed; noise 0.3–1.2 mm at 30 cm; all four long fingers; full, partial and dorsal
//! coverage; 30–120 frames; with and without poses and landmarks; two sensor edge models),
//! each measured by the real [`ScanSession`], summarised per family and per noise band.
//!
//! `cargo bench -p mandrel-core --bench accuracy -- [--n 240] [--seed 1] [--rows] [--diag]`
//!
//! `--n` sets the number of scans (the set for a seed is a prefix-stable sequence: `--n 40`
//! is the first 40 scans of `--n 240`), `--rows` prints every scan
//! (to stderr), `--diag` prints every scan with the parts of its σ and, with poses, where
//! its ring plane sits against the truth (to stderr, no tables), `--summary FILE` prints
//! the tables of such rows, `--poses yes|no` keeps the scans with (without) platform
//! poses. Scans run in parallel
//! on rayon's pool (`RAYON_NUM_THREADS` bounds it). The WebXR families need
//! `../shared/data/webxr_generic_hand` and are skipped with a message without it.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/webxr_hand/glb.rs"]
mod glb;
#[path = "../tests/accuracy_support/mod.rs"]
mod harness;
#[path = "../tests/webxr_hand/load.rs"]
mod load;

use harness::{plan, print_tables, run_case, Hands};
use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let n = value("--n").unwrap_or(240) as usize;
    let seed = value("--seed").unwrap_or(1);
    let rows = args.iter().any(|a| a == "--rows");
    if let Some(i) = args.iter().position(|a| a == "--summary") {
        let file = args.get(i + 1).expect("--summary FILE");
        let text = std::fs::read_to_string(file).expect("read rows");
        let results = harness::parse_rows(&text);
        print_tables(&results);
        println!("\n{} scans (from {file})", results.len());
        return;
    }
    let t0 = std::time::Instant::now();
    let hands = Hands::load();
    let poses = args
        .iter()
        .position(|a| a == "--poses")
        .and_then(|i| args.get(i + 1))
        .map(|v| v == "yes");
    let cases: Vec<_> = plan(seed, n, hands.webxr_available())
        .into_iter()
        .filter(|c| poses.is_none_or(|p| c.poses == p))
        .collect();
    if args.iter().any(|a| a == "--diag") {
        let skip = value("--skip").unwrap_or(0) as usize;
        // `--cover dorsal|partial|full` keeps the cases of one coverage.
        let cover = args
            .iter()
            .position(|a| a == "--cover")
            .and_then(|i| args.get(i + 1))
            .map(|v| v.to_lowercase());
        let keep = |c: &&harness::Case| {
            cover
                .as_deref()
                .is_none_or(|v| format!("{:?}", c.cover).to_lowercase() == v)
        };
        cases.par_iter().skip(skip).filter(keep).for_each(|c| {
            eprintln!("{}", harness::diag_case(&hands, c));
        });
        return;
    }
    let results: Vec<_> = cases
        .par_iter()
        .map(|c| {
            let r = run_case(&hands, c);
            if rows {
                eprintln!("{}", harness::row_line(&r));
            }
            r
        })
        .collect();
    print_tables(&results);
    println!(
        "\n{} scans in {:.0} s (seed {seed})",
        results.len(),
        t0.elapsed().as_secs_f64()
    );
}

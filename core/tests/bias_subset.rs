//! A CI-sized, fixed-seed subset of the accuracy harness (`benches/accuracy.rs`): per hand
//! family, eight full-coverage scans with poses and landmarks (32 frames, noise 0.3–1.2 mm,
//! both edge models, all four fingers), measured by the session; `BIAS_SUBSET_PER_FAMILY`
//! and `BIAS_SUBSET_FRAMES` change the size (`BIAS_SUBSET_DIAG` prints each scan's σ parts
//! and joint errors instead of judging). Fails if any family's mean
//! signed ring error (over the scans that report a size) exceeds 0.15 mm in magnitude.
//! `family_bias_within_limit` runs in CI on every family but the faceted WebXR hand, whose
//! test stays ignored until its shortfall is fixed.
//! WebXR families need `../shared/data/webxr_generic_hand` (skipped without it, as the
//! shared-data tests are).

mod common;
#[path = "webxr_hand/glb.rs"]
mod glb;
#[path = "accuracy_support/mod.rs"]
mod harness;
#[path = "webxr_hand/load.rs"]
mod load;

use harness::{diag_case, row_line, run_case, stats, Case, Cover, Edge, Family, Hands};
use mandrel_core::hand::{Finger, Hand};
use rayon::prelude::*;

/// Largest |mean signed error| allowed per family, mm.
const MAX_FAMILY_BIAS_MM: f64 = 0.15;
/// Scans per family (`BIAS_SUBSET_PER_FAMILY` overrides; at least 2): the smallest set
/// whose family means are steady well within the limit (docs/accuracy.md gives the sizing
/// and its cost).
const PER_FAMILY: usize = 8;
/// Frames per scan (`BIAS_SUBSET_FRAMES` overrides).
const FRAMES: usize = 32;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cases(families: &[Family], webxr: bool, per_family: usize, frames: usize) -> Vec<Case> {
    let fingers = [Finger::Index, Finger::Middle, Finger::Ring, Finger::Little];
    let mut v = Vec::new();
    // Seeds follow the family's place in `Family::ALL`, so a family's scans are the same
    // whichever test runs it.
    for (fi, family) in Family::ALL.into_iter().enumerate() {
        if !families.contains(&family) {
            continue;
        }
        if !webxr && family != Family::Param && family != Family::ParamFlexed {
            continue;
        }
        for k in 0..per_family {
            let webxr_family = !matches!(family, Family::Param | Family::ParamFlexed);
            // The WebXR little finger's ring plane reaches into the palm (no truth there).
            let finger = if webxr_family && k % 4 == 3 {
                Finger::Ring
            } else {
                fingers[k % 4]
            };
            v.push(Case {
                index: v.len(),
                seed: 9000 + 100 * fi as u64 + k as u64,
                family,
                side: if k % 2 == 0 { Hand::Left } else { Hand::Right },
                finger,
                noise_mm: 0.3 + 0.9 * k as f64 / (per_family - 1) as f64,
                cover: Cover::Full,
                frames,
                poses: true,
                landmarks: true,
                edge: if (k / 2) % 2 == 0 {
                    Edge::Sim
                } else {
                    Edge::Eroded
                },
            });
        }
    }
    v
}

/// The families the CI gate holds to the limit: all but the faceted WebXR hand.
const GATED: [Family; 4] = [
    Family::Param,
    Family::ParamFlexed,
    Family::WebxrSmooth,
    Family::WebxrFlexed,
];

#[test]
fn family_bias_within_limit() {
    check_families(&GATED);
}

#[test]
#[ignore = "fails: the faceted WebXR hand's corners are below the noise of any one direction, so its sections come out short (docs/accuracy.md); run with --ignored"]
fn faceted_webxr_bias_within_limit() {
    check_families(&[Family::WebxrFaceted]);
}

fn check_families(families: &[Family]) {
    let hands = Hands::load();
    let per_family = env_usize("BIAS_SUBSET_PER_FAMILY", PER_FAMILY).max(2);
    let frames = env_usize("BIAS_SUBSET_FRAMES", FRAMES);
    let cases = cases(families, hands.webxr_available(), per_family, frames);
    if std::env::var_os("BIAS_SUBSET_DIAG").is_some() {
        // The parts of σ, the plane's and joints' errors per scan; no verdict.
        let lines: Vec<_> = cases.par_iter().map(|c| diag_case(&hands, c)).collect();
        for l in lines {
            println!("{l}");
        }
        return;
    }
    let results: Vec<_> = cases.par_iter().map(|c| run_case(&hands, c)).collect();
    for r in &results {
        println!("{}", row_line(r));
    }
    let mut bad = Vec::new();
    for &f in families {
        let s = stats(results.iter().filter(|r| r.case.family == f));
        if s.n == 0 {
            continue;
        }
        println!(
            "{:14} n {} sized {} bias {:+.3} mean |err| {:.3} ok {:.0} %",
            f.name(),
            s.n,
            s.sized,
            s.bias_mm,
            s.mean_abs_mm,
            100.0 * s.ok_share
        );
        assert!(
            s.sized >= per_family / 2,
            "{}: only {} of {} scans sized",
            f.name(),
            s.sized,
            s.n
        );
        if s.bias_mm.abs() > MAX_FAMILY_BIAS_MM {
            bad.push(format!("{} {:+.3} mm", f.name(), s.bias_mm));
        }
    }
    assert!(
        bad.is_empty(),
        "family bias beyond ±{MAX_FAMILY_BIAS_MM} mm: {}",
        bad.join(", ")
    );
}

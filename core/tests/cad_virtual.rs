//! Issue 20 over virtual hands: randomised hands (ring 48–72 mm, elliptic sections with
//! ellipticity 0.80–0.95 and palmar pads that flatten them) are scanned through a
//! [`ScanSession`]; every `ok` measurement becomes a band (fits and comfort profile
//! varied by seed), which must be closed, 2-manifold and outward, have the inner perimeter
//! of the measured circumference plus the clearance within 0.05 mm, and a wall never
//! thinner than asked minus 0.05 mm. The band's inner perimeter is also compared with the
//! hand's true circumference plus the clearance (the measurement's own error, reported).
//!
//! `CAD_VIRTUAL_N` sets the number of hands (default 24), `CAD_VIRTUAL_FRAMES` the frames
//! per hand (default 16).

use mandrel_core::cad::{build_band, check_band, BandFit, BandOptions};
use mandrel_core::measure::Status;
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{Coverage, SimOptions, SimScan};

const TOL_MM: f64 = 0.05;
/// Least share of hands measured `ok` (full coverage, landmarks): a guard against a test
/// that checks nothing.
const MIN_OK_RATE: f64 = 0.6;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn bands_from_virtual_hands_pass_their_checks() {
    let n = env_usize("CAD_VIRTUAL_N", 24);
    let frames = env_usize("CAD_VIRTUAL_FRAMES", 16);
    let mut ok = 0usize;
    let mut worst = (0.0f64, f64::INFINITY, 0.0f64);
    for seed in 1..=n as u64 {
        let opts = SimOptions {
            frames,
            coverage: Coverage::Full,
            ..SimOptions::default()
        };
        let sim = SimScan::generate(seed, &opts).expect("simulate");
        let mut cfg = SessionConfig::new(sim.target);
        cfg.min_frames = 1;
        let mut session = ScanSession::new(cfg).expect("session");
        for f in &sim.frames {
            session.push_frame(f.clone()).expect("push");
        }
        let m = session.finish().expect("finish");
        if m.status != Status::Ok {
            eprintln!("seed {seed}: {:?} {:?}", m.status, m.reasons);
            continue;
        }
        ok += 1;
        let g = m
            .fit_geometry
            .as_ref()
            .expect("an ok measurement has fit geometry");
        assert!(g.ring_outline_mm.len() >= 90, "seed {seed}");
        let fit = [BandFit::Snug, BandFit::Standard, BandFit::Loose][seed as usize % 3];
        let o = BandOptions {
            comfort: seed % 2 == 0,
            fit,
            ..BandOptions::default()
        };
        let band = build_band(&m, &o).expect("band");
        let r = check_band(&band);
        let circ = m.ring_circumference_mm.unwrap();
        let err = r.inner_perimeter_mm - (circ + fit.clearance_mm());
        let truth_err =
            r.inner_perimeter_mm - (sim.truth.ring_circumference_mm + fit.clearance_mm());
        eprintln!(
            "seed {seed}: ellipticity {:.3}, ring {circ:.2} mm (truth {:.2}), {fit:?}{}: inner perimeter error {err:+.4} mm (vs truth {truth_err:+.3}), wall {:.4} mm, volume {:.1} mm³, knuckle passes {:?}",
            sim.truth.ellipticity,
            sim.truth.ring_circumference_mm,
            if o.comfort { " comfort" } else { "" },
            r.min_wall_mm,
            r.volume_mm3,
            band.knuckle.as_ref().map(|k| k.passes),
        );
        assert!(r.closed_manifold && r.euler == 0, "seed {seed}: {r:?}");
        assert!(r.volume_mm3 > 0.0, "seed {seed}: {r:?}");
        assert!(err.abs() <= TOL_MM, "seed {seed}: {err}");
        assert!(
            r.min_wall_mm >= o.thickness_mm - TOL_MM,
            "seed {seed}: {r:?}"
        );
        assert!(truth_err.abs() <= 1.0, "seed {seed}: {truth_err}");
        worst = (
            worst.0.max(err.abs()),
            worst.1.min(r.min_wall_mm - o.thickness_mm),
            worst.2.max(truth_err.abs()),
        );
    }
    eprintln!(
        "{ok}/{n} ok; max |inner perimeter error| {:.4} mm, min (wall − thickness) {:+.4} mm, max |error vs truth| {:.3} mm",
        worst.0, worst.1, worst.2
    );
    assert!(
        ok as f64 >= MIN_OK_RATE * n as f64,
        "only {ok} of {n} hands measured ok"
    );
}

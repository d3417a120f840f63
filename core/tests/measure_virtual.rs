//! End-to-end measurement over randomised virtual hands (size, ellipticity, hand side,
//! coverage, noise from the seed), driven offline: landmark localisation first, then
//! observations cropped around the finger, then `measure`.

use mandrel_core::measure::locate::{from_landmarks, LandmarkView, LocateConfig};
use mandrel_core::measure::observe::{FrameObservations, ObserveConfig, Roi};
use mandrel_core::measure::{
    measure_detailed, MeasureInput, MeasureOptions, Status, TrackingSummary,
};
use mandrel_core::sim::{Coverage, SimOptions, SimScan};

struct Row {
    seed: u64,
    err_mm: Option<f64>,
    sigma_mm: Option<f64>,
    status: Status,
}

fn run(seed: u64) -> Row {
    let opts = SimOptions {
        coverage: if seed % 4 == 3 {
            Coverage::Dorsal
        } else {
            Coverage::Full
        },
        ..SimOptions::default()
    };
    let sim = SimScan::generate(seed, &opts).expect("sim");
    let views: Vec<LandmarkView> = sim
        .frames
        .iter()
        .filter_map(|f| {
            Some(LandmarkView::new(
                f.pose?,
                f.intrinsics,
                f.landmarks.clone()?,
                Some(&f.depth),
            ))
        })
        .collect();
    let roi = from_landmarks(&views, sim.target.finger, &LocateConfig::default())
        .ok()
        .map(|f| {
            let d = f.direction();
            Roi {
                a: f.mcp.position - d * 0.01,
                b: f.pip.position + d * 0.015,
                radius_m: 0.03,
            }
        });
    let cfg = ObserveConfig {
        roi,
        ..Default::default()
    };
    let obs: Vec<FrameObservations> = sim
        .frames
        .iter()
        .filter_map(|f| FrameObservations::extract_with(f, &f.pose?, &cfg).ok())
        .collect();
    let input = MeasureInput {
        observations: &obs,
        landmark_views: &views,
        surface: None,
        tracking: TrackingSummary {
            frames_total: sim.frames.len(),
            ..Default::default()
        },
        upstream: Default::default(),
    };
    let (m, _) = measure_detailed(&input, &MeasureOptions::new(sim.target)).expect("measure");
    let err_mm = m
        .ring_circumference_mm
        .map(|r| r - sim.truth.ring_circumference_mm);
    println!(
        "seed {seed}: {:?} truth {:.2} err {:?} sigma {:?} cov {:.0} {:?} {:?}",
        opts.coverage,
        sim.truth.ring_circumference_mm,
        err_mm.map(|e| (e * 1000.0).round() / 1000.0),
        m.uncertainty_mm.map(|e| (e * 1000.0).round() / 1000.0),
        m.coverage_deg,
        m.status,
        m.reasons
    );
    Row {
        seed,
        err_mm,
        sigma_mm: m.uncertainty_mm,
        status: m.status,
    }
}

fn summarise(rows: &[Row]) -> (f64, f64, usize) {
    let measured: Vec<&Row> = rows.iter().filter(|r| r.err_mm.is_some()).collect();
    let mean = measured
        .iter()
        .map(|r| r.err_mm.unwrap().abs())
        .sum::<f64>()
        / measured.len().max(1) as f64;
    let covered = measured
        .iter()
        .filter(|r| r.err_mm.unwrap().abs() <= 2.0 * r.sigma_mm.unwrap_or(0.0))
        .count() as f64
        / measured.len().max(1) as f64;
    let ok = rows.iter().filter(|r| r.status == Status::Ok).count();
    println!(
        "{} hands: {} measured, {ok} ok; mean |err| {mean:.3} mm; |err| <= 2 sigma on {:.0} %",
        rows.len(),
        measured.len(),
        covered * 100.0
    );
    (mean, covered, ok)
}

/// Always: a virtual hand reported `ok` is within half a US half size or 2.5 sigma.
#[test]
fn virtual_hands_never_confidently_wrong() {
    let rows: Vec<Row> = (200..208).map(run).collect();
    summarise(&rows);
    for r in &rows {
        if r.status == Status::Ok {
            let e = r.err_mm.unwrap().abs();
            let s = r.sigma_mm.unwrap();
            assert!(
                e <= 0.65_f64.max(2.5 * s),
                "seed {}: confident wrong size: err {e:.3} sigma {s:.3}",
                r.seed
            );
        }
    }
}

/// Issue 4 acceptance over 50 hands: mean |error| ≤ 0.3 mm and the uncertainty covering
/// the error (2σ) on ≥ 90 % of hands.
#[test]
#[ignore = "acceptance target not met yet (cross-section accuracy on some hands); run with --ignored"]
fn fifty_virtual_hands_meet_the_accuracy_target() {
    let rows: Vec<Row> = (300..350).map(run).collect();
    let (mean, covered, _) = summarise(&rows);
    assert!(mean <= 0.3, "mean |err| {mean:.3} mm");
    assert!(covered >= 0.9, "2-sigma coverage {:.0} %", covered * 100.0);
}

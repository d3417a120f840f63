//! Cross-section accuracy on the independent scans in `../shared/scans`, with the oracle
//! finger axis from truth.json (the axis finder is tested elsewhere).

mod common;

use std::path::Path;
use std::time::Instant;

use mandrel_core::frame::pose;
use mandrel_core::measure::observe::{FrameObservations, ObserveConfig, Roi};
use mandrel_core::measure::section::{FingerAxis, SectionConfig, SectionMeasurer};
use mandrel_core::scan::ScanFolder;
use nalgebra::Point3;

struct Outcome {
    ring_err_mm: f64,
    ring_sigma_mm: f64,
    coverage_deg: f64,
    knuckle_err_mm: f64,
    knuckle_sigma_mm: f64,
}

fn p3(v: &serde_json::Value) -> Point3<f64> {
    let a: Vec<f64> = serde_json::from_value(v.clone()).expect("point");
    Point3::new(a[0], a[1], a[2])
}

fn run(dir: &Path) -> Outcome {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).expect("truth")).unwrap();
    let axis = FingerAxis::new(p3(&truth["mcp"]), p3(&truth["pip"])).expect("axis");
    let scan = ScanFolder::open(dir).expect("scan");
    let d = axis.direction().into_inner();
    let roi = Roi {
        a: axis.mcp - d * 0.01,
        b: axis.pip + d * 0.015,
        radius_m: 0.03,
    };
    let cfg = ObserveConfig {
        roi: Some(roi),
        ..Default::default()
    };
    let t0 = Instant::now();
    let mut obs = Vec::new();
    for i in 0..scan.len() {
        let f = scan.frame(i).expect("frame");
        let pose = match f
            .pose
            .filter(|_| std::env::var("SECTION_TRUEPOSE").is_err())
        {
            Some(p) => p,
            None => {
                let tp: Vec<f64> =
                    serde_json::from_value(truth["true_poses"][i].clone()).expect("true pose");
                pose::from_row_major(&tp).unwrap()
            }
        };
        obs.push(FrameObservations::extract_with(&f, &pose, &cfg).expect("observe"));
    }
    let t_obs = t0.elapsed();
    let t1 = Instant::now();
    let sc = SectionConfig {
        refine_axis: std::env::var("SECTION_NOREFINE").is_err(),
        ..Default::default()
    };
    let m = SectionMeasurer::new(&obs, &axis, &sc).expect("measurer");
    let (ring, ax) = m.ring().expect("ring");
    let knuckle = m.knuckle(Some(&ax)).expect("knuckle");
    let t_fit = t1.elapsed();
    if let Ok(d) = std::env::var("SECTION_DUMP") {
        let path = format!("{d}/{name}.json");
        std::fs::write(&path, serde_json::to_vec(&ring).unwrap()).unwrap();
    }
    let truth_ring = truth["ring_circumference_mm"].as_f64().unwrap();
    let truth_knuckle = truth["knuckle_circumference_mm"].as_f64().unwrap();
    let o = Outcome {
        ring_err_mm: ring.perimeter_m * 1e3 - truth_ring,
        ring_sigma_mm: ring.sigma_m * 1e3,
        coverage_deg: ring.coverage_deg,
        knuckle_err_mm: knuckle.perimeter_m * 1e3 - truth_knuckle,
        knuckle_sigma_mm: knuckle.sigma_m * 1e3,
    };
    let bytes: usize = obs.iter().map(|o| o.heap_bytes()).sum();
    eprintln!(
        "{name}: ring {:.2} mm (truth {truth_ring:.2}) err {:+.3} sigma {:.3} [fit {:.3} frames {:.3}] cov {:.0} (surface {:.0}) pts {} tan {} frames {} rms {:.3} mm shifts {:.3} mm bias {:.2} px tilt {:.2} deg | knuckle err {:+.3} sigma {:.3} | obs {:.0} ms ({:.1} MB) fit {:.0} ms",
        ring.perimeter_m * 1e3,
        o.ring_err_mm,
        o.ring_sigma_mm,
        ring.sigma_parts.fit_m * 1e3,
        ring.sigma_parts.frames_m * 1e3,
        ring.coverage_deg,
        ring.surface_coverage_deg,
        ring.points_used,
        ring.tangents_used,
        ring.frames_used,
        ring.residual_rms_m * 1e3,
        ring.frame_shift_rms_m * 1e3,
        ring.edge_bias_px,
        ax.correction_deg,
        o.knuckle_err_mm,
        o.knuckle_sigma_mm,
        t_obs.as_secs_f64() * 1e3,
        bytes as f64 / 1e6,
        t_fit.as_secs_f64() * 1e3,
    );
    o
}

#[test]
#[ignore = "accuracy target not met yet on all scans (platform pose noise, neighbour contamination); run with --ignored to print per-scan figures"]
fn ring_circumference_on_shared_scans_with_oracle_axis() {
    let names = common::shared_scan_names();
    if names.is_empty() {
        return;
    }
    let mut failures = Vec::new();
    let only = std::env::var("SECTION_ONLY").ok();
    for name in &names {
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let Some(dir) = common::shared_scan(name) else {
            return;
        };
        let o = run(&dir);
        let lidar = name.starts_with("lidar");
        let dorsal = name.contains("dorsal");
        if lidar {
            if o.ring_err_mm.abs() > 1.0 && o.ring_err_mm.abs() > 2.0 * o.ring_sigma_mm {
                failures.push(format!(
                    "{name}: err {:+.3} mm not covered by sigma {:.3}",
                    o.ring_err_mm, o.ring_sigma_mm
                ));
            }
        } else if dorsal {
            if o.ring_err_mm.abs() > 2.0 * o.ring_sigma_mm.max(0.15) {
                failures.push(format!(
                    "{name}: err {:+.3} mm not covered by sigma {:.3}",
                    o.ring_err_mm, o.ring_sigma_mm
                ));
            }
        } else if o.ring_err_mm.abs() > 0.3 {
            failures.push(format!("{name}: err {:+.3} mm > 0.3", o.ring_err_mm));
        }
        let _ = (o.coverage_deg, o.knuckle_err_mm, o.knuckle_sigma_mm);
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

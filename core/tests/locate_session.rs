//! Diagnostic: how the landmark-free finder places MCP, PIP and the ring point on the
//! session's own fused surface (poses refined as `mandrel measure` runs them), and how much
//! each moves with a tracking detail (`TrackConfig::platform_first_level` 0 vs 1).
//!
//! For every shared scan: the located MCP, PIP and ring point minus the truth, split into
//! along the true MCP→PIP axis and across it; the located axis's angle to the truth; the
//! finder's internals (tubular length, knuckle position and prominence); the ring section's
//! refined axis angle, its centre's along-axis error, and the circumference error and sigma.
//!
//! Ignored (about a minute per level): run with
//! `cargo test --release -p mandrel-core --test locate_session -- --ignored --nocapture`.
//! `LOCATE_LEVELS=0,1` chooses the `platform_first_level` values, `LOCATE_SCANS=a,b` the scans.

mod common;

use mandrel_core::measure::locate::geometric;
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{ScanSession, SessionConfig};
use nalgebra::{Point3, Vector3};

fn p3(v: &serde_json::Value) -> Point3<f64> {
    let a: Vec<f64> = serde_json::from_value(v.clone()).expect("point");
    Point3::new(a[0], a[1], a[2])
}

/// (along, across) of `d` relative to unit `axis`, millimetres.
fn split(d: Vector3<f64>, axis: &Vector3<f64>) -> (f64, f64) {
    let a = d.dot(axis);
    (a * 1e3, (d - axis * a).norm() * 1e3)
}

#[test]
#[ignore]
fn landmark_free_joints_on_session_surfaces() {
    let levels: Vec<usize> = std::env::var("LOCATE_LEVELS")
        .unwrap_or_else(|_| "0,1".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let only: Option<Vec<String>> = std::env::var("LOCATE_SCANS")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    for name in common::shared_scan_names() {
        if only.as_ref().is_some_and(|o| !o.contains(&name)) {
            continue;
        }
        let dir = common::shared_scan(&name).unwrap();
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
        let ring_mm_t = truth["ring_circumference_mm"].as_f64().unwrap();
        let scan = ScanFolder::open(&dir).unwrap();
        for &level in &levels {
            let mut cfg = SessionConfig::new(scan.manifest.target);
            cfg.use_landmarks = false;
            cfg.track.platform_first_level = level;
            let mut s = ScanSession::new(cfg).unwrap();
            // Pose-less scans: the session's world is its first fused camera; carry the
            // truth into it through that frame's true pose.
            let mut to_session = nalgebra::Isometry3::identity();
            for i in 0..scan.len() {
                let f = scan.frame(i).unwrap();
                let given = f.pose.is_some();
                let r = s.push_frame(f).unwrap();
                if i == 0 && !given {
                    let m: Vec<f64> =
                        serde_json::from_value(truth["true_poses"][0].clone()).unwrap();
                    let t0 = mandrel_core::frame::pose::from_row_major(&m).unwrap();
                    to_session = r.pose.expect("first frame fused") * t0.inverse();
                }
            }
            let (mcp_t, pip_t) = (
                to_session * p3(&truth["mcp"]),
                to_session * p3(&truth["pip"]),
            );
            let ring_t = to_session * p3(&truth["ring_point"]);
            let axis_t = (pip_t - mcp_t).normalize();
            let (m, d) = s.finish_detailed().unwrap();
            println!(
                "{name} level {level}: {:?} {:?} err {} σ{}",
                m.status,
                m.reasons,
                m.ring_circumference_mm
                    .map_or("-".into(), |v| format!("{:+.3}", v - ring_mm_t)),
                m.uncertainty_mm.map_or("-".into(), |v| format!("{v:.3}")),
            );
            if let Some(f) = d.finger {
                let (ma, mx) = split(f.mcp.position - mcp_t, &axis_t);
                let (pa, px) = split(f.pip.position - pip_t, &axis_t);
                let (ra, rx) = split(f.ring_point() - ring_t, &axis_t);
                let tilt = f.direction().angle(&axis_t).to_degrees();
                println!(
                    "  located: mcp along {ma:+.2} across {mx:.2} | pip along {pa:+.2} across {px:.2} | ring pt along {ra:+.2} across {rx:.2} mm | axis {tilt:.2}° | σ mcp {:.2} pip {:.2} mm",
                    f.mcp.sigma_m * 1e3,
                    f.pip.sigma_m * 1e3
                );
            }
            if let Some(r) = &d.ring {
                let (ca, cx) = split(r.centre - ring_t, &axis_t);
                println!(
                    "  section: centre along {ca:+.2} across {cx:.2} mm, axis {:.2}° from truth (corrected {:.2}°), σ{:.3} [fit {:.3} frames {:.3}]",
                    r.axis_direction.angle(&axis_t).to_degrees(),
                    r.axis_correction_deg,
                    r.sigma_m * 1e3,
                    r.sigma_parts.fit_m * 1e3,
                    r.sigma_parts.frames_m * 1e3,
                );
            }
            // The finder's internals on the same surface the session searched.
            let mut mesh = s.mesh();
            mesh.remove_small_components(200);
            let surface = geometric::Surface::new(&mesh.vertices, &mesh.normals);
            let cands = geometric::find_fingers_on(&surface);
            let Ok(names) = geometric::name_fingers(&cands) else {
                println!("  naming failed");
                continue;
            };
            let k = match scan.manifest.target.finger {
                mandrel_core::hand::Finger::Index => 1,
                mandrel_core::hand::Finger::Middle => 2,
                mandrel_core::hand::Finger::Ring => 3,
                _ => 4,
            };
            let c = &cands[names[k]];
            let len = c.length_m();
            let prof = geometric::radius_profile(&surface, c);
            let pip_pick = geometric::pip_from_profile(&prof, len);
            let t_true = |p: &Point3<f64>| (p - c.base).dot(&c.direction) * 1e3;
            println!(
                "  finder: tube len {:.1} mm, truth mcp t {:.1} pip t {:.1}, knuckle pick {}, base→end dir {:.2}° from truth",
                len * 1e3,
                t_true(&mcp_t),
                t_true(&pip_t),
                pip_pick.map_or("-".into(), |(t, p)| format!(
                    "t {:.1} mm prom {:.3} mm",
                    t * 1e3,
                    p * 1e3
                )),
                c.direction.angle(&axis_t).to_degrees(),
            );
            if std::env::var("LOCATE_PROFILE").is_ok() {
                let row: Vec<String> = prof
                    .iter()
                    .map(|p| format!("{:.0}:{:.2}", p.t_m * 1e3, p.radius_m * 1e3))
                    .collect();
                println!("  profile {}", row.join(" "));
            }
        }
    }
}

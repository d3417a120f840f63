//! Diagnostic: where a dorsal-only scan's ring error and uncertainty come from.
//!
//! For `td-dorsal-pose-02` and for dorsal virtual hands (table behind the palm; the seeds of
//! `measure_virtual.rs` with `seed % 4 == 3`), the ring is measured in stages:
//! - `A`: true poses, true MCP→PIP axis (the section fit alone);
//! - `B`: the platform poses as given, true axis;
//! - `R`: the poses the [`ScanSession`] used (refined against its fused model), true axis;
//! - `S`: the session's own result, with landmarks and landmark-free (status, reasons,
//!   located ring point error along the axis, axis direction error).
//!
//! For `A` and `R` a direction table breaks the section down in the finger's frame
//! (0° = dorsal, 180° = palmar, ±90° = the sides): per 30° sector, the inlier surface
//! samples and silhouette tangents the fit used, the fitted support `h` minus the true
//! support (both from the true ring point) and that sector's share of the perimeter error
//! (`∫ (h_fit − h_true) dθ`; the shares add up to the perimeter error). The truth of a
//! virtual hand is its exact hull; the shared scan's is the generator's ellipse (thickness
//! `ellipticity × width` along the dorsal direction, centred on the true ring point), and
//! its dorsal direction is the mean direction to the cameras.
//!
//! Ignored (about a minute): run with
//! `cargo test --release -p mandrel-core --test section_dorsal -- --ignored --nocapture`.
//! Environment: `DORSAL_N` virtual dorsal hands (default 6) from seed `DORSAL_SEED0` (303, in
//! steps of 4), `DORSAL_FRAMES` frames (default 16, as in `measure_virtual.rs`),
//! `DORSAL_SHARED=0` skips the shared scan (`DORSAL_SCAN` names another one),
//! `DORSAL_SESSION=0` the session stages.

mod common;

use mandrel_core::frame::pose;
use mandrel_core::hand::{Finger, Target};
use mandrel_core::measure::observe::{FrameObservations, ObserveConfig, Roi};
use mandrel_core::measure::section::{FingerAxis, SectionConfig, SectionMeasurer, SectionResult};
use mandrel_core::measure::{MeasureDetail, Measurement};
use mandrel_core::scan::ScanFolder;
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{Coverage, NoiseModel, SimOptions, SimScan};
use nalgebra::{Isometry3, Point2, Point3, Vector3};
use std::f64::consts::TAU;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One scan to diagnose: frames, poses, truth.
struct Case {
    name: String,
    frames: Vec<mandrel_core::frame::Frame>,
    true_poses: Vec<Isometry3<f64>>,
    target: Target,
    mcp: Point3<f64>,
    pip: Point3<f64>,
    ring_mm: f64,
    /// Unit dorsal and side directions (perpendicular to the axis).
    dorsal: Vector3<f64>,
    side: Vector3<f64>,
    /// True support function (metres, from the true ring point) at angle θ from dorsal
    /// towards side.
    h_true: Box<dyn Fn(f64) -> f64>,
}

fn hull_support(hull: &[Point2<f64>], c: f64, s: f64) -> f64 {
    hull.iter()
        .map(|p| p.x * c + p.y * s)
        .fold(f64::NEG_INFINITY, f64::max)
}

fn sim_case(seed: u64, frames: usize) -> Case {
    let scale = 0.7 + 0.9 * ((seed * 7919) % 97) as f64 / 96.0;
    let mut noise = NoiseModel::truedepth();
    noise.sigma_at_30cm_m *= scale;
    let opts = SimOptions {
        frames,
        coverage: Coverage::Dorsal,
        noise: Some(noise),
        ..SimOptions::default()
    };
    let sim = SimScan::generate(seed, &opts).expect("sim");
    let ft = sim.finger_truth;
    let (axis, side, dorsal) = sim.hand.finger_frame(sim.target.finger).expect("frame");
    // The hull in the section basis (u = side ⟂ axis, w = axis × u); re-express it in
    // (dorsal, side) coordinates so θ is measured from dorsal.
    let (_, hull) = sim
        .hand
        .section(sim.target.finger, &ft.ring_point, &ft.axis, 2048)
        .expect("section");
    let n = ft.axis;
    let u = (side - n * side.dot(&n)).normalize();
    let w = n.cross(&u);
    let d = (dorsal - n * dorsal.dot(&n)).normalize();
    let sd = n.cross(&d); // completes (d, sd) in the plane
    let sd = if sd.dot(&u) < 0.0 { -sd } else { sd };
    let pts: Vec<Point2<f64>> = hull
        .iter()
        .map(|p| {
            let v = u * p.x + w * p.y;
            Point2::new(v.dot(&d), v.dot(&sd))
        })
        .collect();
    let _ = axis;
    Case {
        name: format!(
            "seed {seed} ({:?}, ell {:.2})",
            sim.target.hand, ft.ellipticity
        ),
        frames: sim.frames.clone(),
        true_poses: sim.true_poses.clone(),
        target: sim.target,
        mcp: ft.mcp,
        pip: ft.pip,
        ring_mm: ft.ring_circumference_m * 1e3,
        dorsal: d,
        side: sd,
        h_true: Box::new(move |t: f64| hull_support(&pts, t.cos(), t.sin())),
    }
}

fn p3(v: &serde_json::Value) -> Point3<f64> {
    let a: Vec<f64> = serde_json::from_value(v.clone()).expect("point");
    Point3::new(a[0], a[1], a[2])
}

/// Ellipse perimeter (Ramanujan II).
fn ellipse_perimeter(a: f64, b: f64) -> f64 {
    let h = ((a - b) / (a + b)).powi(2);
    std::f64::consts::PI * (a + b) * (1.0 + 3.0 * h / (10.0 + (4.0 - 3.0 * h).sqrt()))
}

fn shared_case(name: &str) -> Option<Case> {
    let dir = common::shared_scan(name)?;
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).ok()?).ok()?;
    let scan = ScanFolder::open(&dir).expect("scan");
    let frames: Vec<_> = (0..scan.len())
        .map(|i| scan.frame(i).expect("frame"))
        .collect();
    let true_poses: Vec<Isometry3<f64>> = (0..scan.len())
        .map(|i| {
            let tp: Vec<f64> = serde_json::from_value(truth["true_poses"][i].clone()).unwrap();
            pose::from_row_major(&tp).unwrap()
        })
        .collect();
    let mcp = p3(&truth["mcp"]);
    let pip = p3(&truth["pip"]);
    let ring_point = p3(&truth["ring_point"]);
    let n = (pip - mcp).normalize();
    let mut d = Vector3::zeros();
    for p in &true_poses {
        let c = p.translation.vector - ring_point.coords;
        d += (c - n * c.dot(&n)).normalize();
    }
    let d = d.normalize();
    let sd = n.cross(&d);
    let ring_mm = truth["ring_circumference_mm"].as_f64()?;
    let e = truth["ellipticity"].as_f64()?;
    // Semi-axes: a (side), b = e·a (dorsal), perimeter = truth.
    let unit = ellipse_perimeter(1.0, e);
    let a = ring_mm * 1e-3 / unit;
    let b = e * a;
    Some(Case {
        name: name.to_string(),
        frames,
        true_poses,
        target: Target {
            hand: scan.manifest.target.hand,
            finger: scan.manifest.target.finger,
        },
        mcp,
        pip,
        ring_mm,
        dorsal: d,
        side: sd,
        h_true: Box::new(move |t: f64| (b * b * t.cos().powi(2) + a * a * t.sin().powi(2)).sqrt()),
    })
}

/// Every frame's observations on `poses`, cropped around the true axis.
fn observe(case: &Case, poses: &[Isometry3<f64>], axis: &FingerAxis) -> Vec<FrameObservations> {
    let cfg = ObserveConfig {
        roi: Some(Roi::around_finger(axis.mcp, axis.pip, 0.03)),
        ..Default::default()
    };
    case.frames
        .iter()
        .zip(poses)
        .map(|(f, p)| FrameObservations::extract_with(f, p, &cfg).expect("observe"))
        .collect()
}

/// Section fit on `poses` with the true axis.
fn section(case: &Case, poses: &[Isometry3<f64>], drift_m: f64) -> Option<SectionResult> {
    let axis = FingerAxis::new(case.mcp, case.pip).ok()?;
    let obs = observe(case, poses, &axis);
    let sc = SectionConfig {
        pose_drift_sigma_m: drift_m,
        ..Default::default()
    };
    SectionMeasurer::new(&obs, &axis, &sc)
        .ok()?
        .ring()
        .ok()
        .map(|r| r.0)
}

fn line(label: &str, case: &Case, r: &Option<SectionResult>) {
    let Some(r) = r else {
        println!("  {label}: no section");
        return;
    };
    let p = &r.sigma_parts;
    println!(
        "  {label}: err {:+.3} σ{:.3} [fit {:.3} (unobserved {:.3}) frames {:.3} pose {:.3}] cov {:.0} (surface {:.0}, gap {:.0}) pts {} tan {} rms {:.3} mm bias {:+.2} px tilt {:.2}°",
        r.perimeter_m * 1e3 - case.ring_mm,
        r.sigma_m * 1e3,
        p.fit_m * 1e3,
        p.unobserved_m * 1e3,
        p.frames_m * 1e3,
        p.pose_m * 1e3,
        r.coverage_deg,
        r.surface_coverage_deg,
        r.largest_gap_deg,
        r.points_used,
        r.tangents_used,
        r.residual_rms_m * 1e3,
        r.edge_bias_px,
        r.axis_correction_deg,
    );
}

/// The direction table (see the module docs).
fn table(case: &Case, r: &SectionResult) {
    let ring_point = nalgebra::center(&case.mcp, &case.pip);
    // Fitted contour and observations in (dorsal, side) coordinates from the true ring point.
    let to_ds = |x: f64, y: f64| {
        let v = r.centre + r.plane_u * x + r.plane_v * y - ring_point;
        (v.dot(&case.dorsal), v.dot(&case.side))
    };
    let contour: Vec<(f64, f64)> = r.contour_2d.iter().map(|p| to_ds(p.x, p.y)).collect();
    let h_fit = |t: f64| {
        let (c, s) = (t.cos(), t.sin());
        contour
            .iter()
            .map(|(a, b)| a * c + b * s)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    const SECTORS: usize = 12;
    let sector = |t: f64| {
        (((t + TAU / SECTORS as f64 / 2.0).rem_euclid(TAU)) / TAU * SECTORS as f64) as usize
            % SECTORS
    };
    let mut pts = [0usize; SECTORS];
    let mut tans = [0usize; SECTORS];
    let centre_ds = to_ds(0.0, 0.0);
    for p in &r.points_2d {
        let (a, b) = to_ds(p.x as f64, p.y as f64);
        pts[sector((b - centre_ds.1).atan2(a - centre_ds.0))] += 1;
    }
    for t in &r.tangents_2d {
        let n = r.plane_u * t.normal.x as f64 + r.plane_v * t.normal.y as f64;
        tans[sector(n.dot(&case.side).atan2(n.dot(&case.dorsal)))] += 1;
    }
    let mut row = String::new();
    let mut total = 0.0;
    for k in 0..SECTORS {
        let c = k as f64 * TAU / SECTORS as f64;
        let steps = 30;
        let mut share = 0.0;
        for j in 0..steps {
            let t =
                c - TAU / SECTORS as f64 / 2.0 + (j as f64 + 0.5) * TAU / (SECTORS * steps) as f64;
            share += (h_fit(t) - (case.h_true)(t)) * TAU / (SECTORS * steps) as f64;
        }
        total += share;
        let deg = (k as f64 * 360.0 / SECTORS as f64 + 180.0).rem_euclid(360.0) - 180.0;
        row.push_str(&format!(
            "\n    {deg:+5.0}°: pts {:5} tan {:4} h err {:+.3} mm share {:+.3} mm",
            pts[k],
            tans[k],
            (h_fit(c) - (case.h_true)(c)) * 1e3,
            share * 1e3
        ));
    }
    println!(
        "    sectors (0° dorsal, 180° palmar); shares add to {:+.3} mm:{row}",
        total * 1e3
    );
}

/// Session result and the poses it used.
fn run_session(
    case: &Case,
    landmarks: bool,
) -> Option<(Measurement, MeasureDetail, Vec<Isometry3<f64>>)> {
    let mut cfg = SessionConfig::new(case.target);
    cfg.use_landmarks = landmarks;
    cfg.min_frames = 1;
    let mut s = ScanSession::new(cfg).ok()?;
    let mut poses = Vec::new();
    for (f, tp) in case.frames.iter().zip(&case.true_poses) {
        let rep = s.push_frame(f.clone()).ok()?;
        poses.push(rep.pose.unwrap_or(*tp));
    }
    let (m, d) = s.finish_detailed().ok()?;
    Some((m, d, poses))
}

fn session_line(case: &Case, label: &str, m: &Measurement, d: &MeasureDetail) {
    let axis = (case.pip - case.mcp).normalize();
    let ring_point = nalgebra::center(&case.mcp, &case.pip);
    let loc = d.finger.map(|f| {
        let rp = f.ring_point() - ring_point;
        (
            rp.dot(&axis) * 1e3,
            (rp - axis * rp.dot(&axis)).norm() * 1e3,
            f.direction()
                .dot(&axis)
                .clamp(-1.0, 1.0)
                .acos()
                .to_degrees(),
            f.mcp.sigma_m * 1e3,
            f.pip.sigma_m * 1e3,
        )
    });
    println!(
        "  S {label}: {:?} {:?} err {} σ{} cov {:.0} | located: {}{}",
        m.status,
        m.reasons,
        m.ring_circumference_mm
            .map_or("-".into(), |v| format!("{:+.3}", v - case.ring_mm)),
        m.uncertainty_mm.map_or("-".into(), |v| format!("{v:.3}")),
        m.coverage_deg,
        loc.map_or("-".into(), |(al, la, ang, sm, sp)| format!(
            "ring pt along {al:+.2} lat {la:.2} mm, axis {ang:.2}°, σ mcp {sm:.2} pip {sp:.2} mm"
        )),
        d.ring.as_ref().map_or(String::new(), |r| format!(
            " | section σ{:.3} [fit {:.3} (unobserved {:.3}) frames {:.3} pose {:.3}] gap {:.0}° views {:.0}° tilt {:.2}°",
            r.sigma_m * 1e3,
            r.sigma_parts.fit_m * 1e3,
            r.sigma_parts.unobserved_m * 1e3,
            r.sigma_parts.frames_m * 1e3,
            r.sigma_parts.pose_m * 1e3,
            r.largest_gap_deg,
            r.view_span_deg,
            r.axis_correction_deg
        )),
    );
}

fn diagnose(case: &Case) {
    println!(
        "{} (truth {:.2} mm, {} frames):",
        case.name,
        case.ring_mm,
        case.frames.len()
    );
    let a = section(case, &case.true_poses, 0.0);
    line("A true poses, true axis", case, &a);
    if let Some(r) = &a {
        table(case, r);
    }
    let given: Vec<Isometry3<f64>> = case
        .frames
        .iter()
        .zip(&case.true_poses)
        .map(|(f, tp)| f.pose.unwrap_or(*tp))
        .collect();
    let b = section(case, &given, 0.0003);
    line("B platform poses, true axis", case, &b);
    if env_u64("DORSAL_SESSION", 1) == 0 {
        return;
    }
    for lm in [true, false] {
        let Some((m, d, poses)) = run_session(case, lm) else {
            println!("  S landmarks {lm}: session failed");
            continue;
        };
        if lm {
            let r = section(case, &poses, 0.0);
            line("R session poses, true axis", case, &r);
            if let Some(r) = &r {
                table(case, r);
            }
        }
        session_line(case, if lm { "landmarks" } else { "landmark-free" }, &m, &d);
    }
}

#[test]
#[ignore = "diagnostic, prints the dorsal-only error and uncertainty breakdown"]
fn dorsal_breakdown() {
    if env_u64("DORSAL_SHARED", 1) != 0 {
        let name = std::env::var("DORSAL_SCAN").unwrap_or_else(|_| "td-dorsal-pose-02".into());
        if let Some(c) = shared_case(&name) {
            diagnose(&c);
        }
    }
    let n = env_u64("DORSAL_N", 6);
    let seed0 = env_u64("DORSAL_SEED0", 303);
    let frames = env_u64("DORSAL_FRAMES", 16) as usize;
    for i in 0..n {
        let c = sim_case(seed0 + 4 * i, frames);
        assert_eq!(c.target.finger, Finger::Ring);
        diagnose(&c);
    }
}

/// Which model setting drives the dorsal fit's sigma: the section fit (true poses, true
/// axis) re-run with one setting changed at a time.
#[test]
#[ignore = "diagnostic, prints the dorsal fit's sigma under alternative section settings"]
fn dorsal_sigma_sensitivity() {
    let mut cases = Vec::new();
    if env_u64("DORSAL_SHARED", 1) != 0 {
        cases.extend(shared_case("td-dorsal-pose-02"));
    }
    let n = env_u64("DORSAL_N", 4);
    let seed0 = env_u64("DORSAL_SEED0", 303);
    let frames = env_u64("DORSAL_FRAMES", 16) as usize;
    cases.extend((0..n).map(|i| sim_case(seed0 + 4 * i, frames)));
    let base = SectionConfig {
        pose_drift_sigma_m: 0.0,
        ..Default::default()
    };
    let variants: Vec<(&str, SectionConfig)> = vec![
        ("default", base.clone()),
        (
            "edge bias prior 0.3 px",
            SectionConfig {
                edge_bias_prior_px: 0.3,
                ..base.clone()
            },
        ),
        (
            "harmonics 4",
            SectionConfig {
                harmonics: 4,
                ..base.clone()
            },
        ),
        (
            "harmonics 3",
            SectionConfig {
                harmonics: 3,
                ..base.clone()
            },
        ),
        (
            "prior k>=3 halved",
            SectionConfig {
                harmonic_prior_rel: vec![0.12, 0.025, 0.015, 0.0075, 0.005],
                ..base.clone()
            },
        ),
        (
            "no tangents",
            SectionConfig {
                edge_sigma_px: 100.0,
                ..base.clone()
            },
        ),
        (
            "no jackknife",
            SectionConfig {
                jackknife_groups: 0,
                ..base.clone()
            },
        ),
    ];
    for case in &cases {
        let axis = FingerAxis::new(case.mcp, case.pip).unwrap();
        let obs = observe(case, &case.true_poses, &axis);
        println!("{} (truth {:.2} mm):", case.name, case.ring_mm);
        for (label, sc) in &variants {
            let r = SectionMeasurer::new(&obs, &axis, sc)
                .ok()
                .and_then(|m| m.ring().ok())
                .map(|r| r.0);
            line(label, case, &r);
        }
    }
}

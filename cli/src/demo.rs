//! `mandrel demo [-o DIR] [--seed N] [--orbit] [--no-body]`: simulates a hand scan in memory
//! with the virtual sensor (by default the front camera: a still phone, the hand turning
//! from its back to its palm, torso and face behind, no poses; `--orbit` films the older
//! camera-around-the-hand scan), runs the whole pipeline through a [`ScanSession`], prints
//! the provisional measurements, when guidance said `Done`, and the measured ring size next
//! to the truth, and writes the same report as `mandrel measure --report` into the
//! output folder (`crate::report`: result.json, mesh.ply, section.png, overlay.png,
//! profile.png, report.html), plus `section.svg` (the section's outline) and `band.stl` (a
//! fitted band, when the measurement is ok).

use crate::measure::{overlay_score, session_error, summary};
use crate::plot::OverlayInput;
use crate::progress::{self, Progress, Stage};
use crate::report::{write_report, ReportInput, Truth};
use crate::BadInput;
use anyhow::Context;
use mandrel_core::frame::Frame;
use mandrel_core::measure::Status;
use mandrel_core::session::{Hint, ScanSession, SessionConfig};
use mandrel_sim::{Coverage, SimOptions, SimScan};
use nalgebra::Point3;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `mandrel demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Output folder (created if missing).
    #[arg(short, long, default_value = "mandrel-demo")]
    pub out: PathBuf,
    /// Seed of the simulated hand and scan.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Ignore landmarks: find the finger geometrically.
    #[arg(long)]
    pub no_landmarks: bool,
    /// Give the pipeline the exact camera poses (a perfect platform tracker) instead of the
    /// simulated tracker's drifting ones.
    #[arg(long)]
    pub exact_poses: bool,
    /// Simulate the camera going around a still hand (platform poses) instead of the
    /// front-camera scan.
    #[arg(long)]
    pub orbit: bool,
    /// Front-camera scan without the torso and face behind the hand.
    #[arg(long)]
    pub no_body: bool,
}

/// The simulated capture the demo runs.
fn demo_options(args: &Args) -> SimOptions {
    if args.orbit {
        return SimOptions::default();
    }
    SimOptions {
        coverage: Coverage::Turn,
        poses_given: false,
        frames: 90,
        body_behind: Some(!args.no_body),
        ..SimOptions::default()
    }
}

/// Runs `mandrel demo`.
pub fn run(args: Args) -> crate::Outcome {
    let t0 = std::time::Instant::now();
    let sim = SimScan::generate(args.seed, &demo_options(&args))
        .map_err(|e| BadInput(format!("simulating the scan: {e}")))?;
    let t_sim = t0.elapsed();
    let mut cfg = SessionConfig::new(sim.target);
    cfg.use_landmarks = !args.no_landmarks;
    let mut session = ScanSession::new(cfg).map_err(session_error)?;
    let progress = Progress::new(sim.frames.len(), progress::wanted(false));
    let t_push = std::time::Instant::now();
    let mut poses = Vec::with_capacity(sim.frames.len());
    let mut done_at = None;
    let mut provisional = Vec::new();
    // The frame the overlay draws, and the hand mask the session cut it to.
    let (idx, frame) = pick_frame(&sim).context("the simulated scan has no frames")?;
    let mut mask = None;
    for (i, f) in sim.frames.iter().enumerate() {
        let mut f = f.clone();
        if args.exact_poses {
            f.pose = sim.true_poses.get(i).copied();
        }
        let r = session.push_frame(f).map_err(session_error)?;
        poses.push(r.pose);
        if i == idx {
            mask = session.last_mask().map(|m| m.to_flags());
        }
        if done_at.is_none() && r.guidance.hint == Hint::Done {
            done_at = Some(i + 1);
        }
        if let Some(p) = r.guidance.provisional.filter(|p| p.frames_pushed == i + 1) {
            provisional.push((p, r.guidance.hint));
        }
        progress.frame_done();
    }
    progress.stage(Stage::Measure);
    let (m, detail) = session.finish_detailed().map_err(session_error)?;
    let pipeline_ms = t_push.elapsed().as_secs_f64() * 1e3;

    progress.stage(Stage::Mesh);
    let t = std::time::Instant::now();
    let mesh = session.mesh();
    let mesh_ms = t.elapsed().as_secs_f64() * 1e3;
    progress.stage(Stage::Report);
    let t = std::time::Instant::now();
    let profile = detail
        .finger
        .as_ref()
        .and_then(|f| session.circumference_profile(f));
    let profile_ms = t.elapsed().as_secs_f64() * 1e3;
    // The pose the pipeline used for that frame; the true one when tracking lost it.
    let pose = poses
        .get(idx)
        .copied()
        .flatten()
        .or_else(|| sim.true_poses.get(idx).copied());
    let t = &sim.truth;
    let truth = Truth {
        ring_circumference_mm: t.ring_circumference_mm,
        knuckle_circumference_mm: Some(t.knuckle_circumference_mm),
        ellipticity: Some(t.ellipticity),
    };
    let written = write_report(
        &args.out,
        &ReportInput {
            title: format!("demo, seed {}", args.seed),
            measurement: &m,
            detail: &detail,
            mesh: &mesh,
            profile: profile.as_ref(),
            overlay: OverlayInput {
                frame,
                index: idx,
                pose,
                detail: &detail,
                hand_mask: mask.as_deref(),
            },
            truth: Some(&truth),
            wall_ms: vec![
                ("simulate the scan".into(), t_sim.as_secs_f64() * 1e3),
                ("push frames and measure (wall)".into(), pipeline_ms),
                ("mesh extraction for the report".into(), mesh_ms),
                ("circumference profile".into(), profile_ms),
            ],
        },
    )?;
    progress.finish();

    println!(
        "Simulated {} {:?}-hand scan (seed {}, {} frames) in {:.0} ms",
        sim.sensor.manifest_name(),
        sim.target.hand,
        args.seed,
        sim.frames.len(),
        t_sim.as_secs_f64() * 1e3
    );
    for (p, hint) in &provisional {
        println!(
            "  provisional at frame {:>3}: {} {:?}{} -> guidance {:?}",
            p.frames_pushed,
            match (p.ring_circumference_mm, p.uncertainty_mm) {
                (Some(r), Some(s)) => format!("{r:.2} mm ± {s:.2}"),
                (Some(r), None) => format!("{r:.2} mm"),
                _ => "no ring yet".to_string(),
            },
            p.status,
            p.missing.map(|r| format!(" ({r:?})")).unwrap_or_default(),
            hint
        );
    }
    match done_at {
        Some(d) => println!("  guidance said Done at frame {d}"),
        None => println!("  guidance never said Done"),
    }
    print!("{}", summary(&m));
    let t = &sim.truth;
    if let Some(r) = m.ring_circumference_mm {
        println!(
            "  truth: ring {:.2} mm (error {:+.2} mm), knuckle {:.2} mm{}",
            t.ring_circumference_mm,
            r - t.ring_circumference_mm,
            t.knuckle_circumference_mm,
            m.knuckle_circumference_mm
                .map(|k| format!(" (error {:+.2} mm)", k - t.knuckle_circumference_mm))
                .unwrap_or_default()
        );
    } else {
        println!(
            "  truth: ring {:.2} mm, knuckle {:.2} mm",
            t.ring_circumference_mm, t.knuckle_circumference_mm
        );
    }
    if let Some(f) = &detail.finger {
        let p = |a: [f64; 3]| Point3::new(a[0], a[1], a[2]);
        println!(
            "  finger located ({:?}): MCP {:.1} mm, PIP {:.1} mm from the true joint centres",
            f.method,
            (f.mcp.position - p(t.mcp)).norm() * 1e3,
            (f.pip.position - p(t.pip)).norm() * 1e3
        );
    }
    println!(
        "Wrote {}",
        written
            .iter()
            .map(|p| display(p))
            .collect::<Vec<_>>()
            .join(", ")
    );
    write_band(&m, &args.out)?;
    Ok(match m.status {
        Status::Ok => ExitCode::SUCCESS,
        // needs_rescan, and any status a later core adds: not a size to sell.
        _ => ExitCode::from(3),
    })
}

/// Writes `section.svg` (the measured ring section's outline, mm, origin at the ring
/// axis) and, for an `ok` measurement, `band.stl` (a standard 4 mm band of
/// [`mandrel_core::cad`]).
fn write_band(m: &mandrel_core::measure::Measurement, out: &Path) -> anyhow::Result<()> {
    let Some(g) = &m.fit_geometry else {
        println!("No ring section outline: no section.svg or band.stl");
        return Ok(());
    };
    let svg = out.join("section.svg");
    let title = "mandrel ring section outline, millimetres, origin at the ring axis";
    std::fs::write(
        &svg,
        mandrel_core::cad::contour_svg(&g.ring_outline_mm, title),
    )
    .with_context(|| format!("writing {}", svg.display()))?;
    let opts = mandrel_core::cad::BandOptions::default();
    match mandrel_core::cad::build_band(m, &opts) {
        Ok(band) => {
            let stl = out.join("band.stl");
            std::fs::write(&stl, mandrel_core::cad::band_stl(&band)?)
                .with_context(|| format!("writing {}", stl.display()))?;
            println!(
                "Wrote {}, {} (band inner perimeter {:.2} mm)",
                display(&svg),
                display(&stl),
                band.inner_perimeter_mm
            );
        }
        Err(e) => println!("Wrote {}; no band.stl: {e}", display(&svg)),
    }
    Ok(())
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

/// The frame to draw: among frames with landmarks, the one showing the finger longest
/// (its MCP→PIP landmarks farthest apart in pixels, i.e. seen most from the side).
fn pick_frame(sim: &SimScan) -> Option<(usize, &Frame)> {
    let span = |f: &Frame| overlay_score(f, sim.target.finger);
    sim.frames
        .iter()
        .enumerate()
        .max_by(|a, b| span(a.1).total_cmp(&span(b.1)))
}

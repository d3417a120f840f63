//! `mandrel demo [-o DIR] [--seed N]`: simulates a hand scan in memory with the virtual
//! sensor, runs the whole pipeline through a [`ScanSession`], prints the measured ring size
//! next to the truth, and writes `mesh.ply`, `overlay.png` (a depth frame in false colour
//! with the landmarks, the located finger axis and the measured ring drawn) and
//! `section.png` (the ring cross-section: surface samples, silhouette tangents, fitted
//! contour) into the output folder, with `section.svg` (the section's outline) and
//! `band.stl` (a fitted band, when the measurement is ok).

use crate::measure::{session_error, summary};
use crate::BadInput;
use anyhow::Context;
use image::{Rgb, RgbImage};
use mandrel_core::frame::Frame;
use mandrel_core::measure::SectionResult;
use mandrel_core::measure::{MeasureDetail, Status};
use mandrel_core::mesh::PlyFormat;
use mandrel_core::session::{ScanSession, SessionConfig};
use mandrel_sim::{SimOptions, SimScan};
use nalgebra::{Point2, Point3};
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
}

/// Runs `mandrel demo`.
pub fn run(args: Args) -> crate::Outcome {
    let t0 = std::time::Instant::now();
    let sim = SimScan::generate(args.seed, &SimOptions::default())
        .map_err(|e| BadInput(format!("simulating the scan: {e}")))?;
    let t_sim = t0.elapsed();
    let mut cfg = SessionConfig::new(sim.target);
    cfg.use_landmarks = !args.no_landmarks;
    let mut session = ScanSession::new(cfg).map_err(session_error)?;
    for (i, f) in sim.frames.iter().enumerate() {
        let mut f = f.clone();
        if args.exact_poses {
            f.pose = sim.true_poses.get(i).copied();
        }
        session.push_frame(f).map_err(session_error)?;
    }
    let (m, detail) = session.finish_detailed().map_err(session_error)?;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mesh = session.mesh();
    let ply = args.out.join("mesh.ply");
    let file =
        std::fs::File::create(&ply).with_context(|| format!("creating {}", ply.display()))?;
    mesh.write_ply(std::io::BufWriter::new(file), PlyFormat::Binary)
        .with_context(|| format!("writing {}", ply.display()))?;
    let overlay = args.out.join("overlay.png");
    draw_overlay(&sim, &detail)
        .save(&overlay)
        .with_context(|| format!("writing {}", overlay.display()))?;
    let section = args.out.join("section.png");
    draw_section(detail.ring.as_ref())
        .save(&section)
        .with_context(|| format!("writing {}", section.display()))?;

    println!(
        "Simulated {} {:?}-hand scan (seed {}, {} frames) in {:.0} ms",
        sim.sensor.manifest_name(),
        sim.target.hand,
        args.seed,
        sim.frames.len(),
        t_sim.as_secs_f64() * 1e3
    );
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
        "Wrote {}, {}, {}",
        display(&ply),
        display(&overlay),
        display(&section)
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

/// A colour map from near (warm) to far (cool), for depth.
fn false_colour(t: f32) -> Rgb<u8> {
    let t = t.clamp(0.0, 1.0);
    // Piecewise-linear approximation of "turbo".
    let stops: [(f32, [f32; 3]); 5] = [
        (0.0, [180.0, 4.0, 38.0]),
        (0.25, [250.0, 150.0, 40.0]),
        (0.5, [160.0, 230.0, 60.0]),
        (0.75, [40.0, 170.0, 230.0]),
        (1.0, [48.0, 18.0, 59.0]),
    ];
    for w in stops.windows(2) {
        let (a, b) = (w[0], w[1]);
        if t <= b.0 {
            let s = (t - a.0) / (b.0 - a.0);
            let c = |i: usize| (a.1[i] + (b.1[i] - a.1[i]) * s) as u8;
            return Rgb([c(0), c(1), c(2)]);
        }
    }
    Rgb([48, 18, 59])
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn disc(img: &mut RgbImage, p: Point2<f64>, r: f64, c: Rgb<u8>) {
    if !(p.x.is_finite() && p.y.is_finite()) {
        return;
    }
    let ri = r.ceil() as i64;
    let (cx, cy) = (p.x.round() as i64, p.y.round() as i64);
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            if ((dx * dx + dy * dy) as f64) <= r * r {
                put(img, cx + dx, cy + dy, c);
            }
        }
    }
}

fn line(img: &mut RgbImage, a: Point2<f64>, b: Point2<f64>, width: f64, c: Rgb<u8>) {
    if !(a.x.is_finite() && a.y.is_finite() && b.x.is_finite() && b.y.is_finite()) {
        return;
    }
    let len = (b - a).norm();
    if len > 10_000.0 {
        return;
    }
    let steps = (len * 2.0).ceil().max(1.0) as usize;
    for i in 0..=steps {
        let t = i as f64 / steps as f64;
        disc(img, a + (b - a) * t, width / 2.0, c);
    }
}

/// The frame to draw: among frames with landmarks, the one showing the finger longest
/// (its MCP→PIP landmarks farthest apart in pixels, i.e. seen most from the side).
fn pick_frame(sim: &SimScan) -> Option<(usize, &Frame)> {
    let (mi, pi) = sim.target.finger.mcp_pip_landmarks();
    let span = |f: &Frame| {
        f.landmarks
            .as_ref()
            .map(|l| (l.points()[mi] - l.points()[pi]).norm())
            .unwrap_or(-1.0)
    };
    sim.frames
        .iter()
        .enumerate()
        .max_by(|a, b| span(a.1).total_cmp(&span(b.1)))
}

/// MediaPipe hand skeleton edges.
const SKELETON: [(usize, usize); 20] = [
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 4),
    (0, 5),
    (5, 6),
    (6, 7),
    (7, 8),
    (5, 9),
    (9, 10),
    (10, 11),
    (11, 12),
    (9, 13),
    (13, 14),
    (14, 15),
    (15, 16),
    (13, 17),
    (0, 17),
    (17, 18),
    (18, 19),
];

fn draw_overlay(sim: &SimScan, detail: &MeasureDetail) -> RgbImage {
    let Some((idx, frame)) = pick_frame(sim) else {
        return RgbImage::new(1, 1);
    };
    let (w, h) = (frame.depth.width(), frame.depth.height());
    let mut img = RgbImage::from_pixel(w, h, Rgb([0, 0, 0]));
    let valid: Vec<f32> = frame
        .depth
        .depth_m()
        .iter()
        .copied()
        .filter(|&z| z > 0.0)
        .collect();
    let lo = valid.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = valid.iter().copied().fold(0.0f32, f32::max);
    for y in 0..h {
        for x in 0..w {
            let z = frame.depth.at(x, y);
            if z > 0.0 && hi > lo {
                img.put_pixel(x, y, false_colour((z - lo) / (hi - lo)));
            }
        }
    }
    // Landmarks and skeleton.
    if let Some(l) = &frame.landmarks {
        let p = l.points();
        for (a, b) in SKELETON {
            line(&mut img, p[a], p[b], 1.5, Rgb([255, 255, 255]));
        }
        for q in p.iter() {
            disc(&mut img, *q, 3.0, Rgb([255, 255, 255]));
            disc(&mut img, *q, 2.0, Rgb([20, 20, 20]));
        }
    }
    // The located axis and the measured ring, projected with the camera's pose (the given
    // one, or the true pose when the scan had none).
    let pose = frame
        .pose
        .or_else(|| sim.true_poses.get(idx).copied())
        .unwrap_or_else(nalgebra::Isometry3::identity);
    let k = frame.intrinsics;
    let project = |p: &Point3<f64>| k.project(&(pose.inverse() * p));
    if let Some(f) = &detail.finger {
        if let (Some(a), Some(b)) = (project(&f.mcp.position), project(&f.pip.position)) {
            line(&mut img, a, b, 3.0, Rgb([255, 0, 255]));
            disc(&mut img, a, 5.0, Rgb([255, 0, 255]));
            disc(&mut img, b, 5.0, Rgb([255, 0, 255]));
        }
    }
    if let Some(r) = &detail.ring {
        let pts: Vec<Option<Point2<f64>>> = r
            .contour_2d
            .iter()
            .map(|c| project(&(r.centre + r.plane_u * c.x + r.plane_v * c.y)))
            .collect();
        for i in 0..pts.len() {
            if let (Some(a), Some(b)) = (pts[i], pts[(i + 1) % pts.len()]) {
                line(&mut img, a, b, 2.5, Rgb([0, 255, 255]));
            }
        }
    }
    img
}

fn draw_section(ring: Option<&SectionResult>) -> RgbImage {
    const S: u32 = 480;
    let mut img = RgbImage::from_pixel(S, S, Rgb([255, 255, 255]));
    let Some(r) = ring else {
        return img;
    };
    // 40 mm field of view, centred on the section centre.
    let scale = S as f64 / 0.040;
    let to_px =
        |x: f64, y: f64| Point2::new(S as f64 / 2.0 + x * scale, S as f64 / 2.0 - y * scale);
    // 1 mm grid.
    for i in -20..=20 {
        let c = if i % 5 == 0 {
            Rgb([210, 210, 210])
        } else {
            Rgb([238, 238, 238])
        };
        let v = i as f64 * 0.001;
        line(&mut img, to_px(v, -0.02), to_px(v, 0.02), 1.0, c);
        line(&mut img, to_px(-0.02, v), to_px(0.02, v), 1.0, c);
    }
    // Silhouette tangents (support lines), short segments.
    for t in &r.tangents_2d {
        let n = t.normal.cast::<f64>();
        let o = t.offset_m as f64;
        let base = nalgebra::Vector2::new(n.x * o, n.y * o);
        let along = nalgebra::Vector2::new(-n.y, n.x) * 0.004;
        let a = base - along;
        let b = base + along;
        line(
            &mut img,
            to_px(a.x, a.y),
            to_px(b.x, b.y),
            1.0,
            Rgb([120, 170, 255]),
        );
    }
    for p in &r.points_2d {
        disc(
            &mut img,
            to_px(p.x as f64, p.y as f64),
            1.5,
            Rgb([60, 60, 60]),
        );
    }
    let c = &r.contour_2d;
    for i in 0..c.len() {
        let (a, b) = (c[i], c[(i + 1) % c.len()]);
        line(
            &mut img,
            to_px(a.x, a.y),
            to_px(b.x, b.y),
            2.5,
            Rgb([220, 30, 30]),
        );
    }
    disc(&mut img, to_px(0.0, 0.0), 3.0, Rgb([220, 30, 30]));
    img
}

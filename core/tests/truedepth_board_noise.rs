//! Real TrueDepth noise on a flat board (`../shared/data/truedepth_board_zeiss`) against the
//! virtual sensor's TrueDepth model on the same scene.
//!
//! Per device: the plane-fit RMS of each frame, its frame-to-frame part (pooled per-pixel
//! temporal std) and its fixed part (RMS of the per-pixel temporal mean residual, debiased
//! for the temporal noise left in a finite mean), and how far the fixed part is correlated
//! along rows and columns. On the calibration sweeps, where the board moves between frames,
//! the residual maps of different frames are correlated pixel by pixel: a pattern locked to
//! the image (the sensor's own) correlates, one on the board does not.
//!
//! The virtual board is a plane 0.2 m away, tilted a few degrees, filmed with the sensor's
//! [`NoiseModel::truedepth_fitted`]; the same figures must land within the spread of the
//! three devices. `cargo test --release -p mandrel-core --test truedepth_board_noise --
//! --nocapture` prints the table recorded in docs/accuracy.md.

mod common;

use mandrel_core::frame::{Frame, Intrinsics};
use mandrel_core::scan::ScanFolder;
use mandrel_sim::render::{apply_noise, render_clean};
use mandrel_sim::{NoiseModel, Plane};
use nalgebra::{Isometry3, Matrix3, Point3, SymmetricEigen, Translation3, UnitQuaternion, Vector3};
use rand::SeedableRng;
use std::path::PathBuf;

/// The central window of the README's study: cols 200–439, rows 120–299.
const WIN: (usize, usize, usize, usize) = (200, 440, 120, 300);

/// Board statistics of one set of frames, millimetres.
#[derive(Debug, Clone, Copy)]
struct BoardStats {
    /// Mean over frames of the plane-fit RMS.
    total_mm: f64,
    /// Pooled per-pixel frame-to-frame std.
    temporal_mm: f64,
    /// RMS of the per-pixel mean residual, with the temporal share of a finite mean removed.
    fixed_mm: f64,
    /// RMS of the plain per-pixel mean (what averaging all the frames leaves).
    mean_map_mm: f64,
    /// Lag (pixels) at which the fixed map's autocorrelation along rows falls below 1/2.
    corr_row_px: f64,
    /// The same along columns.
    corr_col_px: f64,
    /// Number of frames.
    frames: usize,
}

/// Signed distances (metres) of the window's pixels to the frame's least-squares plane,
/// after a robust pass (residuals beyond 2 mm or 4 RMS dropped); `NaN` where no depth.
fn plane_residuals(depth: &[f32], w: usize, k: &Intrinsics) -> Vec<f64> {
    let (u0, u1, v0, v1) = WIN;
    let mut pts: Vec<(usize, Point3<f64>)> = Vec::new();
    for v in v0..v1 {
        for u in u0..u1 {
            let z = depth[v * w + u] as f64;
            if z > 0.0 {
                pts.push((
                    (v - v0) * (u1 - u0) + (u - u0),
                    k.unproject(u as f64, v as f64, z),
                ));
            }
        }
    }
    let mut out = vec![f64::NAN; (u1 - u0) * (v1 - v0)];
    let mut keep = vec![true; pts.len()];
    let mut plane = (Vector3::z(), 0.0);
    for pass in 0..3 {
        let sel: Vec<&Point3<f64>> = pts
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(p, _)| &p.1)
            .collect();
        if sel.len() < 100 {
            return out;
        }
        let c = sel.iter().fold(Vector3::zeros(), |a, p| a + p.coords) / sel.len() as f64;
        let mut m = Matrix3::zeros();
        for p in &sel {
            let d = p.coords - c;
            m += d * d.transpose();
        }
        let e = SymmetricEigen::new(m);
        let i = e.eigenvalues.imin();
        let n: Vector3<f64> = e.eigenvectors.column(i).into();
        plane = (n, n.dot(&c));
        let rms = (sel
            .iter()
            .map(|p| (n.dot(&p.coords) - plane.1).powi(2))
            .sum::<f64>()
            / sel.len() as f64)
            .sqrt();
        if pass < 2 {
            let lim = (4.0 * rms).min(0.002);
            for (k, p) in keep.iter_mut().zip(&pts) {
                *k = (n.dot(&p.1.coords) - plane.1).abs() < lim;
            }
        }
    }
    let (n, d) = plane;
    let sign = if n.z < 0.0 { -1.0 } else { 1.0 };
    for ((i, p), k) in pts.iter().zip(&keep) {
        if *k {
            out[*i] = sign * (n.dot(&p.coords) - d);
        }
    }
    out
}

fn rms(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x * x, n + 1));
    (s / n.max(1) as f64).sqrt()
}

/// Lag at which the normalised autocorrelation of `map` (window-shaped, `NaN` = none) along
/// `(du, dv)` first drops below 1/2, linearly interpolated; up to 40 px.
fn half_corr_lag(map: &[f64], du: usize, dv: usize) -> f64 {
    let (u0, u1, v0, v1) = WIN;
    let (w, h) = (u1 - u0, v1 - v0);
    let corr = |lag: usize| {
        let (mut s, mut s0, mut s1) = (0.0, 0.0, 0.0);
        for v in 0..h.saturating_sub(lag * dv) {
            for u in 0..w.saturating_sub(lag * du) {
                let a = map[v * w + u];
                let b = map[(v + lag * dv) * w + u + lag * du];
                if a.is_finite() && b.is_finite() {
                    s += a * b;
                    s0 += a * a;
                    s1 += b * b;
                }
            }
        }
        s / (s0 * s1).sqrt().max(1e-30)
    };
    let mut prev = 1.0;
    for lag in 1..=40 {
        let c = corr(lag);
        if c < 0.5 {
            return lag as f64 - 1.0 + (prev - 0.5) / (prev - c).max(1e-9);
        }
        prev = c;
    }
    40.0
}

/// The statistics of a set of frames of one static board.
fn board_stats(frames: &[Vec<f32>], w: usize, k: &Intrinsics) -> BoardStats {
    let res: Vec<Vec<f64>> = frames.iter().map(|d| plane_residuals(d, w, k)).collect();
    let total = res
        .iter()
        .map(|r| rms(r.iter().copied().filter(|x| x.is_finite())))
        .sum::<f64>()
        / res.len() as f64;
    let npx = res[0].len();
    let (mut ss, mut dof) = (0.0, 0usize);
    let mut mean = vec![f64::NAN; npx];
    for (i, m) in mean.iter_mut().enumerate() {
        let vals: Vec<f64> = res.iter().map(|r| r[i]).filter(|x| x.is_finite()).collect();
        if vals.len() < 2 {
            continue;
        }
        let mu = vals.iter().sum::<f64>() / vals.len() as f64;
        ss += vals.iter().map(|x| (x - mu).powi(2)).sum::<f64>();
        dof += vals.len() - 1;
        *m = mu;
    }
    let temporal = (ss / dof.max(1) as f64).sqrt();
    let mean_map = rms(mean.iter().copied().filter(|x| x.is_finite()));
    let nf = frames.len() as f64;
    let fixed = (mean_map.powi(2) - temporal.powi(2) / nf).max(0.0).sqrt();
    BoardStats {
        total_mm: total * 1e3,
        temporal_mm: temporal * 1e3,
        fixed_mm: fixed * 1e3,
        mean_map_mm: mean_map * 1e3,
        corr_row_px: half_corr_lag(&mean, 1, 0),
        corr_col_px: half_corr_lag(&mean, 0, 1),
        frames: frames.len(),
    }
}

fn board_dir() -> Option<PathBuf> {
    common::shared_dir().map(|d| d.join("data").join("truedepth_board_zeiss"))
}

fn load(dir: &std::path::Path) -> (Vec<Frame>, Intrinsics) {
    let scan = ScanFolder::open(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let frames: Vec<Frame> = scan.frames().map(|f| f.expect("board frame")).collect();
    let k = scan.manifest.intrinsics;
    (frames, k)
}

const DEVICES: [&str; 3] = [
    "iPhone11Pro_iOS14",
    "iPadPro12_4gen_iOS15",
    "iPadPro12_5gen_iOS15",
];

/// Mean Pearson correlation, pixel by pixel, of the plane residuals of different frames of
/// a calibration sweep (the board moves between them), over pixels valid in both.
fn cross_frame_correlation(frames: &[Frame], k: &Intrinsics) -> f64 {
    let w = k.width as usize;
    let res: Vec<Vec<f64>> = frames
        .iter()
        .map(|f| plane_residuals(f.depth.depth_m(), w, k))
        .filter(|r| r.iter().filter(|x| x.is_finite()).count() > r.len() / 2)
        .collect();
    let mut cs = Vec::new();
    for i in 0..res.len() {
        for j in i + 1..res.len() {
            let (mut s, mut a2, mut b2) = (0.0, 0.0, 0.0);
            for (a, b) in res[i].iter().zip(&res[j]) {
                if a.is_finite() && b.is_finite() {
                    s += a * b;
                    a2 += a * a;
                    b2 += b * b;
                }
            }
            cs.push(s / (a2 * b2).sqrt().max(1e-30));
        }
    }
    cs.iter().sum::<f64>() / cs.len().max(1) as f64
}

/// The virtual board: `n` frames of a plane at `dist_m`, tilted `tilt_deg`, through `noise`.
fn virtual_board(
    noise: &NoiseModel,
    n: usize,
    dist_m: f64,
    tilt_deg: f64,
    seed: u64,
) -> Vec<Vec<f32>> {
    let k = Intrinsics::new(640, 480, 590.0, 590.0, 319.5, 239.5).expect("intrinsics");
    let normal = UnitQuaternion::from_axis_angle(&Vector3::y_axis(), tilt_deg.to_radians())
        * Vector3::new(0.0, 0.0, -1.0);
    let plane = Plane::new(Point3::new(0.0, 0.0, dist_m), normal).expect("plane");
    let cam = Isometry3::from_parts(Translation3::identity(), UnitQuaternion::identity());
    let clean = render_clean(&plane, &k, &cam).expect("render");
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            apply_noise(&clean, noise, &mut rng)
                .expect("noise")
                .depth_m()
                .to_vec()
        })
        .collect()
}

fn virtual_intrinsics() -> Intrinsics {
    Intrinsics::new(640, 480, 590.0, 590.0, 319.5, 239.5).expect("intrinsics")
}

fn print_row(name: &str, s: &BoardStats) {
    println!(
        "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} / {:.1} |",
        s.frames,
        s.total_mm,
        s.temporal_mm,
        s.fixed_mm,
        s.mean_map_mm,
        s.corr_row_px,
        s.corr_col_px
    );
}

#[test]
fn real_board_noise_has_a_fixed_part_and_the_fitted_sensor_model_matches_it() {
    let Some(dir) = board_dir() else {
        return;
    };
    println!(
        "| set | frames | plane RMS | temporal | fixed | mean of frames | half-corr row / col px |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut real = Vec::new();
    for dev in DEVICES {
        let (frames, k) = load(&dir.join(dev));
        let depth: Vec<Vec<f32>> = frames.iter().map(|f| f.depth.depth_m().to_vec()).collect();
        let s = board_stats(&depth, k.width as usize, &k);
        print_row(dev, &s);
        real.push(s);
    }
    for dev in DEVICES {
        let (frames, k) = load(&dir.join(format!("{dev}_calib")));
        let c = cross_frame_correlation(&frames, &k);
        println!("calibration sweep {dev}: mean residual correlation between frames {c:.3}");
        // Were the fixed part locked to the image, frames of a moving board would share
        // it pixel by pixel (correlation near fixed² / total²); they barely do.
        assert!(c < 0.3, "{dev}: {c}");
    }
    let k = virtual_intrinsics();
    let mut sims = Vec::new();
    for (name, noise) in [
        ("sim truedepth (default)", NoiseModel::truedepth()),
        ("sim truedepth_fitted", NoiseModel::truedepth_fitted()),
    ] {
        let s = board_stats(&virtual_board(&noise, 5, 0.2, 4.0, 7), k.width as usize, &k);
        print_row(name, &s);
        sims.push(s);
    }
    let fitted = sims[1];
    // The real devices share the structure: a fixed part that five frames do not average.
    for s in &real {
        assert!(s.total_mm > 0.2 && s.total_mm < 0.4, "{s:?}");
        assert!(s.fixed_mm > 0.5 * s.temporal_mm, "{s:?}");
    }
    // The fitted model lands within the devices' spread (±15 % around it) on every figure.
    let within = |f: fn(&BoardStats) -> f64| {
        let lo = real.iter().map(f).fold(f64::INFINITY, f64::min);
        let hi = real.iter().map(f).fold(0.0, f64::max);
        let x = f(&fitted);
        assert!(
            x >= 0.85 * lo && x <= 1.15 * hi,
            "fitted model {x:.3} outside the devices' {lo:.3}–{hi:.3}"
        );
    };
    within(|s| s.total_mm);
    within(|s| s.temporal_mm);
    within(|s| s.fixed_mm);
    within(|s| s.mean_map_mm);
    // The default model has no fixed part: averaging frames beats all of it down.
    assert!(sims[0].fixed_mm < 0.5 * fitted.fixed_mm, "{:?}", sims[0]);
}

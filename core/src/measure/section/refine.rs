//! The reported perimeter: the convex hull of the fitted contour refined by the surface
//! samples' own residuals, so corners the data show are kept.
//!
//! The support-function model has a handful of harmonics and a least radius of curvature:
//! against a section with real corners (a coarse polygonal mesh) it runs through the middle
//! of the samples, outside the sides and inside the corners, and `2π·a0` cuts every corner,
//! while the ring truth is the perimeter of the section's convex hull, which the corners
//! decide. So the contour is moved, per bin of normal direction, by the mean residual of the
//! inlier surface samples assigned there, but only where that mean is significant against
//! its standard error: depth noise alone then moves a bin rarely, so the hull is not
//! inflated on sections the model already fits, while a corner's systematic residual is
//! kept whole. Bins with few samples (unobserved arcs) keep the model. The perimeter of the
//! hull of the refined contour is what a ring touches.

use std::f64::consts::TAU;

use nalgebra::Point2;

use super::fit::Fit;
use super::gather::Obs2;
use super::model::{eval_dh, GRID};

/// Width of a bin of normal direction, in grid steps (degrees): narrow enough to follow a
/// corner of a coarse polygon, wide enough to average several samples.
pub(super) const REFINE_BIN_STEPS: usize = 2;

/// Fewest inlier surface samples for a bin's residual to move the contour.
pub(super) const REFINE_MIN_SAMPLES: usize = 6;

/// A bin's mean residual moves the contour only beyond this many standard errors.
pub(super) const REFINE_SIGNIFICANCE_SE: f64 = 4.0;

/// Consecutive frames that share a cluster of the standard error: tracked poses err
/// alike over neighbouring frames (the registration drifts), so a bin's residual mean is
/// only as reliable as the number of such runs of frames behind it.
pub(super) const REFINE_CLUSTER_FRAMES: u32 = 8;

/// Perimeter (metres) of the convex hull of the contour refined by the binned residuals.
pub(super) fn refined_perimeter(obs: &[Obs2], f: &Fit) -> f64 {
    let offsets = bin_offsets(obs, f);
    let pts: Vec<Point2<f64>> = (0..GRID)
        .map(|i| {
            let t = i as f64 * TAU / GRID as f64;
            let (h, d1, _) = eval_dh(&f.x, f.k, t);
            let (sn, cs) = t.sin_cos();
            let h = h + offsets[i / REFINE_BIN_STEPS];
            Point2::new(h * cs - d1 * sn, h * sn + d1 * cs)
        })
        .collect();
    hull_perimeter(&pts)
}

/// Mean residual of the inlier surface samples per bin where it is significant (more than
/// [`REFINE_SIGNIFICANCE_SE`] standard errors from zero, with at least
/// [`REFINE_MIN_SAMPLES`] samples from two or more frames, and both neighbouring bins
/// observed); zero elsewhere. The standard
/// error treats the samples of each run of [`REFINE_CLUSTER_FRAMES`] consecutive frames as
/// one cluster (a frame's depth noise is correlated between neighbouring pixels, and a
/// pose error is common to all of a frame's samples and shared by its neighbours), and is
/// never below the one of independent samples.
fn bin_offsets(obs: &[Obs2], f: &Fit) -> Vec<f64> {
    let nb = GRID.div_ceil(REFINE_BIN_STEPS);
    // (bin, frame, residual) of the inlier surface samples, grouped by bin then frame.
    let mut v: Vec<(usize, u32, f64)> = obs
        .iter()
        .enumerate()
        .filter(|&(i, o)| !o.is_tangent() && f.weight[i] >= 0.5 && f.idx[i] < GRID)
        .map(|(i, o)| {
            (
                f.idx[i] / REFINE_BIN_STEPS,
                o.frame / REFINE_CLUSTER_FRAMES,
                f.resid[i],
            )
        })
        .collect();
    v.sort_unstable_by_key(|&(b, fr, _)| (b, fr));
    let mut out = vec![0.0; nb];
    let mut counts = vec![0usize; nb];
    for bin in v.chunk_by(|a, b| a.0 == b.0) {
        let n = bin.len();
        if n < REFINE_MIN_SAMPLES {
            continue;
        }
        let nf = n as f64;
        let mean = bin.iter().map(|e| e.2).sum::<f64>() / nf;
        let var = bin.iter().map(|e| (e.2 - mean).powi(2)).sum::<f64>() / (nf - 1.0);
        // Cluster-robust variance of the mean over frames.
        let (mut groups, mut ss) = (0usize, 0.0);
        for fr in bin.chunk_by(|a, b| a.1 == b.1) {
            groups += 1;
            ss += fr.iter().map(|e| e.2 - mean).sum::<f64>().powi(2);
        }
        if groups < 2 {
            continue;
        }
        let g = groups as f64;
        let se = (var / nf).max(ss * g / (g - 1.0) / (nf * nf)).sqrt();
        if mean.abs() > REFINE_SIGNIFICANCE_SE * se {
            out[bin[0].0] = mean;
        }
        counts[bin[0].0] = n;
    }
    // The ends of an observed arc keep the model too: there the fit extrapolates into the
    // unobserved arc, and its residuals say more about the gap than about a corner.
    (0..nb)
        .map(|b| {
            let ok = |j: usize| counts[j] >= REFINE_MIN_SAMPLES;
            if ok((b + nb - 1) % nb) && ok((b + 1) % nb) {
                out[b]
            } else {
                0.0
            }
        })
        .collect()
}

/// Perimeter of the convex hull of `pts` (monotone chain; non-finite points are skipped).
pub(super) fn hull_perimeter(pts: &[Point2<f64>]) -> f64 {
    let mut p: Vec<Point2<f64>> = pts
        .iter()
        .copied()
        .filter(|q| q.x.is_finite() && q.y.is_finite())
        .collect();
    if p.len() < 3 {
        return 0.0;
    }
    p.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    let cross = |o: &Point2<f64>, a: &Point2<f64>, b: &Point2<f64>| {
        let (u, v) = (a - o, b - o);
        u.x * v.y - u.y * v.x
    };
    let mut h: Vec<Point2<f64>> = Vec::with_capacity(2 * p.len());
    // Lower chain, then the upper chain (which never pops below the lower chain's end).
    for q in &p {
        while h.len() >= 2 && cross(&h[h.len() - 2], &h[h.len() - 1], q) <= 0.0 {
            h.pop();
        }
        h.push(*q);
    }
    let lower = h.len() + 1;
    for q in p.iter().rev().skip(1) {
        while h.len() >= lower && cross(&h[h.len() - 2], &h[h.len() - 1], q) <= 0.0 {
            h.pop();
        }
        h.push(*q);
    }
    h.windows(2).map(|w| (w[1] - w[0]).norm()).sum()
}

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
pub(super) const REFINE_SIGNIFICANCE_SE: f64 = 3.0;

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
/// [`REFINE_MIN_SAMPLES`] samples); zero elsewhere.
fn bin_offsets(obs: &[Obs2], f: &Fit) -> Vec<f64> {
    let nb = GRID.div_ceil(REFINE_BIN_STEPS);
    // Per bin: count, Σr, Σr².
    let mut acc = vec![(0usize, 0.0f64, 0.0f64); nb];
    for (i, o) in obs.iter().enumerate() {
        if o.is_tangent() || f.weight[i] < 0.5 || f.idx[i] >= GRID {
            continue;
        }
        let r = f.resid[i];
        let b = &mut acc[f.idx[i] / REFINE_BIN_STEPS];
        b.0 += 1;
        b.1 += r;
        b.2 += r * r;
    }
    acc.iter()
        .map(|&(n, s, s2)| {
            if n < REFINE_MIN_SAMPLES {
                return 0.0;
            }
            let nf = n as f64;
            let mean = s / nf;
            let var = ((s2 - nf * mean * mean) / (nf - 1.0)).max(0.0);
            let se = (var / nf).sqrt();
            if mean.abs() > REFINE_SIGNIFICANCE_SE * se {
                mean
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

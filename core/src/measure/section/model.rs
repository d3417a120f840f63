//! The support-shape model of a cross-section: the support function
//! `h(θ, s) = a0 + Σ_{k=1..K} (a_k cos kθ + b_k sin kθ) + g·s`, its parameter layout, its
//! values on the angle grid, and the residual of an observation against it.

use std::f64::consts::TAU;

use nalgebra::{DVector, Vector2};

use super::gather::{Obs2, ObsKind, NO_SHIFT};

/// Angle grid of the model (steps per turn).
pub(super) const GRID: usize = 360;

/// Smallest radius of curvature the fitted contour may have (metres).
pub(super) const MIN_CURVATURE_RADIUS_M: f64 = 0.0005;

/// Where each parameter sits in the fit's parameter vector
/// `[a0, a1, b1, …, aK, bK, g, β, (dx, dy) per frame]`: the support function's harmonics up
/// to `k`, the taper `g = dh/ds`, the silhouette placement bias `β` (pixels) and one
/// in-plane pose-error offset per frame. The basis rows of [`Table`] use the same order
/// for the first [`ParamLayout::support_len`] entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ParamLayout {
    /// Highest harmonic.
    pub(super) k: usize,
}

impl ParamLayout {
    /// Mean support `a0`: the perimeter is `2π·a0` (Cauchy).
    pub(super) const A0: usize = 0;
    /// `a1`: x of the section's Steiner point (plane coordinates).
    pub(super) const CENTRE_X: usize = 1;
    /// `b1`: y of the section's Steiner point.
    pub(super) const CENTRE_Y: usize = 2;

    /// The layout for harmonics up to `k`.
    pub(super) fn new(k: usize) -> Self {
        Self { k }
    }

    /// Index of `a_j`, the cosine coefficient of harmonic `j ≥ 1`.
    pub(super) fn cos(j: usize) -> usize {
        2 * j - 1
    }

    /// Index of `b_j`, the sine coefficient of harmonic `j ≥ 1`.
    pub(super) fn sin(j: usize) -> usize {
        2 * j
    }

    /// Number of support-function coefficients `a0 … bK` (they come first).
    pub(super) fn support_len(self) -> usize {
        2 * self.k + 1
    }

    /// Index of the taper `g`.
    pub(super) fn taper(self) -> usize {
        self.support_len()
    }

    /// Index of the silhouette placement bias `β` (pixels).
    pub(super) fn edge_bias(self) -> usize {
        self.support_len() + 1
    }

    /// Index of the first per-frame offset; the rest of the vector is `(dx, dy)` pairs.
    pub(super) fn shifts_start(self) -> usize {
        self.support_len() + 2
    }

    /// Index of `dx` of the slice frame `lf` (`dy` follows).
    pub(super) fn shift(self, lf: usize) -> usize {
        self.shifts_start() + 2 * lf
    }

    /// Length of the parameter vector with `nf` frame offsets.
    pub(super) fn len(self, nf: usize) -> usize {
        2 * self.k + 3 + 2 * nf
    }
}

/// The pose-error offset of the observation's frame (zero without one).
pub(super) fn frame_shift(x: &DVector<f64>, lay: ParamLayout, o: &Obs2) -> Vector2<f64> {
    if o.lf == NO_SHIFT {
        Vector2::zeros()
    } else {
        let i = lay.shift(o.lf);
        Vector2::new(x[i], x[i + 1])
    }
}

/// The support function and its first two derivatives at `theta`.
pub(super) fn eval_dh(x: &DVector<f64>, k: usize, theta: f64) -> (f64, f64, f64) {
    let (mut h, mut d1, mut d2) = (x[ParamLayout::A0], 0.0, 0.0);
    for j in 1..=k {
        let jf = j as f64;
        let (sn, cs) = (jf * theta).sin_cos();
        let (a, b) = (x[ParamLayout::cos(j)], x[ParamLayout::sin(j)]);
        h += a * cs + b * sn;
        d1 += jf * (-a * sn + b * cs);
        d2 += -jf * jf * (a * cs + b * sn);
    }
    (h, d1, d2)
}

/// Assigns each surface sample the grid index of the normal angle of the closest contour
/// point: argmax over θ of q·n(θ) − h(θ) (exact for convex curves), hill-climbing on a grid.
pub(super) fn assign_theta(
    obs: &[Obs2],
    x: &DVector<f64>,
    hg: &[f64],
    tab: &Table,
    idx: &mut [usize],
) {
    let lay = ParamLayout::new(tab.k);
    let centre = Vector2::new(x[ParamLayout::CENTRE_X], x[ParamLayout::CENTRE_Y]);
    let f = |q: &Vector2<f64>, i: usize| q.x * tab.cos1[i] + q.y * tab.sin1[i] - hg[i];
    for (o, th) in obs.iter().zip(idx.iter_mut()) {
        let ObsKind::Surface { at, .. } = o.kind else {
            continue;
        };
        let q = at + frame_shift(x, lay, o);
        // Warm start from the previous assignment when there is one.
        let mut i = if *th < GRID {
            *th
        } else {
            let d = q - centre;
            let a = d.y.atan2(d.x).rem_euclid(TAU);
            ((a / TAU * GRID as f64).round() as usize) % GRID
        };
        let mut best = f(&q, i);
        for _ in 0..GRID / 2 {
            let ip = (i + 1) % GRID;
            let im = (i + GRID - 1) % GRID;
            let (fp, fm) = (f(&q, ip), f(&q, im));
            if fp > best && fp >= fm {
                i = ip;
                best = fp;
            } else if fm > best {
                i = im;
                best = fm;
            } else {
                break;
            }
        }
        *th = i;
    }
}

/// cos/sin of kθ on the grid, k = 0..=K.
#[derive(Clone)]
pub(super) struct Table {
    /// Highest harmonic.
    pub(super) k: usize,
    /// rows[i * (2K+1) + c]: basis value c (1, cos θ, sin θ, cos 2θ, ...) at grid angle i.
    rows: Vec<f64>,
    /// Second derivative of each basis function at grid angle i (for h + h'').
    curv: Vec<f64>,
    /// cos θ at each grid angle.
    pub(super) cos1: Vec<f64>,
    /// sin θ at each grid angle.
    pub(super) sin1: Vec<f64>,
}

impl Table {
    /// The table for harmonics up to `k`.
    pub(super) fn new(k: usize) -> Self {
        let m = ParamLayout::new(k).support_len();
        let mut rows = vec![0.0; GRID * m];
        let mut curv = vec![0.0; GRID * m];
        let mut cos1 = vec![0.0; GRID];
        let mut sin1 = vec![0.0; GRID];
        for i in 0..GRID {
            let t = i as f64 * TAU / GRID as f64;
            let r = &mut rows[i * m..(i + 1) * m];
            let c = &mut curv[i * m..(i + 1) * m];
            r[ParamLayout::A0] = 1.0;
            c[ParamLayout::A0] = 1.0;
            for j in 1..=k {
                let jf = j as f64;
                let (sn, cs) = (jf * t).sin_cos();
                r[ParamLayout::cos(j)] = cs;
                r[ParamLayout::sin(j)] = sn;
                c[ParamLayout::cos(j)] = cs * (1.0 - jf * jf);
                c[ParamLayout::sin(j)] = sn * (1.0 - jf * jf);
            }
            cos1[i] = t.cos();
            sin1[i] = t.sin();
        }
        Self {
            k,
            rows,
            curv,
            cos1,
            sin1,
        }
    }

    /// The parameter layout of this table's harmonics.
    pub(super) fn layout(&self) -> ParamLayout {
        ParamLayout::new(self.k)
    }

    /// The basis row at grid angle `i`.
    pub(super) fn row(&self, i: usize) -> &[f64] {
        let m = self.layout().support_len();
        &self.rows[i * m..(i + 1) * m]
    }

    /// The basis functions' `b + b''` at grid angle `i` (radius of curvature per coefficient).
    pub(super) fn curv(&self, i: usize) -> &[f64] {
        let m = self.layout().support_len();
        &self.curv[i * m..(i + 1) * m]
    }
}

/// h on the grid from parameters (first 2K+1 entries).
pub(super) fn h_grid(x: &DVector<f64>, tab: &Table) -> Vec<f64> {
    let m = tab.layout().support_len();
    (0..GRID)
        .map(|i| {
            tab.row(i)
                .iter()
                .zip(x.iter().take(m))
                .map(|(a, b)| a * b)
                .sum()
        })
        .collect()
}

/// Tangent line observation basis row at its exact normal angle (`n` a unit normal: the
/// harmonics follow from `cos θ = n.x`, `sin θ = n.y` by the angle-addition recurrence).
pub(super) fn line_row(k: usize, n: &Vector2<f64>, row: &mut [f64]) {
    row[ParamLayout::A0] = 1.0;
    let (c1, s1) = (n.x, n.y);
    let (mut c, mut s) = (1.0, 0.0);
    for j in 1..=k {
        (c, s) = (c * c1 - s * s1, s * c1 + c * s1);
        row[ParamLayout::cos(j)] = c;
        row[ParamLayout::sin(j)] = s;
    }
}

/// The support function at the normal angle of unit normal `n` (the dot product of
/// [`line_row`] with `x`, without the row).
fn h_at_normal(k: usize, n: &Vector2<f64>, x: &DVector<f64>) -> f64 {
    let (c1, s1) = (n.x, n.y);
    let (mut c, mut s) = (1.0, 0.0);
    let mut h = x[ParamLayout::A0];
    for j in 1..=k {
        (c, s) = (c * c1 - s * s1, s * c1 + c * s1);
        h += c * x[ParamLayout::cos(j)] + s * x[ParamLayout::sin(j)];
    }
    h
}

/// Signed residual of an observation against the model (positive: observed outside).
pub(super) fn residual(o: &Obs2, idx: usize, x: &DVector<f64>, hg: &[f64], tab: &Table) -> f64 {
    let lay = tab.layout();
    let d = frame_shift(x, lay, o);
    match o.kind {
        ObsKind::Tangent {
            normal,
            offset_m,
            bias_unit,
        } => {
            let h = h_at_normal(tab.k, &normal, x);
            offset_m + bias_unit * x[lay.edge_bias()] + normal.dot(&d) - h - x[lay.taper()] * o.s
        }
        ObsKind::Surface { at, .. } => {
            let n = Vector2::new(tab.cos1[idx], tab.sin1[idx]);
            (at + d).dot(&n) - hg[idx] - x[lay.taper()] * o.s
        }
    }
}

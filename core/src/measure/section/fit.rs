//! Fitting the support-shape model to one slice: robust IRLS (Huber, then Tukey) on the
//! weighted normal equations, with the harmonics' shape prior, a convexity penalty and the
//! per-frame pose-error offsets.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn, Vector2};

use super::gather::{
    check_enough, frame_count, reindex_frames, slice_obs, Cloud, Obs2, ObsKind, Plane, NO_SHIFT,
};
use super::model::{
    assign_theta, h_grid, line_row, residual, ParamLayout, Table, GRID, MIN_CURVATURE_RADIUS_M,
};
use super::types::{SectionConfig, SectionError};
use crate::numeric::{huber_weight, tukey_weight, upper_median, HUBER_C, TUKEY_C};

/// Support-function model and fit state.
pub(super) struct Fit {
    /// Highest harmonic.
    pub(super) k: usize,
    /// Parameters, laid out as [`ParamLayout`] says.
    pub(super) x: DVector<f64>,
    /// Number of per-frame offsets in `x`.
    pub(super) nf: usize,
    /// Posterior covariance of `x`.
    pub(super) cov: DMatrix<f64>,
    /// Grid angle index per surface sample.
    pub(super) idx: Vec<usize>,
    /// Robust weight per observation (0 = outlier).
    pub(super) weight: Vec<f64>,
    /// Residual per observation.
    pub(super) resid: Vec<f64>,
    /// Residual scale factor (>= 1).
    pub(super) scale: f64,
}

impl Fit {
    /// The layout of `x`.
    pub(super) fn layout(&self) -> ParamLayout {
        ParamLayout::new(self.k)
    }
}

/// Robust weight for a standardised residual: Huber (c = 1.5) or Tukey biweight (c = 4.685).
fn robust(u: f64, tukey: bool) -> f64 {
    if tukey {
        tukey_weight(u, TUKEY_C)
    } else {
        huber_weight(u, HUBER_C)
    }
}

/// Adds a surface sample (weight `w`, axial offset `s`, offset `y` along its grid
/// direction) to its grid bin's sufficient statistics.
#[inline]
fn add_to_bin(b: &mut [f64; 5], w: f64, s: f64, y: f64) {
    b[0] += w;
    b[1] += w * s;
    b[2] += w * s * s;
    b[3] += w * y;
    b[4] += w * s * y;
}

/// One weighted least-squares solve with harmonics limited to `k_active`: the solution and
/// the factor of its normal matrix (the posterior covariance is [`covariance`] of it, left
/// to the caller: an IRLS loop needs it of its last pass only).
#[allow(clippy::too_many_arguments)]
pub(super) fn solve_once(
    obs: &[Obs2],
    idx: &[usize],
    weight: &[f64],
    tab: &Table,
    cfg: &SectionConfig,
    a0: f64,
    k_active: usize,
    scale: f64,
    convex_pen: &[usize],
) -> Option<(DVector<f64>, Cholesky<f64, Dyn>)> {
    let k = tab.k;
    let lay = tab.layout();
    // Support coefficients 0..m, then the taper (at m) and the edge bias.
    let (m, taper, beta) = (lay.support_len(), lay.taper(), lay.edge_bias());
    let nf = frame_count(obs);
    let p = lay.len(nf);
    // Per grid bin sufficient statistics for points: Σw, Σws, Σws², Σwy, Σwsy.
    let mut bins = vec![[0.0f64; 5]; GRID];
    let mut ata = DMatrix::<f64>::zeros(p, p);
    let mut atb = DVector::<f64>::zeros(p);
    let mut row = vec![0.0; p];
    // The support and taper block's tangent terms (row-major, upper triangle), summed apart
    // from `ata` so the inner loop runs over a plain slice; only tangents add to it before
    // the surface bins below.
    let t1 = taper + 1;
    let mut tri = vec![0.0; t1 * t1];
    for (i, o) in obs.iter().enumerate() {
        let w = weight[i] / (o.sigma * o.sigma);
        if w == 0.0 {
            continue;
        }
        if let ObsKind::Surface { at, .. } = o.kind {
            if o.lf == NO_SHIFT {
                // Only the grid bin's sufficient statistics (as below).
                let j = idx[i];
                let y = at.x * tab.cos1[j] + at.y * tab.sin1[j];
                add_to_bin(&mut bins[j], w, o.s, y);
                continue;
            }
        }
        // The frame's pose-error offset d enters as (q + d)·n: row entries -n.
        let (n, y) = match o.kind {
            ObsKind::Tangent {
                normal, offset_m, ..
            } => {
                line_row(k, &normal, &mut row[..m]);
                (normal, offset_m)
            }
            ObsKind::Surface { at, .. } => {
                let j = idx[i];
                row[..m].copy_from_slice(tab.row(j));
                let n = Vector2::new(tab.cos1[j], tab.sin1[j]);
                (n, at.dot(&n))
            }
        };
        row[taper] = o.s;
        if let ObsKind::Tangent { bias_unit, .. } = o.kind {
            // Silhouette placement bias (pixels): the true edge lies bias_unit·β farther out.
            let u = bias_unit;
            for a in 0..=taper {
                ata[(a, beta)] -= w * row[a] * u;
            }
            ata[(beta, beta)] += w * u * u;
            atb[beta] -= w * u * y;
            if o.lf != NO_SHIFT {
                let fo = lay.shift(o.lf);
                ata[(beta, fo)] += w * u * n.x;
                ata[(beta, fo + 1)] += w * u * n.y;
            }
        }
        if o.lf != NO_SHIFT {
            let fo = lay.shift(o.lf);
            // Rows 0..=taper of columns fo and fo + 1 (column-major: contiguous).
            let (col_x, col_y) = ata.as_mut_slice()[fo * p..(fo + 2) * p].split_at_mut(p);
            for ((cx, cy), r) in col_x.iter_mut().zip(col_y.iter_mut()).zip(&row[..=taper]) {
                let wa = w * r;
                *cx -= wa * n.x;
                *cy -= wa * n.y;
            }
            ata[(fo, fo)] += w * n.x * n.x;
            ata[(fo, fo + 1)] += w * n.x * n.y;
            ata[(fo + 1, fo + 1)] += w * n.y * n.y;
            atb[fo] -= w * n.x * y;
            atb[fo + 1] -= w * n.y * y;
        }
        if o.is_tangent() {
            for a in 0..=taper {
                let wa = w * row[a];
                atb[a] += wa * y;
                let dst = &mut tri[a * t1 + a..(a + 1) * t1];
                for (d, r) in dst.iter_mut().zip(&row[a..=taper]) {
                    *d += wa * r;
                }
            }
        } else {
            add_to_bin(&mut bins[idx[i]], w, o.s, y);
        }
    }
    // The surface bins and the convexity penalties add to the same block, after the
    // tangents and in the same order as when they were added to `ata` one by one (which held
    // nothing else there): summed in the plain triangle, then moved into `ata` once.
    for (j, b) in bins.iter().enumerate() {
        if b[0] == 0.0 {
            continue;
        }
        let r = tab.row(j);
        for a in 0..m {
            atb[a] += r[a] * b[3];
            let ra = r[a];
            let dst = &mut tri[a * t1..(a + 1) * t1];
            dst[taper] += ra * b[1];
            for (d, rc) in dst[a..m].iter_mut().zip(&r[a..m]) {
                *d += ra * rc * b[0];
            }
        }
        atb[taper] += b[4];
        tri[taper * t1 + taper] += b[2];
    }
    // Convexity penalties: h + h'' >= 0 pushed towards a small positive radius of curvature.
    let w_pen = 1.0 / (1e-4f64).powi(2);
    for &j in convex_pen {
        let c = tab.curv(j);
        for a in 0..m {
            atb[a] += w_pen * c[a] * MIN_CURVATURE_RADIUS_M;
            let wa = w_pen * c[a];
            let dst = &mut tri[a * t1..(a + 1) * t1];
            for (d, cb) in dst[a..m].iter_mut().zip(&c[a..m]) {
                *d += wa * cb;
            }
        }
    }
    for a in 0..=taper {
        for b in a..=taper {
            ata[(a, b)] += tri[a * t1 + b];
        }
    }
    let prior = prior_diag(cfg, k, nf, a0, k_active);
    for a in 0..p {
        for b in 0..a {
            ata[(a, b)] = ata[(b, a)];
        }
        ata[(a, a)] += prior[a] * scale * scale;
    }
    // Per-frame pose-error offsets: loose across the line of sight (rotation errors move the
    // finger sideways), tight along it (a free depth offset per frame would trade with the
    // section's size).
    let mut seen = vec![false; nf];
    for o in obs {
        if o.lf == NO_SHIFT || seen[o.lf] {
            continue;
        }
        seen[o.lf] = true;
        let fo = lay.shift(o.lf);
        let (v, l) = (o.view, Vector2::new(-o.view.y, o.view.x));
        let (wd, wl) = (
            1.0 / cfg.frame_depth_shift_prior_m.powi(2),
            1.0 / cfg.frame_shift_prior_m.powi(2),
        );
        let blk = v * v.transpose() * wd + l * l.transpose() * wl;
        for a in 0..2 {
            for b in 0..2 {
                ata[(fo + a, fo + b)] += blk[(a, b)] * scale * scale;
            }
        }
    }
    let chol = ata.cholesky()?;
    let x = chol.solve(&atb);
    Some((x, chol))
}

/// The posterior covariance of a [`solve_once`] solution from its factor and the residual
/// scale it was solved with.
pub(super) fn covariance(chol: &Cholesky<f64, Dyn>, scale: f64) -> DMatrix<f64> {
    chol.inverse() * (scale * scale)
}

/// Diagonal of the prior precision: harmonics `k ≥ 2` sized to real finger shapes (only up
/// to `k_active`; the rest pinned near zero), loose on the rest.
fn prior_diag(cfg: &SectionConfig, k: usize, nf: usize, a0: f64, k_active: usize) -> Vec<f64> {
    let lay = ParamLayout::new(k);
    let p = lay.len(nf);
    let mut d = vec![0.0; p];
    // a0, a1, b1: essentially free (1 m prior sigma).
    d[ParamLayout::A0] = 1.0;
    d[ParamLayout::CENTRE_X] = 1.0;
    d[ParamLayout::CENTRE_Y] = 1.0;
    let r = a0.clamp(0.004, 0.015);
    let last = cfg.harmonic_prior_rel.len() + 1; // harmonic index of the last value
    for j in 2..=k {
        let rel = if j <= last {
            cfg.harmonic_prior_rel[j - 2]
        } else {
            let lr = *cfg.harmonic_prior_rel.last().unwrap_or(&0.01);
            lr * (last as f64 / j as f64).powi(2)
        };
        let tau = if j <= k_active { rel * r } else { 1e-7 };
        d[ParamLayout::cos(j)] = 1.0 / (tau * tau);
        d[ParamLayout::sin(j)] = 1.0 / (tau * tau);
    }
    // Taper dh/ds: prior sigma 0.5.
    d[lay.taper()] = 1.0 / 0.25;
    // Silhouette placement bias, pixels.
    d[lay.edge_bias()] = 1.0 / cfg.edge_bias_prior_px.powi(2);
    // Per-frame pose-error offsets: anisotropic block prior added by the caller.
    d
}

/// IRLS fit. `include(o)` selects observations (for the jackknife). `start` warm-starts.
pub(super) fn fit(
    obs: &[Obs2],
    cfg: &SectionConfig,
    tab: &Table,
    start: Option<&Fit>,
    iterations: usize,
    include: &dyn Fn(&Obs2) -> bool,
) -> Result<Fit, SectionError> {
    let k = tab.k;
    let lay = tab.layout();
    let nf = frame_count(obs);
    let p = lay.len(nf);
    let m = lay.support_len();
    const A0: usize = ParamLayout::A0;
    let mut x = match start {
        Some(f) => f.x.clone(),
        None => {
            let mut r: Vec<f64> = obs
                .iter()
                .filter_map(|o| match o.kind {
                    ObsKind::Surface { at, .. } => Some(at.norm()),
                    ObsKind::Tangent { .. } => None,
                })
                .collect();
            let a0 = upper_median(&mut r).unwrap_or(0.009);
            let mut x = DVector::zeros(p);
            x[A0] = a0.clamp(0.004, 0.015);
            x
        }
    };
    let mut idx = match start {
        Some(f) => f.idx.clone(),
        None => vec![usize::MAX; obs.len()],
    };
    let mut weight = vec![1.0; obs.len()];
    let mut scale = start.map_or(1.0, |f| f.scale);
    // The factor of the last pass's normal matrix and its scale: the covariance is
    // computed once, after the loop.
    let mut last: Option<(Cholesky<f64, Dyn>, f64)> = None;
    let mut convex_pen: Vec<usize> = Vec::new();
    // Stages from a cold start: 4 passes of an ellipse-like model (K = 2) with Huber
    // weights, 6 more with K = 2 and Tukey (an ellipse cannot bend towards a neighbouring
    // finger, so its samples are rejected), then all harmonics with Tukey until converged or
    // `iterations` passes. A warm start (the jackknife) runs only the last stage. From the
    // fifth pass on, surface samples behind the limb get no weight.
    let stage1 = if start.is_some() { 0 } else { 10 };
    let mut it = 0;
    let mut converged = false;
    while it < iterations + stage1 && !converged {
        let (k_active, tukey) = if it < stage1 {
            (2.min(k), it >= 4)
        } else {
            (k, true)
        };
        let hg = h_grid(&x, tab);
        assign_theta(obs, &x, &hg, tab, &mut idx);
        let (mut chi2, mut wsum) = (0.0, 0.0);
        for (i, o) in obs.iter().enumerate() {
            if !include(o) {
                weight[i] = 0.0;
                continue;
            }
            let r = residual(o, idx[i], &x, &hg, tab);
            weight[i] = robust(r / (o.sigma * scale), tukey);
            if !o.is_tangent() && it >= 4 && behind_limb(o, idx[i], tab, x[A0]) {
                weight[i] = 0.0;
            }
            chi2 += weight[i] * (r / o.sigma).powi(2);
            wsum += weight[i];
        }
        if wsum < 3.0 {
            return Err(SectionError::FitFailed(
                "every observation was rejected as an outlier".into(),
            ));
        }
        // Residual scale relative to the nominal sigmas (never below 1).
        scale = (chi2 / (wsum - p as f64).max(1.0)).sqrt().max(1.0);
        let (xn, chol) = solve_once(
            obs,
            &idx,
            &weight,
            tab,
            cfg,
            x[A0],
            k_active,
            scale,
            &convex_pen,
        )
        .ok_or_else(|| SectionError::FitFailed("normal equations are singular".into()))?;
        let step = (&xn - &x).amax();
        x = xn;
        last = Some((chol, scale));
        // Convexity h + h'' >= 0: penalise (towards a small positive radius of curvature)
        // the grid angles where the current solution violates it; re-evaluated every pass.
        convex_pen.clear();
        for j in 0..GRID {
            let c: f64 = tab
                .curv(j)
                .iter()
                .zip(x.iter().take(m))
                .map(|(a, b)| a * b)
                .sum();
            if c < MIN_CURVATURE_RADIUS_M {
                convex_pen.push(j);
            }
        }
        let added = !convex_pen.is_empty();
        it += 1;
        converged = it > stage1 && step < 1e-6 && !(added && it < iterations + stage1 - 1);
    }
    if !(x.iter().all(|v| v.is_finite()) && x[A0] > 0.002 && x[A0] < 0.03) {
        return Err(SectionError::FitFailed(format!(
            "fitted mean radius {:.2} mm is not a finger's",
            x[A0] * 1e3
        )));
    }
    let cov = match &last {
        Some((chol, s)) => covariance(chol, *s),
        None => DMatrix::zeros(p, p),
    };
    let hg = h_grid(&x, tab);
    assign_theta(obs, &x, &hg, tab, &mut idx);
    let resid = obs
        .iter()
        .enumerate()
        .map(|(i, o)| residual(o, idx[i], &x, &hg, tab))
        .collect();
    Ok(Fit {
        k,
        nf,
        x,
        cov,
        idx,
        weight,
        resid,
        scale,
    })
}

/// Whether a surface sample sits where its own camera could not have seen this finger: its
/// closest contour point faces away from the camera by more than depth noise explains (a
/// sample at the limb displaced by depth noise `δ` along its ray lands past the limb by the
/// angle `δ / r`). Flying pixels (mixed depths between the finger's edge and the background,
/// along rays that miss the finger) land there, behind the limb, and would otherwise inflate
/// the unseen back of the section.
fn behind_limb(o: &Obs2, idx: usize, tab: &Table, a0: f64) -> bool {
    let c = tab.cos1[idx] * o.view.x + tab.sin1[idx] * o.view.y;
    let limit = (VISIBILITY_MARGIN + 2.0 * o.sigma / a0.max(0.004)).min(0.95);
    c > limit
}

/// Back-facing tolerance of [`behind_limb`] beyond the noise term (sine of the angle).
const VISIBILITY_MARGIN: f64 = 0.15;

/// Most surface samples used per slice (an even subsample beyond this): the fit is limited by
/// systematic errors long before this many samples.
pub(super) const MAX_SLICE_POINTS: usize = 3000;

/// Most surface samples in a measured section (ring, taper and reported knuckle sections;
/// per 1.2 mm of slab half width): measured sections use all the samples of a ring slab up
/// to this bound, since a subsample changes the perimeter by about its fit sigma. See
/// docs/tuning.md#section.
pub(super) const MAX_MEASURED_POINTS: usize = 16000;

/// Fits one slice; returns its observations and fit. `blocks`: the cloud's blocks that can
/// hold samples of the slab ([`slice_obs`]).
pub(super) fn fit_slice(
    cloud: &Cloud,
    plane: &Plane,
    cfg: &SectionConfig,
    tab: &Table,
    position_m: f64,
    max_points: usize,
    blocks: &[bool],
) -> Result<(Vec<Obs2>, Fit), SectionError> {
    // At most `max_points` samples per 1.2 mm of slab half width, every k-th of the cloud
    // (not of the slab): slices of nearby planes then share their samples, so a small
    // change of the plane changes the fit smoothly (thinning by rank within the slab
    // redrew the subsample for sub-degree changes of the axis; see docs/tuning.md#section).
    let mut obs = slice_obs(cloud, plane, cfg, max_points, blocks);
    reindex_frames(&mut obs, cfg.frame_shifts);
    check_enough(&obs, position_m)?;
    let f = fit(&obs, cfg, tab, None, 30, &|_| true)?;
    Ok((obs, f))
}

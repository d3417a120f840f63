//! Point-to-plane ICP against a [`ModelMap`]: projective data association, coarse-to-fine
//! over the live pyramid, Huber-weighted 6-DoF Gauss–Newton, an optional pose prior.
//!
//! Guarantees: the returned pose is a rigid transform built only from finite increments;
//! a step whose linear system is not positive definite is never applied. The increment is
//! parametrised about the centroid `c` of the observed points (rotation about `c`, then a
//! translation), which keeps the 6x6 system well scaled and gives the prior a physical
//! meaning: `v` is how far the observed surface moves, `ω` how much it turns.

use super::live::LiveLevel;
use super::model::{LazyModel, ModelMap};
use super::normal_eq::{plane_jacobian, UpperNormalEq};
use crate::numeric::huber_weight;
use nalgebra::{Isometry3, Matrix6, Point3, Translation3, Vector3, Vector6};
use rayon::prelude::*;

/// Live points per chunk of parallel accumulation (fixed, so sums do not depend on threads).
const CHUNK: usize = 4096;

/// The model ICP reads: a fixed map, or a raycast rendered on demand.
pub(crate) enum ModelSrc<'m, 'v> {
    /// A complete vertex/normal map.
    Fixed(&'m ModelMap),
    /// A raycast whose pixels are cast when first needed.
    Lazy(&'m mut LazyModel<'v>),
}

impl ModelSrc<'_, '_> {
    /// The map as rendered so far.
    pub(crate) fn map(&self) -> &ModelMap {
        match self {
            ModelSrc::Fixed(m) => m,
            ModelSrc::Lazy(l) => &l.map,
        }
    }

    /// Renders every pixel not rendered yet.
    pub(crate) fn complete(&mut self) {
        if let ModelSrc::Lazy(l) = self {
            l.cast_all();
        }
    }

    /// The map, with every pixel on the grid (see [`on_grid`]) that the points of `level`
    /// project to under `t` rendered; `pix` gets each point's pairing pixel
    /// ([`pair_pixels`]).
    fn prepare(
        &mut self,
        level: &LiveLevel,
        t: &Isometry3<f64>,
        grid: usize,
        pix: &mut Vec<u32>,
    ) -> &ModelMap {
        // The pixel a point projects to depends only on the map's camera, not on what has
        // been rendered: one projection pass serves both the rendering and the sums.
        pair_pixels(level, self.map(), t, grid, pix);
        match self {
            ModelSrc::Fixed(m) => m,
            ModelSrc::Lazy(l) => {
                l.cast_pixels(pix);
                &l.map
            }
        }
    }
}

/// [`pair_pixels`]: the point projects outside the model image.
pub(crate) const PIX_OUTSIDE: u32 = u32::MAX;
/// [`pair_pixels`]: the point projects into the image, off the pairing grid.
pub(crate) const PIX_OFF_GRID: u32 = u32::MAX - 1;

/// For each live point of `level` (in order), the row-major model pixel it projects to
/// under pose `t` when that pixel is on the pairing grid of stride `grid`, else
/// [`PIX_OUTSIDE`] or [`PIX_OFF_GRID`]; into `out`. Fixed parallel chunks; each entry
/// depends only on its point.
fn pair_pixels(
    level: &LiveLevel,
    model: &ModelMap,
    t: &Isometry3<f64>,
    grid: usize,
    out: &mut Vec<u32>,
) {
    let to_model: Isometry3<f32> = nalgebra::convert(model.camera_to_world.inverse() * t);
    let w = model.k.width as usize;
    out.clear();
    out.resize(level.points.len(), PIX_OUTSIDE);
    out.par_chunks_mut(CHUNK)
        .zip(level.points.par_chunks(CHUNK))
        .for_each(|(o, pts)| {
            for (slot, (p, _)) in o.iter_mut().zip(pts) {
                *slot = match model.project(&to_model, p) {
                    None => PIX_OUTSIDE,
                    Some((u, v)) if !on_grid(u, v, grid) => PIX_OFF_GRID,
                    // Below the sentinels: checked intrinsics are at most
                    // `MAX_IMAGE_SIDE`² = 2^26 pixels.
                    Some((u, v)) => (v * w + u) as u32,
                };
            }
        });
}

/// Whether model pixel (u, v) is on the sparse pairing grid of stride `grid` (column and
/// row 1 modulo `grid`; every pixel when `grid` is 1).
#[inline]
pub(crate) fn on_grid(u: usize, v: usize, grid: usize) -> bool {
    grid <= 1 || (u % grid == 1 && v % grid == 1)
}

/// A Gaussian prior on the pose (the platform pose and how much it is trusted).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PosePrior {
    pub pose: Isometry3<f64>,
    /// Information (1/σ²) of rotation, rad⁻².
    pub info_rotation: f64,
    /// Information (1/σ²) of translation, m⁻².
    pub info_translation: f64,
}

/// Solver settings (derived from `TrackConfig`).
#[derive(Debug, Clone)]
pub(crate) struct IcpParams {
    /// Iterations per level, finest level first.
    pub iterations: Vec<usize>,
    /// Association distance gate per level (metres), finest first.
    pub max_distance_m: Vec<f32>,
    /// Smallest cosine between live and model normals per level, finest first.
    pub min_normal_cos: Vec<f32>,
    pub huber_delta_m: f64,
    /// Stop a level once the increment moves the observed surface less than this.
    pub convergence_m: f64,
    /// Point-to-plane noise σ (metres) used to weigh data against the prior.
    pub point_sigma_m: f64,
    /// Independent observations the data term is worth at most (correlated pixels).
    pub effective_points: f64,
    pub prior: Option<PosePrior>,
    /// Only model pixels whose column and row are 1 modulo this are paired (1 = all).
    pub model_grid: usize,
}

/// What one ICP run produced.
#[derive(Debug, Clone)]
pub(crate) struct IcpOutcome {
    pub pose: Isometry3<f64>,
    pub iterations: u32,
    /// Inliers at the finest level, final pose.
    pub inliers: usize,
    /// Live points at the finest level that land on a model pixel with surface.
    pub overlap: usize,
    /// Usable live points at the finest level (with a pairing grid, only those projecting
    /// outside the model image or onto the grid).
    pub candidates: usize,
    /// RMS point-to-plane residual of the inliers at the final pose (metres).
    pub rms_residual_m: f64,
    /// Smallest / largest eigenvalue of the scaled data Hessian at the finest level.
    pub conditioning: f64,
    /// The linear system could not be solved (rank-deficient) at the finest level.
    pub singular: bool,
}

#[derive(Default)]
struct Accum {
    a: Matrix6<f64>,
    b: Vector6<f64>,
    count: usize,
    overlap: usize,
    /// Points that project outside the model image or onto its pairing grid (all points
    /// without a grid).
    candidates: usize,
    sum_r2: f64,
}

/// Accumulates the normal equations of the point-to-plane residuals at pose `t`, with each
/// point's pairing pixel `pix` from [`pair_pixels`] at the same pose.
#[allow(clippy::too_many_arguments)] // one ICP level's state, passed per iteration
fn accumulate(
    level: &LiveLevel,
    model: &ModelMap,
    pix: &[u32],
    t: &Isometry3<f64>,
    c: &Point3<f64>,
    max_dist: f32,
    min_cos: f32,
    huber: f64,
) -> Accum {
    let tw: Isometry3<f32> = nalgebra::convert(*t);
    let cf = Vector3::new(c.x as f32, c.y as f32, c.z as f32);
    let max_d2 = max_dist * max_dist;
    // Fixed chunks in parallel, summed in chunk order: the sums do not depend on the
    // number of threads. f64 sums of the upper triangle for accuracy.
    let parts: Vec<(UpperNormalEq, [usize; 3], f64)> = level
        .points
        .par_chunks(CHUNK)
        .zip(pix.par_chunks(CHUNK))
        .map(|(chunk, pix)| {
            let mut eq = UpperNormalEq::zero();
            let (mut count, mut overlap, mut candidates) = (0usize, 0usize, 0usize);
            let mut sum_r2 = 0.0f64;
            for ((p, n), &i) in chunk.iter().zip(pix) {
                match i {
                    PIX_OUTSIDE => {
                        candidates += 1;
                        continue;
                    }
                    PIX_OFF_GRID => continue,
                    _ => candidates += 1,
                }
                let Some((q, nq)) = model.at_index(i as usize) else {
                    continue;
                };
                overlap += 1;
                let pw = tw * p;
                let diff = pw - q;
                if diff.norm_squared() > max_d2 {
                    continue;
                }
                let nw = tw.rotation * n;
                if nw.dot(&nq) < min_cos {
                    continue;
                }
                let r = nq.dot(&diff) as f64;
                eq.add_term(&plane_jacobian(&pw, &cf, &nq), huber_weight(r, huber), r);
                count += 1;
                sum_r2 += r * r;
            }
            (eq, [count, overlap, candidates], sum_r2)
        })
        .collect();
    let mut eq = UpperNormalEq::zero();
    let (mut count, mut overlap, mut candidates) = (0usize, 0usize, 0usize);
    let mut sum_r2 = 0.0f64;
    for (e, [c, o, k], r2) in &parts {
        eq.add(e);
        count += c;
        overlap += o;
        candidates += k;
        sum_r2 += r2;
    }
    Accum {
        a: eq.matrix(),
        b: Vector6::from_row_slice(eq.rhs()),
        count,
        overlap,
        candidates,
        sum_r2,
    }
}

/// Weight of the data term against the prior for `count` residuals with squared sum
/// `sum_r2`: 1/σ² with σ the configured point noise, or the observed residual spread when
/// larger (noisy sensors, a poor model), so a noisy alignment cannot outvote a good prior;
/// and at most [`IcpParams::effective_points`] independent points. Zero without residuals.
pub(crate) fn data_scale(params: &IcpParams, count: usize, sum_r2: f64) -> f64 {
    let n = count as f64;
    if n <= 0.0 {
        return 0.0;
    }
    let sigma = params.point_sigma_m.max((sum_r2 / n).sqrt());
    (1.0 / (sigma * sigma)) * (params.effective_points / n).min(1.0)
}

/// Applies the increment `xi = (ω, v)` about centre `c` on the left of `t`.
pub(crate) fn apply(t: &Isometry3<f64>, xi: &Vector6<f64>, c: &Point3<f64>) -> Isometry3<f64> {
    let delta = Isometry3::new(
        Vector3::new(xi[3], xi[4], xi[5]),
        Vector3::new(xi[0], xi[1], xi[2]),
    );
    let tc = Translation3::from(c.coords);
    let mut out = Isometry3::from_parts(tc, Default::default())
        * delta
        * Isometry3::from_parts(tc.inverse(), Default::default())
        * t;
    out.rotation.renormalize();
    out
}

impl PosePrior {
    /// Adds the prior's information and pull towards its pose to the normal equations
    /// `a ξ = -b` of pose `t` (centred at `c`).
    pub(crate) fn add_to(
        &self,
        a: &mut Matrix6<f64>,
        b: &mut Vector6<f64>,
        t: &Isometry3<f64>,
        c: &Point3<f64>,
    ) {
        let d = prior_deviation(t, &self.pose, c);
        for i in 0..6 {
            let info = if i < 3 {
                self.info_rotation
            } else {
                self.info_translation
            };
            a[(i, i)] += info;
            b[i] += info * d[i];
        }
    }
}

/// Deviation of `t` from the prior pose in the centred parametrisation.
fn prior_deviation(t: &Isometry3<f64>, prior: &Isometry3<f64>, c: &Point3<f64>) -> Vector6<f64> {
    let tc = Translation3::from(c.coords);
    let d = Isometry3::from_parts(tc.inverse(), Default::default())
        * t
        * prior.inverse()
        * Isometry3::from_parts(tc, Default::default());
    let w = d.rotation.scaled_axis();
    let v = d.translation.vector;
    Vector6::new(w.x, w.y, w.z, v.x, v.y, v.z)
}

/// Smallest over largest eigenvalue of the data Hessian with rotations scaled to metres at
/// radius `radius` (1 = isotropic, 0 = a direction the data does not constrain).
pub(crate) fn conditioning(a: &Matrix6<f64>, radius: f64) -> f64 {
    let mut s = *a;
    let r = radius.max(1e-3);
    for i in 0..6 {
        for j in 0..6 {
            let fi = if i < 3 { 1.0 / r } else { 1.0 };
            let fj = if j < 3 { 1.0 / r } else { 1.0 };
            s[(i, j)] *= fi * fj;
        }
    }
    let eig = s.symmetric_eigen().eigenvalues;
    let max = eig.max();
    let min = eig.min();
    if max.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !min.is_finite() {
        return 0.0;
    }
    (min / max).max(0.0)
}

/// Centre and RMS radius of a level's points under pose `t`.
pub(crate) fn centre_of(level: &LiveLevel, t: &Isometry3<f64>) -> Option<(Point3<f64>, f64)> {
    if level.points.is_empty() {
        return None;
    }
    let mut s = Vector3::zeros();
    for (p, _) in &level.points {
        s += Vector3::new(p.x as f64, p.y as f64, p.z as f64);
    }
    let m = s / level.points.len() as f64;
    let mut r2 = 0.0;
    for (p, _) in &level.points {
        r2 += (Vector3::new(p.x as f64, p.y as f64, p.z as f64) - m).norm_squared();
    }
    let radius = (r2 / level.points.len() as f64).sqrt();
    Some((t * Point3::from(m), radius))
}

/// Runs coarse-to-fine ICP from `init`. `pyramid` is finest first.
pub(crate) fn run(
    pyramid: &[LiveLevel],
    model: &mut ModelSrc<'_, '_>,
    init: &Isometry3<f64>,
    params: &IcpParams,
) -> IcpOutcome {
    let mut t = *init;
    let finest = &pyramid[0];
    let coarse = pyramid.last().unwrap_or(finest);
    let (c, radius) = centre_of(coarse, init)
        .or_else(|| centre_of(finest, init))
        .unwrap_or((Point3::origin(), 0.05));
    let mut iterations = 0u32;
    let mut last = Accum::default();
    let mut singular = false;
    let mut last_level0 = false;
    // Each point's pairing pixel at the current pose (reused across iterations).
    let mut pix = Vec::new();
    for level in (0..pyramid.len()).rev() {
        let iters = params.iterations.get(level).copied().unwrap_or(0);
        let max_d = *params.max_distance_m.get(level).unwrap_or(&0.01);
        let min_cos = *params.min_normal_cos.get(level).unwrap_or(&0.7);
        for _ in 0..iters {
            let m = model.prepare(&pyramid[level], &t, params.model_grid, &mut pix);
            let acc = accumulate(
                &pyramid[level],
                m,
                &pix,
                &t,
                &c,
                max_d,
                min_cos,
                params.huber_delta_m,
            );
            iterations += 1;
            last_level0 = level == 0;
            if acc.count < 6 && params.prior.is_none() {
                if level == 0 {
                    last = acc;
                    singular = true;
                }
                break;
            }
            let scale = data_scale(params, acc.count, acc.sum_r2);
            let mut a = acc.a * scale;
            let mut b = acc.b * scale;
            if let Some(pr) = &params.prior {
                pr.add_to(&mut a, &mut b, &t, &c);
            }
            let step = a.cholesky().map(|ch| -ch.solve(&b));
            let Some(xi) = step.filter(|x| x.iter().all(|v| v.is_finite())) else {
                if level == 0 {
                    singular = true;
                }
                last = acc;
                break;
            };
            t = apply(&t, &xi, &c);
            let moved = Vector3::new(xi[0], xi[1], xi[2]).norm() * radius
                + Vector3::new(xi[3], xi[4], xi[5]).norm();
            last = acc;
            if level == 0 {
                singular = false;
            }
            if moved < params.convergence_m {
                break;
            }
        }
    }
    // Statistics of the last finest-level pass (taken at the pose before the last, converged,
    // increment), or a fresh pass if the finest level never ran.
    let fin = if last_level0 {
        last
    } else {
        let max_d = *params.max_distance_m.first().unwrap_or(&0.01);
        let min_cos = *params.min_normal_cos.first().unwrap_or(&0.7);
        let m = model.prepare(finest, &t, params.model_grid, &mut pix);
        accumulate(
            finest,
            m,
            &pix,
            &t,
            &c,
            max_d,
            min_cos,
            params.huber_delta_m,
        )
    };
    let rms = if fin.count > 0 {
        (fin.sum_r2 / fin.count as f64).sqrt()
    } else {
        f64::INFINITY
    };
    IcpOutcome {
        pose: t,
        iterations,
        inliers: fin.count,
        overlap: fin.overlap,
        candidates: fin.candidates,
        rms_residual_m: rms,
        conditioning: conditioning(&fin.a, radius),
        singular,
    }
}

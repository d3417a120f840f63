//! Alignment directly on the fused signed distance field (point-to-SDF, after Bylow et al.
//! 2013): minimises the SDF value at the transformed live points, with no raycast and no
//! data association. Two uses: [`track`], the whole alignment of a frame whose platform
//! pose is a good initial guess (coarse-to-fine over point subsamples), and [`refine`], a
//! final polish after projective ICP.
//!
//! Guarantees: returned poses are rigid transforms built only from finite increments; a
//! step whose linear system is not positive definite is never applied. Results do not
//! depend on the number of threads (fixed chunks, summed in order).

use super::icp::{apply, centre_of, conditioning, data_scale, IcpOutcome, IcpParams};
use super::live::LiveLevel;
use super::normal_eq::{plane_jacobian, UpperNormalEq};
use crate::fuse::{Sampler, TsdfVolume};
use crate::numeric::huber_weight;
use nalgebra::{Isometry3, Matrix6, Point3, Vector3, Vector6};
use rayon::prelude::*;

/// Settings of [`track`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct SdfTrackParams {
    /// About this many live points in the coarse stage.
    pub coarse_points: usize,
    /// Gauss–Newton iterations (at most) of the coarse stage.
    pub coarse_iterations: usize,
    /// About this many live points in the fine stage.
    pub fine_points: usize,
    /// Gauss–Newton iterations (at most) of the fine stage.
    pub fine_iterations: usize,
    /// Points farther than this from the level set are not used by the Gauss–Newton
    /// stages (metres).
    pub gate_m: f32,
    /// Points farther than this from the level set are not inliers in the statistics
    /// (metres; as ICP's finest gate, so the health checks mean the same).
    pub stats_gate_m: f32,
    /// Smallest cosine between the live normal and the SDF gradient direction.
    pub min_normal_cos: f32,
}

/// Normal equations and statistics of one pass.
#[derive(Clone, Copy)]
struct Acc {
    eq: UpperNormalEq,
    /// Points used (inliers).
    count: usize,
    /// Points inside observed voxels.
    overlap: usize,
    sum_r2: f64,
}

impl Acc {
    fn zero() -> Self {
        Self {
            eq: UpperNormalEq::zero(),
            count: 0,
            overlap: 0,
            sum_r2: 0.0,
        }
    }

    fn add(&mut self, o: &Acc) {
        self.eq.add(&o.eq);
        self.count += o.count;
        self.overlap += o.overlap;
        self.sum_r2 += o.sum_r2;
    }
}

/// Points per chunk of parallel accumulation (fixed, so sums do not depend on threads).
const CHUNK: usize = 2048;

/// Accumulates the point-to-SDF normal equations of `points` at pose `t` (centre `c`).
#[allow(clippy::too_many_arguments)]
fn accumulate(
    points: &[(Point3<f32>, Vector3<f32>)],
    volume: &TsdfVolume,
    t: &Isometry3<f64>,
    c: &Point3<f64>,
    gate_m: f32,
    min_cos: f32,
    huber: f64,
) -> Acc {
    let tw: Isometry3<f32> = nalgebra::convert(*t);
    let cf = Vector3::new(c.x as f32, c.y as f32, c.z as f32);
    let parts: Vec<Acc> = points
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut s = Sampler::new(volume);
            let mut acc = Acc::zero();
            for (p, nl) in chunk {
                let pw = tw * p;
                let Some((r, g)) = s.sdf_grad(&pw) else {
                    continue;
                };
                acc.overlap += 1;
                let gn = g.norm();
                // A flat (truncated) or wildly steep field is no usable surface.
                if !(0.25..=4.0).contains(&gn) {
                    continue;
                }
                // The gradient points to free space, like the live normal.
                if (tw.rotation * nl).dot(&g) < min_cos * gn {
                    continue;
                }
                // Fused distances are projective (stretched by 1/cos of the viewing angles):
                // divided by the gradient's length they estimate the metric distance to the
                // level set, and the unit gradient is its normal (point-to-plane on the
                // local level set).
                let (r, g) = (r / gn, g / gn);
                if r.abs() > gate_m {
                    continue;
                }
                let r = r as f64;
                acc.eq
                    .add_term(&plane_jacobian(&pw, &cf, &g), huber_weight(r, huber), r);
                acc.count += 1;
                acc.sum_r2 += r * r;
            }
            acc
        })
        .collect();
    let mut total = Acc::zero();
    for p in &parts {
        total.add(p);
    }
    total
}

/// One Gauss–Newton step from the accumulated system (data scaled as in ICP, plus the
/// prior); `None` when it cannot be solved.
fn step(
    acc: &Acc,
    params: &IcpParams,
    t: &Isometry3<f64>,
    c: &Point3<f64>,
) -> Option<Vector6<f64>> {
    let scale = data_scale(params, acc.count, acc.sum_r2);
    let mut a = acc.eq.matrix() * scale;
    let mut b = Vector6::from_row_slice(acc.eq.rhs()) * scale;
    if let Some(pr) = &params.prior {
        pr.add_to(&mut a, &mut b, t, c);
    }
    let xi = a.cholesky().map(|ch| -ch.solve(&b))?;
    xi.iter().all(|v| v.is_finite()).then_some(xi)
}

/// Every `stride`-th point, `stride` chosen to keep about `target` points.
fn subsample(
    points: &[(Point3<f32>, Vector3<f32>)],
    target: usize,
) -> Vec<(Point3<f32>, Vector3<f32>)> {
    let stride = (points.len() / target.max(1)).max(1);
    points.iter().step_by(stride).copied().collect()
}

/// Aligns the live points of `level` to the SDF of `volume` from `init` (a platform pose):
/// a coarse stage on about `sp.coarse_points` points, a fine stage on about
/// `sp.fine_points`, each stopping early once an increment moves the surface less than
/// `params.convergence_m`; then one pass over every point at the final pose for the
/// statistics (inliers, overlap, residual, conditioning), as ICP reports them at full
/// resolution.
pub(crate) fn track(
    level: &LiveLevel,
    volume: &TsdfVolume,
    init: &Isometry3<f64>,
    params: &IcpParams,
    sp: &SdfTrackParams,
) -> IcpOutcome {
    let mut t = *init;
    let (c, radius) = centre_of(level, init).unwrap_or((Point3::origin(), 0.05));
    let mut iterations = 0u32;
    let mut singular = false;
    let stages = [
        (sp.coarse_points, sp.coarse_iterations),
        (sp.fine_points, sp.fine_iterations),
    ];
    for (target, iters) in stages {
        if iters == 0 {
            continue;
        }
        let pts = subsample(&level.points, target);
        for _ in 0..iters {
            let acc = accumulate(
                &pts,
                volume,
                &t,
                &c,
                sp.gate_m,
                sp.min_normal_cos,
                params.huber_delta_m,
            );
            iterations += 1;
            if acc.count < 6 && params.prior.is_none() {
                singular = true;
                break;
            }
            let Some(xi) = step(&acc, params, &t, &c) else {
                singular = true;
                break;
            };
            singular = false;
            t = apply(&t, &xi, &c);
            let moved = Vector3::new(xi[0], xi[1], xi[2]).norm() * radius
                + Vector3::new(xi[3], xi[4], xi[5]).norm();
            if moved < params.convergence_m {
                break;
            }
        }
    }
    let fin = accumulate(
        &level.points,
        volume,
        &t,
        &c,
        sp.stats_gate_m,
        sp.min_normal_cos,
        params.huber_delta_m,
    );
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
        candidates: level.points.len(),
        rms_residual_m: rms,
        conditioning: conditioning(&fin.eq.matrix(), radius),
        singular,
    }
}

/// Collects per-chunk results of a parallel map into one vector, in chunk order.
trait CollectFlat<T> {
    fn collect_into_vec_flat(self, out: &mut Vec<T>);
}

impl<I, T> CollectFlat<T> for I
where
    I: rayon::iter::IndexedParallelIterator<Item = Vec<T>>,
    T: Send,
{
    fn collect_into_vec_flat(self, out: &mut Vec<T>) {
        let parts: Vec<Vec<T>> = self.collect();
        out.clear();
        for p in parts {
            out.extend(p);
        }
    }
}

/// Refines `init` with `iterations` Gauss–Newton steps on every `stride`-th live point.
#[allow(clippy::too_many_arguments)]
pub(crate) fn refine(
    level: &LiveLevel,
    volume: &TsdfVolume,
    init: &Isometry3<f64>,
    centre: &Point3<f64>,
    params: &IcpParams,
    stride: usize,
    iterations: usize,
    gate_m: f32,
) -> Option<(Isometry3<f64>, u32)> {
    let mut t = *init;
    let mut done = 0u32;
    let cf = Vector3::new(centre.x as f32, centre.y as f32, centre.z as f32);
    let pts: Vec<&(Point3<f32>, Vector3<f32>)> =
        level.points.iter().step_by(stride.max(1)).collect();
    let mut terms: Vec<Option<(Vector6<f64>, f64, f64)>> = Vec::with_capacity(pts.len());
    for _ in 0..iterations {
        done += 1;
        let tw: Isometry3<f32> = nalgebra::convert(t);
        // Each point's term (Jacobian, weight, residual) in parallel (the field lookups are
        // the cost), then summed in point order: the same sums as one serial pass.
        pts.par_chunks(CHUNK)
            .map(|chunk| {
                let mut s = Sampler::new(volume);
                chunk
                    .iter()
                    .map(|(p, nl)| {
                        let pw = tw * p;
                        let (r, g) = s.sdf_grad(&pw)?;
                        // Projective distances divided by the gradient's length: the
                        // metric distance to the level set, as in `accumulate`.
                        let gn = g.norm();
                        if !(0.25..=4.0).contains(&gn) {
                            return None;
                        }
                        let (r, g) = (r / gn, g / gn);
                        if r.abs() > gate_m {
                            return None;
                        }
                        // The gradient points to free space, like the live normal.
                        if (tw.rotation * nl).dot(&g) < 0.5 {
                            return None;
                        }
                        let r = r as f64;
                        let w = huber_weight(r, params.huber_delta_m);
                        let j = Vector6::from(plane_jacobian(&pw, &cf, &g));
                        Some((j, w, r))
                    })
                    .collect::<Vec<_>>()
            })
            .collect_into_vec_flat(&mut terms);
        let mut a = Matrix6::<f64>::zeros();
        let mut b = Vector6::<f64>::zeros();
        let mut n = 0usize;
        let mut sum_r2 = 0.0;
        for (j, w, r) in terms.iter().flatten() {
            let (j, w, r) = (*j, *w, *r);
            a += w * j * j.transpose();
            b += w * r * j;
            n += 1;
            sum_r2 += r * r;
        }
        if n < 50 {
            return None;
        }
        let nf = n as f64;
        let sigma = params.point_sigma_m.max((sum_r2 / nf).sqrt());
        let scale = (1.0 / (sigma * sigma)) * (params.effective_points / nf).min(1.0);
        let mut a = a * scale;
        let mut b = b * scale;
        if let Some(pr) = &params.prior {
            pr.add_to(&mut a, &mut b, &t, centre);
        }
        let xi = a.cholesky().map(|ch| -ch.solve(&b))?;
        if !xi.iter().all(|v| v.is_finite()) {
            return None;
        }
        t = apply(&t, &xi, centre);
        if Vector3::new(xi[3], xi[4], xi[5]).norm() < 1e-6
            && Vector3::new(xi[0], xi[1], xi[2]).norm() < 1e-5
        {
            break;
        }
    }
    Some((t, done))
}

//! Final refinement directly on the fused signed distance field: minimises the SDF value at
//! the transformed live points (no data association, no raycast discretisation).
//!
//! Guarantees: returns `None` (keep the ICP pose) when too few points fall in observed
//! voxels or the system is singular; otherwise a rigid pose built from finite increments.

use super::icp::{apply, IcpParams};
use super::live::LiveLevel;
use crate::fuse::TsdfVolume;
use nalgebra::{Isometry3, Matrix6, Point3, Vector3, Vector6};

/// Refines `init` with `iterations` Gauss–Newton steps on every `stride`-th live point.
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
    for _ in 0..iterations {
        done += 1;
        let tw: Isometry3<f32> = nalgebra::convert(t);
        let mut a = Matrix6::<f64>::zeros();
        let mut b = Vector6::<f64>::zeros();
        let mut n = 0usize;
        let mut sum_r2 = 0.0;
        for (p, nl) in level.points.iter().step_by(stride.max(1)) {
            let pw = tw * p;
            let Some(r) = volume.sdf_at(&pw) else {
                continue;
            };
            if r.abs() > gate_m {
                continue;
            }
            let Some(g) = volume.gradient(&pw) else {
                continue;
            };
            // The gradient points to free space, like the live normal.
            if (tw.rotation * nl).dot(&g) < 0.5 {
                continue;
            }
            let r = r as f64;
            let w = if r.abs() <= params.huber_delta_m {
                1.0
            } else {
                params.huber_delta_m / r.abs()
            };
            let arm = (pw.coords - cf).cross(&g);
            let j = Vector6::new(
                arm.x as f64,
                arm.y as f64,
                arm.z as f64,
                g.x as f64,
                g.y as f64,
                g.z as f64,
            );
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

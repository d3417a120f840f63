//! Nearest-neighbour point-to-plane ICP on a k-d tree (kiddo) of model points, for initial
//! guesses too far off for projective association (second frame, after a lost frame).
//!
//! Guarantees: returns `None` rather than a pose when too few correspondences exist or the
//! system is singular; the caller then keeps its own initial guess. Runs on the coarsest
//! live level and a subsampled model, so it costs a few milliseconds.

use super::live::LiveLevel;
use super::model::ModelMap;
use super::TrackConfig;
use crate::numeric::huber_weight;
use kiddo::{ImmutableKdTree, SquaredEuclidean};
use nalgebra::{Isometry3, Matrix6, Point3, Translation3, Vector3, Vector6};

/// Gates (metres) of the successive nearest-neighbour passes: wide first, then tighter.
const GATES_M: [f32; 3] = [0.03, 0.015, 0.008];
const ITERATIONS_PER_GATE: usize = 5;
/// Model points kept at most (subsampled on a pixel grid).
const MAX_MODEL_POINTS: usize = 40_000;

/// Aligns the coarsest live level to the model points from `init`. Returns the pose and
/// the iterations run.
pub(crate) fn align(
    pyramid: &[LiveLevel],
    model: &ModelMap,
    init: &Isometry3<f64>,
    cfg: &TrackConfig,
) -> Option<(Isometry3<f64>, u32)> {
    let live = pyramid.last()?;
    if live.points.len() < cfg.min_inliers.clamp(6, 50) {
        return None;
    }
    let surface = model.surface_pixels();
    let stride = ((surface as f64 / MAX_MODEL_POINTS as f64).sqrt().ceil() as usize).max(1);
    let (w, h) = (model.k.width as usize, model.k.height as usize);
    let mut coords: Vec<[f32; 3]> = Vec::new();
    let mut normals: Vec<Vector3<f32>> = Vec::new();
    for v in (0..h).step_by(stride) {
        for u in (0..w).step_by(stride) {
            if let Some((p, n)) = model.at(u, v) {
                coords.push([p.x, p.y, p.z]);
                normals.push(n);
            }
        }
    }
    if coords.len() < 6 {
        return None;
    }
    let tree: ImmutableKdTree<f32, 3> = ImmutableKdTree::new_from_slice(&coords).ok()?;
    let (c, _) = super::icp::centre_of(live, init)?;
    let cf = Vector3::new(c.x as f32, c.y as f32, c.z as f32);
    let min_cos = cfg
        .max_normal_angle_deg
        .last()
        .copied()
        .unwrap_or(60.0)
        .max(60.0)
        .to_radians()
        .cos();
    let mut t = *init;
    let mut iterations = 0u32;
    let mut good = false;
    for gate in GATES_M {
        let gate2 = gate * gate;
        for _ in 0..ITERATIONS_PER_GATE {
            iterations += 1;
            let tw: Isometry3<f32> = nalgebra::convert(t);
            let mut a = Matrix6::<f64>::zeros();
            let mut b = Vector6::<f64>::zeros();
            let mut count = 0usize;
            for (p, n) in &live.points {
                let pw = tw * p;
                let nn = tree
                    .query(&[pw.x, pw.y, pw.z])
                    .nearest_one::<SquaredEuclidean<f32>>()
                    .execute();
                if nn.distance > gate2 {
                    continue;
                }
                let i = nn.item as usize;
                let (Some(q), Some(nq)) = (coords.get(i), normals.get(i)) else {
                    continue;
                };
                if (tw.rotation * n).dot(nq) < min_cos {
                    continue;
                }
                let q = Point3::new(q[0], q[1], q[2]);
                let r = nq.dot(&(pw - q)) as f64;
                let wgt = huber_weight(r, cfg.huber_delta_m);
                let arm = (pw.coords - cf).cross(nq);
                let j = Vector6::new(
                    arm.x as f64,
                    arm.y as f64,
                    arm.z as f64,
                    nq.x as f64,
                    nq.y as f64,
                    nq.z as f64,
                );
                a += wgt * j * j.transpose();
                b += wgt * r * j;
                count += 1;
            }
            if count < 6 {
                break;
            }
            let Some(xi) = a.cholesky().map(|ch| -ch.solve(&b)) else {
                break;
            };
            if !xi.iter().all(|v| v.is_finite()) {
                break;
            }
            let delta = Isometry3::new(
                Vector3::new(xi[3], xi[4], xi[5]),
                Vector3::new(xi[0], xi[1], xi[2]),
            );
            let tc = Translation3::from(c.coords);
            t = Isometry3::from_parts(tc, Default::default())
                * delta
                * Isometry3::from_parts(tc.inverse(), Default::default())
                * t;
            t.rotation.renormalize();
            good = true;
            if Vector3::new(xi[3], xi[4], xi[5]).norm() < 1e-5
                && Vector3::new(xi[0], xi[1], xi[2]).norm() < 1e-4
            {
                break;
            }
        }
    }
    good.then_some((t, iterations))
}

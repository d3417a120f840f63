//! The session's check of the camera's focal length: the lateral scale estimated from the
//! kept observations of platform-posed frames
//! ([`crate::measure::focal_scale::estimate_lateral_scale`]), and what a significant one
//! does to the measurement ([`apply_lateral_scale`]).
//!
//! Only platform poses qualify, and the observations are moved back to the pose the
//! platform gave: a tracked or refined pose was found by aligning depth back-projected with
//! the same intrinsics, which bends the views together and hides part of the disagreement
//! the estimate reads. Scans with tracked poses (no platform poses) are not checked.

use crate::measure::focal_scale::{
    estimate_lateral_scale, FocalScaleError, LateralScale, ScaleView, SAMPLES_PER_VIEW,
};
use crate::measure::observe::{FrameObservations, SurfacePoint, Tangent};
use crate::measure::{Measurement, Reason, Status};
use nalgebra::{Isometry3, Point3, Vector3};

/// Most views handed to the estimator (evenly spread over the kept frames): its cost grows
/// with the views, and beyond a few dozen directions around the finger it gains little.
pub(crate) const MAX_SCALE_VIEWS: usize = 48;

/// Fewest platform-posed views for an estimate.
pub(crate) const MIN_SCALE_VIEWS: usize = 8;

/// A scale further from one than this many of its sigmas is a wrong focal length, not
/// noise.
pub(crate) const SIGNIFICANT_SIGMAS: f64 = 3.0;

/// One kept frame's observations with the pose they were placed at and the platform pose
/// the frame came with (`None` for a tracked frame).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeptView<'a> {
    /// The observations, placed at the first pose.
    pub observations: &'a FrameObservations,
    /// (pose used, platform pose): the pose the observations were placed at (refined or
    /// not) and the pose the platform gave.
    pub poses: Option<(Isometry3<f64>, Isometry3<f64>)>,
}

/// The lateral scale of a scan from its kept observations, each moved to the platform pose
/// its frame came with (a refined pose was aligned to a model built with the same
/// intrinsics, which takes up part of the disagreement). `None` when fewer than
/// [`MIN_SCALE_VIEWS`] frames are kept or any kept frame has no platform pose (a mixed scan
/// is not checked).
pub(crate) fn scan_lateral_scale(
    kept: &[KeptView<'_>],
) -> Option<Result<LateralScale, FocalScaleError>> {
    if kept.len() < MIN_SCALE_VIEWS || kept.iter().any(|v| v.poses.is_none()) {
        return None;
    }
    let step = kept.len().div_ceil(MAX_SCALE_VIEWS).max(1);
    let placed: Vec<(FrameObservations, Isometry3<f64>)> = kept
        .iter()
        .step_by(step)
        .filter_map(|v| {
            let (used, platform) = v.poses?;
            Some((
                replace_observations(&scale_sample(v.observations), &used, &platform, 1.0),
                platform,
            ))
        })
        .collect();
    let views: Vec<ScaleView<'_>> = placed
        .iter()
        .map(|(o, p)| ScaleView {
            observations: o,
            camera_to_world: *p,
        })
        .collect();
    Some(estimate_lateral_scale(&views))
}

/// The part of `o` the estimator reads: every k-th surface sample, the same ones it takes
/// itself ([`SAMPLES_PER_VIEW`] per view), and no tangents. Copying only these keeps the
/// check's memory a small fixed amount per view, whatever the kept frames hold.
fn scale_sample(o: &FrameObservations) -> FrameObservations {
    let step = o.points.len().div_ceil(SAMPLES_PER_VIEW).max(1);
    FrameObservations {
        camera_centre: o.camera_centre,
        camera_rotation: o.camera_rotation,
        noise_coeff: o.noise_coeff,
        noise_correlation_px: o.noise_correlation_px,
        points: o.points.iter().step_by(step).copied().collect(),
        tangents: Vec::new(),
        timestamp: o.timestamp,
    }
}

/// `o` (placed at `from`) moved to the camera pose `to`, as it would have been observed
/// with every lateral camera coordinate multiplied by `scale` (the focal lengths divided by
/// it): points and tangent points move across the optical axis at their depth, normals and
/// the tangents' occupied directions follow, pixel footprints grow with the scale.
pub(crate) fn replace_observations(
    o: &FrameObservations,
    from: &Isometry3<f64>,
    to: &Isometry3<f64>,
    scale: f64,
) -> FrameObservations {
    let inv = from.inverse();
    let point = |p: &Point3<f32>| -> Point3<f64> {
        let c = inv * p.cast::<f64>();
        to * Point3::new(c.x * scale, c.y * scale, c.z)
    };
    // A normal is a covector: under diag(s, s, 1) it maps by the inverse transpose.
    let normal = |n: &Vector3<f32>| -> Vector3<f32> {
        let c = inv.rotation * n.cast::<f64>();
        let c = Vector3::new(c.x / scale, c.y / scale, c.z);
        let c = c.try_normalize(1e-12).unwrap_or(c);
        (to.rotation * c).cast()
    };
    let points = o
        .points
        .iter()
        .map(|p| SurfacePoint {
            position: point(&p.position).cast(),
            normal: normal(&p.normal),
        })
        .collect();
    let centre = Point3::from(to.translation.vector);
    let tangents = o
        .tangents
        .iter()
        .map(|t| {
            let q = point(&t.point);
            // The occupied side moves with the points (a displacement), then is made
            // perpendicular to the new grazing ray again.
            let d = inv.rotation * t.occupied.cast::<f64>();
            let d = to.rotation * Vector3::new(d.x * scale, d.y * scale, d.z);
            let ray = (q - centre).try_normalize(1e-12).unwrap_or_else(Vector3::z);
            let d = d - ray * ray.dot(&d);
            let occupied = d.try_normalize(1e-12).unwrap_or(d);
            Tangent {
                point: q.cast(),
                occupied: occupied.cast(),
                pixel_m: t.pixel_m * scale as f32,
            }
        })
        .collect();
    FrameObservations {
        camera_centre: centre,
        camera_rotation: to.rotation,
        noise_coeff: o.noise_coeff,
        noise_correlation_px: o.noise_correlation_px,
        points,
        tangents,
        timestamp: o.timestamp,
    }
}

/// Folds a lateral-scale estimate into a measurement. A scale within
/// [`SIGNIFICANT_SIGMAS`] of one changes nothing. A significant one means the focal length
/// the scan was given is off: every size it measured is off with it, and re-projecting the
/// kept observations does not undo it (the refined poses and the fused model were built
/// with the wrong focal length). The ring's 1-sigma then grows by the circumference change
/// the scale implies, and the measurement is not `ok` (`too_noisy`).
pub(crate) fn apply_lateral_scale(m: &mut Measurement, est: &LateralScale) {
    if (est.scale - 1.0).abs() <= SIGNIFICANT_SIGMAS * est.sigma {
        return;
    }
    if let (Some(ring), Some(sigma)) = (m.ring_circumference_mm, m.uncertainty_mm) {
        m.uncertainty_mm = Some(sigma.hypot(ring * (est.scale - 1.0)));
    }
    if !m.reasons.contains(&Reason::TooNoisy) {
        m.reasons.push(Reason::TooNoisy);
    }
    m.status = Status::NeedsRescan;
    m.sizes = None;
    m.recommended = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Translation3, UnitQuaternion};

    #[test]
    fn rescaling_moves_points_across_the_optical_axis_only() {
        let pose = Isometry3::from_parts(
            Translation3::new(0.1, -0.05, 0.2),
            UnitQuaternion::from_euler_angles(0.3, -0.2, 0.9),
        );
        let cam = Point3::new(0.01, -0.02, 0.3);
        let n_cam = Vector3::new(0.3, -0.4, -0.8).normalize();
        let o = FrameObservations {
            camera_centre: Point3::from(pose.translation.vector),
            camera_rotation: pose.rotation,
            noise_coeff: 0.001,
            noise_correlation_px: 1.0,
            points: vec![SurfacePoint {
                position: (pose * cam).cast(),
                normal: (pose.rotation * n_cam).cast(),
            }],
            tangents: vec![],
            timestamp: 0.0,
        };
        let r = replace_observations(&o, &pose, &pose, 1.03);
        let back = pose.inverse() * r.points[0].position.cast::<f64>();
        assert!(
            (back - Point3::new(0.0103, -0.0206, 0.3)).norm() < 1e-6,
            "{back}"
        );
        // A tangent plane of the squeezed surface maps to one of the stretched surface: the
        // normal stays perpendicular to a displacement within the plane.
        let along = Vector3::new(n_cam.y, -n_cam.x, 0.0) + Vector3::new(0.0, n_cam.z, -n_cam.y);
        let along_scaled = Vector3::new(along.x * 1.03, along.y * 1.03, along.z);
        let n = pose.inverse().rotation * r.points[0].normal.cast::<f64>();
        assert!(n.dot(&along_scaled).abs() < 1e-6);
        assert!((n.norm() - 1.0).abs() < 1e-6);
        let same = replace_observations(&o, &pose, &pose, 1.0);
        assert!((same.points[0].position - o.points[0].position).norm() < 1e-6);
    }
}

//! Duplicate views: a replayed frame, or a hand and camera standing still, adds no
//! independent information about the finger's shape (the same pose error, the same fixed
//! depth pattern, the same outline), so it must not make the estimate look more certain.
//!
//! A frame is an exact duplicate of an earlier one when its kept observations are bit for
//! bit the same; a near duplicate when its camera centre and viewing direction are within
//! [`NEAR_CENTRE_M`] and [`NEAR_ANGLE_DEG`] of an earlier kept frame's. Only the first of
//! each group is measured; the counts are reported in [`Duplicates`].

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use nalgebra::{Point3, Vector3};

use super::locate::LandmarkView;
use super::observe::FrameObservations;

/// Two views whose camera centres are closer than this (metres) and whose viewing
/// directions differ by less than [`NEAR_ANGLE_DEG`] see the same thing: at 0.2–0.35 m a
/// hand-held orbit moves the camera several millimetres between frames.
pub const NEAR_CENTRE_M: f64 = 0.0015;

/// Viewing-direction tolerance for a near duplicate, degrees.
pub const NEAR_ANGLE_DEG: f64 = 0.5;

/// Duplicate frames found in a scan and left out of the measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Duplicates {
    /// Frames whose observations repeat an earlier frame's exactly (a replayed frame).
    pub exact: usize,
    /// Frames seen from (almost) the same viewpoint as an earlier kept frame.
    pub near: usize,
}

impl Duplicates {
    /// Exact and near duplicates together.
    pub fn total(&self) -> usize {
        self.exact + self.near
    }

    /// Whether no duplicate was found.
    pub fn is_none(&self) -> bool {
        self.total() == 0
    }
}

fn content_hash(o: &FrameObservations) -> u64 {
    let mut h = DefaultHasher::new();
    o.points.len().hash(&mut h);
    o.tangents.len().hash(&mut h);
    for p in &o.points {
        for c in p.position.iter().chain(p.normal.iter()) {
            c.to_bits().hash(&mut h);
        }
    }
    for t in &o.tangents {
        for c in t.point.iter().chain(t.occupied.iter()) {
            c.to_bits().hash(&mut h);
        }
    }
    h.finish()
}

/// Where a view looks: its camera centre and the unit direction to the centroid of what it
/// saw (`None` when it saw nothing).
fn viewpoint(o: &FrameObservations) -> Option<(Point3<f64>, Vector3<f64>)> {
    let n = o.points.len() + o.tangents.len();
    if n == 0 {
        return None;
    }
    let sum = o
        .points
        .iter()
        .map(|p| p.position.coords.cast::<f64>())
        .chain(o.tangents.iter().map(|t| t.point.coords.cast::<f64>()))
        .fold(Vector3::zeros(), |a, b| a + b);
    let d = sum / n as f64 - o.camera_centre.coords;
    (d.norm() > 1e-9).then(|| (o.camera_centre, d.normalize()))
}

fn near(a: &(Point3<f64>, Vector3<f64>), b: &(Point3<f64>, Vector3<f64>)) -> bool {
    (a.0 - b.0).norm() < NEAR_CENTRE_M
        && a.1.dot(&b.1).clamp(-1.0, 1.0).acos() < NEAR_ANGLE_DEG.to_radians()
}

/// Indices of the frames to measure (first of each duplicate group, in order) and the
/// duplicates left out.
pub fn distinct_frames(obs: &[FrameObservations]) -> (Vec<usize>, Duplicates) {
    let mut seen = HashSet::new();
    let mut kept_views: Vec<(Point3<f64>, Vector3<f64>)> = Vec::new();
    let mut keep = Vec::with_capacity(obs.len());
    let mut d = Duplicates::default();
    for (i, o) in obs.iter().enumerate() {
        if !seen.insert(content_hash(o)) {
            d.exact += 1;
            continue;
        }
        if let Some(v) = viewpoint(o) {
            if kept_views.iter().any(|k| near(k, &v)) {
                d.near += 1;
                continue;
            }
            kept_views.push(v);
        }
        keep.push(i);
    }
    (keep, d)
}

/// Landmark views with (near-)repeats of an earlier view's camera pose and landmarks left
/// out, for the same reason as [`distinct_frames`].
pub fn distinct_landmark_views(views: &[LandmarkView]) -> Vec<LandmarkView> {
    let mut kept: Vec<LandmarkView> = Vec::with_capacity(views.len());
    for v in views {
        let repeat = kept.iter().any(|k| {
            let dc = (k.camera_to_world.translation.vector - v.camera_to_world.translation.vector)
                .norm();
            let da = k
                .camera_to_world
                .rotation
                .angle_to(&v.camera_to_world.rotation);
            dc < NEAR_CENTRE_M && da < NEAR_ANGLE_DEG.to_radians()
        });
        if !repeat {
            kept.push(v.clone());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::observe::SurfacePoint;
    use nalgebra::Point3;

    fn frame(centre: [f64; 3], seed: f32) -> FrameObservations {
        FrameObservations {
            camera_centre: Point3::from(centre),
            noise_coeff: 0.005,
            noise_correlation_px: 1.0,
            points: (0..10)
                .map(|i| SurfacePoint {
                    position: Point3::new(0.001 * i as f32 + seed * 1e-6, 0.0, 0.0),
                    normal: Vector3::new(0.0, 0.0, -1.0),
                })
                .collect(),
            tangents: vec![],
            timestamp: 0.0,
        }
    }

    #[test]
    fn replayed_and_still_frames_are_found() {
        let a = frame([0.0, 0.0, -0.3], 0.0);
        let b = frame([0.02, 0.0, -0.3], 1.0); // moved 2 cm: a new view
        let still = frame([0.0002, 0.0, -0.3], 2.0); // new noise, same viewpoint
        let obs = vec![a.clone(), b.clone(), a.clone(), still, b];
        let (keep, d) = distinct_frames(&obs);
        assert_eq!(keep, vec![0, 1]);
        assert_eq!(d, Duplicates { exact: 2, near: 1 });
        assert_eq!(d.total(), 3);
    }
}

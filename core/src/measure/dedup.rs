//! Duplicate views: a replayed frame, or a hand and camera standing still, adds no
//! independent information about the finger's shape (the same pose error, the same fixed
//! depth pattern, the same outline), so it must not make the estimate look more certain.
//!
//! A frame is an exact duplicate of an earlier one when its kept observations are bit for
//! bit the same; a near duplicate when its camera centre and viewing direction are within
//! [`NEAR_CENTRE_M`] and [`NEAR_ANGLE_DEG`] of an earlier kept frame's. Only the first of
//! each group is measured; the counts are reported in [`Duplicates`].

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
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

/// Kept items by the grid cell of their camera centre (cells [`NEAR_CENTRE_M`] wide), so
/// that a new view is compared only with kept views within [`NEAR_CENTRE_M`] of it: finding
/// the duplicates of a session's views costs time in proportion to their number, not its
/// square.
struct NearGrid<T> {
    cells: HashMap<[i64; 3], Vec<T>>,
}

impl<T> NearGrid<T> {
    fn new() -> Self {
        Self {
            cells: HashMap::new(),
        }
    }

    fn cell(centre: &Vector3<f64>) -> [i64; 3] {
        // Saturating casts: a non-finite or huge centre lands in an edge cell, where it
        // is still compared exactly by the caller's predicate.
        centre.map(|c| (c / NEAR_CENTRE_M).floor() as i64).into()
    }

    /// Whether any kept item in the cells around `centre` satisfies `near`.
    fn any(&self, centre: &Vector3<f64>, near: impl Fn(&T) -> bool) -> bool {
        let c = Self::cell(centre);
        (-1..=1).any(|dx| {
            (-1..=1).any(|dy| {
                (-1..=1).any(|dz| {
                    let k = [
                        c[0].saturating_add(dx),
                        c[1].saturating_add(dy),
                        c[2].saturating_add(dz),
                    ];
                    self.cells.get(&k).is_some_and(|v| v.iter().any(&near))
                })
            })
        })
    }

    fn insert(&mut self, centre: &Vector3<f64>, item: T) {
        self.cells.entry(Self::cell(centre)).or_default().push(item);
    }
}

/// Indices of the frames to measure (first of each duplicate group, in order) and the
/// duplicates left out.
pub fn distinct_frames(obs: &[FrameObservations]) -> (Vec<usize>, Duplicates) {
    let mut seen = HashSet::new();
    let mut kept_views = NearGrid::new();
    let mut keep = Vec::with_capacity(obs.len());
    let mut d = Duplicates::default();
    for (i, o) in obs.iter().enumerate() {
        if !seen.insert(content_hash(o)) {
            d.exact += 1;
            continue;
        }
        if let Some(v) = viewpoint(o) {
            if kept_views.any(&v.0.coords, |k| near(k, &v)) {
                d.near += 1;
                continue;
            }
            kept_views.insert(&v.0.coords, v);
        }
        keep.push(i);
    }
    (keep, d)
}

/// Landmark views with (near-)repeats of an earlier view's camera pose and landmarks left
/// out, for the same reason as [`distinct_frames`].
pub fn distinct_landmark_views(views: &[LandmarkView]) -> Vec<LandmarkView> {
    let mut kept: Vec<LandmarkView> = Vec::with_capacity(views.len());
    let mut grid = NearGrid::new();
    for v in views {
        let centre = v.camera_to_world.translation.vector;
        let repeat = grid.any(&centre, |&k: &usize| {
            let k: &LandmarkView = &kept[k];
            let dc = (k.camera_to_world.translation.vector - centre).norm();
            let da = k
                .camera_to_world
                .rotation
                .angle_to(&v.camera_to_world.rotation);
            dc < NEAR_CENTRE_M && da < NEAR_ANGLE_DEG.to_radians()
        });
        if !repeat {
            grid.insert(&centre, kept.len());
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

    /// The grid finds exactly the kept centres a pairwise comparison finds, including
    /// centres across cell borders and on them.
    #[test]
    fn near_grid_agrees_with_comparing_every_pair() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut grid = NearGrid::new();
        let mut kept: Vec<Vector3<f64>> = Vec::new();
        let (mut repeats, mut borders) = (0, 0);
        for i in 0..3000 {
            // Centres within a few cells, some exactly on cell borders.
            let mut c = Vector3::new(next(), next(), next()) * 4.0 * NEAR_CENTRE_M;
            if i % 7 == 0 {
                c.x = (c.x / NEAR_CENTRE_M).round() * NEAR_CENTRE_M;
                borders += 1;
            }
            let close = |k: &Vector3<f64>| (k - c).norm() < NEAR_CENTRE_M;
            let brute = kept.iter().any(close);
            assert_eq!(
                grid.any(&c, |&j: &usize| close(&kept[j])),
                brute,
                "centre {i}"
            );
            if brute {
                repeats += 1;
            } else {
                grid.insert(&c, kept.len());
                kept.push(c);
            }
        }
        assert!(
            repeats > 100 && kept.len() > 10 && borders > 0,
            "{repeats} {}",
            kept.len()
        );
    }
}

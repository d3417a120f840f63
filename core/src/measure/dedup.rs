//! Duplicate views: a replayed frame, or a hand and camera standing still, adds no
//! independent information about the finger's shape (the same pose error, the same fixed
//! depth pattern, the same outline), so it must not make the estimate look more certain.
//!
//! A frame is an exact duplicate of an earlier one when its kept observations are bit for
//! bit the same; a near duplicate when its camera pose is within [`NEAR_CENTRE_M`] and
//! [`NEAR_ANGLE_DEG`] of an earlier kept frame's. The pose is compared, not what the frame
//! kept: the session crops each frame to the region around the finger located when it
//! arrived, so two frames from one viewpoint can keep different parts of the same view.
//! Only the first of each group is measured; the counts are reported in [`Duplicates`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use nalgebra::{Point3, UnitQuaternion, Vector3};

use super::locate::LandmarkView;
use super::observe::FrameObservations;
use crate::numeric::{CellHasher, CellMap};

/// Two views whose camera centres are closer than this (metres) and whose camera
/// rotations differ by less than [`NEAR_ANGLE_DEG`] see the same thing: at 0.2–0.35 m a
/// hand-held orbit moves the camera several millimetres between frames.
pub const NEAR_CENTRE_M: f64 = 0.0015;

/// Camera-rotation tolerance for a near duplicate, degrees.
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

/// The bits of an observation set's values, two `f32` to a `u64`, in a fixed order: what
/// [`content_hash`] hashes and [`same_content`] compares.
fn content_words(o: &FrameObservations) -> impl Iterator<Item = u64> + '_ {
    let points = o.points.iter().flat_map(|p| {
        let (a, n) = (p.position, p.normal);
        [[a.x, a.y], [a.z, n.x], [n.y, n.z]]
    });
    let tangents = o.tangents.iter().flat_map(|t| {
        let (a, n) = (t.point, t.occupied);
        [[a.x, a.y], [a.z, n.x], [n.y, n.z]]
    });
    points
        .chain(tangents)
        .map(|[a, b]| (a.to_bits() as u64) << 32 | b.to_bits() as u64)
}

/// A hash of what a frame kept (sample and tangent counts, then every value's bits).
fn content_hash(o: &FrameObservations) -> u64 {
    let mut h = CellHasher::default();
    h.write_u64(o.points.len() as u64);
    h.write_u64(o.tangents.len() as u64);
    for w in content_words(o) {
        h.write_u64(w);
    }
    h.finish()
}

/// Whether two frames kept bit for bit the same observations.
fn same_content(a: &FrameObservations, b: &FrameObservations) -> bool {
    a.points.len() == b.points.len()
        && a.tangents.len() == b.tangents.len()
        && content_words(a).eq(content_words(b))
}

/// A camera pose: its centre and camera-to-world rotation (world, metres).
type Pose = (Point3<f64>, UnitQuaternion<f64>);

/// Whether two camera poses are the same viewpoint within [`NEAR_CENTRE_M`] and
/// [`NEAR_ANGLE_DEG`].
fn near(a: &Pose, b: &Pose) -> bool {
    (a.0 - b.0).norm() < NEAR_CENTRE_M && a.1.angle_to(&b.1) < NEAR_ANGLE_DEG.to_radians()
}

/// Kept items by the grid cell of their camera centre (cells [`NEAR_CENTRE_M`] wide), so
/// that a new view is compared only with kept views within [`NEAR_CENTRE_M`] of it: finding
/// the duplicates of a session's views costs time in proportion to their number, not its
/// square.
struct NearGrid<T> {
    cells: CellMap<Vec<T>>,
}

impl<T> NearGrid<T> {
    fn new() -> Self {
        Self {
            cells: CellMap::default(),
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
/// duplicates left out. A frame that kept nothing is neither a near duplicate nor claims
/// its viewpoint (a later frame from there may keep more).
pub fn distinct_frames(obs: &[FrameObservations]) -> (Vec<usize>, Duplicates) {
    // Content hash -> the frames with that hash that are no exact duplicate (compared in
    // full on a match: a hash collision is not a duplicate).
    let mut seen: HashMap<u64, Vec<usize>, BuildHasherDefault<CellHasher>> = HashMap::default();
    let mut kept_views = NearGrid::new();
    let mut keep = Vec::with_capacity(obs.len());
    let mut d = Duplicates::default();
    for (i, o) in obs.iter().enumerate() {
        let same = seen.entry(content_hash(o)).or_default();
        if same.iter().any(|&j| same_content(&obs[j], o)) {
            d.exact += 1;
            continue;
        }
        same.push(i);
        if !(o.points.is_empty() && o.tangents.is_empty()) {
            let v = (o.camera_centre, o.camera_rotation);
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
        let pose_of = |v: &LandmarkView| -> Pose {
            (
                Point3::from(v.camera_to_world.translation.vector),
                v.camera_to_world.rotation,
            )
        };
        let pose = pose_of(v);
        let repeat = grid.any(&pose.0.coords, |&k: &usize| near(&pose_of(&kept[k]), &pose));
        if !repeat {
            grid.insert(&pose.0.coords, kept.len());
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
        seen(centre, UnitQuaternion::identity(), seed, 10)
    }

    /// A view from `centre` turned by `rotation` that kept the first `n` of a row of
    /// samples 1 mm apart along x, each moved by `seed` micrometres (its noise).
    fn seen(
        centre: [f64; 3],
        rotation: UnitQuaternion<f64>,
        seed: f32,
        n: usize,
    ) -> FrameObservations {
        FrameObservations {
            camera_centre: Point3::from(centre),
            camera_rotation: rotation,
            noise_coeff: 0.005,
            noise_correlation_px: 1.0,
            points: (0..n)
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

    /// A still camera's next frame is a duplicate even when it kept a different part of the
    /// view (the session crops each frame to the finger located when it arrived: a
    /// relocation between the two moves what is kept, and with it the kept samples'
    /// centroid, by more than the angle tolerance as seen from the camera).
    #[test]
    fn still_frame_cropped_differently_is_a_duplicate() {
        let centre = [0.0, 0.0, -0.3];
        let first = seen(centre, UnitQuaternion::identity(), 0.0, 30);
        let still = seen(centre, UnitQuaternion::identity(), 1.0, 50);
        let (keep, d) = distinct_frames(&[first, still]);
        assert_eq!(keep, vec![0]);
        assert_eq!(d, Duplicates { exact: 0, near: 1 });
    }

    /// A camera that stayed put but turned sees a new view once the turn passes the
    /// tolerance, whatever it kept; below the tolerance it is the same view.
    #[test]
    fn turned_camera_is_a_new_view_past_the_tolerance() {
        let centre = [0.0, 0.0, -0.3];
        let turn = |deg: f64| UnitQuaternion::from_euler_angles(0.0, deg.to_radians(), 0.0);
        let obs = [
            seen(centre, turn(0.0), 0.0, 20),
            seen(centre, turn(0.4 * NEAR_ANGLE_DEG), 1.0, 20),
            seen(centre, turn(2.0 * NEAR_ANGLE_DEG), 2.0, 20),
            // Rolled about the optical axis only: the camera turned all the same.
            seen(
                centre,
                UnitQuaternion::from_euler_angles(0.0, 0.0, (2.0 * NEAR_ANGLE_DEG).to_radians()),
                3.0,
                20,
            ),
        ];
        let (keep, d) = distinct_frames(&obs);
        assert_eq!(keep, vec![0, 2, 3]);
        assert_eq!(d, Duplicates { exact: 0, near: 1 });
    }

    /// A frame that kept nothing does not claim its viewpoint: a later frame from there
    /// that kept samples is measured.
    #[test]
    fn empty_frame_claims_no_viewpoint() {
        let centre = [0.0, 0.0, -0.3];
        let empty = seen(centre, UnitQuaternion::identity(), 0.0, 0);
        let full = seen(centre, UnitQuaternion::identity(), 0.0, 10);
        let (keep, d) = distinct_frames(&[empty, full]);
        assert_eq!(keep, vec![0, 1]);
        assert!(d.is_none());
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

//! Hand segmentation: each frame is cut to the hand before it is tracked, fused or observed,
//! so nothing behind or beside the hand (torso, face, table, wall, sleeve, the other hand)
//! enters the volume, the observations or the tracker's pose.
//!
//! How a frame is cut ([`Segmenter::cut`]):
//! - The pixels in the working depth range are split into depth-continuous components
//!   (a depth step of more than a few pixel footprints separates them).
//! - With landmarks: the kept region is their 2-D convex hull grown by about a finger's
//!   width, in the depth band a hand spans around the landmarks' depths.
//! - Without landmarks, once the hand's place is known: the region is a ball of about a
//!   hand's size around the hand's centre, carried from frame to frame in the world (the hand
//!   is still in the world the tracker builds, whether the camera or the hand moves) and
//!   placed in the frame by the frame's pose (given, or predicted by the tracker); a
//!   component entering from the image border (a forearm) is also cut one hand length from
//!   its free end.
//! - Without either (the first frame): the nearest component of a hand's size; when it
//!   enters from the image border (a forearm), it is cut one hand length from its free end.
//! - Inside the region, only components with a real surface area are kept (speckle and
//!   flying pixels are not).
//!
//! The cut keeps the frame's depth only inside the [`HandMask`]; the mask itself (row runs,
//! not depth) is what the debug overlay draws.

mod components;
mod geodesic;
mod hull;
mod mask;

pub use mask::{HandMask, MaskRun};

use crate::frame::{Frame, FrameError, ValidFrame};
use components::{Components, NONE};
use hull::GrownHull;
use nalgebra::{Isometry3, Point2, Point3};

/// Longest hand the segmenter keeps, wrist crease to the tip of the middle finger
/// (metres): beyond the largest adult hands, so a forearm is cut a little past the wrist.
pub const HAND_LENGTH_M: f32 = 0.21;
/// Largest radius of the ball kept around the hand's centre (metres): half the longest
/// hand plus a few centimetres for the centre's error and a spread thumb.
pub const HAND_RADIUS_MAX_M: f64 = 0.14;
/// Margin added to the hand's own radius seen in the frame that placed it (metres).
const RADIUS_MARGIN_M: f64 = 0.03;
/// Smallest ball radius (metres): a fist seen end-on still fits.
const HAND_RADIUS_MIN_M: f64 = 0.08;
/// Smallest area (square metres) of a component taken as the hand in a first frame: a
/// hand seen edge-on still shows more.
const MIN_HAND_AREA_M2: f64 = 0.002;
/// Smallest area (square metres) of a component kept inside the hand's region: removes
/// speckle and flying pixels, keeps a finger tip seen apart from the hand.
const MIN_PART_AREA_M2: f64 = 0.000_05;
/// Margin around the landmarks' hull (metres at the hand's depth): half a finger's width
/// plus the detector's error.
const HULL_MARGIN_M: f64 = 0.02;
/// Half-width of the depth band around the landmarks' median depth (metres): a hand
/// pointing at the camera spans about its length in depth.
const LANDMARK_BAND_M: f32 = 0.15;

/// How a frame's mask was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaskSource {
    /// The landmarks' hull and depth band.
    Landmarks,
    /// The hand's ball carried from earlier frames.
    Carried,
    /// The nearest component of a hand's size (no landmarks, nothing carried yet).
    Nearest,
    /// Nothing in the frame looks like a hand.
    Empty,
}

/// The hand's place in the world: a ball.
#[derive(Debug, Clone, Copy)]
struct HandBall {
    centre_w: Point3<f64>,
    radius_m: f64,
    from_landmarks: bool,
}

/// What one cut found, kept until the frame's pose is known.
#[derive(Debug, Clone, Copy)]
struct Pending {
    centre_c: Point3<f64>,
    radius_m: f64,
    source: MaskSource,
}

/// Cuts frames to the hand and carries the hand's place between frames. See the module
/// documentation.
#[derive(Debug, Clone, Default)]
pub struct Segmenter {
    ball: Option<HandBall>,
    pending: Option<Pending>,
    last_mask: Option<HandMask>,
    last_source: Option<MaskSource>,
    ignore_landmarks: bool,
}

impl Segmenter {
    /// A segmenter that knows nothing of the hand yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A segmenter that cuts without landmarks even when frames carry them (a session
    /// that does not use landmarks).
    pub fn without_landmarks() -> Self {
        Self {
            ignore_landmarks: true,
            ..Self::default()
        }
    }

    /// The mask of the last frame cut.
    pub fn last_mask(&self) -> Option<&HandMask> {
        self.last_mask.as_ref()
    }

    /// How the last frame's mask was found.
    pub fn last_source(&self) -> Option<MaskSource> {
        self.last_source
    }

    /// Cuts `frame` to the hand: depth outside the mask becomes 0 (no depth). `pose` is the
    /// frame's camera-to-world pose when known before tracking (given by the platform, or
    /// the tracker's prediction); `range` the working depth range (metres).
    pub fn cut(
        &mut self,
        frame: ValidFrame,
        pose: Option<&Isometry3<f64>>,
        range: (f32, f32),
    ) -> Result<ValidFrame, FrameError> {
        let (flags, pending) = self.flags(&frame, pose, range);
        let frame = frame.into_frame();
        let (w, h) = (frame.depth.width(), frame.depth.height());
        let masked = frame.depth.masked(&flags)?;
        self.last_source = Some(pending.map_or(MaskSource::Empty, |p| p.source));
        self.pending = pending;
        self.last_mask = Some(HandMask::from_flags(w, h, &flags));
        ValidFrame::new(Frame {
            depth: masked,
            ..frame
        })
    }

    /// Tells the segmenter the pose the last cut frame was given (or tracked to); the first
    /// posed frame places the hand's ball in the world (a landmark-found place replaces one
    /// found without).
    pub fn commit(&mut self, pose: &Isometry3<f64>) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let from_landmarks = p.source == MaskSource::Landmarks;
        let replace = match &self.ball {
            None => true,
            Some(b) => from_landmarks && !b.from_landmarks,
        };
        if replace {
            self.ball = Some(HandBall {
                centre_w: pose * p.centre_c,
                radius_m: p.radius_m,
                from_landmarks,
            });
        }
    }

    /// The kept pixels of a frame and what they say about the hand's place.
    fn flags(
        &self,
        frame: &ValidFrame,
        pose: Option<&Isometry3<f64>>,
        range: (f32, f32),
    ) -> (Vec<bool>, Option<Pending>) {
        let k = *frame.intrinsics().get();
        let (w, h) = (k.width as usize, k.height as usize);
        let depth = frame.depth.depth_m();
        let comps = Components::label(depth, w, h, k.fx as f32, k.fy as f32, range);
        let unproject = |i: usize| k.unproject((i % w) as f64, (i / w) as f64, depth[i] as f64);
        // The region (before keeping only real parts), and how it was found.
        let mut region: Option<(Vec<bool>, MaskSource)> = None;
        // With landmarks, the components they sit on (not the background showing between
        // the fingers or in the hull's margin).
        let mut seeded: Option<Vec<bool>> = None;
        if let Some(l) = frame.landmarks.as_ref().filter(|_| !self.ignore_landmarks) {
            if let Some((r, seeds)) = landmark_region(depth, w, h, &k, l.points(), range) {
                let mut s = vec![false; comps.len()];
                for i in seeds {
                    if comps.labels[i] != NONE {
                        s[comps.labels[i] as usize] = true;
                    }
                }
                seeded = Some(s);
                region = Some((r, MaskSource::Landmarks));
            }
        }
        if region.is_none() {
            if let (Some(b), Some(pose)) = (&self.ball, pose) {
                let c = pose.inverse() * b.centre_w;
                let r2 = b.radius_m * b.radius_m;
                // A pixel whose depth alone is farther than the radius from the centre's
                // is outside the ball (the squared distance only adds non-negative terms
                // to the depth's): most of the background is rejected without unprojecting.
                let r: Vec<bool> = (0..depth.len())
                    .map(|i| {
                        if comps.labels[i] == NONE {
                            return false;
                        }
                        let dz = depth[i] as f64 - c.z;
                        dz * dz <= r2 && (unproject(i) - c).norm_squared() <= r2
                    })
                    .collect();
                region = Some((r, MaskSource::Carried));
            }
        }
        let (region, source) = match region {
            Some(r) => r,
            None => match nearest_hand(depth, &comps) {
                Some(c) => (
                    geodesic::free_end(depth, w, k.fx.min(k.fy) as f32, &comps, c, HAND_LENGTH_M),
                    MaskSource::Nearest,
                ),
                None => return (vec![false; depth.len()], None),
            },
        };
        // Keep only components with a real surface inside the region.
        let mut area = vec![0.0f64; comps.len()];
        let px = 1.0 / (k.fx * k.fy);
        for (i, &r) in region.iter().enumerate() {
            if r && comps.labels[i] != NONE {
                let z = depth[i] as f64;
                area[comps.labels[i] as usize] += z * z * px;
            }
        }
        let mut flags: Vec<bool> = region
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                let l = comps.labels[i];
                r && l != NONE
                    && area[l as usize] >= MIN_PART_AREA_M2
                    && seeded.as_ref().is_none_or(|s| s[l as usize])
            })
            .collect();
        // A carried ball may still hold some forearm: components that enter from the image
        // border are cut one hand length from their free end, as on the first frame.
        if source == MaskSource::Carried {
            let f = k.fx.min(k.fy) as f32;
            let mut done = vec![false; comps.len()];
            for i in 0..flags.len() {
                let l = comps.labels[i];
                if !flags[i] || done[l as usize] || !comps.touches_border[l as usize] {
                    continue;
                }
                done[l as usize] = true;
                let keep = geodesic::free_end(depth, w, f, &comps, l, HAND_LENGTH_M);
                for (fl, (&lab, kp)) in flags.iter_mut().zip(comps.labels.iter().zip(keep)) {
                    if lab == l && !kp {
                        *fl = false;
                    }
                }
            }
        }
        // The hand's place in this frame: centroid of the kept points, and their spread.
        // Two passes over the kept pixels (unprojected in each) rather than a stored list
        // of points: the same sums in the same order.
        let kept = || {
            flags
                .iter()
                .enumerate()
                .filter(|(_, &f)| f)
                .map(|(i, _)| unproject(i))
        };
        let (sum, count) = kept().fold((nalgebra::Vector3::<f64>::zeros(), 0usize), |(s, n), p| {
            (s + p.coords, n + 1)
        });
        if count == 0 {
            return (flags, None);
        }
        let centre = Point3::from(sum / count as f64);
        let mut d: Vec<f64> = kept().map(|p| (p - centre).norm()).collect();
        let q = (d.len() * 98 / 100).min(d.len() - 1);
        let (_, spread, _) = d.select_nth_unstable_by(q, |a, b| a.total_cmp(b));
        let radius_m = (*spread + RADIUS_MARGIN_M).clamp(HAND_RADIUS_MIN_M, HAND_RADIUS_MAX_M);
        (
            flags,
            Some(Pending {
                centre_c: centre,
                radius_m,
                source,
            }),
        )
    }
}

/// The nearest component of a hand's size (smallest median depth among those of at least
/// [`MIN_HAND_AREA_M2`]); the largest component when none is that big.
fn nearest_hand(depth: &[f32], comps: &Components) -> Option<u32> {
    let big: Vec<u32> = (0..comps.len() as u32)
        .filter(|&c| comps.areas_m2[c as usize] >= MIN_HAND_AREA_M2)
        .collect();
    if big.is_empty() {
        return (0..comps.len() as u32).max_by_key(|&c| comps.counts[c as usize]);
    }
    let mut zs: Vec<Vec<f32>> = vec![Vec::new(); comps.len()];
    for (i, &l) in comps.labels.iter().enumerate() {
        if l != NONE && comps.areas_m2[l as usize] >= MIN_HAND_AREA_M2 {
            zs[l as usize].push(depth[i]);
        }
    }
    big.into_iter()
        .map(|c| {
            let z = &mut zs[c as usize];
            let m = z.len() / 2;
            let (_, med, _) = z.select_nth_unstable_by(m, |a, b| a.total_cmp(b));
            (c, *med)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

/// The landmarks' region: their hull grown by [`HULL_MARGIN_M`] at their depth, within
/// [`LANDMARK_BAND_M`] of their median depth; `None` when no landmark sits on usable depth.
fn landmark_region(
    depth: &[f32],
    w: usize,
    h: usize,
    k: &crate::frame::Intrinsics,
    landmarks: &[Point2<f64>],
    range: (f32, f32),
) -> Option<(Vec<bool>, Vec<usize>)> {
    let sample = |p: &Point2<f64>| -> Option<(usize, f32)> {
        // The nearest usable depth in a 5x5 window (a landmark on a finger's edge).
        let (u, v) = (p.x.round() as isize, p.y.round() as isize);
        let mut best: Option<(usize, f32)> = None;
        for dv in -2..=2 {
            for du in -2..=2 {
                let (x, y) = (u + du, v + dv);
                if x < 0 || y < 0 || x as usize >= w || y as usize >= h {
                    continue;
                }
                let i = y as usize * w + x as usize;
                let z = depth[i];
                if z >= range.0 && z <= range.1 && best.is_none_or(|b| z < b.1) {
                    best = Some((i, z));
                }
            }
        }
        best
    };
    let samples: Vec<(usize, f32)> = landmarks.iter().filter_map(sample).collect();
    let mut zs: Vec<f32> = samples.iter().map(|s| s.1).collect();
    if zs.len() < 3 {
        return None;
    }
    let m = zs.len() / 2;
    let (_, z_med, _) = zs.select_nth_unstable_by(m, |a, b| a.total_cmp(b));
    let z_med = *z_med;
    let margin_px = HULL_MARGIN_M * k.fx.max(k.fy) / z_med as f64;
    let hull = GrownHull::new(landmarks, margin_px);
    let mut r = vec![false; depth.len()];
    for (v, u0, u1) in hull.row_runs(k.width, k.height) {
        for i in v * w + u0..v * w + u1 {
            let z = depth[i];
            r[i] = z >= range.0 && z <= range.1 && (z - z_med).abs() <= LANDMARK_BAND_M;
        }
    }
    // Seeds: the samples within the band (a landmark whose window only saw background
    // seeds nothing).
    let seeds = samples
        .iter()
        .filter(|s| (s.1 - z_med).abs() <= LANDMARK_BAND_M)
        .map(|s| s.0)
        .collect();
    Some((r, seeds))
}

#[cfg(test)]
mod tests;

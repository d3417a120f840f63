//! Gathering the observations around the finger axis once, and slicing them: the
//! observations of one slab around a plane, in plane coordinates.

use nalgebra::{Point3, Vector2, Vector3};
use rayon::prelude::*;

use super::types::{SectionConfig, SectionError};
use crate::measure::observe::{FrameObservations, SurfacePoint, Tangent};
use crate::numeric::orthonormal_basis;

/// Observations gathered around the finger once, as observed (world coordinates, single
/// precision): each sample and tangent is kept in the form the frame gave it, and what the
/// slices derive from it (sigma, line of sight) is worked out per slice from its frame, so
/// the cloud is never larger than the observations it was gathered from.
#[derive(Clone)]
pub(super) struct Cloud {
    /// Surface samples, frame after frame.
    points: Vec<SurfacePoint>,
    /// Silhouette tangents, frame after frame.
    tangents: Vec<Tangent>,
    /// Every given frame (gathered or not, so that indices are the caller's frames).
    frames: Vec<CloudFrame>,
    /// Depth noise floor (metres) added to every sample's sigma.
    noise_floor_m: f64,
    /// Silhouette edge placement sigma (pixels).
    edge_sigma_px: f64,
}

/// One frame of a [`Cloud`]: its camera, its noise, and where its samples end.
#[derive(Clone)]
struct CloudFrame {
    camera_centre: Point3<f64>,
    noise_coeff: f32,
    noise_correlation_px: f32,
    /// End of this frame's samples in [`Cloud::points`].
    points_end: usize,
    /// End of this frame's tangents in [`Cloud::tangents`].
    tangents_end: usize,
}

impl CloudFrame {
    /// The 1-sigma (metres) of a sample at `p` from this frame.
    fn sigma_m(&self, p: &Point3<f64>, noise_floor_m: f64) -> f64 {
        let range = (p - self.camera_centre).norm();
        // Noise correlated over `L` pixels: a patch of about L² samples shares one error,
        // so each sample carries 1/L² of the information of a white-noise one.
        let corr = self.noise_correlation_px.max(1.0) as f64;
        let noise = self.noise_coeff as f64 * range * range;
        ((noise * corr).powi(2) + noise_floor_m.powi(2)).sqrt()
    }
}

impl Cloud {
    /// Everything within `radius` of the segment `a`–`b` extended by `margin` at both ends.
    pub(super) fn gather(
        obs: &[FrameObservations],
        a: &Point3<f64>,
        b: &Point3<f64>,
        radius: f64,
        margin: f64,
        cfg: &SectionConfig,
    ) -> Self {
        let dir = (b - a).normalize();
        let len = (b - a).norm();
        let near = |p: &Point3<f32>| {
            let p: Point3<f64> = p.cast();
            let t = (p - a).dot(&dir);
            if t < -margin || t > len + margin {
                return false;
            }
            let r2 = (p - a).norm_squared() - t * t;
            r2 <= radius * radius
        };
        // Count first (frames in parallel), so that the cloud is allocated once at its
        // exact size, then copy in frame order.
        let counts: Vec<(usize, usize)> = obs
            .par_iter()
            .map(|o| {
                (
                    o.points.iter().filter(|sp| near(&sp.position)).count(),
                    o.tangents.iter().filter(|t| near(&t.point)).count(),
                )
            })
            .collect();
        let mut points = Vec::with_capacity(counts.iter().map(|c| c.0).sum());
        let mut tangents = Vec::with_capacity(counts.iter().map(|c| c.1).sum());
        let mut frames = Vec::with_capacity(obs.len());
        for o in obs {
            points.extend(o.points.iter().filter(|sp| near(&sp.position)).copied());
            tangents.extend(o.tangents.iter().filter(|t| near(&t.point)).copied());
            frames.push(CloudFrame {
                camera_centre: o.camera_centre,
                noise_coeff: o.noise_coeff,
                noise_correlation_px: o.noise_correlation_px,
                points_end: points.len(),
                tangents_end: tangents.len(),
            });
        }
        Self {
            points,
            tangents,
            frames,
            noise_floor_m: cfg.noise_floor_m,
            edge_sigma_px: cfg.edge_sigma_px,
        }
    }

    /// Surface samples and tangents gathered.
    #[cfg(any(test, feature = "internals"))]
    pub(super) fn len(&self) -> (usize, usize) {
        (self.points.len(), self.tangents.len())
    }

    /// Heap bytes held.
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.points.capacity() * std::mem::size_of::<SurfacePoint>()
            + self.tangents.capacity() * std::mem::size_of::<Tangent>()
            + self.frames.capacity() * std::mem::size_of::<CloudFrame>()
    }

    /// Least and greatest position along `dir` (metres from `origin`) of the surface
    /// samples of each block of [`POINT_BLOCK`] samples, in order: what lets a slice skip
    /// the blocks that cannot reach its slab.
    pub(super) fn point_block_spans_m(
        &self,
        origin: &Point3<f64>,
        dir: &Vector3<f64>,
    ) -> Vec<(f64, f64)> {
        self.points
            .chunks(POINT_BLOCK)
            .map(|c| {
                c.iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), sp| {
                        let p: Point3<f64> = sp.position.cast();
                        let t = (p - origin).dot(dir);
                        (lo.min(t), hi.max(t))
                    })
            })
            .collect()
    }

    /// Each frame's index with its samples' and tangents' index ranges.
    fn frame_ranges(
        &self,
    ) -> impl Iterator<
        Item = (
            u32,
            &CloudFrame,
            std::ops::Range<usize>,
            std::ops::Range<usize>,
        ),
    > {
        let mut p0 = 0;
        let mut t0 = 0;
        self.frames.iter().enumerate().map(move |(fi, f)| {
            let r = (fi as u32, f, p0..f.points_end, t0..f.tangents_end);
            p0 = f.points_end;
            t0 = f.tangents_end;
            r
        })
    }
}

/// What an observation in the slice plane is, with what only that kind carries.
#[derive(Clone, Copy)]
pub(super) enum ObsKind {
    /// A surface sample.
    Surface {
        /// Position in plane coordinates, metres.
        at: Vector2<f64>,
    },
    /// A silhouette tangent line `{x : normal·x = offset_m}`, the section on the side
    /// `normal·x ≤ offset_m`.
    Tangent {
        /// Outward unit normal (plane coordinates).
        normal: Vector2<f64>,
        /// Offset along `normal`, metres.
        offset_m: f64,
        /// Metres of offset per pixel of silhouette placement bias.
        bias_unit: f64,
    },
}

/// One observation in plane coordinates: a surface sample or a silhouette tangent
/// ([`ObsKind`]), with what both carry.
#[derive(Clone, Copy)]
pub(super) struct Obs2 {
    /// Surface sample or tangent line.
    pub(super) kind: ObsKind,
    /// Axial offset from the plane, metres.
    pub(super) s: f64,
    /// 1-sigma of the observation, metres.
    pub(super) sigma: f64,
    /// Frame of the observation (index into the gathered frames).
    pub(super) frame: u32,
    /// In-plane unit direction from the frame's camera towards the slice centre.
    pub(super) view: Vector2<f64>,
    /// Index of the frame among the slice's frames (for its pose-error offset), or
    /// [`NO_SHIFT`].
    pub(super) lf: usize,
}

impl Obs2 {
    /// Whether this is a silhouette tangent (not a surface sample).
    pub(super) fn is_tangent(&self) -> bool {
        matches!(self.kind, ObsKind::Tangent { .. })
    }
}

/// A plane: origin on the axis, unit normal, in-plane basis.
#[derive(Clone, Copy)]
pub(super) struct Plane {
    /// Origin (on the axis), world.
    pub(super) origin: Point3<f64>,
    /// Unit normal.
    pub(super) n: Vector3<f64>,
    /// First in-plane unit axis.
    pub(super) e1: Vector3<f64>,
    /// Second in-plane unit axis (`n × e1`).
    pub(super) e2: Vector3<f64>,
}

impl Plane {
    /// The plane through `origin` perpendicular to `n` (any length).
    pub(super) fn new(origin: Point3<f64>, n: Vector3<f64>) -> Self {
        let (n, e1, e2) = orthonormal_basis(&n);
        Self { origin, n, e1, e2 }
    }
}

/// Surface samples per block of the cloud's samples (in order) that [`slice_obs`] may skip.
pub(super) const POINT_BLOCK: usize = 64;

/// Most silhouette tangents in one slice, per [`MAX_SLICE_POINTS_UNIT_M`] of slab half
/// width (an even subsample of the cloud's beyond this). A finger's silhouette gives each
/// frame a few tangents per slab, so a scan within the fit's frame cap stays well below
/// it; it bounds what one slice holds whatever the cloud.
pub(super) const MAX_SLICE_TANGENTS: usize = 4000;

/// Slab half width (metres) that a slice's sample caps are given for; a wider slab keeps
/// proportionally more.
pub(super) const MAX_SLICE_POINTS_UNIT_M: f64 = 0.0012;

/// The observations of the slab around `plane`, in plane coordinates: at most `max_points`
/// surface samples and [`MAX_SLICE_TANGENTS`] tangents (both per
/// [`MAX_SLICE_POINTS_UNIT_M`] of slab half width), every k-th of the cloud's beyond that,
/// so that slices of nearby planes share their samples and a small change of the plane
/// changes the fit smoothly. `blocks[b]` false: no sample of block `b` ([`POINT_BLOCK`]
/// samples of the cloud, in order) can be in the slab, so it is not looked at; an empty
/// `blocks` looks at every sample.
pub(super) fn slice_obs(
    cloud: &Cloud,
    plane: &Plane,
    cfg: &SectionConfig,
    max_points: usize,
    blocks: &[bool],
) -> Vec<Obs2> {
    let in_reach = |src: usize| blocks.get(src / POINT_BLOCK) != Some(&false);
    let surface = |frame: u32, cf: &CloudFrame, sp: &SurfacePoint| {
        let p: Point3<f64> = sp.position.cast();
        let d = p - plane.origin;
        let s = d.dot(&plane.n);
        if s.abs() > cfg.slab_half_width_m {
            return None;
        }
        let q = Vector2::new(d.dot(&plane.e1), d.dot(&plane.e2));
        let qn = q.norm();
        if qn > cfg.max_radius_m {
            return None;
        }
        // A surface facing the axis is not this finger's (a neighbour's flank across the
        // gap): the finger's own surface faces away from its axis.
        let n3: Vector3<f64> = sp.normal.cast();
        let n2 = Vector2::new(n3.dot(&plane.e1), n3.dot(&plane.e2));
        if qn > 1e-4 && n2.norm() > 0.3 && n2.dot(&q) / (n2.norm() * qn) < cfg.min_facing_cos {
            return None;
        }
        Some(Obs2 {
            kind: ObsKind::Surface { at: q },
            s,
            sigma: cf.sigma_m(&p, cloud.noise_floor_m),
            frame,
            view: Vector2::zeros(),
            lf: 0,
        })
    };
    // Tangents: a slightly wider slab (they are sparser); the taper term accounts for s.
    let t_slab = cfg.slab_half_width_m * 1.5;
    let tangent = |frame: u32, cf: &CloudFrame, t: &Tangent| {
        let p: Point3<f64> = t.point.cast();
        let d = p - plane.origin;
        let s = d.dot(&plane.n);
        if s.abs() > t_slab {
            return None;
        }
        let g = Vector2::new(d.dot(&plane.e1), d.dot(&plane.e2));
        if g.norm() > cfg.max_radius_m {
            return None;
        }
        let ray = (p - cf.camera_centre).normalize();
        let r = Vector2::new(ray.dot(&plane.e1), ray.dot(&plane.e2));
        let rn = r.norm();
        if rn < 0.5 {
            return None; // line of sight too close to the axis direction
        }
        let r = r / rn;
        let m = Vector2::new(-r.y, r.x);
        let occupied: Vector3<f64> = t.occupied.cast();
        let o = Vector2::new(occupied.dot(&plane.e1), occupied.dot(&plane.e2));
        let om = o.dot(&m);
        if om.abs() < 0.25 {
            return None; // edge scanned almost along the silhouette: side ambiguous
        }
        let n = if om > 0.0 { -m } else { m };
        let pixel_m = t.pixel_m as f64;
        let sigma_along = cloud.edge_sigma_px * pixel_m;
        Some(Obs2 {
            kind: ObsKind::Tangent {
                normal: n,
                offset_m: n.dot(&g),
                bias_unit: pixel_m * om.abs(),
            },
            s,
            sigma: (sigma_along * om.abs()).hypot(cfg.noise_floor_m),
            frame,
            view: Vector2::zeros(),
            lf: 0,
        })
    };
    // Count first, then keep every k-th: what a slice holds stays within its caps.
    let (mut npts, mut ntan) = (0usize, 0usize);
    for (frame, cf, points, tangents) in cloud.frame_ranges() {
        for (src, sp) in points.clone().zip(&cloud.points[points]) {
            npts += (in_reach(src) && surface(frame, cf, sp).is_some()) as usize;
        }
        for t in &cloud.tangents[tangents] {
            ntan += tangent(frame, cf, t).is_some() as usize;
        }
    }
    let per_unit = (cfg.slab_half_width_m / MAX_SLICE_POINTS_UNIT_M).max(1.0);
    let max_pts = (max_points as f64 * per_unit) as usize;
    let max_tan = (MAX_SLICE_TANGENTS as f64 * per_unit) as usize;
    let keep_pts = if npts > max_pts {
        npts.div_ceil(max_pts)
    } else {
        1
    };
    let keep_tan = if ntan > max_tan {
        ntan.div_ceil(max_tan)
    } else {
        1
    };
    let mut out = Vec::with_capacity(npts.div_ceil(keep_pts) + ntan.div_ceil(keep_tan));
    for (frame, cf, points, _) in cloud.frame_ranges() {
        for (src, sp) in points.clone().zip(&cloud.points[points]) {
            if src.is_multiple_of(keep_pts) && in_reach(src) {
                out.extend(surface(frame, cf, sp));
            }
        }
    }
    for (frame, cf, _, tangents) in cloud.frame_ranges() {
        for (tsrc, t) in tangents.clone().zip(&cloud.tangents[tangents]) {
            if tsrc.is_multiple_of(keep_tan) {
                out.extend(tangent(frame, cf, t));
            }
        }
    }
    let mut frames: Vec<u32> = out.iter().map(|o| o.frame).collect();
    frames.sort_unstable();
    frames.dedup();
    for o in out.iter_mut() {
        o.lf = frames.binary_search(&o.frame).unwrap_or(0);
        if let Some(f) = cloud.frames.get(o.frame as usize) {
            let d = plane.origin - f.camera_centre;
            let v = Vector2::new(d.dot(&plane.e1), d.dot(&plane.e2));
            o.view = if v.norm() > 1e-9 {
                v.normalize()
            } else {
                Vector2::x()
            };
        }
    }
    out
}

/// Numbers the frames present in `obs` 0..n (after subsampling some may be gone).
pub(super) fn reindex_frames(obs: &mut [Obs2], shifts: bool) {
    if !shifts {
        for o in obs.iter_mut() {
            o.lf = NO_SHIFT;
        }
        return;
    }
    let mut frames: Vec<u32> = obs.iter().map(|o| o.frame).collect();
    frames.sort_unstable();
    frames.dedup();
    for o in obs.iter_mut() {
        o.lf = frames.binary_search(&o.frame).unwrap_or(0);
    }
}

/// `lf` of observations whose frame has no pose-error offset parameter.
pub(super) const NO_SHIFT: usize = usize::MAX;

/// Number of frames with a pose-error offset parameter among `obs`.
pub(super) fn frame_count(obs: &[Obs2]) -> usize {
    obs.iter()
        .filter(|o| o.lf != NO_SHIFT)
        .map(|o| o.lf + 1)
        .max()
        .unwrap_or(0)
}

/// Checks a slice holds enough observations from enough frames to fit.
pub(super) fn check_enough(obs: &[Obs2], position_m: f64) -> Result<(), SectionError> {
    let points = obs.iter().filter(|o| !o.is_tangent()).count();
    let tangents = obs.len() - points;
    let mut frames: Vec<u32> = obs.iter().map(|o| o.frame).collect();
    frames.sort_unstable();
    frames.dedup();
    let needed = 40;
    if points + tangents < needed || frames.len() < 2 || points < 10 {
        return Err(SectionError::TooLittleData {
            position_mm: position_m * 1e3,
            points,
            tangents,
            frames: frames.len(),
            needed,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame seeing `n` samples on a 9 mm cylinder around the x axis (from x = -0.03 to
    /// 0.07 m), as many far from it, and tangents along its top.
    fn frame(n: usize, deg: f64) -> FrameObservations {
        let a = deg.to_radians();
        let points = (0..n)
            .map(|i| {
                let x = -0.03 + 0.1 * i as f64 / n as f64;
                let b = a + (i % 9) as f64 * 0.2 - 0.8;
                SurfacePoint {
                    position: Point3::new(
                        x as f32,
                        (0.009 * b.cos()) as f32,
                        (0.009 * b.sin()) as f32,
                    ),
                    normal: Vector3::new(0.0, b.cos() as f32, b.sin() as f32),
                }
            })
            .chain((0..n).map(|i| SurfacePoint {
                position: Point3::new(0.0, 0.1 + 0.0001 * i as f32, 0.0),
                normal: Vector3::z(),
            }))
            .collect();
        let tangents = (0..n)
            .map(|i| Tangent {
                point: Point3::new((-0.03 + 0.1 * i as f64 / n as f64) as f32, 0.0, 0.0095),
                occupied: Vector3::new(0.0, 0.0, -1.0),
                pixel_m: 0.0005,
            })
            .collect();
        FrameObservations {
            camera_centre: Point3::new(0.02, 0.25 * a.cos(), 0.25 * a.sin()),
            camera_rotation: nalgebra::UnitQuaternion::identity(),
            noise_coeff: 0.005,
            noise_correlation_px: 1.0,
            points,
            tangents,
            timestamp: deg,
        }
    }

    #[test]
    fn the_cloud_is_no_larger_than_its_frames_and_a_slice_keeps_its_caps() {
        let obs: Vec<_> = (0..12).map(|i| frame(40_000, i as f64 * 30.0)).collect();
        let cfg = SectionConfig::default();
        let (a, b) = (Point3::origin(), Point3::new(0.04, 0.0, 0.0));
        let cloud = Cloud::gather(&obs, &a, &b, 0.022, 0.013, &cfg);
        let given: usize = obs
            .iter()
            .map(|o| o.heap_bytes() + std::mem::size_of::<FrameObservations>())
            .sum();
        let (points, tangents) = cloud.len();
        assert!(
            points > 12 * 25_000 && tangents > 12 * 25_000,
            "{points} {tangents}"
        );
        assert!(
            cloud.heap_bytes() <= given,
            "{} > {given}",
            cloud.heap_bytes()
        );
        // A slab 2.4 mm wide holds about 11,000 samples and as many tangents here: thinned
        // to the caps, evenly (every k-th of the cloud's).
        let plane = Plane::new(Point3::new(0.02, 0.0, 0.0), Vector3::x());
        let max_points = 1000;
        let slice = slice_obs(&cloud, &plane, &cfg, max_points, &[]);
        let n_pts = slice.iter().filter(|o| !o.is_tangent()).count();
        let n_tan = slice.len() - n_pts;
        assert!(n_pts <= max_points && n_pts > max_points / 2, "{n_pts}");
        assert!(
            n_tan <= MAX_SLICE_TANGENTS && n_tan > MAX_SLICE_TANGENTS / 2,
            "{n_tan}"
        );
        assert_eq!(slice.capacity(), slice.len());
        // Every frame still contributes.
        let mut frames: Vec<u32> = slice.iter().map(|o| o.frame).collect();
        frames.dedup();
        frames.sort_unstable();
        frames.dedup();
        assert_eq!(frames.len(), 12);
    }
}

//! Gathering the observations around the finger axis once, and slicing them: the
//! observations of one slab around a plane, in plane coordinates.

use nalgebra::{Point3, Vector2, Vector3};
use rayon::prelude::*;

use super::types::{SectionConfig, SectionError};
use crate::measure::observe::FrameObservations;
use crate::numeric::orthonormal_basis;

/// Observations gathered around the finger once, in world coordinates.
pub(super) struct Cloud {
    /// Surface samples: position, sigma (metres), frame, unit normal.
    pub(super) points: Vec<(Point3<f64>, f64, u32, Vector3<f32>)>,
    /// Silhouette tangents.
    pub(super) tangents: Vec<CloudTangent>,
    /// Camera centre of each frame.
    pub(super) cameras: Vec<Point3<f64>>,
}

/// A silhouette tangent gathered around the finger (world coordinates).
pub(super) struct CloudTangent {
    point: Point3<f64>,
    ray: Vector3<f64>,
    occupied: Vector3<f64>,
    sigma_along: f64, // edge placement sigma (metres) along `occupied`
    pixel_m: f64,
    frame: u32,
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
        let near = |p: &Point3<f64>| {
            let t = (p - a).dot(&dir);
            if t < -margin || t > len + margin {
                return false;
            }
            let r2 = (p - a).norm_squared() - t * t;
            r2 <= radius * radius
        };
        // Frames in parallel, concatenated in frame order (as one pass over the frames).
        type Part = (
            Vec<(Point3<f64>, f64, u32, Vector3<f32>)>,
            Vec<CloudTangent>,
        );
        let parts: Vec<Part> = obs
            .par_iter()
            .enumerate()
            .map(|(fi, o)| {
                let fi = fi as u32;
                let mut points = Vec::new();
                let mut tangents = Vec::new();
                for sp in &o.points {
                    let p: Point3<f64> = sp.position.cast();
                    if !near(&p) {
                        continue;
                    }
                    let range = (p - o.camera_centre).norm();
                    // Noise correlated over `L` pixels: a patch of about L² samples shares
                    // one error, so each sample carries 1/L² of the information of a
                    // white-noise one.
                    let corr = o.noise_correlation_px.max(1.0) as f64;
                    let s = ((o.noise_sigma_m(range) * corr).powi(2) + cfg.noise_floor_m.powi(2))
                        .sqrt();
                    points.push((p, s, fi, sp.normal));
                }
                for t in &o.tangents {
                    let p: Point3<f64> = t.point.cast();
                    if !near(&p) {
                        continue;
                    }
                    let ray = (p - o.camera_centre).normalize();
                    tangents.push(CloudTangent {
                        point: p,
                        ray,
                        occupied: t.occupied.cast(),
                        sigma_along: cfg.edge_sigma_px * t.pixel_m as f64,
                        pixel_m: t.pixel_m as f64,
                        frame: fi,
                    });
                }
                (points, tangents)
            })
            .collect();
        let mut points = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
        let mut tangents = Vec::with_capacity(parts.iter().map(|p| p.1.len()).sum());
        for (p, t) in parts {
            points.extend(p);
            tangents.extend(t);
        }
        Self {
            points,
            tangents,
            cameras: obs.iter().map(|o| o.camera_centre).collect(),
        }
    }
}

/// What an observation in the slice plane is, with what only that kind carries.
#[derive(Clone, Copy)]
pub(super) enum ObsKind {
    /// A surface sample.
    Surface {
        /// Position in plane coordinates, metres.
        at: Vector2<f64>,
        /// Index of the sample in the gathered cloud, for thinning that keeps the same
        /// samples whatever the plane.
        src: usize,
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

/// Surface samples per block of [`Cloud::points`] that [`slice_obs`] may skip whole.
pub(super) const POINT_BLOCK: usize = 64;

/// The observations of the slab around `plane`, in plane coordinates. `blocks[b]` false:
/// no sample of block `b` ([`POINT_BLOCK`] samples of the cloud, in order) can be in the
/// slab, so it is not looked at; an empty `blocks` looks at every sample.
pub(super) fn slice_obs(
    cloud: &Cloud,
    plane: &Plane,
    cfg: &SectionConfig,
    blocks: &[bool],
) -> Vec<Obs2> {
    let mut out = Vec::new();
    let n_points = cloud.points.len();
    let kept = (0..n_points.div_ceil(POINT_BLOCK))
        .filter(|b| blocks.get(*b) != Some(&false))
        .flat_map(|b| b * POINT_BLOCK..((b + 1) * POINT_BLOCK).min(n_points));
    for src in kept {
        let (p, sigma, frame, normal) = cloud.points[src];
        let d = p - plane.origin;
        let s = d.dot(&plane.n);
        if s.abs() > cfg.slab_half_width_m {
            continue;
        }
        let q = Vector2::new(d.dot(&plane.e1), d.dot(&plane.e2));
        let qn = q.norm();
        if qn > cfg.max_radius_m {
            continue;
        }
        // A surface facing the axis is not this finger's (a neighbour's flank across the
        // gap): the finger's own surface faces away from its axis.
        let n3: Vector3<f64> = normal.cast();
        let n2 = Vector2::new(n3.dot(&plane.e1), n3.dot(&plane.e2));
        if qn > 1e-4 && n2.norm() > 0.3 && n2.dot(&q) / (n2.norm() * qn) < cfg.min_facing_cos {
            continue;
        }
        out.push(Obs2 {
            kind: ObsKind::Surface { at: q, src },
            s,
            sigma,
            frame,
            view: Vector2::zeros(),
            lf: 0,
        });
    }
    // Tangents: a slightly wider slab (they are sparser); the taper term accounts for s.
    let t_slab = cfg.slab_half_width_m * 1.5;
    for t in &cloud.tangents {
        let d = t.point - plane.origin;
        let s = d.dot(&plane.n);
        if s.abs() > t_slab {
            continue;
        }
        let g = Vector2::new(d.dot(&plane.e1), d.dot(&plane.e2));
        if g.norm() > cfg.max_radius_m {
            continue;
        }
        let r = Vector2::new(t.ray.dot(&plane.e1), t.ray.dot(&plane.e2));
        let rn = r.norm();
        if rn < 0.5 {
            continue; // line of sight too close to the axis direction
        }
        let r = r / rn;
        let m = Vector2::new(-r.y, r.x);
        let o = Vector2::new(t.occupied.dot(&plane.e1), t.occupied.dot(&plane.e2));
        let om = o.dot(&m);
        if om.abs() < 0.25 {
            continue; // edge scanned almost along the silhouette: side ambiguous
        }
        let n = if om > 0.0 { -m } else { m };
        out.push(Obs2 {
            kind: ObsKind::Tangent {
                normal: n,
                offset_m: n.dot(&g),
                bias_unit: t.pixel_m * om.abs(),
            },
            s,
            sigma: (t.sigma_along * om.abs()).hypot(cfg.noise_floor_m),
            frame: t.frame,
            view: Vector2::zeros(),
            lf: 0,
        });
    }
    let mut frames: Vec<u32> = out.iter().map(|o| o.frame).collect();
    frames.sort_unstable();
    frames.dedup();
    for o in out.iter_mut() {
        o.lf = frames.binary_search(&o.frame).unwrap_or(0);
        if let Some(c) = cloud.cameras.get(o.frame as usize) {
            let d = plane.origin - c;
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

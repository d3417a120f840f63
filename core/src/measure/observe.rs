//! Per-frame observations: the compact derived geometry the measurement keeps once the raw
//! depth image has been fused and dropped.
//!
//! What a [`FrameObservations`] holds (and nothing else):
//! - the camera pose (centre and rotation) in world coordinates and the frame's estimated
//!   depth-noise level;
//! - **surface samples**: world-space points with unit normals (facing the camera), from
//!   depth pixels that are continuous with at least one neighbour along each image axis
//!   (flying pixels, which sit between a foreground and a background surface, and isolated
//!   speckles are rejected), optionally restricted to a region of interest;
//! - **silhouette tangents**: at each depth discontinuity where the near side is foreground and
//!   the far side is farther surface or no depth, the line of sight that grazes the foreground
//!   object, placed sub-pixel between the last foreground pixel and the first background (or
//!   flying) pixel, with the world direction towards the occupied side.
//!
//! Privacy: this is derived geometry (points and lines in world space), not a depth image; it
//! holds no pixel grid, no timestamps beyond the frame's, and it is never written anywhere by
//! this module. Size: 24 bytes per surface sample and 24 bytes per tangent; with a region of
//! interest around one finger a frame is typically a few tens of kilobytes.

use nalgebra::{Isometry3, Point3, Unit, UnitQuaternion, Vector3};

use crate::frame::{pose, Frame, FrameError};

/// Errors from extracting observations.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ObserveError {
    /// The camera-to-world pose is not a finite rigid transform at a plausible distance.
    #[error("observation pose rejected: {0}")]
    Pose(#[from] FrameError),
    /// A configuration value is out of range.
    #[error("invalid observation config: {0}")]
    Config(String),
}

/// A region of interest in world coordinates: a capsule (all points within `radius_m` of the
/// segment `a`–`b`; a sphere when `a == b`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roi {
    /// Segment start (world, metres).
    pub a: Point3<f64>,
    /// Segment end (world, metres).
    pub b: Point3<f64>,
    /// Radius around the segment, metres.
    pub radius_m: f64,
}

impl Roi {
    /// The capsule around a finger's proximal phalanx: from 10 mm before `mcp` to 15 mm
    /// past `pip` (world, metres), `radius_m` around that segment; a sphere around `mcp`
    /// when the two joints coincide.
    pub fn around_finger(mcp: Point3<f64>, pip: Point3<f64>, radius_m: f64) -> Self {
        let d = (pip - mcp)
            .try_normalize(0.0)
            .unwrap_or_else(Vector3::zeros);
        Roi {
            a: mcp - d * 0.010,
            b: pip + d * 0.015,
            radius_m,
        }
    }

    /// Whether `p` lies inside the capsule.
    pub fn contains(&self, p: &Point3<f64>) -> bool {
        let ab = self.b - self.a;
        let len2 = ab.norm_squared();
        let t = if len2 > 0.0 {
            ((p - self.a).dot(&ab) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let q = self.a + ab * t;
        (p - q).norm_squared() <= self.radius_m * self.radius_m
    }
}

/// Settings for [`FrameObservations::extract_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct ObserveConfig {
    /// Depths below this are ignored (metres).
    pub min_depth_m: f32,
    /// Depths beyond this are ignored (metres).
    pub max_depth_m: f32,
    /// Steepest surface slope still treated as continuous, degrees from facing the camera:
    /// neighbouring depths farther apart than this slope (or than 4.5 noise sigmas) are a
    /// discontinuity.
    pub max_slope_deg: f32,
    /// Keep only samples and tangents whose world point lies in this region.
    pub roi: Option<Roi>,
    /// Keep every `stride`-th pixel in each direction for surface samples (1 = all).
    pub stride: u32,
    /// Extract silhouette tangents.
    pub tangents: bool,
}

impl Default for ObserveConfig {
    fn default() -> Self {
        Self {
            min_depth_m: 0.1,
            max_depth_m: 0.6,
            max_slope_deg: 78.0,
            roi: None,
            stride: 1,
            tangents: true,
        }
    }
}

/// A world-space surface sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurfacePoint {
    /// Position (world, metres).
    pub position: Point3<f32>,
    /// Unit normal (world), oriented towards the camera; noisy (from neighbouring pixels).
    pub normal: Vector3<f32>,
}

/// A silhouette line of sight grazing a foreground object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tangent {
    /// Where the ray grazes the foreground (world, metres): on the grazing ray, at the
    /// depth of the last foreground pixel. The ray runs from the camera centre through it.
    pub point: Point3<f32>,
    /// Unit vector (world), perpendicular to the ray, pointing to the occupied side.
    pub occupied: Vector3<f32>,
    /// Pixel footprint at the grazing depth in the image direction of the edge (metres):
    /// the sub-pixel edge placement is uncertain by about ±half of this.
    pub pixel_m: f32,
}

/// The compact observations of one frame (see the module docs for what is kept).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameObservations {
    /// Camera centre in world coordinates (metres).
    pub camera_centre: Point3<f64>,
    /// Camera-to-world rotation: with `camera_centre`, the camera's pose. It tells repeated
    /// views apart by where the camera looked, whatever part of the view was kept.
    pub camera_rotation: UnitQuaternion<f64>,
    /// Depth noise estimated from this frame: 1-sigma metres = `noise_coeff * depth²`
    /// (depth in metres); estimated from second differences on smooth surface.
    pub noise_coeff: f32,
    /// How many neighbouring pixels (along a row) share the same depth error: 1 for white
    /// noise; larger for noise correlated over a few pixels (depth maps upsampled from a
    /// coarser sensor grid, as LiDAR's are). Estimated as the ratio of the noise seen at the
    /// longest lag of the estimate to that at lag 1. Samples within such a patch do not
    /// average their noise away; a fit should weigh them accordingly.
    pub noise_correlation_px: f32,
    /// Surface samples.
    pub points: Vec<SurfacePoint>,
    /// Silhouette tangents.
    pub tangents: Vec<Tangent>,
    /// Frame timestamp, seconds.
    pub timestamp: f64,
}

/// Lowest noise coefficient assumed (sigma = coeff · depth²): 0.2 mm at 30 cm.
const MIN_NOISE_COEFF: f32 = 0.0002 / 0.09;

impl FrameObservations {
    /// Extracts observations with the default [`ObserveConfig`].
    pub fn extract(frame: &Frame, camera_to_world: &Isometry3<f64>) -> Result<Self, ObserveError> {
        Self::extract_with(frame, camera_to_world, &ObserveConfig::default())
    }

    /// Extracts observations with explicit settings.
    pub fn extract_with(
        frame: &Frame,
        camera_to_world: &Isometry3<f64>,
        cfg: &ObserveConfig,
    ) -> Result<Self, ObserveError> {
        pose::validate(camera_to_world)?;
        if !(cfg.min_depth_m.is_finite()
            && cfg.max_depth_m.is_finite()
            && cfg.min_depth_m >= 0.0
            && cfg.max_depth_m > cfg.min_depth_m)
        {
            return Err(ObserveError::Config(format!(
                "depth range {}..{} m is not a finite increasing range",
                cfg.min_depth_m, cfg.max_depth_m
            )));
        }
        if !(cfg.max_slope_deg > 0.0 && cfg.max_slope_deg < 89.5) {
            return Err(ObserveError::Config(format!(
                "max_slope_deg {} must be in (0, 89.5)",
                cfg.max_slope_deg
            )));
        }
        if cfg.stride == 0 {
            return Err(ObserveError::Config("stride must be >= 1".into()));
        }
        if let Some(r) = &cfg.roi {
            let finite_ends =
                r.a.coords
                    .iter()
                    .chain(r.b.coords.iter())
                    .all(|c| c.is_finite());
            if !(r.radius_m.is_finite() && r.radius_m > 0.0 && finite_ends) {
                return Err(ObserveError::Config(
                    "region of interest must be finite with a positive radius".into(),
                ));
            }
        }

        let k = &frame.intrinsics;
        let w = frame.depth.width() as usize;
        let h = frame.depth.height() as usize;
        let src = frame.depth.depth_m();
        // Depth in range, else 0.
        let depth: Vec<f32> = src
            .iter()
            .map(|&d| {
                if d >= cfg.min_depth_m && d <= cfg.max_depth_m {
                    d
                } else {
                    0.0
                }
            })
            .collect();
        let (noise_coeff, noise_correlation_px) = estimate_noise_coeff(&depth, w, h);
        let slope = (cfg.max_slope_deg as f64).to_radians().tan() as f32;
        let f_min = k.fx.min(k.fy) as f32;
        // Largest depth step between neighbours on a continuous surface at depth d.
        let jump = |d: f32| -> f32 { (slope * d / f_min).max(4.5 * noise_coeff * d * d) };
        let at = |u: isize, v: isize| -> f32 {
            if u < 0 || v < 0 || u as usize >= w || v as usize >= h {
                0.0
            } else {
                depth[v as usize * w + u as usize]
            }
        };
        let cont = |d: f32, e: f32, j: f32| e > 0.0 && (d - e).abs() <= j;

        let rot = camera_to_world.rotation;
        let to_world = |p: &Point3<f64>| camera_to_world * p;
        let unproj = |u: f64, v: f64, d: f64| k.unproject(u, v, d);
        let in_roi = |p: &Point3<f64>| cfg.roi.as_ref().is_none_or(|r| r.contains(p));

        // Solid: valid and continuous with at least one neighbour along each image axis.
        // Pixel window: the region of interest's projection (whole image without one).
        let (u0, u1, v0, v1) = roi_window(cfg.roi.as_ref(), camera_to_world, k, w, h);
        let solid_px = |u: isize, v: isize| -> bool {
            let d = at(u, v);
            if d <= 0.0 {
                return false;
            }
            let j = jump(d);
            (cont(d, at(u - 1, v), j) || cont(d, at(u + 1, v), j))
                && (cont(d, at(u, v - 1), j) || cont(d, at(u, v + 1), j))
        };

        // Solid mask over the window plus a 4-pixel margin (tangent look-ahead).
        let (mu0, mu1) = (u0.saturating_sub(4), (u1 + 4).min(w));
        let (mv0, mv1) = (v0.saturating_sub(4), (v1 + 4).min(h));
        let mw = mu1 - mu0;
        let mut mask = vec![false; mw * (mv1 - mv0)];
        for v in mv0..mv1 {
            for u in mu0..mu1 {
                mask[(v - mv0) * mw + (u - mu0)] = solid_px(u as isize, v as isize);
            }
        }
        let solid_at = |u: isize, v: isize| -> bool {
            if u < mu0 as isize || v < mv0 as isize || u >= mu1 as isize || v >= mv1 as isize {
                return false;
            }
            mask[(v as usize - mv0) * mw + (u as usize - mu0)]
        };
        let mut points = Vec::new();
        let stride = cfg.stride as usize;
        for v in (v0..v1).step_by(stride) {
            for u in (u0..u1).step_by(stride) {
                let (ui, vi) = (u as isize, v as isize);
                if !solid_at(ui, vi) {
                    continue;
                }
                let d = at(ui, vi);
                let j = jump(d);
                let p = unproj(u as f64, v as f64, d as f64);
                let pw = to_world(&p);
                if !in_roi(&pw) {
                    continue;
                }
                // Tangent vectors from the widest continuous neighbours (up to 2 px).
                let tangent = |du: isize, dv: isize| -> Option<Vector3<f64>> {
                    let mut fwd = None;
                    let mut bwd = None;
                    for s in 1..=2isize {
                        let e = at(ui + du * s, vi + dv * s);
                        if cont(d, e, j * s as f32) {
                            fwd = Some((s, e));
                        } else {
                            break;
                        }
                    }
                    for s in 1..=2isize {
                        let e = at(ui - du * s, vi - dv * s);
                        if cont(d, e, j * s as f32) {
                            bwd = Some((s, e));
                        } else {
                            break;
                        }
                    }
                    let pf = match fwd {
                        Some((s, e)) => {
                            unproj((ui + du * s) as f64, (vi + dv * s) as f64, e as f64)
                        }
                        None => p,
                    };
                    let pb = match bwd {
                        Some((s, e)) => {
                            unproj((ui - du * s) as f64, (vi - dv * s) as f64, e as f64)
                        }
                        None => p,
                    };
                    let t = pf - pb;
                    (t.norm_squared() > 0.0).then_some(t)
                };
                let (Some(tu), Some(tv)) = (tangent(1, 0), tangent(0, 1)) else {
                    continue;
                };
                let mut n = tu.cross(&tv);
                let nn = n.norm();
                if !(nn > 0.0) {
                    continue;
                }
                n /= nn;
                if n.dot(&p.coords) > 0.0 {
                    n = -n;
                }
                let nw = rot * n;
                points.push(SurfacePoint {
                    position: pw.cast::<f32>(),
                    normal: nw.cast::<f32>(),
                });
            }
        }

        let mut tangents = Vec::new();
        if cfg.tangents {
            for v in v0..v1 {
                for u in u0..u1 {
                    let (ui, vi) = (u as isize, v as isize);
                    if !solid_at(ui, vi) {
                        continue;
                    }
                    let d = at(ui, vi);
                    let j = jump(d);
                    for (du, dv) in [(1isize, 0isize), (-1, 0), (0, 1), (0, -1)] {
                        // The pixel behind us must continue the foreground surface.
                        if !cont(d, at(ui - du, vi - dv), j) {
                            continue;
                        }
                        // Look ahead: an edge if none of the next 3 pixels is at or in front
                        // of this surface (they are empty, flying or farther).
                        let mut edge = true;
                        let mut first_flying = None;
                        for s in 1..=3isize {
                            let e = at(ui + du * s, vi + dv * s);
                            if e > 0.0 && e <= d + j * s as f32 {
                                edge = false;
                                break;
                            }
                            if s == 1 && e > 0.0 && !solid_at(ui + du, vi + dv) {
                                first_flying = Some(e);
                            }
                        }
                        // Off the image: not an observed edge.
                        let (ue, ve) = (ui + du * 3, vi + dv * 3);
                        if !edge || ue < 0 || ve < 0 || ue as usize >= w || ve as usize >= h {
                            continue;
                        }
                        // Sub-pixel edge: half-way to the next pixel, or at the centre of a
                        // flying (mixed) pixel, whose footprint straddles the edge.
                        let off = if first_flying.is_some() { 1.0 } else { 0.5 };
                        let ue = u as f64 + du as f64 * off;
                        let ve = v as f64 + dv as f64 * off;
                        let pe = unproj(ue, ve, d as f64);
                        let pf = unproj(u as f64, v as f64, d as f64);
                        let pew = to_world(&pe);
                        if !in_roi(&pew) {
                            continue;
                        }
                        // Occupied side: towards the foreground pixel, perpendicular to the ray.
                        let ray = Unit::new_normalize(pe.coords);
                        let s = pf - pe;
                        let s = s - ray.into_inner() * s.dot(&ray);
                        let sn = s.norm();
                        if !(sn > 0.0) {
                            continue;
                        }
                        let pixel_m = if du != 0 {
                            d as f64 / k.fx
                        } else {
                            d as f64 / k.fy
                        };
                        tangents.push(Tangent {
                            point: pew.cast::<f32>(),
                            occupied: (rot * (s / sn)).cast::<f32>(),
                            pixel_m: pixel_m as f32,
                        });
                    }
                }
            }
        }

        Ok(Self {
            camera_centre: Point3::from(camera_to_world.translation.vector),
            camera_rotation: camera_to_world.rotation,
            noise_coeff,
            noise_correlation_px,
            points,
            tangents,
            timestamp: frame.timestamp,
        })
    }

    /// Approximate heap size of these observations in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.points.capacity() * std::mem::size_of::<SurfacePoint>()
            + self.tangents.capacity() * std::mem::size_of::<Tangent>()
    }

    /// Depth-noise sigma (metres) at distance `range_m` from the camera.
    pub fn noise_sigma_m(&self, range_m: f64) -> f64 {
        self.noise_coeff as f64 * range_m * range_m
    }
}

/// Pixel window `[u0, u1) x [v0, v1)` covering the region of interest's projection (a bounding
/// box of the capsule's projected sample points, widened by the projected radius); the whole
/// image when there is no region or it reaches behind the camera.
fn roi_window(
    roi: Option<&Roi>,
    camera_to_world: &Isometry3<f64>,
    k: &crate::frame::Intrinsics,
    w: usize,
    h: usize,
) -> (usize, usize, usize, usize) {
    let full = (0, w, 0, h);
    let Some(r) = roi else { return full };
    let inv = camera_to_world.inverse();
    let (mut umin, mut umax, mut vmin, mut vmax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for i in 0..=8 {
        let c = inv * (r.a + (r.b - r.a) * (i as f64 / 8.0));
        if c.z <= r.radius_m + 0.01 {
            return full;
        }
        let Some(px) = k.project(&c) else { return full };
        let rad = r.radius_m / (c.z - r.radius_m) * k.fx.max(k.fy);
        umin = umin.min(px.x - rad);
        umax = umax.max(px.x + rad);
        vmin = vmin.min(px.y - rad);
        vmax = vmax.max(px.y + rad);
    }
    let clamp = |x: f64, hi: usize| -> usize { x.clamp(0.0, hi as f64) as usize };
    (
        clamp(umin.floor() - 1.0, w),
        clamp(umax.ceil() + 2.0, w),
        clamp(vmin.floor() - 1.0, h),
        clamp(vmax.ceil() + 2.0, h),
    )
}

/// Robust noise level from horizontal second differences on continuous runs, at pixel lags
/// 1 to [`NOISE_MAX_LAG`]: for lag `k`,
/// coeff_k = median(|d[i-k] - 2d[i] + d[i+k]| / d[i]²) / (0.6745·√6), and the estimate is the
/// largest. White noise gives the same value at every lag; noise correlated over a few
/// pixels (depth maps upsampled from a coarser sensor grid, as LiDAR's are) hides from lag 1
/// and shows at the longer lags. The longest lag is short enough for a finger's curvature not
/// to count as noise. Returns the coefficient and the correlation length in pixels (the
/// largest over the lag-1 estimate, at least 1; see
/// [`FrameObservations::noise_correlation_px`]).
fn estimate_noise_coeff(depth: &[f32], w: usize, h: usize) -> (f32, f32) {
    use rayon::prelude::*;
    // The sampled rows (every second one; plenty of samples remain) that hold any depth,
    // with their first and last pixel with depth: a row without depth gives no sample at any
    // lag (a frame cut to the hand has many), and a sample needs depth at both ends of its
    // lag, so only the span between those pixels is scanned (the same samples in the same
    // order as a scan of the whole row).
    let rows: Vec<(usize, usize, usize)> = (0..h)
        .step_by(2)
        .filter_map(|v| {
            let row = &depth[v * w..(v + 1) * w];
            let first = row.iter().position(|&z| z > 0.0)?;
            let last = row.iter().rposition(|&z| z > 0.0)?;
            Some((v, first, last))
        })
        .collect();
    // Each lag's median in parallel (independent), combined in lag order.
    let per_lag: Vec<Option<f32>> = (1..=NOISE_MAX_LAG)
        .into_par_iter()
        .map(|k| {
            let mut samples: Vec<f32> = Vec::new();
            for &(v, first, last) in &rows {
                let row = &depth[v * w..(v + 1) * w];
                for i in (first + k)..(last + 1).saturating_sub(k) {
                    let (a, b, c) = (row[i - k], row[i], row[i + k]);
                    if a > 0.0 && b > 0.0 && c > 0.0 {
                        let dd = (a - 2.0 * b + c).abs();
                        // Skip obvious discontinuities (more than 2 cm): not noise.
                        if dd < 0.02 {
                            samples.push(dd / (b * b));
                        }
                    }
                }
            }
            if samples.len() < 50 {
                return None;
            }
            let mid = samples.len() / 2;
            let (_, m, _) = samples.select_nth_unstable_by(mid, |x, y| x.total_cmp(y));
            Some(*m / (0.6745 * 6f32.sqrt()))
        })
        .collect();
    let mut best = MIN_NOISE_COEFF;
    let mut lag1 = None;
    for (k, c) in (1..=NOISE_MAX_LAG).zip(per_lag) {
        let Some(c) = c else { continue };
        if k == 1 {
            lag1 = Some(c);
        }
        best = best.max(c);
    }
    let corr = match lag1 {
        Some(c1) if c1 > 0.0 => (best / c1).clamp(1.0, NOISE_MAX_LAG as f32),
        _ => 1.0,
    };
    (best, corr)
}

/// Longest pixel lag of [`estimate_noise_coeff`].
const NOISE_MAX_LAG: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{DepthFrame, Intrinsics};

    fn k() -> Intrinsics {
        Intrinsics::new(64, 48, 60.0, 60.0, 31.5, 23.5).unwrap()
    }

    /// A flat wall at 0.3 m on the left half, nothing on the right half.
    fn half_wall() -> Frame {
        let (w, h) = (64u32, 48u32);
        let mut d = vec![0f32; (w * h) as usize];
        for v in 0..h {
            for u in 0..w / 2 {
                d[(v * w + u) as usize] = 0.3;
            }
        }
        Frame::new(
            DepthFrame::from_metres(w, h, d).unwrap(),
            k(),
            None,
            None,
            0.0,
        )
        .unwrap()
    }

    #[test]
    fn wall_edge_gives_tangents_with_occupied_side_towards_wall() {
        let f = half_wall();
        let obs = FrameObservations::extract(&f, &Isometry3::identity()).unwrap();
        assert!(!obs.points.is_empty());
        for p in &obs.points {
            assert!((p.position.z - 0.3).abs() < 1e-6);
            assert!(p.normal.z < -0.99, "normal faces camera: {:?}", p.normal);
        }
        // Edge between column 31 (last wall pixel) and 32: x at column 31.5.
        let right: Vec<_> = obs
            .tangents
            .iter()
            .filter(|t| t.occupied.x < -0.9)
            .collect();
        assert!(right.len() >= 40, "one tangent per row: {}", right.len());
        let x_edge = (31.5 - 31.5) * 0.3 / 60.0;
        for t in right {
            assert!((t.point.x as f64 - x_edge).abs() < 1e-6);
        }
    }

    #[test]
    fn flying_pixels_are_rejected_and_edge_moves_to_their_centre() {
        let (w, h) = (64u32, 48u32);
        let mut d = vec![0.5f32; (w * h) as usize];
        for v in 0..h {
            for u in 0..w / 2 {
                d[(v * w + u) as usize] = 0.3;
            }
            d[(v * w + w / 2) as usize] = 0.4; // flying pixel between 0.3 and 0.5
        }
        let f = Frame::new(
            DepthFrame::from_metres(w, h, d).unwrap(),
            k(),
            None,
            None,
            0.0,
        )
        .unwrap();
        let obs = FrameObservations::extract(&f, &Isometry3::identity()).unwrap();
        assert!(obs.points.iter().all(|p| (p.position.z - 0.4).abs() > 0.05));
        let edges: Vec<_> = obs
            .tangents
            .iter()
            .filter(|t| t.occupied.x < -0.9)
            .collect();
        assert!(!edges.is_empty());
        let x = (32.0 - 31.5) * 0.3 / 60.0;
        for t in edges {
            assert!((t.point.x as f64 - x).abs() < 1e-6, "{}", t.point.x);
        }
    }

    #[test]
    fn roi_and_bad_config_and_pose() {
        let f = half_wall();
        let roi = Roi {
            a: Point3::new(-0.05, 0.0, 0.3),
            b: Point3::new(-0.05, 0.0, 0.3),
            radius_m: 0.02,
        };
        let cfg = ObserveConfig {
            roi: Some(roi),
            ..Default::default()
        };
        let obs = FrameObservations::extract_with(&f, &Isometry3::identity(), &cfg).unwrap();
        assert!(!obs.points.is_empty());
        assert!(obs.points.iter().all(|p| roi.contains(&p.position.cast())));
        assert!(obs.tangents.is_empty());
        let bad = ObserveConfig {
            stride: 0,
            ..Default::default()
        };
        assert!(matches!(
            FrameObservations::extract_with(&f, &Isometry3::identity(), &bad),
            Err(ObserveError::Config(_))
        ));
        let far = Isometry3::translation(1e9, 0.0, 0.0);
        assert!(matches!(
            FrameObservations::extract(&f, &far),
            Err(ObserveError::Pose(_))
        ));
    }

    #[test]
    fn noise_estimate_tracks_added_noise() {
        use rand::SeedableRng;
        let (w, h) = (64u32, 48u32);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        let sigma = 0.002f32;
        let d: Vec<f32> = (0..w * h)
            .map(|_| {
                let n: f32 = rand_distr::Distribution::sample(
                    &rand_distr::Normal::new(0.0, sigma).unwrap(),
                    &mut rng,
                );
                0.3 + n
            })
            .collect();
        let f = Frame::new(
            DepthFrame::from_metres(w, h, d).unwrap(),
            k(),
            None,
            None,
            0.0,
        )
        .unwrap();
        let obs = FrameObservations::extract(&f, &Isometry3::identity()).unwrap();
        let est = obs.noise_sigma_m(0.3) as f32;
        assert!(
            (est / sigma - 1.0).abs() < 0.2,
            "estimated {est}, true {sigma}"
        );
    }
}

//! The finger's cross-section perpendicular to its axis: a robust closed convex model fitted
//! to surface samples and silhouette tangents, its perimeter (what a ring measures), and an
//! honest 1-sigma uncertainty.
//!
//! Model: the support function of the convex hull of the section in the slice plane,
//! `h(θ, s) = a0 + Σ_{k=1..K} (a_k cos kθ + b_k sin kθ) + g·s`, where `θ` is the outward
//! normal direction and `s` the axial offset of an observation from the plane (`g` absorbs the
//! finger's taper across the slab). By Cauchy's formula the perimeter is `2π·a0`.
//! - A surface sample `q` constrains `h(θ_q) = q·n(θ_q)`, where `θ_q` is the normal direction
//!   of the closest point of the current contour (orthogonal-distance fitting, re-assigned at
//!   each iteration).
//! - A silhouette tangent (a line of sight grazing the finger, projected along the axis)
//!   constrains `h(θ_n) = c`, its offset along its outward normal: free space beside the finger
//!   bounds it as surface does.
//! - Harmonics `k ≥ 2` carry a Gaussian prior sized to real finger shapes (ellipticity down to
//!   ~0.75, flattened palmar side), so arcs that nothing observed are filled smoothly and their
//!   uncertainty shows up in the perimeter's variance instead of being hidden.
//! - Robust IRLS (Huber, then Tukey) rejects neighbouring fingers, flying pixels and stray
//!   silhouettes.
//!
//! Uncertainty (`sigma_m`) = the posterior standard deviation of `2π·a0` (noise scaled by the
//! observed residuals, prior for unobserved arcs) combined with a delete-a-group jackknife
//! over frames (catches per-frame pose errors and correlated noise) and a small floor.
//!
//! The axis can be refined: slices from the ring position towards PIP are fitted and the
//! line through their centres (Steiner points) is combined with the given axis, each
//! weighted by its direction uncertainty (no accept/reject threshold), so the ring slice is
//! perpendicular to the finger and centred on it; the combined direction's 1-sigma is
//! reported ([`RefinedAxis::direction_sigma_rad`]) for the caller to propagate.

use std::f64::consts::TAU;

use nalgebra::{DMatrix, DVector, Point2, Point3, Unit, Vector2, Vector3};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::observe::FrameObservations;

/// Errors from measuring a cross-section.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SectionError {
    /// The finger axis is not finite or has an implausible length.
    #[error("invalid finger axis: {0}")]
    InvalidAxis(String),
    /// No frames were given.
    #[error("no observations: the scan holds no frames to measure")]
    NoObservations,
    /// Too little data near the slice to fit a cross-section.
    #[error("too little data at the slice {position_mm:+.1} mm from the ring position: {points} surface samples and {tangents} silhouette tangents from {frames} frames (need {needed} observations from 2+ frames)")]
    TooLittleData {
        /// Slice position relative to the MCP→PIP midpoint, mm.
        position_mm: f64,
        /// Surface samples found in the slab.
        points: usize,
        /// Silhouette tangents found in the slab.
        tangents: usize,
        /// Distinct frames contributing.
        frames: usize,
        /// Observations needed.
        needed: usize,
    },
    /// A configuration value is out of range.
    #[error("invalid section config: {0}")]
    Config(String),
    /// The fit did not produce a usable section (singular system or absurd size).
    #[error("cross-section fit failed: {0}")]
    FitFailed(String),
}

/// The finger axis from the MCP joint centre to the PIP joint centre (world, metres).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FingerAxis {
    /// MCP joint centre (world, metres).
    pub mcp: Point3<f64>,
    /// PIP joint centre (world, metres).
    pub pip: Point3<f64>,
}

/// Shortest plausible MCP→PIP distance (metres).
pub const MIN_AXIS_LENGTH_M: f64 = 0.01;
/// Longest plausible MCP→PIP distance (metres).
pub const MAX_AXIS_LENGTH_M: f64 = 0.09;

impl FingerAxis {
    /// An axis from MCP to PIP; checks both are finite and 10–90 mm apart.
    pub fn new(mcp: Point3<f64>, pip: Point3<f64>) -> Result<Self, SectionError> {
        let a = Self { mcp, pip };
        a.validate()?;
        Ok(a)
    }

    /// Checks the axis is finite and of plausible length.
    pub fn validate(&self) -> Result<(), SectionError> {
        if !self
            .mcp
            .iter()
            .chain(self.pip.iter())
            .all(|c| c.is_finite())
        {
            return Err(SectionError::InvalidAxis(
                "non-finite joint position".into(),
            ));
        }
        let l = self.length_m();
        if !(MIN_AXIS_LENGTH_M..=MAX_AXIS_LENGTH_M).contains(&l) {
            return Err(SectionError::InvalidAxis(format!(
                "MCP→PIP distance {:.1} mm is outside {:.0}..{:.0} mm",
                l * 1e3,
                MIN_AXIS_LENGTH_M * 1e3,
                MAX_AXIS_LENGTH_M * 1e3
            )));
        }
        Ok(())
    }

    /// MCP→PIP distance, metres.
    pub fn length_m(&self) -> f64 {
        (self.pip - self.mcp).norm()
    }

    /// Unit direction MCP→PIP.
    pub fn direction(&self) -> Unit<Vector3<f64>> {
        Unit::new_normalize(self.pip - self.mcp)
    }

    /// The ring position: halfway MCP→PIP.
    pub fn midpoint(&self) -> Point3<f64> {
        nalgebra::center(&self.mcp, &self.pip)
    }
}

/// Settings for the cross-section fit.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionConfig {
    /// Half thickness of the slab of surface samples around the slice plane (metres), for
    /// the knuckle search (a local maximum: a thick slab would average it down).
    pub slab_half_width_m: f64,
    /// Half thickness of the slab for the ring section and the axis refinement (metres).
    /// Default: the knuckle's. A thicker slab averages more samples (the fit's `g·s` term
    /// absorbs a linear taper), but near the ring position some hands reach the web between
    /// the fingers within a few millimetres, where the section is far from a linear taper.
    pub ring_slab_half_width_m: f64,
    /// Samples farther than this from the axis are ignored (metres).
    pub max_radius_m: f64,
    /// Highest harmonic of the support function.
    pub harmonics: usize,
    /// Prior 1-sigma of harmonics 2, 3, 4, ... relative to the mean radius `a0`; the last
    /// value repeats (scaled by (k_last/k)²) for higher harmonics.
    pub harmonic_prior_rel: Vec<f64>,
    /// Extra per-observation noise floor (pose and model error), metres.
    pub noise_floor_m: f64,
    /// Silhouette edge placement 1-sigma in pixels (uniform over a pixel is 0.29).
    pub edge_sigma_px: f64,
    /// Re-aim the axis through section centres between the ring position and PIP.
    pub refine_axis: bool,
    /// 1-sigma of the given axis's direction (degrees, per tilt component) when the caller
    /// gives none ([`SectionMeasurer::with_axis_sigma_rad`]): the prior the slice centres'
    /// direction is combined with.
    pub axis_prior_sigma_deg: f64,
    /// Least 1-sigma of a slice centre (metres, per in-plane component) in the axis
    /// refinement: a finger's section centre wanders off its joint axis by shape, not only
    /// by noise.
    pub axis_centre_floor_m: f64,
    /// Surface samples whose in-plane normal points towards the axis (cosine below this)
    /// are dropped as another surface's (a neighbouring finger facing this one).
    pub min_facing_cos: f64,
    /// Estimate a per-frame in-plane offset (pose error) in every slice fit. Off by default:
    /// on the sample scans the offsets trade with the section's size (see the module docs).
    pub frame_shifts: bool,
    /// Prior 1-sigma of each frame's in-plane pose error (metres): every frame's
    /// observations may shift together by an unknown offset (platform pose noise, drift).
    pub frame_shift_prior_m: f64,
    /// 1-sigma of the pose error common to all frames along their lines of sight that the
    /// data cannot reveal (metres): platform trackers drift, and a drift that moves every
    /// view's surface towards or away from its camera looks exactly like a smaller or larger
    /// finger. Contributes `2π ×` this to the perimeter sigma. The default (0.3 mm) suits
    /// raw platform poses; set it near 0 only when poses were refined against the fused
    /// model (tracking) or are otherwise known to be mutually consistent.
    pub pose_drift_sigma_m: f64,
    /// Prior 1-sigma of the silhouette placement bias (pixels): depth sensors drop pixels at
    /// grazing angles, so the last foreground pixel may sit inside the true outline; the bias
    /// is estimated jointly, calibrated by surface samples in the same directions.
    pub edge_bias_prior_px: f64,
    /// Prior 1-sigma of each frame's pose error along its line of sight (metres).
    pub frame_depth_shift_prior_m: f64,
    /// Frame groups for the jackknife (0 or 1 disables it).
    pub jackknife_groups: usize,
    /// Lower bound of the reported 1-sigma (metres of perimeter).
    pub sigma_floor_m: f64,
    /// Knuckle search: half range around PIP (metres) and step (metres).
    pub knuckle_half_range_m: f64,
    /// Knuckle search step (metres).
    pub knuckle_step_m: f64,
}

impl Default for SectionConfig {
    fn default() -> Self {
        Self {
            slab_half_width_m: 0.0012,
            ring_slab_half_width_m: 0.0012,
            max_radius_m: 0.016,
            harmonics: 6,
            harmonic_prior_rel: vec![0.12, 0.05, 0.03, 0.015, 0.01],
            noise_floor_m: 0.0001,
            edge_sigma_px: 0.35,
            refine_axis: true,
            axis_prior_sigma_deg: 3.0,
            axis_centre_floor_m: 0.00003,
            min_facing_cos: 0.3,
            frame_shifts: false,
            frame_shift_prior_m: 0.001,
            pose_drift_sigma_m: 0.0003,
            edge_bias_prior_px: 1.5,
            frame_depth_shift_prior_m: 0.0002,
            jackknife_groups: 8,
            sigma_floor_m: 0.00005,
            knuckle_half_range_m: 0.005,
            knuckle_step_m: 0.001,
        }
    }
}

impl SectionConfig {
    fn validate(&self) -> Result<(), SectionError> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !pos(self.slab_half_width_m)
            || !pos(self.ring_slab_half_width_m)
            || !pos(self.max_radius_m)
            || !pos(self.edge_sigma_px)
        {
            return Err(SectionError::Config(
                "slab half widths, max_radius_m and edge_sigma_px must be finite and > 0".into(),
            ));
        }
        if !(1..=16).contains(&self.harmonics) {
            return Err(SectionError::Config(format!(
                "harmonics {} must be 1..=16",
                self.harmonics
            )));
        }
        if self.harmonic_prior_rel.is_empty() || !self.harmonic_prior_rel.iter().all(|&v| pos(v)) {
            return Err(SectionError::Config(
                "harmonic_prior_rel must hold finite positive values".into(),
            ));
        }
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        if !(non_negative(self.noise_floor_m)
            && non_negative(self.sigma_floor_m)
            && pos(self.axis_prior_sigma_deg)
            && non_negative(self.axis_centre_floor_m)
            && non_negative(self.knuckle_half_range_m)
            && pos(self.knuckle_step_m)
            && pos(self.frame_shift_prior_m)
            && pos(self.frame_depth_shift_prior_m)
            && non_negative(self.pose_drift_sigma_m))
        {
            return Err(SectionError::Config(
                "floors and knuckle range must be finite and >= 0 (step, axis prior > 0)".into(),
            ));
        }
        Ok(())
    }
}

/// A silhouette tangent line in the slice plane: `{x : normal·x = offset_m}`, with the
/// section on the side `normal·x ≤ offset_m`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TangentLine2 {
    /// Outward unit normal (plane coordinates).
    pub normal: Vector2<f32>,
    /// Offset from the section centre along `normal`, metres.
    pub offset_m: f32,
}

/// Parts of the reported uncertainty (1-sigma, metres of perimeter).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SigmaParts {
    /// Posterior sigma of the fit (noise scaled by residuals; prior on unobserved arcs).
    pub fit_m: f64,
    /// Delete-a-group jackknife over frames.
    pub frames_m: f64,
    /// Per-frame pose errors along the line of sight: a common depth offset of all frames
    /// cannot be told from a different size, so the spread of the frames' depth offsets
    /// (observable from their disagreement) bounds it as `2π · sd / √(n_eff)`, with `n_eff`
    /// the effective number of independent frames given their lag-1 correlation (drift).
    pub pose_m: f64,
    /// Fixed floor.
    pub floor_m: f64,
    /// The part of `fit_m` that noise-free observations of the same arcs would leave:
    /// what only the shape prior decides, because no surface sample or silhouette tangent
    /// constrains those directions (e.g. the palmar half in a scan from the back of the
    /// hand). Computed as the posterior sigma of the perimeter with every observation's
    /// weight multiplied by [`UNOBSERVED_DATA_GAIN`] (so the observed directions are pinned
    /// and the unconstrained ones keep their prior spread).
    pub unobserved_m: f64,
}

/// Weight gain on the observations for [`SigmaParts::unobserved_m`]: large enough that
/// directions the data constrain keep under 1/30 of their sigma, small enough that the
/// normal equations stay well conditioned.
pub const UNOBSERVED_DATA_GAIN: f64 = 1000.0;

/// A measured cross-section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionResult {
    /// Perimeter of the convex section (what a ring measures), metres.
    pub perimeter_m: f64,
    /// 1-sigma uncertainty of `perimeter_m`, metres.
    pub sigma_m: f64,
    /// Its parts.
    pub sigma_parts: SigmaParts,
    /// Degrees of outward directions (of 360) observed by surface samples or tangents.
    pub coverage_deg: f64,
    /// Degrees of outward directions observed by surface samples alone.
    pub surface_coverage_deg: f64,
    /// The widest arc of outward directions (degrees) that nothing observed: the section
    /// there is the shape prior's continuation of its observed ends (the palmar side in a
    /// scan from the back of the hand).
    pub largest_gap_deg: f64,
    /// The arc of directions around the finger (degrees) the contributing frames were
    /// filmed from (360° minus the widest angle between neighbouring camera directions in
    /// the slice plane). Under 180° every view was from one side of the finger: its other
    /// side is seen, at best, at the silhouette.
    pub view_span_deg: f64,
    /// Centre of the section (Steiner point of the fitted contour; world, metres).
    pub centre: Point3<f64>,
    /// Slice plane normal = finger axis direction used (world, unit).
    pub axis_direction: Vector3<f64>,
    /// First in-plane axis (world, unit); plane coordinates are along `plane_u`, `plane_v`.
    pub plane_u: Vector3<f64>,
    /// Second in-plane axis (world, unit).
    pub plane_v: Vector3<f64>,
    /// Slice position along the axis relative to the MCP→PIP midpoint, metres.
    pub position_m: f64,
    /// Surface samples of the slab (plane coordinates relative to `centre`, metres), inliers.
    pub points_2d: Vec<Point2<f32>>,
    /// Silhouette tangent lines used (relative to `centre`).
    pub tangents_2d: Vec<TangentLine2>,
    /// Fitted contour, 360 points (plane coordinates relative to `centre`, metres).
    pub contour_2d: Vec<Point2<f64>>,
    /// Frames contributing observations.
    pub frames_used: usize,
    /// Surface samples used (inliers).
    pub points_used: usize,
    /// Tangents used (inliers).
    pub tangents_used: usize,
    /// Weighted RMS residual of inlier surface samples, metres.
    pub residual_rms_m: f64,
    /// Estimated silhouette placement bias, pixels (positive: outline farther out).
    pub edge_bias_px: f64,
    /// RMS of the per-frame in-plane offsets the fit estimated (pose error), metres.
    pub frame_shift_rms_m: f64,
    /// Angle between the given axis and the axis used (degrees).
    pub axis_correction_deg: f64,
}

/// Observations gathered around the finger once, in world coordinates.
struct Cloud {
    points: Vec<(Point3<f64>, f64, u32, Vector3<f32>)>, // position, sigma, frame, normal
    tangents: Vec<CloudTangent>,
    cameras: Vec<Point3<f64>>,
}

struct CloudTangent {
    point: Point3<f64>,
    ray: Vector3<f64>,
    occupied: Vector3<f64>,
    sigma_along: f64, // edge placement sigma (metres) along `occupied`
    pixel_m: f64,
    frame: u32,
}

impl Cloud {
    /// Everything within `radius` of the segment `a`–`b` extended by `margin` at both ends.
    fn gather(
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

/// One observation in plane coordinates.
#[derive(Clone, Copy)]
struct Obs2 {
    /// Surface sample position (points) or outward normal (lines).
    q: Vector2<f64>,
    /// Index of the surface sample in the gathered cloud (lines: 0), for thinning that
    /// keeps the same samples whatever the plane.
    src: usize,
    /// Line offset (lines only).
    c: f64,
    /// Axial offset from the plane, metres.
    s: f64,
    sigma: f64,
    frame: u32,
    /// In-plane unit direction from the frame's camera towards the slice centre.
    view: Vector2<f64>,
    /// Lines: metres of offset per pixel of silhouette placement bias (0 for points).
    bias_unit: f64,
    /// Index of the frame among the slice's frames (for its pose-error offset).
    lf: usize,
    is_line: bool,
}

/// A plane: origin on the axis, unit normal, in-plane basis.
#[derive(Clone, Copy)]
struct Plane {
    origin: Point3<f64>,
    n: Vector3<f64>,
    e1: Vector3<f64>,
    e2: Vector3<f64>,
}

impl Plane {
    fn new(origin: Point3<f64>, n: Vector3<f64>) -> Self {
        let n = n.normalize();
        let seed = if n.x.abs() < 0.9 {
            Vector3::x()
        } else {
            Vector3::y()
        };
        let e1 = (seed - n * seed.dot(&n)).normalize();
        let e2 = n.cross(&e1);
        Self { origin, n, e1, e2 }
    }
}

fn slice_obs(cloud: &Cloud, plane: &Plane, cfg: &SectionConfig) -> Vec<Obs2> {
    let mut out = Vec::new();
    for (src, &(p, sigma, frame, normal)) in cloud.points.iter().enumerate() {
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
            q,
            src,
            c: 0.0,
            s,
            sigma,
            frame,
            bias_unit: 0.0,
            view: Vector2::zeros(),
            lf: 0,
            is_line: false,
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
            q: n,
            src: 0,
            c: n.dot(&g),
            s,
            sigma: (t.sigma_along * om.abs()).hypot(cfg.noise_floor_m),
            frame: t.frame,
            bias_unit: t.pixel_m * om.abs(),
            view: Vector2::zeros(),
            lf: 0,
            is_line: true,
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
fn reindex_frames(obs: &mut [Obs2], shifts: bool) {
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
const NO_SHIFT: usize = usize::MAX;

fn frame_shift(x: &DVector<f64>, m: usize, o: &Obs2) -> Vector2<f64> {
    if o.lf == NO_SHIFT {
        Vector2::zeros()
    } else {
        Vector2::new(x[m + 2 + 2 * o.lf], x[m + 3 + 2 * o.lf])
    }
}

fn frame_count(obs: &[Obs2]) -> usize {
    obs.iter()
        .filter(|o| o.lf != NO_SHIFT)
        .map(|o| o.lf + 1)
        .max()
        .unwrap_or(0)
}

const GRID: usize = 360;

/// Smallest radius of curvature the fitted contour may have (metres).
const MIN_CURVATURE_RADIUS_M: f64 = 0.0005;

/// Support-function model and fit state.
struct Fit {
    k: usize,
    x: DVector<f64>, // [a0, a1, b1, ..., aK, bK, g, (dx, dy) per frame]
    nf: usize,
    cov: DMatrix<f64>,
    idx: Vec<usize>,  // grid angle index per surface sample
    weight: Vec<f64>, // robust weight per observation (0 = outlier)
    resid: Vec<f64>,  // residual per observation
    scale: f64,       // residual scale factor (>= 1)
}

fn n_params(k: usize, nf: usize) -> usize {
    2 * k + 3 + 2 * nf
}

fn eval_dh(x: &DVector<f64>, k: usize, theta: f64) -> (f64, f64, f64) {
    let (mut h, mut d1, mut d2) = (x[0], 0.0, 0.0);
    for j in 1..=k {
        let jf = j as f64;
        let (sn, cs) = (jf * theta).sin_cos();
        let (a, b) = (x[2 * j - 1], x[2 * j]);
        h += a * cs + b * sn;
        d1 += jf * (-a * sn + b * cs);
        d2 += -jf * jf * (a * cs + b * sn);
    }
    (h, d1, d2)
}

/// Assigns each surface sample the grid index of the normal angle of the closest contour
/// point: argmax over θ of q·n(θ) − h(θ) (exact for convex curves), hill-climbing on a grid.
fn assign_theta(obs: &[Obs2], x: &DVector<f64>, hg: &[f64], tab: &Table, idx: &mut [usize]) {
    let m = 2 * tab.k + 1;
    let centre = Vector2::new(x[1], x[2]);
    let shift = |lf: usize| {
        if lf == NO_SHIFT {
            Vector2::zeros()
        } else {
            Vector2::new(x[m + 2 + 2 * lf], x[m + 3 + 2 * lf])
        }
    };
    let f = |q: &Vector2<f64>, i: usize| q.x * tab.cos1[i] + q.y * tab.sin1[i] - hg[i];
    for (o, th) in obs.iter().zip(idx.iter_mut()) {
        if o.is_line {
            continue;
        }
        let q = o.q + shift(o.lf);
        // Warm start from the previous assignment when there is one.
        let mut i = if *th < GRID {
            *th
        } else {
            let d = q - centre;
            let a = d.y.atan2(d.x).rem_euclid(TAU);
            ((a / TAU * GRID as f64).round() as usize) % GRID
        };
        let mut best = f(&q, i);
        for _ in 0..GRID / 2 {
            let ip = (i + 1) % GRID;
            let im = (i + GRID - 1) % GRID;
            let (fp, fm) = (f(&q, ip), f(&q, im));
            if fp > best && fp >= fm {
                i = ip;
                best = fp;
            } else if fm > best {
                i = im;
                best = fm;
            } else {
                break;
            }
        }
        *th = i;
    }
}

/// cos/sin of kθ on the grid, k = 0..=K.
struct Table {
    k: usize,
    /// rows[i * (2K+1) + c]: basis value c (1, cos θ, sin θ, cos 2θ, ...) at grid angle i.
    rows: Vec<f64>,
    /// Second derivative of each basis function at grid angle i (for h + h'').
    curv: Vec<f64>,
    cos1: Vec<f64>,
    sin1: Vec<f64>,
}

impl Table {
    fn new(k: usize) -> Self {
        let m = 2 * k + 1;
        let mut rows = vec![0.0; GRID * m];
        let mut curv = vec![0.0; GRID * m];
        let mut cos1 = vec![0.0; GRID];
        let mut sin1 = vec![0.0; GRID];
        for i in 0..GRID {
            let t = i as f64 * TAU / GRID as f64;
            let r = &mut rows[i * m..(i + 1) * m];
            let c = &mut curv[i * m..(i + 1) * m];
            r[0] = 1.0;
            c[0] = 1.0;
            for j in 1..=k {
                let jf = j as f64;
                let (sn, cs) = (jf * t).sin_cos();
                r[2 * j - 1] = cs;
                r[2 * j] = sn;
                c[2 * j - 1] = cs * (1.0 - jf * jf);
                c[2 * j] = sn * (1.0 - jf * jf);
            }
            cos1[i] = t.cos();
            sin1[i] = t.sin();
        }
        Self {
            k,
            rows,
            curv,
            cos1,
            sin1,
        }
    }
    fn row(&self, i: usize) -> &[f64] {
        let m = 2 * self.k + 1;
        &self.rows[i * m..(i + 1) * m]
    }
    fn curv(&self, i: usize) -> &[f64] {
        let m = 2 * self.k + 1;
        &self.curv[i * m..(i + 1) * m]
    }
}

/// Robust weight for a standardised residual: Huber (c = 1.5) or Tukey biweight (c = 4.685).
fn robust(u: f64, tukey: bool) -> f64 {
    let a = u.abs();
    if tukey {
        if a >= 4.685 {
            0.0
        } else {
            let t = 1.0 - (a / 4.685).powi(2);
            t * t
        }
    } else if a <= 1.5 {
        1.0
    } else {
        1.5 / a
    }
}

/// h on the grid from parameters (first 2K+1 entries).
fn h_grid(x: &DVector<f64>, tab: &Table) -> Vec<f64> {
    let m = 2 * tab.k + 1;
    (0..GRID)
        .map(|i| {
            tab.row(i)
                .iter()
                .zip(x.iter().take(m))
                .map(|(a, b)| a * b)
                .sum()
        })
        .collect()
}

/// Line observation basis row at its exact angle.
fn line_row(k: usize, n: &Vector2<f64>, row: &mut [f64]) {
    let theta = n.y.atan2(n.x);
    row[0] = 1.0;
    for j in 1..=k {
        let (sn, cs) = (j as f64 * theta).sin_cos();
        row[2 * j - 1] = cs;
        row[2 * j] = sn;
    }
}

/// One weighted least-squares solve with harmonics limited to `k_active`.
#[allow(clippy::too_many_arguments)]
fn solve_once(
    obs: &[Obs2],
    idx: &[usize],
    weight: &[f64],
    tab: &Table,
    cfg: &SectionConfig,
    a0: f64,
    k_active: usize,
    scale: f64,
    convex_pen: &[usize],
) -> Option<(DVector<f64>, DMatrix<f64>)> {
    let k = tab.k;
    let m = 2 * k + 1;
    let nf = frame_count(obs);
    let p = n_params(k, nf);
    // Per grid bin sufficient statistics for points: Σw, Σws, Σws², Σwy, Σwsy.
    let mut bins = vec![[0.0f64; 5]; GRID];
    let mut ata = DMatrix::<f64>::zeros(p, p);
    let mut atb = DVector::<f64>::zeros(p);
    let mut row = vec![0.0; p];
    for (i, o) in obs.iter().enumerate() {
        let w = weight[i] / (o.sigma * o.sigma);
        if w == 0.0 {
            continue;
        }
        // The frame's pose-error offset d enters as (q + d)·n: row entries -n.
        let (n, y) = if o.is_line {
            line_row(k, &o.q, &mut row[..m]);
            (o.q, o.c)
        } else {
            let j = idx[i];
            row[..m].copy_from_slice(tab.row(j));
            let n = Vector2::new(tab.cos1[j], tab.sin1[j]);
            (n, o.q.dot(&n))
        };
        row[m] = o.s;
        if o.is_line {
            // Silhouette placement bias (pixels): the true edge lies bias_unit·β farther out.
            let u = o.bias_unit;
            for a in 0..=m {
                ata[(a, m + 1)] -= w * row[a] * u;
            }
            ata[(m + 1, m + 1)] += w * u * u;
            atb[m + 1] -= w * u * y;
            if o.lf != NO_SHIFT {
                let fo = m + 2 + 2 * o.lf;
                ata[(m + 1, fo)] += w * u * n.x;
                ata[(m + 1, fo + 1)] += w * u * n.y;
            }
        }
        if o.lf != NO_SHIFT {
            let fo = m + 2 + 2 * o.lf;
            for a in 0..=m {
                let wa = w * row[a];
                ata[(a, fo)] -= wa * n.x;
                ata[(a, fo + 1)] -= wa * n.y;
            }
            ata[(fo, fo)] += w * n.x * n.x;
            ata[(fo, fo + 1)] += w * n.x * n.y;
            ata[(fo + 1, fo + 1)] += w * n.y * n.y;
            atb[fo] -= w * n.x * y;
            atb[fo + 1] -= w * n.y * y;
        }
        if o.is_line {
            for a in 0..=m {
                let wa = w * row[a];
                atb[a] += wa * y;
                for b in a..=m {
                    ata[(a, b)] += wa * row[b];
                }
            }
        } else {
            let j = idx[i];
            let b = &mut bins[j];
            b[0] += w;
            b[1] += w * o.s;
            b[2] += w * o.s * o.s;
            b[3] += w * y;
            b[4] += w * o.s * y;
        }
    }
    for (j, b) in bins.iter().enumerate() {
        if b[0] == 0.0 {
            continue;
        }
        let r = tab.row(j);
        for a in 0..m {
            atb[a] += r[a] * b[3];
            ata[(a, m)] += r[a] * b[1];
            for c in a..m {
                ata[(a, c)] += r[a] * r[c] * b[0];
            }
        }
        atb[m] += b[4];
        ata[(m, m)] += b[2];
    }
    // Convexity penalties: h + h'' >= 0 pushed towards a small positive radius of curvature.
    let w_pen = 1.0 / (1e-4f64).powi(2);
    for &j in convex_pen {
        let c = tab.curv(j);
        for a in 0..m {
            atb[a] += w_pen * c[a] * MIN_CURVATURE_RADIUS_M;
            for b in a..m {
                ata[(a, b)] += w_pen * c[a] * c[b];
            }
        }
    }
    let prior = prior_diag(cfg, k, nf, a0, k_active);
    for a in 0..p {
        for b in 0..a {
            ata[(a, b)] = ata[(b, a)];
        }
        ata[(a, a)] += prior[a] * scale * scale;
    }
    // Per-frame pose-error offsets: loose across the line of sight (rotation errors move the
    // finger sideways), tight along it (a free depth offset per frame would trade with the
    // section's size).
    let mut seen = vec![false; nf];
    for o in obs {
        if o.lf == NO_SHIFT || seen[o.lf] {
            continue;
        }
        seen[o.lf] = true;
        let fo = m + 2 + 2 * o.lf;
        let (v, l) = (o.view, Vector2::new(-o.view.y, o.view.x));
        let (wd, wl) = (
            1.0 / cfg.frame_depth_shift_prior_m.powi(2),
            1.0 / cfg.frame_shift_prior_m.powi(2),
        );
        let blk = v * v.transpose() * wd + l * l.transpose() * wl;
        for a in 0..2 {
            for b in 0..2 {
                ata[(fo + a, fo + b)] += blk[(a, b)] * scale * scale;
            }
        }
    }
    let chol = ata.clone().cholesky()?;
    let x = chol.solve(&atb);
    let cov = chol.inverse() * (scale * scale);
    Some((x, cov))
}

fn prior_diag(cfg: &SectionConfig, k: usize, nf: usize, a0: f64, k_active: usize) -> Vec<f64> {
    let p = n_params(k, nf);
    let mut d = vec![0.0; p];
    // a0, a1, b1: essentially free (1 m prior sigma).
    d[0] = 1.0;
    d[1] = 1.0;
    d[2] = 1.0;
    let r = a0.clamp(0.004, 0.015);
    let last = cfg.harmonic_prior_rel.len() + 1; // harmonic index of the last value
    for j in 2..=k {
        let rel = if j <= last {
            cfg.harmonic_prior_rel[j - 2]
        } else {
            let lr = *cfg.harmonic_prior_rel.last().unwrap_or(&0.01);
            lr * (last as f64 / j as f64).powi(2)
        };
        let tau = if j <= k_active { rel * r } else { 1e-7 };
        d[2 * j - 1] = 1.0 / (tau * tau);
        d[2 * j] = 1.0 / (tau * tau);
    }
    // Taper dh/ds: prior sigma 0.5.
    d[2 * k + 1] = 1.0 / 0.25;
    // Silhouette placement bias, pixels.
    d[2 * k + 2] = 1.0 / cfg.edge_bias_prior_px.powi(2);
    // Per-frame pose-error offsets: anisotropic block prior added by the caller.
    d
}

fn residual(o: &Obs2, idx: usize, x: &DVector<f64>, hg: &[f64], tab: &Table) -> f64 {
    let m = 2 * tab.k + 1;
    let d = frame_shift(x, m, o);
    if o.is_line {
        let mut row = vec![0.0; m];
        line_row(tab.k, &o.q, &mut row);
        let h: f64 = row.iter().zip(x.iter()).map(|(a, b)| a * b).sum();
        o.c + o.bias_unit * x[m + 1] + o.q.dot(&d) - h - x[m] * o.s
    } else {
        let n = Vector2::new(tab.cos1[idx], tab.sin1[idx]);
        (o.q + d).dot(&n) - hg[idx] - x[m] * o.s
    }
}

/// IRLS fit. `include(o)` selects observations (for the jackknife). `start` warm-starts.
fn fit(
    obs: &[Obs2],
    cfg: &SectionConfig,
    tab: &Table,
    start: Option<&Fit>,
    iterations: usize,
    include: &dyn Fn(&Obs2) -> bool,
) -> Result<Fit, SectionError> {
    let k = tab.k;
    let nf = frame_count(obs);
    let p = n_params(k, nf);
    let m = 2 * k + 1;
    let mut x = match start {
        Some(f) => f.x.clone(),
        None => {
            let mut r: Vec<f64> = obs
                .iter()
                .filter(|o| !o.is_line)
                .map(|o| o.q.norm())
                .collect();
            let mid = r.len() / 2;
            let a0 = if r.is_empty() {
                0.009
            } else {
                *r.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1
            };
            let mut x = DVector::zeros(p);
            x[0] = a0.clamp(0.004, 0.015);
            x
        }
    };
    let mut idx = match start {
        Some(f) => f.idx.clone(),
        None => vec![usize::MAX; obs.len()],
    };
    let mut weight = vec![1.0; obs.len()];
    let mut scale = start.map_or(1.0, |f| f.scale);
    let mut cov = DMatrix::zeros(p, p);
    let mut convex_pen: Vec<usize> = Vec::new();
    // Stages: ellipse-like first (K = 2, Huber), then all harmonics with Tukey.
    // Stages: ellipse-like (K = 2) with Huber, then K = 2 with Tukey (an ellipse cannot bend
    // towards a neighbouring finger, so its samples are rejected), then all harmonics.
    let stage1 = if start.is_some() { 0 } else { 10 };
    let mut it = 0;
    let mut converged = false;
    while it < iterations + stage1 && !converged {
        let (k_active, tukey) = if it < stage1 {
            (2.min(k), it >= 4)
        } else {
            (k, true)
        };
        let hg = h_grid(&x, tab);
        assign_theta(obs, &x, &hg, tab, &mut idx);
        let (mut chi2, mut wsum) = (0.0, 0.0);
        for (i, o) in obs.iter().enumerate() {
            if !include(o) {
                weight[i] = 0.0;
                continue;
            }
            let r = residual(o, idx[i], &x, &hg, tab);
            weight[i] = robust(r / (o.sigma * scale), tukey);
            if !o.is_line && it >= 4 && behind_limb(o, idx[i], tab, x[0]) {
                weight[i] = 0.0;
            }
            chi2 += weight[i] * (r / o.sigma).powi(2);
            wsum += weight[i];
        }
        if wsum < 3.0 {
            return Err(SectionError::FitFailed(
                "every observation was rejected as an outlier".into(),
            ));
        }
        // Residual scale relative to the nominal sigmas (never below 1).
        scale = (chi2 / (wsum - p as f64).max(1.0)).sqrt().max(1.0);
        let (xn, cn) = solve_once(
            obs,
            &idx,
            &weight,
            tab,
            cfg,
            x[0],
            k_active,
            scale,
            &convex_pen,
        )
        .ok_or_else(|| SectionError::FitFailed("normal equations are singular".into()))?;
        let step = (&xn - &x).amax();
        x = xn;
        cov = cn;
        // Convexity h + h'' >= 0: penalise (towards a small positive radius of curvature)
        // the grid angles where the current solution violates it; re-evaluated every pass.
        convex_pen.clear();
        for j in 0..GRID {
            let c: f64 = tab
                .curv(j)
                .iter()
                .zip(x.iter().take(m))
                .map(|(a, b)| a * b)
                .sum();
            if c < MIN_CURVATURE_RADIUS_M {
                convex_pen.push(j);
            }
        }
        let added = !convex_pen.is_empty();
        it += 1;
        converged = it > stage1 && step < 1e-6 && !(added && it < iterations + stage1 - 1);
    }
    if !(x.iter().all(|v| v.is_finite()) && x[0] > 0.002 && x[0] < 0.03) {
        return Err(SectionError::FitFailed(format!(
            "fitted mean radius {:.2} mm is not a finger's",
            x[0] * 1e3
        )));
    }
    let hg = h_grid(&x, tab);
    assign_theta(obs, &x, &hg, tab, &mut idx);
    let resid = obs
        .iter()
        .enumerate()
        .map(|(i, o)| residual(o, idx[i], &x, &hg, tab))
        .collect();
    Ok(Fit {
        k,
        nf,
        x,
        cov,
        idx,
        weight,
        resid,
        scale,
    })
}

/// Whether a surface sample sits where its own camera could not have seen this finger: its
/// closest contour point faces away from the camera by more than depth noise explains (a
/// sample at the limb displaced by depth noise `δ` along its ray lands past the limb by the
/// angle `δ / r`). Flying pixels (mixed depths between the finger's edge and the background,
/// along rays that miss the finger) land there, behind the limb, and would otherwise inflate
/// the unseen back of the section.
fn behind_limb(o: &Obs2, idx: usize, tab: &Table, a0: f64) -> bool {
    let c = tab.cos1[idx] * o.view.x + tab.sin1[idx] * o.view.y;
    let limit = (VISIBILITY_MARGIN + 2.0 * o.sigma / a0.max(0.004)).min(0.95);
    c > limit
}

/// Back-facing tolerance of [`behind_limb`] beyond the noise term (sine of the angle).
const VISIBILITY_MARGIN: f64 = 0.15;

fn obs_theta(o: &Obs2, idx: usize) -> f64 {
    if o.is_line {
        o.q.y.atan2(o.q.x)
    } else {
        idx as f64 * TAU / GRID as f64
    }
}

/// Which of [`COVERAGE_BINS`] outward directions hold observations: at least 3 inlier
/// surface samples, or (with `lines`) one inlier silhouette tangent.
fn covered_bins(obs: &[Obs2], f: &Fit, lines: bool) -> [bool; COVERAGE_BINS] {
    let mut pts = [0usize; COVERAGE_BINS];
    let mut tan = [0usize; COVERAGE_BINS];
    for (i, o) in obs.iter().enumerate() {
        if f.weight[i] < 0.5 {
            continue;
        }
        let b = ((obs_theta(o, f.idx[i]).rem_euclid(TAU) / TAU * COVERAGE_BINS as f64) as usize)
            .min(COVERAGE_BINS - 1);
        if o.is_line {
            tan[b] += 1;
        } else {
            pts[b] += 1;
        }
    }
    std::array::from_fn(|b| pts[b] >= 3 || (lines && tan[b] >= 1))
}

/// Directions bins of the coverage figures (5° each).
const COVERAGE_BINS: usize = 72;

fn coverage(obs: &[Obs2], f: &Fit, lines: bool) -> f64 {
    let covered = covered_bins(obs, f, lines).iter().filter(|&&c| c).count();
    covered as f64 * 360.0 / COVERAGE_BINS as f64
}

/// The widest run of consecutive outward directions (degrees, wrapping around) that no
/// surface sample or tangent observed.
fn largest_gap(obs: &[Obs2], f: &Fit) -> f64 {
    let c = covered_bins(obs, f, true);
    if !c.iter().any(|&v| v) {
        return 360.0;
    }
    let (mut best, mut run) = (0usize, 0usize);
    for i in 0..2 * COVERAGE_BINS {
        if c[i % COVERAGE_BINS] {
            run = 0;
        } else {
            run += 1;
            best = best.max(run);
        }
    }
    best.min(COVERAGE_BINS) as f64 * 360.0 / COVERAGE_BINS as f64
}

fn check_enough(obs: &[Obs2], position_m: f64) -> Result<(), SectionError> {
    let points = obs.iter().filter(|o| !o.is_line).count();
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

/// Fits one slice; returns the fit and its observations.
/// Most surface samples used per slice (an even subsample beyond this): the fit is limited by
/// systematic errors long before this many samples.
const MAX_SLICE_POINTS: usize = 3000;

/// Most surface samples in a measured section (ring, taper and reported knuckle sections;
/// per 1.2 mm of slab half width): TrueDepth scans put 5–10 thousand samples in a ring
/// slab, and the perimeter of a 3000-sample subsample differs from the full set's by
/// 0.1–0.2 mm (its fit sigma), so measured sections use all of them up to this bound.
const MAX_MEASURED_POINTS: usize = 16000;

/// Fits one slice; returns its observations and fit.
fn fit_slice(
    cloud: &Cloud,
    plane: &Plane,
    cfg: &SectionConfig,
    tab: &Table,
    position_m: f64,
    max_points: usize,
) -> Result<(Vec<Obs2>, Fit), SectionError> {
    let mut obs = slice_obs(cloud, plane, cfg);
    let npts = obs.iter().filter(|o| !o.is_line).count();
    let max_pts = (max_points as f64 * (cfg.slab_half_width_m / 0.0012).max(1.0)) as usize;
    if npts > max_pts {
        // Keep every keep-th sample of the cloud (not of the slab): slices of nearby planes
        // then share their samples, so a small change of the plane changes the fit smoothly
        // (thinning by rank within the slab redrew the subsample: ±0.1–0.2 mm of perimeter
        // and a factor 2 in the jackknife sigma on td-full-pose-index-04 for sub-degree
        // changes of the axis).
        let keep = npts.div_ceil(max_pts);
        obs.retain(|o| o.is_line || o.src.is_multiple_of(keep));
    }
    reindex_frames(&mut obs, cfg.frame_shifts);
    check_enough(&obs, position_m)?;
    let f = fit(&obs, cfg, tab, None, 30, &|_| true)?;
    Ok((obs, f))
}

fn steiner_world(plane: &Plane, f: &Fit) -> Point3<f64> {
    plane.origin + plane.e1 * f.x[1] + plane.e2 * f.x[2]
}

/// Uncertainty of the perimeter from per-frame depth-direction pose errors (see
/// [`SigmaParts::pose_m`]).
fn pose_depth_sigma(obs: &[Obs2], f: &Fit) -> f64 {
    use std::collections::BTreeMap;
    // Per frame: least-squares depth offset of its surface samples' residuals.
    let mut acc: BTreeMap<u32, (f64, f64, usize)> = BTreeMap::new();
    for (i, o) in obs.iter().enumerate() {
        if o.is_line || f.weight[i] < 0.5 {
            continue;
        }
        let t = f.idx[i] as f64 * TAU / GRID as f64;
        let c = t.cos() * o.view.x + t.sin() * o.view.y;
        let e = acc.entry(o.frame).or_insert((0.0, 0.0, 0));
        e.0 += f.resid[i] * c;
        e.1 += c * c;
        e.2 += 1;
    }
    let d: Vec<f64> = acc
        .values()
        .filter(|(_, cc, n)| *n >= 20 && *cc > 5.0)
        .map(|(rc, cc, _)| rc / cc)
        .collect();
    let n = d.len();
    if n < 3 {
        return 0.0;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // Lag-1 autocorrelation in capture order (drift makes neighbouring frames agree): the
    // effective number of independent frames of an AR(1) sequence is n (1 − ρ) / (1 + ρ).
    let num: f64 = d.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    let rho = if var > 0.0 {
        (num / ((n - 1) as f64 * var)).clamp(0.0, 0.99)
    } else {
        0.0
    };
    let n_eff = (n as f64 * (1.0 - rho) / (1.0 + rho)).max(1.0);
    TAU * (var / n_eff).sqrt()
}

/// Perimeter sigma left with noise-free observations of the same arcs (see
/// [`SigmaParts::unobserved_m`]): the fit's normal equations with every (robust) data
/// weight multiplied by [`UNOBSERVED_DATA_GAIN`] and the prior unscaled.
fn unobserved_sigma(obs: &[Obs2], f: &Fit, cfg: &SectionConfig, tab: &Table) -> f64 {
    let w: Vec<f64> = f.weight.iter().map(|w| w * UNOBSERVED_DATA_GAIN).collect();
    match solve_once(obs, &f.idx, &w, tab, cfg, f.x[0], tab.k, 1.0, &[]) {
        Some((_, cov)) => TAU * cov[(0, 0)].max(0.0).sqrt(),
        None => 0.0,
    }
}

/// The arc of directions around the finger (degrees) that the contributing cameras looked
/// from: 360° minus the widest angle between neighbouring view directions in the slice
/// plane (0 with one camera position).
fn view_span(obs: &[Obs2], f: &Fit) -> f64 {
    angular_span_deg(
        obs.iter()
            .zip(&f.weight)
            .filter(|(_, w)| **w >= 0.5)
            .map(|(o, _)| (-o.view.y).atan2(-o.view.x))
            .collect(),
    )
}

/// Degrees of the circle spanned by directions at `angles` (radians, any range): 360°
/// minus the widest empty arc between neighbouring directions; 0 with fewer than two.
pub(crate) fn angular_span_deg(mut angles: Vec<f64>) -> f64 {
    for a in angles.iter_mut() {
        *a = a.rem_euclid(TAU);
    }
    if angles.len() < 2 {
        return 0.0;
    }
    angles.sort_by(|x, y| x.total_cmp(y));
    let mut widest = TAU - (angles[angles.len() - 1] - angles[0]);
    for w in angles.windows(2) {
        widest = widest.max(w[1] - w[0]);
    }
    (TAU - widest).to_degrees()
}

/// A fitted slice before its uncertainty is worked out.
struct Slice {
    plane: Plane,
    obs: Vec<Obs2>,
    fit: Fit,
    position_m: f64,
}

/// Full result with jackknife uncertainty for a fitted slice.
fn finish(s: &Slice, cfg: &SectionConfig, tab: &Table, axis_correction_deg: f64) -> SectionResult {
    let (plane, obs, f) = (&s.plane, &s.obs, &s.fit);
    let perimeter = TAU * f.x[0];
    let sigma_fit = TAU * f.cov[(0, 0)].max(0.0).sqrt();
    // Delete-a-group jackknife over frames.
    let mut frames: Vec<u32> = obs.iter().map(|o| o.frame).collect();
    frames.sort_unstable();
    frames.dedup();
    let g = cfg.jackknife_groups.min(frames.len());
    let mut sigma_frames = 0.0;
    if g >= 2 {
        let group_of = |fr: u32| frames.binary_search(&fr).unwrap_or(0) % g;
        let mut est = Vec::with_capacity(g);
        for gi in 0..g {
            let inc = |o: &Obs2| group_of(o.frame) != gi;
            if let Ok(fj) = fit(obs, cfg, tab, Some(f), 4, &inc) {
                est.push(TAU * fj.x[0]);
            }
        }
        if est.len() >= 2 {
            let n = est.len() as f64;
            let m = est.iter().sum::<f64>() / n;
            sigma_frames =
                ((n - 1.0) / n * est.iter().map(|e| (e - m).powi(2)).sum::<f64>()).sqrt();
        }
    }
    let sigma_unobserved = unobserved_sigma(obs, f, cfg, tab).min(sigma_fit);
    let sigma_pose = pose_depth_sigma(obs, f).hypot(TAU * cfg.pose_drift_sigma_m);
    let sigma =
        (sigma_fit.powi(2) + sigma_frames.powi(2) + sigma_pose.powi(2) + cfg.sigma_floor_m.powi(2))
            .sqrt();
    let centre_off = Vector2::new(f.x[1], f.x[2]);
    let centre = steiner_world(plane, f);
    let mut points_2d = Vec::new();
    let mut tangents_2d = Vec::new();
    let mut used_frames: Vec<u32> = Vec::new();
    let (mut rss, mut wsum) = (0.0, 0.0);
    for (i, o) in obs.iter().enumerate() {
        if f.weight[i] < 0.5 {
            continue;
        }
        used_frames.push(o.frame);
        if o.is_line {
            let m = 2 * f.k + 1;
            let d = frame_shift(&f.x, m, o);
            tangents_2d.push(TangentLine2 {
                normal: o.q.cast(),
                offset_m: (o.c + o.bias_unit * f.x[m + 1] + o.q.dot(&d) - o.q.dot(&centre_off))
                    as f32,
            });
        } else {
            let m = 2 * f.k + 1;
            let d = frame_shift(&f.x, m, o);
            points_2d.push(Point2::from((o.q + d - centre_off).cast::<f32>()));
            rss += f.weight[i] * f.resid[i].powi(2);
            wsum += f.weight[i];
        }
    }
    used_frames.sort_unstable();
    used_frames.dedup();
    let contour_2d = (0..GRID)
        .map(|i| {
            let t = i as f64 * TAU / GRID as f64;
            let (h, d1, _) = eval_dh(&f.x, f.k, t);
            let (sn, cs) = t.sin_cos();
            Point2::new(h * cs - d1 * sn - f.x[1], h * sn + d1 * cs - f.x[2])
        })
        .collect();
    let count = |line: bool| {
        obs.iter()
            .zip(&f.weight)
            .filter(|(o, w)| o.is_line == line && **w >= 0.5)
            .count()
    };
    SectionResult {
        perimeter_m: perimeter,
        sigma_m: sigma,
        sigma_parts: SigmaParts {
            fit_m: sigma_fit,
            frames_m: sigma_frames,
            pose_m: sigma_pose,
            floor_m: cfg.sigma_floor_m,
            unobserved_m: sigma_unobserved,
        },
        coverage_deg: coverage(obs, f, true),
        largest_gap_deg: largest_gap(obs, f),
        view_span_deg: view_span(obs, f),
        surface_coverage_deg: coverage(obs, f, false),
        centre,
        axis_direction: plane.n,
        plane_u: plane.e1,
        plane_v: plane.e2,
        position_m: s.position_m,
        points_2d,
        tangents_2d,
        contour_2d,
        frames_used: used_frames.len(),
        points_used: count(false),
        tangents_used: count(true),
        residual_rms_m: if wsum > 0.0 { (rss / wsum).sqrt() } else { 0.0 },
        edge_bias_px: f.x[2 * f.k + 2],
        frame_shift_rms_m: {
            let m = 2 * f.k + 3;
            let nf = f.nf.max(1) as f64;
            (f.x.iter().skip(m).map(|v| v * v).sum::<f64>() / nf).sqrt()
        },
        axis_correction_deg,
    }
}

/// The refined axis: a point on it (at the ring position) and its direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefinedAxis {
    /// Ring position on the refined axis (world, metres).
    pub ring_point: Point3<f64>,
    /// Unit direction (MCP→PIP sense).
    pub direction: Unit<Vector3<f64>>,
    /// Angle from the given axis, degrees.
    pub correction_deg: f64,
    /// 1-sigma of the direction (radians, per tilt component): the combined uncertainty of
    /// the given axis and the slice centres' line (the given axis's when not refined).
    pub direction_sigma_rad: f64,
}

/// Measures cross-sections of one finger from per-frame observations.
pub struct SectionMeasurer<'a> {
    cloud: Cloud,
    axis: FingerAxis,
    cfg: &'a SectionConfig,
    /// `cfg` with the ring slab (ring section and axis refinement).
    ring_cfg: SectionConfig,
    tab: Table,
    /// 1-sigma of the given axis's direction, radians per tilt component.
    axis_sigma_rad: f64,
}

impl<'a> SectionMeasurer<'a> {
    /// Gathers the observations around `axis` (once) for measuring it.
    pub fn new(
        obs: &[FrameObservations],
        axis: &FingerAxis,
        cfg: &'a SectionConfig,
    ) -> Result<Self, SectionError> {
        cfg.validate()?;
        axis.validate()?;
        if obs.is_empty() {
            return Err(SectionError::NoObservations);
        }
        // Tilts up to max_tilt move the slab's far edge sideways; gather generously.
        let cloud = Cloud::gather(
            obs,
            &axis.mcp,
            &axis.pip,
            cfg.max_radius_m + 0.006,
            cfg.knuckle_half_range_m + 0.008,
            cfg,
        );
        Ok(Self {
            cloud,
            axis: *axis,
            cfg,
            ring_cfg: SectionConfig {
                slab_half_width_m: cfg.ring_slab_half_width_m,
                ..cfg.clone()
            },
            tab: Table::new(cfg.harmonics),
            axis_sigma_rad: cfg.axis_prior_sigma_deg.to_radians(),
        })
    }

    /// Sets the 1-sigma of the given axis's direction (radians, per tilt component), e.g.
    /// [`crate::measure::locate::LocatedFinger::direction_sigma_rad`]; ignored unless finite
    /// and positive. Default: [`SectionConfig::axis_prior_sigma_deg`].
    pub fn with_axis_sigma_rad(mut self, sigma_rad: f64) -> Self {
        if sigma_rad.is_finite() && sigma_rad > 0.0 {
            self.axis_sigma_rad = sigma_rad;
        }
        self
    }

    /// Surface samples and tangents gathered around the axis.
    pub fn gathered(&self) -> (usize, usize) {
        (self.cloud.points.len(), self.cloud.tangents.len())
    }

    fn slice(
        &self,
        point: &Point3<f64>,
        direction: &Unit<Vector3<f64>>,
        position_m: f64,
        recentre: bool,
        cfg: &SectionConfig,
    ) -> Result<Slice, SectionError> {
        if !point.iter().chain(direction.iter()).all(|c| c.is_finite()) {
            return Err(SectionError::InvalidAxis(
                "non-finite slice position".into(),
            ));
        }
        let plane = Plane::new(*point, direction.into_inner());
        let (obs, fit) = fit_slice(
            &self.cloud,
            &plane,
            cfg,
            &self.tab,
            position_m,
            MAX_SLICE_POINTS,
        )?;
        if recentre {
            // Re-centre on the fitted centre (the radius cut then follows the finger) and
            // fit the measured section with all its samples.
            let centre = steiner_world(&plane, &fit);
            for p in [Plane::new(centre, direction.into_inner()), plane] {
                if let Ok((obs, fit)) = fit_slice(
                    &self.cloud,
                    &p,
                    cfg,
                    &self.tab,
                    position_m,
                    MAX_MEASURED_POINTS,
                ) {
                    return Ok(Slice {
                        plane: p,
                        obs,
                        fit,
                        position_m,
                    });
                }
            }
        }
        Ok(Slice {
            plane,
            obs,
            fit,
            position_m,
        })
    }

    fn correction_deg(&self, direction: &Unit<Vector3<f64>>) -> f64 {
        direction
            .dot(&self.axis.direction())
            .clamp(-1.0, 1.0)
            .acos()
            .to_degrees()
    }

    /// Re-aims the axis: a continuous, uncertainty-weighted combination of the given axis's
    /// direction (prior 1-sigma [`SectionMeasurer::with_axis_sigma_rad`], per tilt
    /// component) and the direction of the line through the centres (Steiner points) of five
    /// slices from the ring position towards PIP (two passes, the second at the first's
    /// direction). Proximal slices are not used: within a few millimetres of the ring
    /// position some hands reach the web between the fingers, whose section centre is pulled
    /// towards the palm (a bias of the line, not noise). The line is a weighted least-squares
    /// fit per in-plane component with each centre's posterior variance (plus
    /// [`SectionConfig::axis_centre_floor_m`]), its slope variance scaled up by the reduced
    /// χ² when the centres scatter more than their sigmas say. No threshold: a correction is
    /// never accepted or refused whole. With fewer than two slices the given axis is kept.
    pub fn refine_axis(&self) -> RefinedAxis {
        let d0 = self.axis.direction();
        let mid = self.axis.midpoint();
        let prior_var = self.axis_sigma_rad.powi(2);
        let keep = RefinedAxis {
            ring_point: mid,
            direction: d0,
            correction_deg: 0.0,
            direction_sigma_rad: self.axis_sigma_rad,
        };
        let span = (0.3 * self.axis.length_m()).clamp(0.004, 0.008);
        let floor_var = self.cfg.axis_centre_floor_m.powi(2);
        let mut point = mid;
        let mut dir = d0;
        let mut sigma = self.axis_sigma_rad;
        for _ in 0..2 {
            // (t, x, y, var x, var y) per slice, in the current direction's plane basis (the
            // same for every slice: it depends on the direction only). The five slices are
            // independent: fitted in parallel, kept in order.
            let plane = Plane::new(point, dir.into_inner());
            let rows: Vec<[f64; 5]> = (0..=4)
                .into_par_iter()
                .map(|j| {
                    let t = span * j as f64 / 4.0;
                    let s = self
                        .slice(
                            &(point + dir.into_inner() * t),
                            &dir,
                            t,
                            false,
                            &self.ring_cfg,
                        )
                        .ok()?;
                    let (vx, vy) = (s.fit.cov[(1, 1)], s.fit.cov[(2, 2)]);
                    let row = [t, s.fit.x[1], s.fit.x[2], vx + floor_var, vy + floor_var];
                    (row.iter().all(|v| v.is_finite()) && vx >= 0.0 && vy >= 0.0).then_some(row)
                })
                .collect::<Vec<_>>()
                .into_iter()
                .flatten()
                .collect();
            if rows.len() < 2 {
                return keep;
            }
            let denom = d0.dot(&dir);
            if denom <= 0.0 {
                return keep;
            }
            let mut offset = Vector3::zeros();
            let mut slope = [0.0; 2];
            let mut post_var = [0.0; 2];
            for (c, e) in [(0usize, plane.e1), (1usize, plane.e2)] {
                let line = weighted_line(&rows, 1 + c, 3 + c);
                let Some((mean_t, mean_c, b, var_b)) = line else {
                    return keep;
                };
                // The given axis's slope in this basis.
                let p = d0.dot(&e) / denom;
                let w = 1.0 / var_b + 1.0 / prior_var;
                slope[c] = (b / var_b + p / prior_var) / w;
                post_var[c] = 1.0 / w;
                offset += e * (mean_c - slope[c] * mean_t);
            }
            let nd =
                Unit::new_normalize(dir.into_inner() + plane.e1 * slope[0] + plane.e2 * slope[1]);
            let on_line = point + offset;
            point = on_line + nd.into_inner() * (mid - on_line).dot(&nd);
            dir = nd;
            sigma = (0.5 * (post_var[0] + post_var[1])).sqrt();
        }
        RefinedAxis {
            ring_point: point,
            direction: dir,
            correction_deg: self.correction_deg(&dir),
            direction_sigma_rad: sigma,
        }
    }

    /// Measures the section through `point` perpendicular to `direction` (re-centred on the
    /// finger), with the ring slab ([`SectionConfig::ring_slab_half_width_m`]). `position_m` is
    /// only reported (position relative to the ring position).
    pub fn measure_at(
        &self,
        point: &Point3<f64>,
        direction: &Unit<Vector3<f64>>,
        position_m: f64,
    ) -> Result<SectionResult, SectionError> {
        let s = self.slice(point, direction, position_m, true, &self.ring_cfg)?;
        Ok(finish(
            &s,
            &self.ring_cfg,
            &self.tab,
            self.correction_deg(direction),
        ))
    }

    /// The ring section: at the MCP→PIP midpoint, perpendicular to the (refined) axis.
    pub fn ring(&self) -> Result<(SectionResult, RefinedAxis), SectionError> {
        let ax = self.ring_axis();
        let r = self.measure_at(&ax.ring_point, &ax.direction, 0.0)?;
        Ok((r, ax))
    }

    /// The axis [`SectionMeasurer::ring`] measures on: refined
    /// ([`SectionMeasurer::refine_axis`]) when the config says so, else the given one.
    pub fn ring_axis(&self) -> RefinedAxis {
        if self.cfg.refine_axis {
            self.refine_axis()
        } else {
            RefinedAxis {
                ring_point: self.axis.midpoint(),
                direction: self.axis.direction(),
                correction_deg: 0.0,
                direction_sigma_rad: self.axis_sigma_rad,
            }
        }
    }

    /// The knuckle section: the largest perimeter within ±`knuckle_half_range_m` of PIP
    /// along `axis` (a refined axis from [`SectionMeasurer::ring`], or the given one).
    pub fn knuckle(&self, axis: Option<&RefinedAxis>) -> Result<SectionResult, SectionError> {
        let (p0, dir) = match axis {
            Some(a) => (a.ring_point, a.direction),
            None => (self.axis.midpoint(), self.axis.direction()),
        };
        let to_pip = (self.axis.pip - p0).dot(&dir);
        let n = (self.cfg.knuckle_half_range_m / self.cfg.knuckle_step_m).floor() as i64;
        let mut best: Option<Slice> = None;
        let mut last_err = None;
        // The slices are independent: fitted in parallel, then compared in order.
        let slices: Vec<Result<Slice, SectionError>> = (-n..=n)
            .into_par_iter()
            .map(|j| {
                let t = to_pip + j as f64 * self.cfg.knuckle_step_m;
                self.slice(&(p0 + dir.into_inner() * t), &dir, t, false, self.cfg)
            })
            .collect();
        for slice in slices {
            match slice {
                Ok(s) => {
                    if best.as_ref().is_none_or(|b| s.fit.x[0] > b.fit.x[0]) {
                        best = Some(s);
                    }
                }
                Err(e) => last_err = Some(e),
            }
        }
        match best {
            Some(b) => {
                // Re-centre the largest slice on the finger before reporting it.
                let s = self
                    .slice(&b.plane.origin, &dir, b.position_m, true, self.cfg)
                    .unwrap_or(b);
                Ok(finish(&s, self.cfg, &self.tab, self.correction_deg(&dir)))
            }
            None => Err(last_err.unwrap_or(SectionError::NoObservations)),
        }
    }
}

/// Weighted least-squares line `c = a + b·t` through `rows` (`t` in column 0, `c` in column
/// `ci`, its variance in column `vi`): `(mean t, mean c, b, var b)` with weights 1/variance,
/// the slope variance scaled by the reduced χ² when above 1 (scatter beyond the stated
/// variances). `None` when the positions do not spread.
fn weighted_line(rows: &[[f64; 5]], ci: usize, vi: usize) -> Option<(f64, f64, f64, f64)> {
    let w: Vec<f64> = rows.iter().map(|r| 1.0 / r[vi].max(1e-18)).collect();
    let sw: f64 = w.iter().sum();
    let mt = rows.iter().zip(&w).map(|(r, w)| w * r[0]).sum::<f64>() / sw;
    let mc = rows.iter().zip(&w).map(|(r, w)| w * r[ci]).sum::<f64>() / sw;
    let stt: f64 = rows
        .iter()
        .zip(&w)
        .map(|(r, w)| w * (r[0] - mt).powi(2))
        .sum();
    if !(stt > 0.0) || !stt.is_finite() {
        return None;
    }
    let stc: f64 = rows
        .iter()
        .zip(&w)
        .map(|(r, w)| w * (r[0] - mt) * (r[ci] - mc))
        .sum();
    let b = stc / stt;
    let mut var_b = 1.0 / stt;
    if rows.len() > 2 {
        let chi2: f64 = rows
            .iter()
            .zip(&w)
            .map(|(r, w)| w * (r[ci] - mc - b * (r[0] - mt)).powi(2))
            .sum();
        var_b *= (chi2 / (rows.len() - 2) as f64).max(1.0);
    }
    Some((mt, mc, b, var_b))
}

/// Convenience: the ring section of `axis` from observations with `cfg`.
pub fn ring_section(
    obs: &[FrameObservations],
    axis: &FingerAxis,
    cfg: &SectionConfig,
) -> Result<SectionResult, SectionError> {
    SectionMeasurer::new(obs, axis, cfg)?.ring().map(|r| r.0)
}

/// Length of a closed polyline (e.g. [`SectionResult::contour_2d`]), metres.
pub fn contour_length(contour: &[Point2<f64>]) -> f64 {
    let n = contour.len();
    (0..n)
        .map(|i| (contour[(i + 1) % n] - contour[i]).norm())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::observe::{SurfacePoint, Tangent};
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    /// Ramanujan's second approximation of an ellipse perimeter (error ~1e-10 relative here).
    fn ellipse_perimeter(a: f64, b: f64) -> f64 {
        let h = ((a - b) / (a + b)).powi(2);
        PI_ * (a + b) * (1.0 + 3.0 * h / (10.0 + (4.0 - 3.0 * h).sqrt()))
    }
    const PI_: f64 = std::f64::consts::PI;

    /// Observations of an elliptic cylinder along z (semi-axes a, b), seen by `views` cameras
    /// at 0.25 m spread over `arc_deg` around it, with depth noise `noise_m`.
    fn cylinder_obs(
        a: f64,
        b: f64,
        views: usize,
        arc_deg: f64,
        noise_m: f64,
        seed: u64,
    ) -> Vec<FrameObservations> {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        let nd = Normal::new(0.0, noise_m).unwrap();
        let mut out = Vec::new();
        for vi in 0..views {
            let phi = (vi as f64 / views as f64 - 0.5) * arc_deg.to_radians();
            let cam = Point3::new(0.25 * phi.cos(), 0.25 * phi.sin(), 0.0);
            let mut points = Vec::new();
            let mut tangents = Vec::new();
            let view = -cam.coords.normalize();
            for zi in -20..=20 {
                let z = zi as f64 * 0.0004;
                let mut last_vis: Option<(Point3<f64>, f64)> = None;
                for ti in 0..720 {
                    let t = ti as f64 * TAU / 720.0;
                    let p = Point3::new(a * t.cos(), b * t.sin(), z);
                    let n = Vector3::new(b * t.cos(), a * t.sin(), 0.0).normalize();
                    let ray = (p - cam).normalize();
                    let c = n.dot(&ray);
                    if c < -0.2 {
                        let noisy = p + ray * nd.sample(&mut rng);
                        if ti % 2 == 0 {
                            points.push(SurfacePoint {
                                position: noisy.cast(),
                                normal: n.cast(),
                            });
                        }
                    }
                    let _ = &mut last_vis;
                }
                // Exact limbs: the two tangent rays from the camera in this z-plane.
                for sgn in [-1.0, 1.0] {
                    // Search the boundary point whose normal is perpendicular to the ray.
                    let mut best = (f64::MAX, 0.0);
                    for ti in 0..7200 {
                        let t = ti as f64 * TAU / 7200.0;
                        let p = Point3::new(a * t.cos(), b * t.sin(), z);
                        let n = Vector3::new(b * t.cos(), a * t.sin(), 0.0).normalize();
                        let ray = (p - cam).normalize();
                        let side = view.cross(&ray).z * sgn;
                        if side > 0.0 && n.dot(&ray).abs() < best.0 {
                            best = (n.dot(&ray).abs(), t);
                        }
                    }
                    let t = best.1;
                    let p = Point3::new(a * t.cos(), b * t.sin(), z);
                    let ray = (p - cam).normalize();
                    let occ = (Point3::new(0.0, 0.0, z) - p).normalize();
                    let occ = (occ - ray * occ.dot(&ray)).normalize();
                    tangents.push(Tangent {
                        point: p.cast(),
                        occupied: occ.cast(),
                        pixel_m: 0.0004,
                    });
                }
            }
            let _ = view;
            out.push(FrameObservations {
                camera_centre: cam,
                noise_coeff: (noise_m / 0.0625) as f32,
                noise_correlation_px: 1.0,
                points,
                tangents,
                timestamp: vi as f64,
            });
        }
        out
    }

    fn exact_poses() -> SectionConfig {
        SectionConfig {
            pose_drift_sigma_m: 0.0,
            ..Default::default()
        }
    }

    #[test]
    fn unrefined_poses_carry_drift_uncertainty() {
        let obs = cylinder_obs(0.0095, 0.008, 16, 360.0, 0.0003, 4);
        let exact = SectionMeasurer::new(&obs, &axis(), &exact_poses())
            .unwrap()
            .ring()
            .unwrap()
            .0;
        let cfg = SectionConfig::default();
        let raw = SectionMeasurer::new(&obs, &axis(), &cfg)
            .unwrap()
            .ring()
            .unwrap()
            .0;
        assert!(raw.sigma_m >= TAU * cfg.pose_drift_sigma_m);
        assert!(raw.sigma_m > exact.sigma_m);
        assert_eq!(raw.perimeter_m, exact.perimeter_m);
    }

    fn axis() -> FingerAxis {
        FingerAxis::new(Point3::new(0.0, 0.0, -0.02), Point3::new(0.0, 0.0, 0.02)).unwrap()
    }

    #[test]
    fn full_coverage_ellipse_perimeter_within_a_tenth_of_a_millimetre() {
        let (a, b) = (0.0095, 0.0080);
        let obs = cylinder_obs(a, b, 16, 360.0, 0.0003, 1);
        let cfg = exact_poses();
        let m = SectionMeasurer::new(&obs, &axis(), &cfg).unwrap();
        let (r, ax) = m.ring().unwrap();
        let truth = ellipse_perimeter(a, b);
        let err = r.perimeter_m - truth;
        assert!(err.abs() < 1e-4, "err {:.4} mm", err * 1e3);
        assert!(
            r.sigma_m > 0.0 && r.sigma_m < 3e-4,
            "sigma {:.4} mm",
            r.sigma_m * 1e3
        );
        assert!(r.coverage_deg > 300.0, "coverage {}", r.coverage_deg);
        assert!(
            ax.correction_deg < 2.0,
            "axis moved {} deg",
            ax.correction_deg
        );
        // Cauchy: 2π·a0 equals the length of the fitted contour.
        assert!((contour_length(&r.contour_2d) - r.perimeter_m).abs() < 2e-5);
    }

    #[test]
    fn one_sided_coverage_reports_larger_uncertainty() {
        let (a, b) = (0.0095, 0.0080);
        let full = cylinder_obs(a, b, 16, 360.0, 0.0003, 2);
        let half = cylinder_obs(a, b, 16, 100.0, 0.0003, 2);
        let cfg = exact_poses();
        let rf = SectionMeasurer::new(&full, &axis(), &cfg)
            .unwrap()
            .ring()
            .unwrap()
            .0;
        let rh = SectionMeasurer::new(&half, &axis(), &cfg)
            .unwrap()
            .ring()
            .unwrap()
            .0;
        assert!(rh.surface_coverage_deg < rf.surface_coverage_deg);
        // Views over 100° of arc leave the far side (about 100° of outline) unobserved.
        assert!(rf.largest_gap_deg < 30.0, "full gap {}", rf.largest_gap_deg);
        assert!(rh.largest_gap_deg > 60.0, "half gap {}", rh.largest_gap_deg);
        assert!(rh.sigma_parts.unobserved_m <= rh.sigma_parts.fit_m);
        assert!(rf.view_span_deg > 300.0, "full span {}", rf.view_span_deg);
        assert!(
            (rh.view_span_deg - 100.0).abs() < 15.0,
            "half span {}",
            rh.view_span_deg
        );
        assert!(
            rh.sigma_m > 2.0 * rf.sigma_m,
            "half {} full {}",
            rh.sigma_m,
            rf.sigma_m
        );
        let truth = ellipse_perimeter(a, b);
        assert!((rh.perimeter_m - truth).abs() < 3.0 * rh.sigma_m);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let obs = cylinder_obs(0.009, 0.008, 4, 360.0, 0.0003, 3);
        let cfg = SectionConfig::default();
        let bad_axis = FingerAxis {
            mcp: Point3::origin(),
            pip: Point3::new(0.0, 0.0, f64::NAN),
        };
        assert!(matches!(
            SectionMeasurer::new(&obs, &bad_axis, &cfg),
            Err(SectionError::InvalidAxis(_))
        ));
        assert!(matches!(
            FingerAxis::new(Point3::origin(), Point3::new(0.0, 0.0, 0.5)),
            Err(SectionError::InvalidAxis(_))
        ));
        assert!(matches!(
            SectionMeasurer::new(&[], &axis(), &cfg),
            Err(SectionError::NoObservations)
        ));
        let far = FingerAxis::new(Point3::new(1.0, 1.0, 0.0), Point3::new(1.0, 1.0, 0.04)).unwrap();
        let m = SectionMeasurer::new(&obs, &far, &cfg).unwrap();
        assert!(matches!(m.ring(), Err(SectionError::TooLittleData { .. })));
        let bad_cfg = SectionConfig {
            harmonics: 0,
            ..Default::default()
        };
        assert!(matches!(
            SectionMeasurer::new(&obs, &axis(), &bad_cfg),
            Err(SectionError::Config(_))
        ));
    }
}

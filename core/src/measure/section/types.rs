//! The public types of the cross-section measurement: its errors, the finger axis, the
//! configuration, and the measured section with its uncertainty parts.

use nalgebra::{Point2, Point3, Unit, Vector2, Vector3};
use serde::{Deserialize, Serialize};

/// Errors from measuring a cross-section.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
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
    /// gives none (`SectionMeasurer::with_axis_sigma_rad`): the prior the slice centres'
    /// direction is combined with.
    pub axis_prior_sigma_deg: f64,
    /// Least 1-sigma of a slice centre (metres, per in-plane component) in the axis
    /// refinement: a finger's section centre wanders off its joint axis by shape, not only
    /// by noise.
    pub axis_centre_floor_m: f64,
    /// Surface samples whose in-plane normal points towards the axis (cosine below this)
    /// are dropped as another surface's (a neighbouring finger facing this one).
    pub min_facing_cos: f64,
    /// Estimate a per-frame in-plane offset (pose error) in every slice fit; off by default.
    /// See docs/tuning.md#section.
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
    /// Also run the jackknife over runs of consecutive frames (capture order) and keep the
    /// larger of the two: frames dealt in turn into groups (the default) see errors that
    /// differ from frame to frame, while a pose error that wanders slowly (a tracker's, which
    /// neighbouring frames share) moves every group alike and shows only when a whole run of
    /// frames is left out. Off by default; see docs/tuning.md#section.
    pub jackknife_runs: bool,
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
            jackknife_runs: false,
            sigma_floor_m: 0.00005,
            knuckle_half_range_m: 0.005,
            knuckle_step_m: 0.001,
        }
    }
}

impl SectionConfig {
    pub(super) fn validate(&self) -> Result<(), SectionError> {
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
    /// weight multiplied by `UNOBSERVED_DATA_GAIN` (so the observed directions are pinned
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
    /// Perimeter of the fitted smooth contour alone (`2π·a0`), metres: what the uncertainty
    /// terms describe, and what differences of nearby sections (the taper) are taken of, so
    /// that bins that pass the refinement's significance test in one section and not in the
    /// next do not show up as taper.
    pub model_perimeter_m: f64,
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

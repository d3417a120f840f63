//! Tracking settings: what [`super::Tracker`] reads, their defaults for phone depth, and
//! their range checks.

use super::icp::{IcpParams, PosePrior};
use super::live::LiveParams;
use super::TrackError;
use serde::Serialize;

/// Tracking settings. `Default` suits phone depth of a hand at 0.15–0.5 m.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackConfig {
    /// Pyramid levels (1–4); level 0 is full resolution.
    pub pyramid_levels: usize,
    /// Gauss–Newton iterations per level, finest level first.
    pub iterations: Vec<usize>,
    /// Association distance gate per level, finest first (metres).
    pub max_distance_m: Vec<f32>,
    /// Largest angle between live and model normals per level, finest first (degrees).
    pub max_normal_angle_deg: Vec<f32>,
    /// Huber threshold on point-to-plane residuals (metres).
    pub huber_delta_m: f64,
    /// A level stops when an increment moves the surface less than this (metres).
    pub convergence_m: f64,
    /// Live depth outside this range is ignored (metres).
    pub min_depth_m: f32,
    /// Live depth outside this range is ignored (metres).
    pub max_depth_m: f32,
    /// Neighbouring depths differing by more than this fraction of depth mark an edge.
    pub edge_jump_ratio: f32,
    /// Lost when fewer than this fraction of the live points that land on modelled surface
    /// are inliers.
    pub min_inlier_ratio: f64,
    /// Lost when fewer than this fraction of usable live points land on modelled surface.
    pub min_overlap_ratio: f64,
    /// Lost when fewer than this many inliers remain at full resolution.
    pub min_inliers: usize,
    /// Lost when the inliers' RMS point-to-plane residual exceeds this (metres).
    pub max_residual_m: f64,
    /// Lost (without a platform pose) when the scaled Hessian's eigenvalue ratio is below this.
    pub min_conditioning: f64,
    /// Lost when the pose moves farther than this from its initial guess (metres).
    pub max_jump_m: f64,
    /// Lost when the pose turns more than this from its initial guess (degrees).
    pub max_jump_deg: f64,
    /// Trust in platform poses: σ of their translation error (metres). Smaller = trusted more.
    pub prior_sigma_translation_m: f64,
    /// Trust in platform poses: σ of their rotation error (radians).
    pub prior_sigma_rotation_rad: f64,
    /// ICP point-to-plane noise σ (metres), weighs data against the platform prior.
    pub point_sigma_m: f64,
    /// How many independent observations the data term counts as at most.
    pub effective_points: f64,
    /// The model is raycast at 1/`raycast_downscale` of the frame's resolution (1 = full).
    /// Model points are ~1 voxel apart anyway; 2 quarters the raycast cost.
    pub raycast_downscale: u32,
    /// The same for frames without a platform pose (tracked from the motion prediction):
    /// the point-to-SDF refinement that follows pairs every live point with the field at
    /// full resolution, so ICP's coarser model pixels cost little accuracy and save rays.
    /// See docs/tuning.md#track.
    pub raycast_downscale_no_pose: u32,
    /// Model pixels within this many (model) pixels of live depth are raycast up front; any
    /// other pixel only when a live point projects to it (so the result is that of a full
    /// raycast, at the cost of the pixels actually used). See docs/tuning.md#track.
    pub raycast_window_px: u32,
    /// Platform-pose refinement (frame-to-model ICP with a platform pose) uses only the
    /// live points that project (at the current pose estimate) into every
    /// `platform_model_stride`-th model pixel in both directions (1 = all), and only those
    /// model pixels are raycast: about 1/stride² of the raycast. A live point is still
    /// paired with the model point of the pixel it falls in (unlike a coarser raycast,
    /// whose wider pixels pair points farther apart on the curved finger and bias the
    /// point-to-plane residual). Not used without a platform pose (the initial guess is
    /// poorer there, and the nearest-neighbour stage needs the whole rendering).
    /// See docs/tuning.md#track.
    pub platform_model_stride: u32,
    /// ...and runs ICP on pyramid levels `platform_first_level..` only (0 = down to full
    /// resolution; at most the coarsest level; the finer levels' points are not built)...
    /// See docs/tuning.md#track.
    pub platform_first_level: usize,
    /// ...on frames with at least this many depth pixels in the working range (fewer: every
    /// model pixel, every level), so sparse LiDAR frames keep the full refinement.
    /// See docs/tuning.md#track.
    pub platform_sparse_min_pixels: usize,
    /// Gauss–Newton steps of the final refinement on the fused SDF (0 = off); only in
    /// `Tracker::track` (where the volume is available) and only
    /// without a platform pose.
    /// See docs/tuning.md#track.
    pub sdf_refine_iterations: usize,
    /// Every `sdf_stride`-th full-resolution live point is used by the SDF refinement.
    pub sdf_stride: usize,
    /// Refine platform poses by point-to-SDF alignment on the fused volume (no raycast, no
    /// projective ICP) in `Tracker::track`; a frame it loses (or
    /// `false`) is refined by raycast + ICP as without a pose. The platform pose is a good
    /// enough initial guess for the SDF's narrow basin (the truncation band). Off by
    /// default: it is faster, but the fused finger comes out smaller.
    /// See docs/tuning.md#track.
    pub platform_sdf_tracking: bool,
    /// Point-to-SDF alignment: about this many live points in the coarse stage...
    pub sdf_coarse_points: usize,
    /// ...and at most this many Gauss–Newton iterations there.
    pub sdf_coarse_iterations: usize,
    /// Point-to-SDF alignment: about this many live points in the fine stage...
    pub sdf_fine_points: usize,
    /// ...and at most this many Gauss–Newton iterations there.
    pub sdf_fine_iterations: usize,
    /// Point-to-SDF alignment: live points farther than this from the fused surface are
    /// not used (metres; at least 3x the frame's own depth noise). The health statistics
    /// use the finest ICP gate, capped below the truncation distance.
    pub sdf_gate_m: f32,
    /// Predict the next pose with constant velocity when no platform pose is given.
    pub constant_velocity: bool,
    /// Run a k-d tree (nearest-neighbour) ICP before projective ICP on the second frame and
    /// after a lost frame, where the initial guess can be far off.
    pub nn_relocalise: bool,
}

impl Default for TrackConfig {
    fn default() -> Self {
        Self {
            pyramid_levels: 3,
            iterations: vec![4, 6, 12],
            max_distance_m: vec![0.006, 0.012, 0.03],
            max_normal_angle_deg: vec![30.0, 40.0, 55.0],
            huber_delta_m: 0.002,
            convergence_m: 2e-6,
            min_depth_m: 0.1,
            max_depth_m: 0.6,
            edge_jump_ratio: 0.05,
            min_inlier_ratio: 0.5,
            min_overlap_ratio: 0.1,
            min_inliers: 300,
            max_residual_m: 0.003,
            min_conditioning: 1e-4,
            max_jump_m: 0.06,
            max_jump_deg: 20.0,
            prior_sigma_translation_m: 0.002,
            prior_sigma_rotation_rad: 0.3f64.to_radians(),
            point_sigma_m: 0.001,
            effective_points: 400.0,
            raycast_downscale: 2,
            raycast_downscale_no_pose: 3,
            raycast_window_px: 0,
            platform_model_stride: 2,
            platform_first_level: 0,
            platform_sparse_min_pixels: 16_000,
            sdf_refine_iterations: 6,
            sdf_stride: 4,
            platform_sdf_tracking: false,
            sdf_coarse_points: 1500,
            sdf_coarse_iterations: 6,
            sdf_fine_points: 6000,
            sdf_fine_iterations: 8,
            sdf_gate_m: 0.002,
            constant_velocity: true,
            nn_relocalise: true,
        }
    }
}

impl TrackConfig {
    /// Settings for phone LiDAR depth (256x192, centimetre-level noise): ICP counts for
    /// fewer independent observations, so platform poses keep more weight.
    pub fn lidar() -> Self {
        Self {
            effective_points: 50.0,
            // Centimetre-level noise scatters points beyond the truncation band: most fall
            // where the SDF is flat (measured: 30 % inliers), so refine by raycast + ICP.
            platform_sdf_tracking: false,
            ..Self::default()
        }
    }

    /// Settings for a scan's `sensor` string: [`TrackConfig::lidar`] when it names LiDAR,
    /// else the default (TrueDepth-like).
    pub fn for_sensor(sensor: &str) -> Self {
        if sensor.to_ascii_lowercase().contains("lidar") {
            Self::lidar()
        } else {
            Self::default()
        }
    }

    /// Checks every value is in range.
    pub fn validate(&self) -> Result<(), TrackError> {
        let bad = |m: String| Err(TrackError::Config(m));
        if !(1..=4).contains(&self.pyramid_levels) {
            return bad(format!(
                "pyramid_levels = {} (allowed 1..=4)",
                self.pyramid_levels
            ));
        }
        for (name, len) in [
            ("iterations", self.iterations.len()),
            ("max_distance_m", self.max_distance_m.len()),
            ("max_normal_angle_deg", self.max_normal_angle_deg.len()),
        ] {
            if len < self.pyramid_levels {
                return bad(format!(
                    "{name} has {len} entries, needs one per pyramid level ({})",
                    self.pyramid_levels
                ));
            }
        }
        if self
            .iterations
            .iter()
            .take(self.pyramid_levels)
            .any(|&i| i == 0 || i > 100)
        {
            return bad("iterations per level must be 1..=100".into());
        }
        if self
            .max_distance_m
            .iter()
            .any(|d| !(d.is_finite() && *d > 0.0 && *d < 1.0))
        {
            return bad("max_distance_m entries must be in (0, 1) metres".into());
        }
        if self
            .max_normal_angle_deg
            .iter()
            .any(|a| !(a.is_finite() && *a > 0.0 && *a <= 90.0))
        {
            return bad("max_normal_angle_deg entries must be in (0, 90]".into());
        }
        let pos = [
            ("huber_delta_m", self.huber_delta_m),
            ("convergence_m", self.convergence_m),
            ("max_residual_m", self.max_residual_m),
            ("max_jump_m", self.max_jump_m),
            ("max_jump_deg", self.max_jump_deg),
            ("prior_sigma_translation_m", self.prior_sigma_translation_m),
            ("prior_sigma_rotation_rad", self.prior_sigma_rotation_rad),
            ("point_sigma_m", self.point_sigma_m),
            ("effective_points", self.effective_points),
        ];
        for (name, v) in pos {
            if !(v.is_finite() && v > 0.0) {
                return bad(format!("{name} = {v} (must be finite and > 0)"));
            }
        }
        if !(self.min_depth_m.is_finite()
            && self.max_depth_m.is_finite()
            && self.min_depth_m >= 0.0
            && self.max_depth_m > self.min_depth_m)
        {
            return bad(format!(
                "depth range {}..{} m is not a finite increasing range",
                self.min_depth_m, self.max_depth_m
            ));
        }
        if !(self.edge_jump_ratio.is_finite() && self.edge_jump_ratio > 0.0) {
            return bad(format!(
                "edge_jump_ratio = {} (must be > 0)",
                self.edge_jump_ratio
            ));
        }
        if self.sdf_refine_iterations > 50 || !(1..=64).contains(&self.sdf_stride) {
            return bad(format!(
                "sdf_refine_iterations = {} (allowed 0..=50), sdf_stride = {} (allowed 1..=64)",
                self.sdf_refine_iterations, self.sdf_stride
            ));
        }
        if !((1..=1_000_000).contains(&self.sdf_coarse_points)
            && (1..=1_000_000).contains(&self.sdf_fine_points)
            && self.sdf_coarse_iterations <= 50
            && (1..=50).contains(&self.sdf_fine_iterations)
            && self.sdf_gate_m.is_finite()
            && self.sdf_gate_m > 0.0)
        {
            return bad(format!(
                "point-to-SDF stages: points {} / {} (allowed 1..=1000000), iterations {} / {} (allowed 0..=50 / 1..=50), fine gate {} m (must be > 0)",
                self.sdf_coarse_points,
                self.sdf_fine_points,
                self.sdf_coarse_iterations,
                self.sdf_fine_iterations,
                self.sdf_gate_m
            ));
        }
        for (name, v) in [
            ("raycast_downscale", self.raycast_downscale),
            ("raycast_downscale_no_pose", self.raycast_downscale_no_pose),
        ] {
            if !(1..=8).contains(&v) {
                return bad(format!("{name} = {v} (allowed 1..=8)"));
            }
        }
        if !(1..=8).contains(&self.platform_model_stride) {
            return bad(format!(
                "platform_model_stride = {} (allowed 1..=8)",
                self.platform_model_stride
            ));
        }
        if self.raycast_window_px > 64 {
            return bad(format!(
                "raycast_window_px = {} (allowed 0..=64)",
                self.raycast_window_px
            ));
        }
        if !(0.0..=1.0).contains(&self.min_overlap_ratio) {
            return bad(format!(
                "min_overlap_ratio = {} (must be in [0, 1])",
                self.min_overlap_ratio
            ));
        }
        if !(0.0..=1.0).contains(&self.min_inlier_ratio) {
            return bad(format!(
                "min_inlier_ratio = {} (must be in [0, 1])",
                self.min_inlier_ratio
            ));
        }
        if !(self.min_conditioning.is_finite() && self.min_conditioning >= 0.0) {
            return bad(format!(
                "min_conditioning = {} (must be >= 0)",
                self.min_conditioning
            ));
        }
        Ok(())
    }

    pub(super) fn live_params(&self) -> LiveParams {
        LiveParams {
            min_depth_m: self.min_depth_m,
            max_depth_m: self.max_depth_m,
            edge_jump_ratio: self.edge_jump_ratio,
            min_view_cos: 0.2,
            levels: self.pyramid_levels,
            first_level: 0,
        }
    }

    pub(super) fn icp_params(&self, prior: Option<PosePrior>) -> IcpParams {
        let n = self.pyramid_levels;
        IcpParams {
            iterations: self.iterations[..n].to_vec(),
            max_distance_m: self.max_distance_m[..n].to_vec(),
            min_normal_cos: self.max_normal_angle_deg[..n]
                .iter()
                .map(|a| a.to_radians().cos())
                .collect(),
            huber_delta_m: self.huber_delta_m,
            convergence_m: self.convergence_m,
            point_sigma_m: self.point_sigma_m,
            effective_points: self.effective_points,
            prior,
            model_grid: 1,
        }
    }
}

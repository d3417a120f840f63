//! Camera pose tracking: frame-to-model point-to-plane ICP when the platform gives no pose,
//! and refinement of platform poses against the model when it does.
//!
//! Guarantees:
//! - Every call returns a pose and a [`TrackHealth`]; a frame whose alignment cannot be
//!   trusted (too few inliers, residual too high, degenerate geometry, implausible jump, no
//!   usable depth) has status [`TrackStatus::Lost`] with a [`LostReason`], and must be
//!   skipped by the caller (not fused). The tracker's own state only advances on `Ok` frames,
//!   so a lost frame cannot corrupt later tracking.
//! - Bad arguments (intrinsics that do not match the frame, invalid intrinsics, a non-finite
//!   prior) are a typed [`TrackError`], never a panic.
//! - The first frame defines the world frame when no pose is given (identity), or keeps the
//!   platform pose when one is given.
//! - With a platform pose, the result minimises ICP cost plus a Gaussian prior on deviation
//!   from the platform pose ([`TrackConfig::prior_sigma_translation_m`],
//!   [`TrackConfig::prior_sigma_rotation_rad`]): directions the geometry does not constrain
//!   stay at the platform pose, well-constrained ones follow the model.
//!
//! Nothing here logs, stores or copies depth beyond the current call.

mod config;
mod icp;
mod live;
mod model;
mod nn;
mod normal_eq;
#[cfg(any(test, feature = "internals"))]
mod scan;
mod sdf;
mod window;

pub use config::TrackConfig;
#[cfg(feature = "internals")]
pub use live::LiveLevel;
pub use model::ModelMap;
#[cfg(any(test, feature = "internals"))]
pub use scan::{ScanTracker, TrackSummary, TrackedFrame};

#[cfg(any(test, feature = "internals"))]
use crate::frame::{pose, Intrinsics};
use crate::frame::{DepthFrame, DepthView, FrameError, ValidIntrinsics};
use crate::fuse::{FuseError, TsdfVolume};
use icp::{IcpOutcome, ModelSrc, PosePrior};
use live::{build_pyramid, build_pyramid_into, LiveParams};
use model::LazyModel;
use nalgebra::Isometry3;
use nalgebra::{Point3, Vector3};
use serde::Serialize;

/// Errors from tracking calls (bad arguments; a frame that merely cannot be aligned is a
/// [`TrackStatus::Lost`] result, not an error).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TrackError {
    /// The frame, intrinsics or a pose is invalid (size mismatch, bad intrinsics, non-finite pose).
    #[error("tracking input: {0}")]
    Frame(#[from] FrameError),
    /// A model map's buffers do not match its intrinsics' size.
    #[error("model map has {points} points and {normals} normals, expected {width}x{height}")]
    ModelSize {
        /// Points supplied.
        points: usize,
        /// Normals supplied.
        normals: usize,
        /// Expected width.
        width: u32,
        /// Expected height.
        height: u32,
    },
    /// A configuration value is out of its allowed range.
    #[error("invalid tracking configuration: {0}")]
    Config(String),
    /// Raycasting or fusing the model failed.
    #[error("fusion during tracking: {0}")]
    Fuse(#[from] FuseError),
}

/// Whether a frame's pose can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TrackStatus {
    /// Aligned (or bootstrapped): fuse this frame with the returned pose.
    Ok,
    /// Not aligned: skip this frame (do not fuse); see [`TrackHealth::lost_reason`].
    Lost,
}

/// Why a frame was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LostReason {
    /// The frame has no usable depth in the working range.
    NoDepth,
    /// The model has no surface visible from the initial guess.
    EmptyModel,
    /// Too few live points matched the model.
    TooFewInliers,
    /// The matched points disagree with the model by more than the residual limit.
    HighResidual,
    /// The geometry does not constrain all six degrees of freedom.
    Degenerate,
    /// The solution jumped implausibly far from the initial guess.
    Jump,
}

impl std::fmt::Display for LostReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LostReason::NoDepth => "no usable depth",
            LostReason::EmptyModel => "model not visible",
            LostReason::TooFewInliers => "too few inliers",
            LostReason::HighResidual => "residual too high",
            LostReason::Degenerate => "degenerate geometry",
            LostReason::Jump => "implausible jump",
        })
    }
}

/// Per-frame tracking health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackHealth {
    /// Ok or Lost.
    pub status: TrackStatus,
    /// Why the frame was lost (None when Ok).
    pub lost_reason: Option<LostReason>,
    /// RMS point-to-plane residual of inliers at full resolution (metres; 0 when bootstrapping).
    pub residual_m: f64,
    /// Inliers / live points landing on modelled surface, at full resolution.
    pub inlier_ratio: f64,
    /// Live points landing on modelled surface / usable live points, at full resolution.
    pub overlap_ratio: f64,
    /// Gauss–Newton iterations run over all levels (and the nearest-neighbour stage).
    pub iterations: u32,
    /// Eigenvalue ratio of the scaled data Hessian (1 = isotropic, 0 = unconstrained).
    pub conditioning: f64,
    /// Distance of the result from the platform pose (metres), when one was given.
    pub prior_deviation_m: Option<f64>,
    /// Rotation of the result from the platform pose (degrees), when one was given.
    pub prior_deviation_deg: Option<f64>,
}

/// A tracked pose and its health.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackResult {
    /// Camera-to-world pose (the initial guess when lost).
    pub pose: Isometry3<f64>,
    /// How trustworthy the pose is.
    pub health: TrackHealth,
}

/// Frame-to-model tracker. Keeps the last good poses (for the motion prediction) between calls.
#[derive(Debug, Clone)]
pub struct Tracker {
    config: TrackConfig,
    last: Option<Isometry3<f64>>,
    before_last: Option<Isometry3<f64>>,
    lost_since_last: u32,
    frames_ok: u32,
    /// Buffers reused from frame to frame (raycast image, ray windows); hold no depth
    /// between calls that matters (overwritten by every call).
    scratch: Scratch,
}

/// Per-frame buffers kept to avoid reallocating (and page-faulting) them every frame.
#[derive(Debug, Clone, Default)]
struct Scratch {
    points: Vec<Point3<f32>>,
    normals: Vec<Vector3<f32>>,
    done: Vec<bool>,
    mask: Vec<bool>,
    mask_tmp: Vec<bool>,
    /// The live pyramid of the current frame and its build buffers.
    pyramid: Vec<live::LiveLevel>,
    pyramid_buffers: live::PyramidScratch,
}

/// Where the model comes from in one tracking call.
enum ModelSource<'a> {
    /// A given vertex/normal map (only the stage API `Tracker::track_map` passes one).
    #[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
    Map(&'a ModelMap),
    /// Raycast this volume at the initial guess (with intrinsics `k`).
    Volume(&'a TsdfVolume, ValidIntrinsics),
}

/// The model of one tracking call, ready for ICP.
#[allow(clippy::large_enum_variant)] // one per tracking call, on the stack
enum Prepared<'m, 'v> {
    /// A given vertex/normal map.
    Map(&'m ModelMap),
    /// The volume, and its raycast at the initial guess (cast up front where live depth
    /// is, the rest on demand).
    Volume(&'v TsdfVolume, Result<LazyModel<'v>, TrackError>),
}

/// Translation (metres) and rotation (degrees) between two poses.
pub fn pose_distance(a: &Isometry3<f64>, b: &Isometry3<f64>) -> (f64, f64) {
    let d = a.inverse() * b;
    (
        (a.translation.vector - b.translation.vector).norm(),
        d.rotation.angle().to_degrees(),
    )
}

/// A `Lost` result at the initial guess (`had_prior`: a platform pose was given).
fn lost_at(
    guess: Isometry3<f64>,
    had_prior: bool,
    reason: LostReason,
    iterations: u32,
) -> TrackResult {
    TrackResult {
        pose: guess,
        health: TrackHealth {
            status: TrackStatus::Lost,
            lost_reason: Some(reason),
            residual_m: f64::NAN,
            inlier_ratio: 0.0,
            overlap_ratio: 0.0,
            iterations,
            conditioning: 0.0,
            prior_deviation_m: had_prior.then_some(0.0),
            prior_deviation_deg: had_prior.then_some(0.0),
        },
    }
}

impl Tracker {
    /// A tracker with the given settings (checked).
    pub fn new(config: TrackConfig) -> Result<Self, TrackError> {
        config.validate()?;
        Ok(Self {
            config,
            last: None,
            before_last: None,
            lost_since_last: 0,
            frames_ok: 0,
            scratch: Scratch::default(),
        })
    }

    /// The settings.
    #[cfg(any(test, feature = "internals"))]
    pub fn config(&self) -> &TrackConfig {
        &self.config
    }

    /// The last pose accepted (Ok), if any.
    #[cfg(any(test, feature = "internals"))]
    pub fn last_pose(&self) -> Option<Isometry3<f64>> {
        self.last
    }

    /// The initial guess for the next frame: the platform pose if given, else a constant
    /// velocity prediction from the last two good poses, else the last good pose, else identity.
    pub fn predict(&self, prior: Option<&Isometry3<f64>>) -> Isometry3<f64> {
        if let Some(p) = prior {
            return *p;
        }
        match (self.last, self.before_last) {
            (Some(l), Some(b)) if self.config.constant_velocity && self.lost_since_last == 0 => {
                // Apply the last relative motion once more (in the camera frame).
                let mut p = l * (b.inverse() * l);
                p.rotation.renormalize();
                p
            }
            (Some(l), _) => l,
            _ => Isometry3::identity(),
        }
    }

    /// Tracks one frame against the fused model: raycasts `model` at the initial guess
    /// ([`Tracker::predict`]) and aligns the frame to it ([`Tracker::track_map`]). An empty
    /// model bootstraps ([`Tracker::bootstrap`]): the pose is `prior` or identity. Only `Ok`
    /// frames advance the tracker; the caller fuses only `Ok` frames.
    #[cfg(any(test, feature = "internals"))]
    pub fn track(
        &mut self,
        depth: &DepthFrame,
        k: &Intrinsics,
        model: &TsdfVolume,
        prior: Option<Isometry3<f64>>,
    ) -> Result<TrackResult, TrackError> {
        let view = DepthView::new(depth, k)?;
        if let Some(p) = &prior {
            pose::validate(p)?;
        }
        self.track_view(view, model, prior)
    }

    /// [`Tracker::track`] of a checked depth image; `prior`, when given, passed
    /// [`pose::validate`] (a [`crate::frame::ValidFrame`]'s pose).
    pub(crate) fn track_view(
        &mut self,
        view: DepthView<'_>,
        model: &TsdfVolume,
        prior: Option<Isometry3<f64>>,
    ) -> Result<TrackResult, TrackError> {
        let k = view.intrinsics();
        if model.block_count() == 0 {
            return Ok(self.bootstrap(view.depth(), prior));
        }
        if let (Some(p), true) = (prior, self.config.platform_sdf_tracking) {
            let lost_before = self.lost_since_last;
            let r = self.track_sdf(view, model, p)?;
            if r.health.status == TrackStatus::Ok {
                return Ok(r);
            }
            // The SDF's basin is the truncation band: fall back to raycast + ICP.
            self.lost_since_last = lost_before;
        }
        let s = if prior.is_some() {
            self.config.raycast_downscale
        } else {
            self.config.raycast_downscale_no_pose
        }
        .max(1);
        let k_model = if s > 1 && k.width / s >= 16 && k.height / s >= 16 {
            k.scaled_to(k.width / s, k.height / s)?
        } else {
            k
        };
        self.track_inner(view, ModelSource::Volume(model, k_model), prior)
    }

    /// The first frame: accepted at `prior` or identity, if it has usable depth.
    pub fn bootstrap(&mut self, depth: &DepthFrame, prior: Option<Isometry3<f64>>) -> TrackResult {
        let pose = prior.unwrap_or_else(Isometry3::identity);
        let usable = depth
            .depth_m()
            .iter()
            .filter(|&&z| z >= self.config.min_depth_m && z <= self.config.max_depth_m)
            .count();
        let ok = usable >= self.config.min_inliers;
        if ok {
            self.accept(pose);
        }
        TrackResult {
            pose,
            health: TrackHealth {
                status: if ok {
                    TrackStatus::Ok
                } else {
                    TrackStatus::Lost
                },
                lost_reason: if ok { None } else { Some(LostReason::NoDepth) },
                residual_m: 0.0,
                inlier_ratio: if ok { 1.0 } else { 0.0 },
                overlap_ratio: if ok { 1.0 } else { 0.0 },
                iterations: 0,
                conditioning: 1.0,
                prior_deviation_m: prior.map(|_| 0.0),
                prior_deviation_deg: prior.map(|_| 0.0),
            },
        }
    }

    fn accept(&mut self, pose: Isometry3<f64>) {
        self.before_last = if self.lost_since_last == 0 {
            self.last
        } else {
            None
        };
        self.last = Some(pose);
        self.lost_since_last = 0;
        self.frames_ok += 1;
    }

    /// Tracks one frame against a model vertex/normal map (a raycast, or a previous frame).
    /// With `prior` (platform pose) the solution is regularised towards it; without, the
    /// initial guess is the motion prediction.
    #[cfg(any(test, feature = "internals"))]
    pub fn track_map(
        &mut self,
        depth: &DepthFrame,
        k: &Intrinsics,
        model: &ModelMap,
        prior: Option<Isometry3<f64>>,
    ) -> Result<TrackResult, TrackError> {
        let view = DepthView::new(depth, k)?;
        if let Some(p) = &prior {
            pose::validate(p)?;
        }
        self.track_inner(view, ModelSource::Map(model), prior)
    }

    /// Tracks a checked depth image against `source` (`prior` checked by the caller).
    fn track_inner(
        &mut self,
        view: DepthView<'_>,
        source: ModelSource<'_>,
        prior: Option<Isometry3<f64>>,
    ) -> Result<TrackResult, TrackError> {
        let (depth, k) = (view.depth(), view.intrinsics());
        let k = k.get();
        let cfg = self.config.clone();
        let mut pyramid = std::mem::take(&mut self.scratch.pyramid);
        // A dense frame refined against the volume from a platform pose: sparse pairing,
        // and no full-resolution points (see `platform_model_stride`).
        let sparse = prior.is_some()
            && matches!(source, ModelSource::Volume(..))
            && depth
                .depth_m()
                .iter()
                .filter(|&&z| z >= cfg.min_depth_m && z <= cfg.max_depth_m)
                .count()
                >= cfg.platform_sparse_min_pixels;
        let first_level = if sparse {
            cfg.platform_first_level.min(cfg.pyramid_levels - 1)
        } else {
            0
        };
        let grid = if sparse {
            cfg.platform_model_stride.max(1) as usize
        } else {
            1
        };
        let guess = self.predict(prior.as_ref());
        // The live pyramid and the up-front raycast of the model do not depend on each
        // other: built side by side (each is the same as when built alone).
        let Scratch {
            points,
            normals,
            done,
            mask,
            mask_tmp,
            pyramid_buffers,
            ..
        } = &mut self.scratch;
        let ((), model) = rayon::join(
            || {
                build_pyramid_into(
                    depth,
                    k,
                    &LiveParams {
                        first_level,
                        ..cfg.live_params()
                    },
                    pyramid_buffers,
                    &mut pyramid,
                )
            },
            || match source {
                ModelSource::Map(m) => Prepared::Map(m),
                ModelSource::Volume(vol, k_model) => {
                    // Raycast up front only where live points will land; the rest on demand.
                    window::live_mask(
                        depth,
                        k,
                        &k_model,
                        cfg.raycast_window_px as usize,
                        (cfg.min_depth_m, cfg.max_depth_m),
                        mask,
                        mask_tmp,
                    );
                    if grid > 1 {
                        // Only the model pixels ICP pairs live points with.
                        let w = k_model.width as usize;
                        for (i, f) in mask.iter_mut().enumerate() {
                            *f &= (i % w) % grid == 1 && (i / w) % grid == 1;
                        }
                    }
                    Prepared::Volume(
                        vol,
                        LazyModel::new(
                            vol,
                            k_model,
                            guess,
                            std::mem::take(points),
                            std::mem::take(normals),
                            std::mem::take(done),
                        )
                        .map(|mut lazy| {
                            lazy.cast_mask(mask);
                            lazy
                        }),
                    )
                }
            },
        );
        let result = self.track_pyramid(&pyramid, first_level, grid, model, prior, guess);
        self.scratch.pyramid = pyramid;
        result
    }

    /// [`Tracker::track_inner`] once the live pyramid and the model are ready.
    fn track_pyramid(
        &mut self,
        pyramid: &[live::LiveLevel],
        first_level: usize,
        grid: usize,
        model: Prepared<'_, '_>,
        prior: Option<Isometry3<f64>>,
        guess: Isometry3<f64>,
    ) -> Result<TrackResult, TrackError> {
        // ICP runs on levels `first_level..` only, with their settings.
        let mut cfg = self.config.clone();
        let first_level = first_level.min(pyramid.len().saturating_sub(1));
        let pyramid = &pyramid[first_level..];
        if first_level > 0 {
            cfg.pyramid_levels = pyramid.len();
            cfg.iterations.drain(..first_level);
            cfg.max_distance_m.drain(..first_level);
            cfg.max_normal_angle_deg.drain(..first_level);
        }
        let lost = |reason: LostReason, iterations: u32, this: &mut Self| {
            this.lost_since_last += 1;
            lost_at(guess, prior.is_some(), reason, iterations)
        };
        let finest_points = pyramid.first().map_or(0, |l| l.points.len());
        if finest_points < cfg.min_inliers {
            if let Prepared::Volume(_, Ok(lazy)) = model {
                self.give_back(lazy);
            }
            return Ok(lost(LostReason::NoDepth, 0, self));
        }
        // Noisy sensors (phone LiDAR) get wider gates and less weight against the prior.
        let noise = pyramid.first().map_or(0.0, |l| l.noise_m as f64);
        match model {
            Prepared::Volume(vol, lazy) => {
                let mut lazy = lazy?;
                let result = self.align(
                    &cfg,
                    pyramid,
                    ModelSrc::Lazy(&mut lazy),
                    Some(vol),
                    prior,
                    guess,
                    noise,
                    grid,
                );
                self.give_back(lazy);
                result
            }
            Prepared::Map(m) => self.align(
                &cfg,
                pyramid,
                ModelSrc::Fixed(m),
                None,
                prior,
                guess,
                noise,
                1,
            ),
        }
    }

    /// Keeps a lazy raycast's buffers for the next frame.
    fn give_back(&mut self, lazy: LazyModel<'_>) {
        let (points, normals, done) = lazy.into_buffers();
        self.scratch.points = points;
        self.scratch.normals = normals;
        self.scratch.done = done;
    }

    /// Aligns the live pyramid to `model` from the initial guess.
    #[allow(clippy::too_many_arguments)]
    fn align(
        &mut self,
        cfg: &TrackConfig,
        pyramid: &[live::LiveLevel],
        mut model: ModelSrc<'_, '_>,
        volume: Option<&TsdfVolume>,
        prior: Option<Isometry3<f64>>,
        guess: Isometry3<f64>,
        noise: f64,
        grid: usize,
    ) -> Result<TrackResult, TrackError> {
        let lost = |reason: LostReason, iterations: u32, this: &mut Self| {
            this.lost_since_last += 1;
            lost_at(guess, prior.is_some(), reason, iterations)
        };
        if model.map().surface_pixels() < cfg.min_inliers {
            // Decide on the whole rendering, as a full raycast would.
            model.complete();
            if model.map().surface_pixels() < cfg.min_inliers {
                return Ok(lost(LostReason::EmptyModel, 0, self));
            }
        }
        let pose_prior = prior.map(|p| PosePrior {
            pose: p,
            info_rotation: 1.0 / cfg.prior_sigma_rotation_rad.powi(2),
            info_translation: 1.0 / cfg.prior_sigma_translation_m.powi(2),
        });
        // Far initial guesses (second frame, after a lost frame): nearest-neighbour ICP first.
        let mut init = guess;
        let mut nn_iterations = 0;
        let needs_nn = prior.is_none() && (self.before_last.is_none() || self.lost_since_last > 0);
        if cfg.nn_relocalise && needs_nn {
            model.complete();
            if let Some((p, it)) = nn::align(pyramid, model.map(), &guess, cfg) {
                init = p;
                nn_iterations = it;
            }
        }
        let mut params = cfg.icp_params(pose_prior);
        params.model_grid = grid;
        params.point_sigma_m = params.point_sigma_m.max(noise);
        params.huber_delta_m = params.huber_delta_m.max(2.0 * noise);
        for d in params.max_distance_m.iter_mut() {
            *d = d.max(4.0 * noise as f32);
        }
        let max_residual_m = cfg.max_residual_m.max(1.5 * noise);
        let mut out = icp::run(pyramid, &mut model, &init, &params);
        // Final refinement on the signed distance field itself, when the volume is at hand.
        if let (Some(vol), Some(finest)) = (volume, pyramid.first()) {
            if cfg.sdf_refine_iterations > 0 && prior.is_none() {
                let centre = pyramid
                    .last()
                    .and_then(|l| icp::centre_of(l, &out.pose))
                    .map(|(c, _)| c);
                if let Some(c) = centre {
                    let gate = params.max_distance_m.first().copied().unwrap_or(0.006);
                    if let Some((p, it)) = sdf::refine(
                        finest,
                        vol,
                        &out.pose,
                        &c,
                        &params,
                        cfg.sdf_stride,
                        cfg.sdf_refine_iterations,
                        gate,
                    ) {
                        out.pose = p;
                        out.iterations += it;
                    }
                }
            }
        }
        Ok(self.decide(cfg, &out, nn_iterations, guess, prior, max_residual_m))
    }

    /// Refines a platform pose by point-to-SDF alignment of the full-resolution live points
    /// on `volume` (see [`sdf::track`]); the same health checks as ICP.
    fn track_sdf(
        &mut self,
        view: DepthView<'_>,
        volume: &TsdfVolume,
        prior: Isometry3<f64>,
    ) -> Result<TrackResult, TrackError> {
        let (depth, k) = (view.depth(), view.intrinsics());
        let k = k.get();
        let cfg = self.config.clone();
        let guess = self.predict(Some(&prior));
        let live = LiveParams {
            levels: 1,
            ..cfg.live_params()
        };
        let pyramid = build_pyramid(depth, k, &live);
        let Some(finest) = pyramid
            .first()
            .filter(|l| l.points.len() >= cfg.min_inliers)
        else {
            self.lost_since_last += 1;
            return Ok(lost_at(guess, true, LostReason::NoDepth, 0));
        };
        let noise = finest.noise_m as f64;
        let pose_prior = PosePrior {
            pose: prior,
            info_rotation: 1.0 / cfg.prior_sigma_rotation_rad.powi(2),
            info_translation: 1.0 / cfg.prior_sigma_translation_m.powi(2),
        };
        let mut params = cfg.icp_params(Some(pose_prior));
        params.point_sigma_m = params.point_sigma_m.max(noise);
        params.huber_delta_m = params.huber_delta_m.max(2.0 * noise);
        let gate = cfg
            .max_distance_m
            .first()
            .copied()
            .unwrap_or(0.006)
            .max(4.0 * noise as f32)
            // Beyond ~the truncation distance the field is flat (clamped): no surface.
            .min(0.95 * volume.config().truncation_m());
        let max_residual_m = cfg.max_residual_m.max(1.5 * noise);
        let sp = sdf::SdfTrackParams {
            coarse_points: cfg.sdf_coarse_points,
            coarse_iterations: cfg.sdf_coarse_iterations,
            fine_points: cfg.sdf_fine_points,
            fine_iterations: cfg.sdf_fine_iterations,
            gate_m: cfg.sdf_gate_m.max(3.0 * noise as f32).min(gate),
            stats_gate_m: gate,
            min_normal_cos: params.min_normal_cos.first().copied().unwrap_or(0.7),
        };
        let out = sdf::track(finest, volume, &guess, &params, &sp);
        Ok(self.decide(&cfg, &out, 0, guess, Some(prior), max_residual_m))
    }

    /// Health checks of an alignment result: accepts it (advancing the tracker) or reports
    /// it lost with the first failed check.
    fn decide(
        &mut self,
        cfg: &TrackConfig,
        out: &IcpOutcome,
        nn_iterations: u32,
        guess: Isometry3<f64>,
        prior: Option<Isometry3<f64>>,
        max_residual_m: f64,
    ) -> TrackResult {
        let lost = |reason: LostReason, iterations: u32, this: &mut Self| {
            this.lost_since_last += 1;
            lost_at(guess, prior.is_some(), reason, iterations)
        };
        let iterations = out.iterations + nn_iterations;
        // Inliers among the live points that land on modelled surface (new surface seen for
        // the first time is not evidence against the pose).
        let ratio = if out.overlap > 0 {
            out.inliers as f64 / out.overlap as f64
        } else {
            0.0
        };
        let overlap_ratio = if out.candidates > 0 {
            out.overlap as f64 / out.candidates as f64
        } else {
            0.0
        };
        let (jump_m, jump_deg) = pose_distance(&guess, &out.pose);
        let mut reason = None;
        if overlap_ratio < cfg.min_overlap_ratio {
            reason = Some(LostReason::EmptyModel);
        } else if out.inliers < cfg.min_inliers || ratio < cfg.min_inlier_ratio {
            reason = Some(LostReason::TooFewInliers);
        } else if out.rms_residual_m > max_residual_m {
            reason = Some(LostReason::HighResidual);
        } else if prior.is_none() && (out.singular || out.conditioning < cfg.min_conditioning) {
            reason = Some(LostReason::Degenerate);
        } else if jump_m > cfg.max_jump_m || jump_deg > cfg.max_jump_deg {
            reason = Some(LostReason::Jump);
        }
        if let Some(r) = reason {
            let mut res = lost(r, iterations, self);
            res.health.residual_m = out.rms_residual_m;
            res.health.inlier_ratio = ratio;
            res.health.overlap_ratio = overlap_ratio;
            res.health.conditioning = out.conditioning;
            return res;
        }
        let (dev_m, dev_deg) = match prior {
            Some(p) => {
                let (a, b) = pose_distance(&p, &out.pose);
                (Some(a), Some(b))
            }
            None => (None, None),
        };
        self.accept(out.pose);
        TrackResult {
            pose: out.pose,
            health: TrackHealth {
                status: TrackStatus::Ok,
                lost_reason: None,
                residual_m: out.rms_residual_m,
                inlier_ratio: ratio,
                overlap_ratio,
                iterations,
                conditioning: out.conditioning,
                prior_deviation_m: dev_m,
                prior_deviation_deg: dev_deg,
            },
        }
    }
}

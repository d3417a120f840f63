//! Tracking a whole scan in order while fusing it (track or refine → fuse if Ok → next
//! frame), for tests and tools that fuse a recorded scan without a session (`mandrel fuse`
//! and apps use [`crate::session::ScanSession`]).
//!
//! Guarantees: a frame is fused only when its tracking status is Ok; a lost frame is
//! recorded (with its reason) and skipped, and the scan continues. Frames with a platform
//! pose are refined against the model; frames without are tracked. When the world was
//! defined by a frame without a pose, platform poses of later frames are carried into that
//! world through a rigid offset measured on the first frame that has both (tracked without
//! the prior), so mixed scans stay consistent.

use super::{LostReason, TrackConfig, TrackError, TrackHealth, TrackStatus, Tracker};
use crate::frame::{DepthFrame, Intrinsics};
use crate::fuse::TsdfVolume;
use nalgebra::Isometry3;
use serde::Serialize;

/// What happened to one frame of a scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackedFrame {
    /// Position of the frame in the scan (order of [`ScanTracker::push`] calls).
    pub index: usize,
    /// Pose used for fusion (camera-to-world), `None` when the frame was lost.
    #[serde(skip)]
    pub pose: Option<Isometry3<f64>>,
    /// The frame came with a platform pose.
    pub had_platform_pose: bool,
    /// Tracking health.
    pub health: TrackHealth,
    /// The frame was fused into the volume.
    pub fused: bool,
    /// Time spent tracking (raycast + ICP), milliseconds.
    pub track_ms: f64,
    /// Time spent fusing, milliseconds (0 when not fused).
    pub integrate_ms: f64,
}

/// Totals over a scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackSummary {
    /// Frames pushed.
    pub frames: usize,
    /// Frames tracked Ok (and fused).
    pub ok: usize,
    /// Frames lost (skipped).
    pub lost: usize,
    /// Indices of the lost frames.
    pub lost_frames: Vec<usize>,
    /// Mean RMS residual over Ok frames after the first (metres).
    pub mean_residual_m: f64,
    /// Mean inlier ratio over Ok frames after the first.
    pub mean_inlier_ratio: f64,
    /// Mean distance of refined poses from platform poses (metres), over refined frames.
    pub mean_prior_deviation_m: Option<f64>,
    /// Mean tracking time per frame after the first (raycast + ICP), milliseconds.
    pub track_ms_per_frame: f64,
}

/// Tracks and fuses a scan frame by frame.
#[derive(Debug, Clone)]
pub struct ScanTracker {
    tracker: Tracker,
    frames: Vec<TrackedFrame>,
    /// world = offset * platform world, once known.
    platform_offset: Option<Isometry3<f64>>,
    /// The world was defined by a frame without a platform pose.
    world_from_tracking: bool,
}

impl ScanTracker {
    /// A scan tracker with the given tracking settings.
    pub fn new(config: TrackConfig) -> Result<Self, TrackError> {
        Ok(Self {
            tracker: Tracker::new(config)?,
            frames: Vec::new(),
            platform_offset: None,
            world_from_tracking: false,
        })
    }

    /// Tracks the next frame against `volume` (refining `platform_pose` when given) and, if
    /// it is Ok, fuses it into `volume`. Returns the frame's record.
    pub fn push(
        &mut self,
        depth: &DepthFrame,
        k: &Intrinsics,
        platform_pose: Option<Isometry3<f64>>,
        volume: &mut TsdfVolume,
    ) -> Result<&TrackedFrame, TrackError> {
        let index = self.frames.len();
        let empty = volume.block_count() == 0;
        if empty && self.tracker.last_pose().is_none() {
            self.world_from_tracking = platform_pose.is_none();
            if platform_pose.is_some() {
                self.platform_offset = Some(Isometry3::identity());
            }
        }
        // Platform pose carried into our world, if the offset is known.
        let prior = match (platform_pose, self.platform_offset) {
            (Some(p), Some(g)) => {
                let mut q = g * p;
                q.rotation.renormalize();
                Some(q)
            }
            _ => None,
        };
        let started = std::time::Instant::now();
        let mut result = self.tracker.track(depth, k, volume, prior)?;
        let track_ms = started.elapsed().as_secs_f64() * 1e3;
        let started = std::time::Instant::now();
        if result.health.status == TrackStatus::Ok && self.platform_offset.is_none() && !empty {
            if let Some(p) = platform_pose {
                // First frame with both: measure the offset between the worlds.
                self.platform_offset = Some(result.pose * p.inverse());
            }
        }
        let mut fused = false;
        if result.health.status == TrackStatus::Ok {
            volume.integrate(depth, k, &result.pose)?;
            fused = true;
        }
        if empty && !fused {
            // Nothing fused yet: the next frame bootstraps again.
            result.health.status = TrackStatus::Lost;
            result.health.lost_reason.get_or_insert(LostReason::NoDepth);
        }
        self.frames.push(TrackedFrame {
            index,
            pose: (result.health.status == TrackStatus::Ok).then_some(result.pose),
            had_platform_pose: platform_pose.is_some(),
            health: result.health,
            fused,
            track_ms,
            integrate_ms: if fused {
                started.elapsed().as_secs_f64() * 1e3
            } else {
                0.0
            },
        });
        // `frames` was just pushed to.
        Ok(&self.frames[self.frames.len() - 1])
    }

    /// Records of all frames pushed so far.
    pub fn frames(&self) -> &[TrackedFrame] {
        &self.frames
    }

    /// Whether the world frame was defined by a frame without a platform pose (identity).
    pub fn world_from_tracking(&self) -> bool {
        self.world_from_tracking
    }

    /// Rigid offset from the platform's world to the tracking world (`None` until measured).
    pub fn platform_offset(&self) -> Option<Isometry3<f64>> {
        self.platform_offset
    }

    /// Totals over the frames pushed so far.
    pub fn summary(&self) -> TrackSummary {
        let ok: Vec<&TrackedFrame> = self
            .frames
            .iter()
            .filter(|f| f.health.status == TrackStatus::Ok)
            .collect();
        let tracked: Vec<&&TrackedFrame> = ok.iter().filter(|f| f.health.iterations > 0).collect();
        let mean = |v: Vec<f64>| {
            if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        let devs: Vec<f64> = ok
            .iter()
            .filter(|f| f.health.iterations > 0)
            .filter_map(|f| f.health.prior_deviation_m)
            .collect();
        TrackSummary {
            frames: self.frames.len(),
            ok: ok.len(),
            lost: self.frames.len() - ok.len(),
            lost_frames: self
                .frames
                .iter()
                .filter(|f| f.health.status == TrackStatus::Lost)
                .map(|f| f.index)
                .collect(),
            mean_residual_m: mean(tracked.iter().map(|f| f.health.residual_m).collect()),
            mean_inlier_ratio: mean(tracked.iter().map(|f| f.health.inlier_ratio).collect()),
            mean_prior_deviation_m: (!devs.is_empty()).then(|| mean(devs)),
            track_ms_per_frame: mean(self.frames.iter().skip(1).map(|f| f.track_ms).collect()),
        }
    }
}

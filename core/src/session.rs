//! The live scan pipeline a phone shell drives: push frames (and landmarks) as the camera
//! delivers them, show [`Guidance`] while scanning, then [`ScanSession::finish`] for the
//! [`Measurement`].
//!
//! Per frame: the frame is cut to the hand (`segment`: nothing behind or beside it is
//! tracked, fused or observed); a platform pose is used as given; without one the tracker
//! aligns the frame to the fused model (a lost frame is counted and skipped, never fused),
//! so the pose is the hand's relative to the camera; the frame is fused
//! into the TSDF, its compact `FrameObservations` are kept, landmarks are sampled against
//! depth, and the depth image is dropped when [`ScanSession::push_frame`] returns.
//!
//! A fuse-only job (a mesh for display or export, as `mandrel fuse` makes) turns
//! [`SessionConfig::keep_observations`] off: frames are checked, tracked and fused the same
//! way, nothing is kept for measuring, and [`ScanSession::mesh`], [`ScanSession::timings`]
//! and [`ScanSession::tracking_summary`] give the result.
//!
//! Guarantees: bad frames and bad configs are a typed [`SessionError`], never a panic; a
//! rejected frame leaves the session as it was; the session keeps no depth image, writes
//! nothing, logs nothing. `ScanSession` is `Send + Sync` (no interior mutability; wrap it in
//! a `Mutex` to share between a camera thread and a UI thread).

use crate::frame::{Frame, FrameError, Intrinsics, Landmarks, ValidFrame};
use crate::fuse::{FuseError, TsdfConfig, TsdfVolume};
use crate::hand::Target;
use crate::measure::locate::{self, LandmarkView, LocatedFinger};
use crate::measure::observe::{FrameObservations, ObserveConfig, ObserveError, Roi};
use crate::measure::section;
use crate::measure::{
    measure_detailed, MeasureDetail, MeasureError, MeasureInput, MeasureOptions, Measurement,
    Reason, Status, Timings, TrackingSummary, MIN_VIEW_SPAN_DEG,
};
use crate::mesh::{self, Mesh};
use crate::numeric::{cross_basis, upper_median};
use crate::segment::{HandMask, Segmenter};
use crate::track::{TrackConfig, TrackError, TrackStatus, Tracker};
use nalgebra::{Isometry3, Point3, Vector3};
use serde::{Deserialize, Serialize};
use std::time::Instant;

mod provisional;
pub use provisional::{Provisional, PROVISIONAL_MAX_FRAMES};
mod budget;
mod focal;

/// Errors from a scan session.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// A pushed frame or landmark set is invalid (the frame was not used).
    #[error("invalid frame: {0}")]
    InvalidFrame(String),
    /// The session configuration is invalid.
    #[error("invalid session config: {0}")]
    InvalidConfig(String),
    /// `finish` or `push_landmarks` was called without the data it needs.
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// A stage failed for a reason that is not the caller's input.
    #[error("internal error: {0}")]
    Internal(String),
    /// The session is over one of the [`crate::limits`] (frames per session).
    #[error(transparent)]
    Limit(#[from] crate::limits::LimitExceeded),
}

/// Whose fault a [`SessionError`] is, for callers that map it onto their own errors (the
/// FFI, the CLI's exit codes). Every variant is classified here, in the crate that defines
/// it, so a new one cannot silently become a bug report for bad input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionErrorKind {
    /// A frame, landmark set or the session's size limits: the caller's input.
    InvalidFrame,
    /// The configuration.
    InvalidConfig,
    /// A request the session's data cannot serve yet.
    NotEnoughData,
    /// A fault inside mandrel.
    Internal,
}

impl SessionError {
    /// Whose fault this error is.
    pub fn kind(&self) -> SessionErrorKind {
        match self {
            SessionError::InvalidFrame(_) | SessionError::Limit(_) => {
                SessionErrorKind::InvalidFrame
            }
            SessionError::InvalidConfig(_) => SessionErrorKind::InvalidConfig,
            SessionError::NotEnoughData(_) => SessionErrorKind::NotEnoughData,
            SessionError::Internal(_) => SessionErrorKind::Internal,
        }
    }
}

impl From<FrameError> for SessionError {
    fn from(e: FrameError) -> Self {
        SessionError::InvalidFrame(e.to_string())
    }
}

impl From<FuseError> for SessionError {
    fn from(e: FuseError) -> Self {
        match e {
            FuseError::Config(m) => SessionError::InvalidConfig(m),
            FuseError::Frame(f) => SessionError::InvalidFrame(f.to_string()),
            FuseError::Pose(m) => SessionError::InvalidFrame(format!("pose: {m}")),
            // Both are reached by what the frames show (a scene too large for the volume,
            // geometry far from the origin), not by a fault of the session. Only a fuse-only
            // session reports them (a measuring one keeps measuring).
            e @ (FuseError::MemoryCap { .. } | FuseError::OutOfRange(_)) => {
                SessionError::InvalidFrame(format!(
                    "the scene does not fit the volume ({e}); keep only the hand within the working depth range"
                ))
            }
        }
    }
}

impl From<TrackError> for SessionError {
    fn from(e: TrackError) -> Self {
        match e {
            TrackError::Frame(f) => SessionError::InvalidFrame(f.to_string()),
            TrackError::Config(m) => SessionError::InvalidConfig(format!("tracking: {m}")),
            TrackError::Fuse(f) => f.into(),
            other => SessionError::Internal(format!("tracking: {other}")),
        }
    }
}

impl From<ObserveError> for SessionError {
    fn from(e: ObserveError) -> Self {
        match e {
            ObserveError::Pose(f) => SessionError::InvalidFrame(f.to_string()),
            ObserveError::Config(m) => SessionError::InvalidConfig(format!("observations: {m}")),
        }
    }
}

impl From<MeasureError> for SessionError {
    fn from(e: MeasureError) -> Self {
        SessionError::InvalidConfig(e.to_string())
    }
}

/// Session settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// The finger to measure.
    pub target: Target,
    /// TSDF voxel size (metres), 0.5–4 mm.
    pub voxel_size_m: f32,
    /// Nearest usable depth (metres).
    pub min_depth_m: f32,
    /// Farthest usable depth (metres).
    pub max_depth_m: f32,
    /// Cap on voxel memory (bytes).
    pub memory_cap_bytes: usize,
    /// Locate the finger from landmarks when any were pushed (else geometrically).
    pub use_landmarks: bool,
    /// Frames wanted before guidance says `Done`.
    pub min_frames: usize,
    /// Coverage of the finger (degrees) wanted before guidance says `Done`.
    pub target_coverage_deg: f64,
    /// Measurement settings (status thresholds, fits); its `target` and `use_landmarks`
    /// are overridden by the fields above.
    pub measure: MeasureOptions,
    /// Tracking settings (pose-less frames).
    pub track: TrackConfig,
    /// Refine platform poses against the fused model (frame-to-model ICP with the platform
    /// pose as a prior) before fusing.
    pub refine_platform_poses: bool,
    /// Keep each fused frame's observations (and landmark views) for measuring. Default
    /// `true`; `false` makes a fuse-only session: frames are still tracked and fused, no
    /// measuring work is done per frame, a frame that does not fit in the memory cap is an
    /// error, and `finish` reports [`SessionError::NotEnoughData`].
    pub keep_observations: bool,
    /// Take a provisional measurement every this many frames pushed (0: never; guidance
    /// then says `Done` after `min_frames` and `target_coverage_deg`). Default 10.
    pub provisional_every: usize,
}

impl SessionConfig {
    /// Defaults for `target`: 1 mm voxels, 0.1–0.6 m, 64 MiB.
    pub fn new(target: Target) -> Self {
        let t = TsdfConfig::default();
        Self {
            target,
            voxel_size_m: t.voxel_size_m,
            min_depth_m: t.min_depth_m,
            max_depth_m: t.max_depth_m,
            memory_cap_bytes: t.memory_cap_bytes,
            use_landmarks: true,
            min_frames: 20,
            target_coverage_deg: 300.0,
            measure: MeasureOptions::new(target),
            track: TrackConfig::default(),
            refine_platform_poses: true,
            keep_observations: true,
            provisional_every: 10,
        }
    }

    fn tsdf(&self) -> TsdfConfig {
        TsdfConfig {
            voxel_size_m: self.voxel_size_m,
            min_depth_m: self.min_depth_m,
            max_depth_m: self.max_depth_m,
            memory_cap_bytes: self.memory_cap_bytes,
            min_incidence_cos: MIN_INCIDENCE_COS,
            ..TsdfConfig::default()
        }
    }

    fn validate(&self) -> Result<(), SessionError> {
        self.tsdf().validate()?;
        if !(self.target_coverage_deg.is_finite()
            && (0.0..=360.0).contains(&self.target_coverage_deg))
        {
            return Err(SessionError::InvalidConfig(format!(
                "target_coverage_deg {} must be within 0..=360",
                self.target_coverage_deg
            )));
        }
        Ok(())
    }
}

/// Where pose information comes from, as the UI should show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TrackingState {
    /// No frame yet.
    NotStarted,
    /// The platform gives poses.
    Platform,
    /// The tracker follows the camera.
    Tracking,
    /// The tracker lost the last frame.
    Lost,
}

/// One thing the user should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Hint {
    /// Hold the hand steady in view to start.
    HoldStill,
    /// The hand is too far.
    MoveCloser,
    /// The hand is too near.
    MoveFarther,
    /// Move more slowly (tracking lost or motion too fast).
    SlowDown,
    /// Turn the hand (or go around it) to show the palm side of the finger: less than
    /// 200° of it seen, or every view so far from one side of it.
    ShowPalmSide,
    /// Keep going around the finger.
    KeepMoving,
    /// Enough data: finish.
    Done,
}

/// Live feedback.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Guidance {
    /// Frames pushed.
    pub frames_pushed: usize,
    /// Frames fused.
    pub frames_fused: usize,
    /// Degrees of the target finger's circumference seen so far (0 until it is located).
    pub coverage_deg: f64,
    /// Tracking state.
    pub tracking: TrackingState,
    /// What to do next.
    pub hint: Hint,
    /// The latest provisional measurement (`None` until the first is due).
    pub provisional: Option<Provisional>,
}

/// What happened to one pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FrameOutcome {
    /// Fused and kept.
    Fused,
    /// Not fused: the tracker could not align it.
    TrackingLost,
    /// Not fused: no depth in the working range.
    NoUsableDepth,
    /// Measured but not fused: the volume reached its memory cap (the mesh stops growing).
    ObservedVolumeFull,
}

/// Report for one pushed frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameReport {
    /// Index of the frame in push order (what `push_landmarks` refers to).
    pub index: usize,
    /// What happened.
    pub outcome: FrameOutcome,
    /// The pose used (given or tracked), if any.
    pub pose: Option<Isometry3<f64>>,
    /// Depth pixels fused.
    pub pixels_fused: usize,
    /// Guidance after this frame.
    pub guidance: Guidance,
}

/// Per-frame data kept after the depth is dropped.
#[derive(Debug, Clone)]
struct FrameMeta {
    pose: Option<Isometry3<f64>>,
    intrinsics: Intrinsics,
    has_landmarks: bool,
    /// The platform pose the frame came with (before any refinement), which does not depend
    /// on the intrinsics the way a tracked or refined pose does.
    platform_pose: Option<Isometry3<f64>>,
}

/// A scan in progress. See the module documentation.
#[derive(Debug)]
pub struct ScanSession {
    config: SessionConfig,
    volume: TsdfVolume,
    tracker: Tracker,
    segmenter: Segmenter,
    frames: Vec<FrameMeta>,
    observations: Vec<FrameObservations>,
    views: Vec<LandmarkView>,
    located: Option<LocatedFinger>,
    located_views: usize,
    tracking: TrackingSummary,
    residuals: Vec<f64>,
    /// Frames fused at an unrefined platform pose (refinement off or failed).
    raw_platform_frames: usize,
    state: TrackingState,
    last_hint_range: Option<Hint>,
    /// Frames whose near depths were outside (or at the edge of) the working range.
    frames_out_of_range: usize,
    last_motion_fast: bool,
    last_posed: Option<(Isometry3<f64>, f64)>,
    memory_full: bool,
    /// Bounds the kept observations (`limits`).
    budget: budget::ObservationBudget,
    /// Frames whose pose was used and whose depth was usable (fused, or kept while the
    /// volume was full): what guidance counts as fused.
    frames_kept: usize,
    timings: Timings,
    /// Wall time spent inside `push_frame` calls, milliseconds (fusion and observation
    /// extraction run side by side; `timings` holds each one's own time).
    push_wall_ms: f64,
    /// The latest provisional measurement.
    provisional: Option<Provisional>,
    /// The provisional measurement under way.
    provisional_job: Option<provisional::ProvisionalJob>,
}

/// Camera speed above which guidance asks to slow down (metres per second).
const MAX_SPEED_M_S: f64 = 0.5;
/// Camera turn rate above which guidance asks to slow down (degrees per second).
const MAX_TURN_DEG_S: f64 = 360.0;

/// Radius of the region of interest kept around the finger (metres).
const ROI_RADIUS_M: f64 = 0.02;

/// Depth samples seen at more than about 70° incidence (cosine below this) are not fused
/// into the session's model (the plain fusion default keeps them up to 84°): sensors start
/// dropping pixels there, and fusing the survivors fattens a finger, which biases refined
/// platform poses and the ring. See docs/tuning.md#session.
const MIN_INCIDENCE_COS: f32 = 0.35;

impl ScanSession {
    /// A new session; fails on an invalid config.
    pub fn new(config: SessionConfig) -> Result<Self, SessionError> {
        config.validate()?;
        let volume = TsdfVolume::new(config.tsdf())?;
        let mut tc = config.track.clone();
        tc.min_depth_m = config.min_depth_m;
        tc.max_depth_m = config.max_depth_m;
        let tracker = Tracker::new(tc)?;
        let segmenter = if config.use_landmarks {
            Segmenter::new()
        } else {
            Segmenter::without_landmarks()
        };
        Ok(Self {
            config,
            volume,
            tracker,
            segmenter,
            frames: vec![],
            observations: vec![],
            views: vec![],
            located: None,
            located_views: 0,
            tracking: TrackingSummary::default(),
            residuals: vec![],
            raw_platform_frames: 0,
            state: TrackingState::NotStarted,
            last_hint_range: None,
            frames_out_of_range: 0,
            last_motion_fast: false,
            last_posed: None,
            memory_full: false,
            budget: Default::default(),
            frames_kept: 0,
            timings: Timings::default(),
            push_wall_ms: 0.0,
            provisional: None,
            provisional_job: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Frames pushed so far.
    pub fn frames_pushed(&self) -> usize {
        self.frames.len()
    }

    /// Whether the volume hit its memory cap (later frames were measured but not fused).
    pub fn volume_full(&self) -> bool {
        self.memory_full
    }

    /// Bytes held by kept observations (the per-frame data that outlives the depth).
    pub fn observation_bytes(&self) -> usize {
        self.observations.iter().map(|o| o.heap_bytes()).sum()
    }

    /// Frames whose observations were dropped to keep the store within
    /// [`crate::limits::MAX_SESSION_OBSERVATION_BYTES`] (the frames were still fused).
    pub fn observations_dropped(&self) -> usize {
        self.budget.dropped()
    }

    /// Pushes one frame: track if it has no pose, fuse, keep observations, drop the depth.
    /// A frame the tracker cannot align is reported (`TrackingLost`) and not fused.
    pub fn push_frame(&mut self, frame: Frame) -> Result<FrameReport, SessionError> {
        let t = Instant::now();
        let r = self.push_frame_untimed(frame).map(|mut report| {
            self.update_provisional();
            report.guidance = self.guidance();
            report
        });
        self.push_wall_ms += ms(t);
        r
    }

    /// [`ScanSession::push_frame`] without the wall-clock bookkeeping.
    fn push_frame_untimed(&mut self, frame: Frame) -> Result<FrameReport, SessionError> {
        // Checked once, here: `Frame`'s fields are public and may have been edited after
        // `new`. The stages below take the checked frame and do not check it again
        // (landmarks are checked when built, and cannot be edited).
        crate::limits::Limit::SessionFrames.check(self.frames.len() as u64 + 1)?;
        let frame = ValidFrame::new(frame)?;
        let index = self.frames.len();
        self.tracking.frames_total += 1;
        // 1. The range hint's near depth (a full-frame statistic), then the cut to the
        // hand (placed by the given pose, or the tracker's prediction), then the pose.
        let t = Instant::now();
        self.update_range_hint(near_depth_m(&frame));
        let predicted = match frame.pose {
            Some(p) => Some(p),
            None if self.volume.block_count() > 0 => Some(self.tracker.predict(None)),
            None => None,
        };
        let frame = self.segmenter.cut(
            frame,
            predicted.as_ref(),
            (self.config.min_depth_m, self.config.max_depth_m),
        )?;
        let pose = self.pose_of(&frame)?;
        if let Some(p) = &pose {
            self.segmenter.commit(p);
        }
        self.timings.track += ms(t);
        // Motion speed between consecutive posed frames (per second when timestamps
        // advance; otherwise per frame at an assumed 30 fps).
        self.last_motion_fast = match (pose, self.last_posed) {
            (Some(a), Some((b, tb))) => {
                let d = a.inverse() * b;
                let dt = frame.timestamp - tb;
                let dt = if dt > 1e-3 && dt < 5.0 {
                    dt
                } else {
                    1.0 / 30.0
                };
                d.translation.vector.norm() / dt > MAX_SPEED_M_S
                    || d.rotation.angle().to_degrees() / dt > MAX_TURN_DEG_S
            }
            _ => false,
        };
        if let Some(p) = pose {
            self.last_posed = Some((p, frame.timestamp));
        }
        let Some(pose) = pose else {
            self.frames.push(FrameMeta {
                pose: None,
                intrinsics: frame.intrinsics,
                has_landmarks: frame.landmarks.is_some(),
                platform_pose: frame.pose,
            });
            return Ok(self.report(index, FrameOutcome::TrackingLost, None, 0));
        };

        // 2. Fuse, and 3. extract the observations (cropped to the finger once it is
        // located; not in a fuse-only session): both only read the frame and the pose, so
        // they run side by side.
        let observe_config = self.config.keep_observations.then(|| self.observe_config());
        let volume = &mut self.volume;
        let ((integrated, fuse_ms), (extracted, observe_ms)) = rayon::join(
            || {
                let t = Instant::now();
                let r = volume.integrate_view(frame.view(), &pose);
                (r, ms(t))
            },
            || {
                let t = Instant::now();
                let r = observe_config
                    .as_ref()
                    .map(|c| FrameObservations::extract_with(&frame, &pose, c));
                (r, ms(t))
            },
        );
        self.timings.fuse += fuse_ms;
        self.timings.observe += observe_ms;
        let fused = match integrated {
            Ok(stats) => Some(stats.pixels_used),
            // A full volume stops growing the mesh, not the measurement: the frame's
            // observations are still kept (a tracked pose was aligned to the model as it is,
            // which later frames keep tracking against).
            Err(FuseError::MemoryCap { .. }) if extracted.is_some() => {
                self.memory_full = true;
                None
            }
            Err(e) => return Err(e.into()),
        };
        if fused == Some(0) {
            self.frames.push(FrameMeta {
                pose: Some(pose),
                intrinsics: frame.intrinsics,
                has_landmarks: frame.landmarks.is_some(),
                platform_pose: frame.pose,
            });
            return Ok(self.report(index, FrameOutcome::NoUsableDepth, Some(pose), 0));
        }

        // Landmark views, and re-locating the finger.
        let t = Instant::now();
        if let Some(extracted) = extracted {
            let mut obs = extracted?;
            obs.points.shrink_to_fit();
            obs.tangents.shrink_to_fit();
            self.budget
                .offer(&mut self.observations, obs, self.located.is_some());
            if let Some(l) = frame.landmarks.clone() {
                self.views.push(LandmarkView::new(
                    pose,
                    frame.intrinsics,
                    l,
                    Some(&frame.depth),
                ));
            }
        }
        self.frames_kept += 1;
        self.frames.push(FrameMeta {
            pose: Some(pose),
            intrinsics: frame.intrinsics,
            has_landmarks: frame.landmarks.is_some(),
            platform_pose: frame.pose,
        });
        self.relocate();
        self.timings.observe += ms(t);
        // `frame` (and its depth) is dropped here.
        Ok(match fused {
            Some(px) => self.report(index, FrameOutcome::Fused, Some(pose), px),
            None => self.report(index, FrameOutcome::ObservedVolumeFull, Some(pose), 0),
        })
    }

    /// Adds landmarks detected on frame `index` (push order) after it was pushed. The depth
    /// is gone by then, so these landmarks carry no depth sample (triangulation does not need
    /// one). Replaces landmarks already given for that frame.
    pub fn push_landmarks(
        &mut self,
        index: usize,
        landmarks: Landmarks,
    ) -> Result<(), SessionError> {
        let meta = self.frames.get(index).cloned().ok_or_else(|| {
            SessionError::NotEnoughData(format!(
                "landmarks for frame {index}, but only {} frames were pushed",
                self.frames.len()
            ))
        })?;
        let Some(pose) = meta.pose else {
            return Err(SessionError::NotEnoughData(format!(
                "frame {index} has no pose (tracking was lost), its landmarks cannot be used"
            )));
        };
        if meta.has_landmarks {
            if let Some(v) = self.views.iter_mut().find(|v| v.camera_to_world == pose) {
                *v = LandmarkView::new(pose, meta.intrinsics, landmarks, None);
                self.relocate();
                return Ok(());
            }
        }
        self.views
            .push(LandmarkView::new(pose, meta.intrinsics, landmarks, None));
        if let Some(m) = self.frames.get_mut(index) {
            m.has_landmarks = true;
        }
        self.relocate();
        Ok(())
    }

    /// Live feedback.
    pub fn guidance(&self) -> Guidance {
        let fused = self.frames_kept;
        let coverage = self.coverage_deg();
        // Views from one side only leave the far side unseen: the measurement then says
        // `insufficient_coverage` however many frames there are.
        let one_sided = self.view_span_deg() < MIN_VIEW_SPAN_DEG;
        // `Done` when the latest provisional measurement is `ok`; without provisional
        // measurements, after enough frames and coverage.
        let provisional_hint = self.provisional_hint();
        let done = if self.config.provisional_every > 0 {
            provisional_hint == Some(Hint::Done)
        } else {
            fused >= self.config.min_frames
                && coverage >= self.config.target_coverage_deg
                && !one_sided
        };
        let hint = if self.frames.is_empty() {
            Hint::HoldStill
        } else if done && self.state != TrackingState::Lost {
            Hint::Done
        } else if let Some(h) = self.last_hint_range {
            // Out of range comes first: tracking is lost *because* the depth is unusable.
            h
        } else if self.state == TrackingState::Lost || self.last_motion_fast {
            Hint::SlowDown
        } else if let Some(h) = provisional_hint.filter(|h| *h != Hint::Done) {
            // What the provisional measurement says is missing.
            h
        } else if self.located.is_some() && (coverage < 200.0 || one_sided) && fused >= 5 {
            Hint::ShowPalmSide
        } else {
            Hint::KeepMoving
        };
        Guidance {
            frames_pushed: self.frames.len(),
            frames_fused: fused,
            coverage_deg: coverage,
            tracking: self.state,
            hint,
            provisional: self.provisional,
        }
    }

    /// Measures the target finger from everything pushed so far. The session stays usable
    /// (more frames may be pushed and `finish` called again).
    pub fn finish(&self) -> Result<Measurement, SessionError> {
        self.finish_detailed().map(|(m, _)| m)
    }

    /// [`ScanSession::finish`], also returning the located finger and fitted sections.
    pub fn finish_detailed(&self) -> Result<(Measurement, MeasureDetail), SessionError> {
        if self.frames.is_empty() {
            return Err(SessionError::NotEnoughData(
                "no frames were pushed; scan the hand before finishing".into(),
            ));
        }
        if !self.config.keep_observations {
            return Err(SessionError::NotEnoughData(
                "this session only fuses (keep_observations is off): nothing was kept to measure; read its mesh instead".into(),
            ));
        }
        let mut opts = self.config.measure.clone();
        opts.target = self.config.target;
        opts.use_landmarks = self.config.use_landmarks;
        // Poses aligned to the fused model (tracked or refined) are mutually consistent:
        // the section fit's allowance for platform-pose drift applies only when raw
        // platform poses went into the observations.
        if self.raw_platform_frames <= 1 {
            opts.section.pose_drift_sigma_m = 0.0;
        }
        let tracking = self.tracking_summary();
        let mut upstream = self.timings;
        // The surface is only needed (and only extracted) for landmark-free localisation.
        let t = Instant::now();
        let surface = if !self.config.use_landmarks || self.views.is_empty() {
            let mut m = mesh::extract(&self.volume);
            m.remove_small_components(200);
            Some(m)
        } else {
            None
        };
        let surface_ms = ms(t);
        upstream.fuse += surface_ms;
        // Wall time in the session so far: every `push_frame` call (with what runs between
        // its stages) plus the surface extraction; `measure_detailed` adds its own.
        upstream.total = self.push_wall_ms + surface_ms;
        let input = MeasureInput {
            observations: &self.observations,
            landmark_views: &self.views,
            surface: surface.as_ref(),
            tracking,
            upstream,
        };
        // The focal-length check reads only the kept observations and their poses: it runs
        // beside the measurement.
        let t = Instant::now();
        let kept = self.kept_with_platform_poses();
        let (measured, scale) = rayon::join(
            || measure_detailed(&input, &opts),
            || focal::scan_lateral_scale(&kept),
        );
        let (mut m, mut detail) = measured?;
        m.timings_ms.total = m.timings_ms.total.max(upstream.total + ms(t));
        if let Some(Ok(est)) = scale {
            detail.lateral_scale = Some(est);
            focal::apply_lateral_scale(&mut m, &est);
        }
        if m.status == Status::NeedsRescan && 2 * self.frames_out_of_range >= self.frames.len() {
            m.reasons.push(Reason::HandOutOfRange);
        }
        Ok((m, detail))
    }

    /// The kept observations, each with the pose it was placed at and the platform pose its
    /// frame came with (`None` for a frame whose pose was tracked). Observations are kept
    /// for a subset of the frames, in order, and carry their pose's translation as the
    /// camera centre.
    fn kept_with_platform_poses(&self) -> Vec<focal::KeptView<'_>> {
        let mut metas = self
            .frames
            .iter()
            .filter_map(|f| Some((f.pose?, f.platform_pose)));
        self.observations
            .iter()
            .map(|o| {
                let pose = metas
                    .by_ref()
                    .find(|(p, _)| Point3::from(p.translation.vector) == o.camera_centre);
                focal::KeptView {
                    observations: o,
                    poses: pose.and_then(|(used, platform)| Some((used, platform?))),
                }
            })
            .collect()
    }

    /// Tracking so far: frames pushed, tracked and lost, and the median tracker residual.
    pub fn tracking_summary(&self) -> TrackingSummary {
        let mut tracking = self.tracking;
        tracking.median_residual_m = median(&self.residuals);
        tracking
    }

    /// Time spent per stage so far (milliseconds): tracking, fusion and observation
    /// extraction over the frames pushed; `total` is the wall time inside `push_frame`
    /// (stages run side by side, so it is not their sum). `finish` adds its own stages.
    pub fn timings(&self) -> Timings {
        Timings {
            total: self.push_wall_ms,
            ..self.timings
        }
    }

    /// The fused surface, for local display only (never leaves the device by itself).
    pub fn mesh(&self) -> Mesh {
        mesh::extract(&self.volume)
    }

    /// The fused volume.
    pub fn volume(&self) -> &TsdfVolume {
        &self.volume
    }

    /// The finger's circumference along its axis, from the MCP joint to past the knuckle,
    /// for diagnostic pictures and reports (`finger`: e.g. the one `finish_detailed`
    /// located). Costs about as much as `finish`; `None` when nothing could be fitted.
    pub fn circumference_profile(
        &self,
        finger: &LocatedFinger,
    ) -> Option<crate::measure::profile::CircumferenceProfile> {
        crate::measure::profile::circumference_profile(
            &self.observations,
            finger,
            &self.config.measure.section,
        )
    }

    /// The hand mask of the last pushed frame (what was kept of it for tracking, fusion
    /// and observation), for a debug overlay; `None` before the first frame.
    pub fn last_mask(&self) -> Option<&HandMask> {
        self.segmenter.last_mask()
    }

    /// The finger as located so far from landmarks (`None` until enough views).
    pub fn located_finger(&self) -> Option<&LocatedFinger> {
        self.located.as_ref()
    }

    fn observe_config(&self) -> ObserveConfig {
        ObserveConfig {
            min_depth_m: self.config.min_depth_m,
            max_depth_m: self.config.max_depth_m,
            roi: self.located.as_ref().map(roi_of),
            ..ObserveConfig::default()
        }
    }

    /// Re-locates the finger from landmarks when new views arrived, and crops the kept
    /// observations to the region around it (bounds memory to about the finger).
    fn relocate(&mut self) {
        if !self.config.use_landmarks || self.views.len() == self.located_views {
            return;
        }
        // Locating costs O(views); re-run on growth by a quarter, plus at 3, 4, 5 views.
        let n = self.views.len();
        if self.located.is_some() && n < 6 && n < self.located_views + 1 {
            return;
        }
        if self.located.is_some() && n >= 6 && (n as f64) < self.located_views as f64 * 1.25 {
            return;
        }
        if let Ok(f) = locate::from_landmarks(
            &self.views,
            self.config.target.finger,
            &self.config.measure.locate,
        ) {
            self.located = Some(f);
            self.located_views = n;
            let roi = roi_of(&f);
            // Each frame's observations are cropped on their own: frames in parallel.
            use rayon::prelude::*;
            self.observations.par_iter_mut().for_each(|o| {
                o.points.retain(|p| roi.contains(&p.position.cast()));
                o.tangents.retain(|t| roi.contains(&t.point.cast()));
                o.points.shrink_to_fit();
                o.tangents.shrink_to_fit();
            });
        }
    }

    /// Angles (radians) of the fused frames' cameras around the located finger's axis at the
    /// ring position (empty until the finger is located).
    fn view_angles(&self) -> Vec<f64> {
        let Some(f) = &self.located else {
            return Vec::new();
        };
        let axis = f.direction();
        let centre = f.ring_point();
        let helper = if axis.x.abs() < 0.9 {
            Vector3::x()
        } else {
            Vector3::y()
        };
        let (u, v) = cross_basis(&axis, &helper);
        self.observations
            .iter()
            .filter_map(|o| {
                let d: Vector3<f64> = o.camera_centre - centre;
                let (x, y) = (d.dot(&u), d.dot(&v));
                (x.hypot(y) >= 1e-6).then(|| y.atan2(x))
            })
            .collect()
    }

    /// Degrees of the finger's circumference seen so far: the union over fused frames of the
    /// ±70° arc facing each camera ([`ScanSession::view_angles`]), in 5° bins.
    fn coverage_deg(&self) -> f64 {
        let angles = self.view_angles();
        let mut bins = [false; 72];
        for a in angles.iter().map(|a| a.to_degrees()) {
            for (i, b) in bins.iter_mut().enumerate() {
                let c = i as f64 * 5.0 + 2.5 - 180.0;
                let mut diff = (c - a).abs() % 360.0;
                if diff > 180.0 {
                    diff = 360.0 - diff;
                }
                if diff <= 70.0 {
                    *b = true;
                }
            }
        }
        bins.iter().filter(|&&b| b).count() as f64 * 5.0
    }

    /// Degrees around the finger's axis spanned by the cameras (360° minus the widest
    /// empty arc between camera directions; 0 with fewer than two).
    fn view_span_deg(&self) -> f64 {
        section::angular_span_deg(self.view_angles())
    }

    /// The pose of a pushed frame: the platform pose (refined against the model when set),
    /// or the tracked pose; `None` when tracking lost the frame.
    fn pose_of(&mut self, frame: &ValidFrame) -> Result<Option<Isometry3<f64>>, SessionError> {
        Ok(match frame.pose {
            Some(p) if self.config.refine_platform_poses && self.volume.block_count() > 0 => {
                // Refine the platform pose against the model (the tracker keeps directions
                // the geometry does not constrain at the platform pose).
                self.state = TrackingState::Platform;
                let r = self
                    .tracker
                    .track_view(frame.view(), &self.volume, Some(p))?;
                if r.health.status == TrackStatus::Ok {
                    self.residuals.push(r.health.residual_m);
                    Some(r.pose)
                } else {
                    self.raw_platform_frames += 1;
                    Some(p)
                }
            }
            Some(p) => {
                self.state = TrackingState::Platform;
                if self.config.refine_platform_poses {
                    self.tracker.bootstrap(&frame.depth, Some(p));
                } else {
                    self.raw_platform_frames += 1;
                }
                Some(p)
            }
            None => {
                self.tracking.frames_tracked += 1;
                if self.volume.block_count() == 0 {
                    // The first fused frame defines the world frame.
                    self.state = TrackingState::Tracking;
                    Some(self.tracker.bootstrap(&frame.depth, None).pose)
                } else {
                    // Frame-to-model: render the fused surface from the predicted pose.
                    let r = self.tracker.track_view(frame.view(), &self.volume, None)?;
                    if r.health.status == TrackStatus::Ok {
                        self.state = TrackingState::Tracking;
                        self.residuals.push(r.health.residual_m);
                        Some(r.pose)
                    } else {
                        self.state = TrackingState::Lost;
                        self.tracking.frames_lost += 1;
                        None
                    }
                }
            }
        })
    }

    /// Updates the range hint from the frame's near depth ([`near_depth_m`]).
    fn update_range_hint(&mut self, near: Option<f32>) {
        let Some(near) = near else {
            self.last_hint_range = Some(Hint::MoveCloser);
            self.frames_out_of_range += 1;
            return;
        };
        self.last_hint_range = if near < self.config.min_depth_m + 0.02 {
            Some(Hint::MoveFarther)
        } else if near > self.config.max_depth_m - 0.05 {
            Some(Hint::MoveCloser)
        } else {
            None
        };
        if self.last_hint_range.is_some() {
            self.frames_out_of_range += 1;
        }
    }

    fn report(
        &self,
        index: usize,
        outcome: FrameOutcome,
        pose: Option<Isometry3<f64>>,
        pixels_fused: usize,
    ) -> FrameReport {
        FrameReport {
            index,
            outcome,
            pose,
            pixels_fused,
            guidance: self.guidance(),
        }
    }
}

/// The frame's near depth: the 10th percentile of its depths > 0 (metres); `None` when it
/// has none.
fn near_depth_m(frame: &Frame) -> Option<f32> {
    nth_positive(frame.depth.depth_m(), |n| n / 10)
}

/// The `at(n)`-th smallest (0-based) of the values > 0 in `values`, where `n` is how many
/// there are; `None` when there are none. Exactly the element a selection over all of them
/// would give, found without copying them all: positive floats order as their bit
/// patterns, so a count per top 16 bits names the bucket that holds it, and only that
/// bucket's values are selected among.
fn nth_positive(values: &[f32], at: impl Fn(usize) -> usize) -> Option<f32> {
    const SHIFT: u32 = 16;
    let mut counts = vec![0u32; 1 << (32 - SHIFT)];
    let mut n = 0usize;
    for &z in values {
        if z > 0.0 {
            counts[(z.to_bits() >> SHIFT) as usize] += 1;
            n += 1;
        }
    }
    if n == 0 {
        return None;
    }
    let k = at(n).min(n - 1);
    let mut below = 0usize;
    let mut bucket = 0u32;
    for (b, &c) in counts.iter().enumerate() {
        if below + c as usize > k {
            bucket = b as u32;
            break;
        }
        below += c as usize;
    }
    let mut d: Vec<f32> = values
        .iter()
        .copied()
        .filter(|&z| z > 0.0 && z.to_bits() >> SHIFT == bucket)
        .collect();
    let (_, nth, _) = d.select_nth_unstable_by(k - below, |a, b| a.total_cmp(b));
    Some(*nth)
}

/// The capsule kept around a located finger: from 10 mm before MCP to 15 mm past PIP.
fn roi_of(f: &LocatedFinger) -> Roi {
    Roi::around_finger(f.mcp.position, f.pip.position, ROI_RADIUS_M)
}

/// [`upper_median`] of `v` (left unchanged), 0 when empty.
fn median(v: &[f64]) -> f64 {
    upper_median(&mut v.to_vec()).unwrap_or(0.0)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn f<T: Send + Sync>() {}
    f::<ScanSession>();
    let _ = Point3::<f64>::origin();
}

#[cfg(test)]
mod tests {

    #[test]
    fn nth_positive_is_the_selection_over_all_positive_values() {
        // A small linear congruential generator: uniform in [0, 1).
        let mut state = 33u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        for case in 0..50 {
            let n = 1 + case * 37;
            // Depths with holes, repeats and a few far or tiny values.
            let v: Vec<f32> = (0..n)
                .map(|i| match i % 7 {
                    0 => 0.0,
                    1 => 0.25,
                    2 => next() * 1e-3,
                    3 => 5.0 + next() * 100.0,
                    _ => 0.1 + next() * 0.9,
                })
                .collect();
            let mut all: Vec<f32> = v.iter().copied().filter(|&z| z > 0.0).collect();
            all.sort_by(f32::total_cmp);
            for q in [0usize, 1, 5, 9] {
                let want = (!all.is_empty()).then(|| all[(all.len() * q / 10).min(all.len() - 1)]);
                assert_eq!(nth_positive(&v, |m| m * q / 10), want, "case {case}, q {q}");
            }
        }
        assert_eq!(nth_positive(&[0.0, -1.0, f32::NAN], |m| m / 10), None);
    }
    use super::*;
    use crate::frame::DepthFrame;

    /// The per-frame record stays within what `docs/limits.md` ("What a session holds")
    /// counts for it: the session's memory bound multiplies it by the frame cap.
    #[test]
    fn frame_record_fits_the_documented_bound() {
        assert!(
            std::mem::size_of::<FrameMeta>() <= 192,
            "{}",
            std::mem::size_of::<FrameMeta>()
        );
    }

    /// A wall 0.3 m in front of a 64x48 camera, seen from `x` metres along x.
    fn wall_frame(x: f64, timestamp: f64) -> Frame {
        let k = Intrinsics::new(64, 48, 60.0, 60.0, 31.5, 23.5).unwrap();
        let depth = DepthFrame::from_metres(64, 48, vec![0.3; 64 * 48]).unwrap();
        let pose = Isometry3::translation(x, 0.0, 0.0);
        Frame::new(depth, k, Some(pose), None, timestamp).unwrap()
    }

    fn session(keep_observations: bool) -> ScanSession {
        let mut c = SessionConfig::new(Target {
            hand: crate::hand::Hand::Left,
            finger: crate::hand::Finger::Ring,
        });
        c.refine_platform_poses = false;
        c.keep_observations = keep_observations;
        ScanSession::new(c).unwrap()
    }

    /// The frames (1-based) whose report carries a provisional measurement published with
    /// them, over `n` frames of a wall pushed with `provisional_every` = `every` (each says
    /// the finger was not found).
    fn provisional_frames(every: usize, n: usize) -> Vec<usize> {
        let mut c = SessionConfig::new(Target {
            hand: crate::hand::Hand::Left,
            finger: crate::hand::Finger::Ring,
        });
        c.refine_platform_poses = false;
        c.provisional_every = every;
        let mut s = ScanSession::new(c).unwrap();
        (1..=n)
            .filter(|&i| {
                let f = wall_frame(0.002 * i as f64, i as f64 / 30.0);
                let r = s.push_frame(f).unwrap();
                let p = r.guidance.provisional.filter(|p| p.frames_pushed == i);
                if let Some(p) = p {
                    assert_eq!(p.missing, Some(Reason::FingerNotFound), "{p:?}");
                }
                p.is_some()
            })
            .collect()
    }

    #[test]
    fn a_provisional_measurement_is_spread_over_the_frames_after_it_is_due() {
        // No landmarks, and a wall: the surface's extraction and the (failed) search for the
        // finger on it take a frame each, so a measurement started on frame 5 is published
        // with frame 6 (a finger found would take three more: the axis's second pass, the
        // ring, then the taper).
        assert_eq!(provisional_frames(5, 16), vec![6, 11, 16]);
        // Due more often than its steps: taken whole when due.
        assert_eq!(provisional_frames(2, 6), vec![2, 4, 6]);
        assert!(provisional_frames(0, 6).is_empty());
    }

    #[test]
    fn a_full_volume_is_never_an_internal_error() {
        let pose_less = |i: usize| {
            let mut f = wall_frame(0.0, i as f64 / 30.0);
            f.pose = None;
            f
        };
        for keep_observations in [true, false] {
            let mut c = SessionConfig::new(Target {
                hand: crate::hand::Hand::Left,
                finger: crate::hand::Finger::Ring,
            });
            c.keep_observations = keep_observations;
            c.memory_cap_bytes = crate::fuse::BLOCK_BYTES * 4;
            let mut s = ScanSession::new(c).unwrap();
            let r = s.push_frame(pose_less(0));
            if keep_observations {
                // Measured but not fused; the session goes on.
                assert_eq!(r.unwrap().outcome, FrameOutcome::ObservedVolumeFull);
                assert!(s.volume_full());
                assert!(s.push_frame(pose_less(1)).is_ok());
            } else {
                let e = r.unwrap_err();
                assert!(matches!(e, SessionError::InvalidFrame(_)), "{e}");
                assert!(e.to_string().contains("memory cap"), "{e}");
            }
        }
    }

    #[test]
    fn a_fuse_only_session_fuses_the_same_and_keeps_nothing_to_measure() {
        let (mut measuring, mut fusing) = (session(true), session(false));
        for i in 0..3 {
            let f = wall_frame(0.002 * i as f64, i as f64 / 30.0);
            let a = measuring.push_frame(f.clone()).unwrap();
            let b = fusing.push_frame(f).unwrap();
            assert_eq!(a.outcome, FrameOutcome::Fused);
            assert_eq!(b.outcome, a.outcome);
            assert_eq!(b.pixels_fused, a.pixels_fused);
            assert_eq!(b.guidance.frames_fused, i + 1);
            assert_eq!(b.guidance.frames_fused, a.guidance.frames_fused);
        }
        assert_eq!(
            fusing.volume().block_count(),
            measuring.volume().block_count()
        );
        let p = Point3::new(0.001f32, 0.0, 0.3);
        assert_eq!(fusing.volume().sdf_at(&p), measuring.volume().sdf_at(&p));
        assert!(fusing.volume().sdf_at(&p).is_some());
        assert!(measuring.observation_bytes() > 0);
        assert_eq!(fusing.observation_bytes(), 0);
        assert!(matches!(
            fusing.finish(),
            Err(SessionError::NotEnoughData(_))
        ));
        assert!(!fusing.mesh().is_empty());
        assert_eq!(fusing.tracking_summary().frames_total, 3);
        let t = fusing.timings();
        assert!(t.fuse > 0.0 && t.total >= t.fuse && t.observe >= 0.0);
    }
}

//! The scan session object a shell drives from its camera callback, with live guidance,
//! a listener, and the measurement at the end.
//!
//! Guarantees: `ScanSession` is `Send + Sync` (one `Mutex` around the core session); the
//! listener is always called with no lock held, so it may call back into the session;
//! a rejected frame leaves the session unchanged and is reported both as the returned
//! error and to the listener; no depth image outlives its `push_*` call.

use crate::convert::{
    self, BufferLayout, CameraIntrinsics, CameraPose, PixelPoint, PoseConvention,
    TrueDepthPixelFormat,
};
use crate::error::{guard, MandrelError};
use crate::measurement::RingMeasurement;
use mandrel_core::frame::{pose, DepthFrame, Frame};
use mandrel_core::hand::{Finger, Hand, Target};
use mandrel_core::mesh::PlyFormat;
use mandrel_core::session::{self as core, SessionError};
use std::sync::{Arc, Mutex, MutexGuard};

impl From<SessionError> for MandrelError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::InvalidFrame(m) => MandrelError::InvalidFrame(m),
            SessionError::InvalidConfig(m) => MandrelError::InvalidConfig(m),
            SessionError::NotEnoughData(m) => MandrelError::NotEnoughData(m),
            SessionError::Internal(m) => MandrelError::Internal(m),
            SessionError::Limit(l) => MandrelError::InvalidFrame(l.to_string()),
            // A variant added to core after this mapping was written: the core says
            // whose fault it is, so bad input never becomes `Internal`.
            other => {
                let m = other.to_string();
                match other.kind() {
                    core::SessionErrorKind::InvalidFrame => MandrelError::InvalidFrame(m),
                    core::SessionErrorKind::InvalidConfig => MandrelError::InvalidConfig(m),
                    core::SessionErrorKind::NotEnoughData => MandrelError::NotEnoughData(m),
                    core::SessionErrorKind::Internal => MandrelError::Internal(m),
                }
            }
        }
    }
}

/// Left or right hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HandSide {
    /// Left hand.
    Left,
    /// Right hand.
    Right,
}

impl From<HandSide> for Hand {
    fn from(h: HandSide) -> Self {
        match h {
            HandSide::Left => Hand::Left,
            HandSide::Right => Hand::Right,
        }
    }
}

impl From<Hand> for HandSide {
    fn from(h: Hand) -> Self {
        match h {
            Hand::Left => HandSide::Left,
            Hand::Right => HandSide::Right,
        }
    }
}

/// Which finger (MediaPipe naming: `Little` is the pinky).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FingerName {
    /// Thumb.
    Thumb,
    /// Index finger.
    Index,
    /// Middle finger.
    Middle,
    /// Ring finger.
    Ring,
    /// Little finger (pinky).
    Little,
}

impl From<FingerName> for Finger {
    fn from(f: FingerName) -> Self {
        match f {
            FingerName::Thumb => Finger::Thumb,
            FingerName::Index => Finger::Index,
            FingerName::Middle => Finger::Middle,
            FingerName::Ring => Finger::Ring,
            FingerName::Little => Finger::Little,
        }
    }
}

impl From<Finger> for FingerName {
    fn from(f: Finger) -> Self {
        match f {
            Finger::Thumb => FingerName::Thumb,
            Finger::Index => FingerName::Index,
            Finger::Middle => FingerName::Middle,
            Finger::Ring => FingerName::Ring,
            Finger::Little => FingerName::Little,
        }
    }
}

/// Session settings. Start from [`session_config_defaults`] and change what you need.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SessionConfig {
    /// Hand being scanned.
    pub hand: HandSide,
    /// Finger to measure.
    pub finger: FingerName,
    /// Fusion voxel size, metres (0.0005 to 0.004).
    pub voxel_size_m: f32,
    /// Nearest usable depth, metres.
    pub min_depth_m: f32,
    /// Farthest usable depth, metres.
    pub max_depth_m: f32,
    /// Cap on fusion memory, bytes.
    pub memory_cap_bytes: u64,
    /// Locate the finger from pushed landmarks (else geometrically from the surface).
    pub use_landmarks: bool,
    /// Frames wanted before guidance says `Done`.
    pub min_frames: u32,
    /// Degrees of the finger's circumference wanted before guidance says `Done`.
    pub target_coverage_deg: f64,
}

impl From<&core::SessionConfig> for SessionConfig {
    fn from(c: &core::SessionConfig) -> Self {
        Self {
            hand: c.target.hand.into(),
            finger: c.target.finger.into(),
            voxel_size_m: c.voxel_size_m,
            min_depth_m: c.min_depth_m,
            max_depth_m: c.max_depth_m,
            memory_cap_bytes: c.memory_cap_bytes as u64,
            use_landmarks: c.use_landmarks,
            min_frames: c.min_frames.min(u32::MAX as usize) as u32,
            target_coverage_deg: c.target_coverage_deg,
        }
    }
}

impl TryFrom<&SessionConfig> for core::SessionConfig {
    type Error = MandrelError;
    fn try_from(c: &SessionConfig) -> Result<Self, MandrelError> {
        let memory_cap_bytes = usize::try_from(c.memory_cap_bytes).map_err(|_| {
            MandrelError::InvalidConfig(format!(
                "memory_cap_bytes {} does not fit this device's address space",
                c.memory_cap_bytes
            ))
        })?;
        let mut out = core::SessionConfig::new(Target {
            hand: c.hand.into(),
            finger: c.finger.into(),
        });
        out.voxel_size_m = c.voxel_size_m;
        out.min_depth_m = c.min_depth_m;
        out.max_depth_m = c.max_depth_m;
        out.memory_cap_bytes = memory_cap_bytes;
        out.use_landmarks = c.use_landmarks;
        out.min_frames = c.min_frames as usize;
        out.target_coverage_deg = c.target_coverage_deg;
        Ok(out)
    }
}

/// The default settings for measuring `finger` of `hand` (1 mm voxels, 0.1–0.6 m, 64 MiB).
#[uniffi::export]
pub fn session_config_defaults(hand: HandSide, finger: FingerName) -> SessionConfig {
    SessionConfig::from(&core::SessionConfig::new(Target {
        hand: hand.into(),
        finger: finger.into(),
    }))
}

/// Where poses come from, as the UI should show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TrackingState {
    /// No frame yet.
    NotStarted,
    /// The platform (ARKit/ARCore) gives poses.
    Platform,
    /// mandrel tracks the camera itself.
    Tracking,
    /// Tracking lost on the last frame: ask the user to slow down.
    Lost,
}

impl From<core::TrackingState> for TrackingState {
    fn from(s: core::TrackingState) -> Self {
        match s {
            core::TrackingState::NotStarted => TrackingState::NotStarted,
            core::TrackingState::Platform => TrackingState::Platform,
            core::TrackingState::Tracking => TrackingState::Tracking,
            core::TrackingState::Lost => TrackingState::Lost,
            // A variant added to core after this mapping was written: treated as
            // not tracking, which asks the user to hold still.
            _ => TrackingState::Lost,
        }
    }
}

/// One thing the user should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ScanHint {
    /// Hold the hand steady in view to start.
    HoldStill,
    /// The hand is too far.
    MoveCloser,
    /// The hand is too near.
    MoveFarther,
    /// Move more slowly.
    SlowDown,
    /// Turn the hand (or go around it) to show the palm side of the finger (too little of
    /// it seen, or every view so far from one side of it).
    ShowPalmSide,
    /// Keep going around the finger.
    KeepMoving,
    /// Enough data: call `finish()`.
    Done,
}

impl From<core::Hint> for ScanHint {
    fn from(h: core::Hint) -> Self {
        match h {
            core::Hint::HoldStill => ScanHint::HoldStill,
            core::Hint::MoveCloser => ScanHint::MoveCloser,
            core::Hint::MoveFarther => ScanHint::MoveFarther,
            core::Hint::SlowDown => ScanHint::SlowDown,
            core::Hint::ShowPalmSide => ScanHint::ShowPalmSide,
            core::Hint::KeepMoving => ScanHint::KeepMoving,
            core::Hint::Done => ScanHint::Done,
            // A variant added to core after this mapping was written: the generic
            // hint, never `Done`.
            _ => ScanHint::KeepMoving,
        }
    }
}

/// Live feedback for the scanning UI.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Guidance {
    /// Frames pushed so far.
    pub frames_pushed: u32,
    /// Frames fused into the model.
    pub frames_fused: u32,
    /// Degrees of the target finger's circumference seen (0 until the finger is located).
    pub coverage_deg: f64,
    /// Tracking state.
    pub tracking: TrackingState,
    /// What the user should do next.
    pub hint: ScanHint,
    /// The latest provisional measurement (taken every few frames while scanning).
    #[uniffi(default = None)]
    pub provisional: Option<crate::live::ProvisionalMeasurement>,
    /// Frames given to the non-blocking `offer_*` calls that were dropped because a newer
    /// frame arrived while they waited (see `ScanSession.offer_truedepth`).
    #[uniffi(default = 0)]
    pub frames_dropped: u32,
}

fn count(n: usize) -> u32 {
    n.min(u32::MAX as usize) as u32
}

impl From<core::Guidance> for Guidance {
    fn from(g: core::Guidance) -> Self {
        Self {
            frames_pushed: count(g.frames_pushed),
            frames_fused: count(g.frames_fused),
            coverage_deg: g.coverage_deg,
            tracking: g.tracking.into(),
            hint: g.hint.into(),
            provisional: g.provisional.map(Into::into),
            frames_dropped: 0,
        }
    }
}

/// What happened to a frame that was accepted by `push_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FrameOutcome {
    /// Fused into the model.
    Fused,
    /// Not fused: mandrel could not align it (no platform pose, tracking lost).
    TrackingLost,
    /// Not fused: no depth within the working range.
    NoUsableDepth,
    /// Used for the measurement but not fused: the volume reached its memory cap (the
    /// displayed mesh stops growing).
    ObservedVolumeFull,
}

impl From<core::FrameOutcome> for FrameOutcome {
    fn from(o: core::FrameOutcome) -> Self {
        match o {
            core::FrameOutcome::Fused => FrameOutcome::Fused,
            core::FrameOutcome::TrackingLost => FrameOutcome::TrackingLost,
            core::FrameOutcome::NoUsableDepth => FrameOutcome::NoUsableDepth,
            core::FrameOutcome::ObservedVolumeFull => FrameOutcome::ObservedVolumeFull,
            // A variant added to core after this mapping was written: reported as
            // not fused, the conservative reading.
            _ => FrameOutcome::NoUsableDepth,
        }
    }
}

/// The result of one `push_*` call.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FrameReport {
    /// Index of the frame in push order (what `push_landmarks` refers to).
    pub frame_index: u32,
    /// What happened to it.
    pub outcome: FrameOutcome,
    /// The camera-to-world pose used (given or tracked), in mandrel's OpenCV convention.
    pub pose: Option<CameraPose>,
    /// Depth pixels fused.
    pub pixels_fused: u32,
    /// Guidance after this frame.
    pub guidance: Guidance,
}

impl From<core::FrameReport> for FrameReport {
    fn from(r: core::FrameReport) -> Self {
        Self {
            frame_index: count(r.index),
            outcome: r.outcome.into(),
            pose: r.pose.map(|p| {
                let row = pose::to_row_major(&p);
                let mut col = vec![0f32; 16];
                for (i, c) in col.iter_mut().enumerate() {
                    // column-major index i = c*4 + r  <-  row-major r*4 + c
                    *c = row[(i % 4) * 4 + i / 4] as f32;
                }
                CameraPose {
                    convention: PoseConvention::Opencv,
                    column_major: col,
                }
            }),
            pixels_fused: count(r.pixels_fused),
            guidance: r.guidance.into(),
        }
    }
}

/// Metadata of one depth frame: everything but the pixels.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FrameInfo {
    /// Intrinsics of the depth image (scaled to its size).
    pub intrinsics: CameraIntrinsics,
    /// Camera-to-world pose in the platform's convention, if the platform tracks the
    /// camera (ARKit, ARCore); `None` and mandrel tracks the camera itself.
    pub pose: Option<CameraPose>,
    /// Capture time, seconds (any monotonic clock).
    pub timestamp_s: f64,
    /// Hand landmarks on this frame if already known: 21 points, MediaPipe order, pixels
    /// of the depth image. Landmarks that arrive later go through `push_landmarks`.
    pub landmarks: Option<Vec<PixelPoint>>,
}

/// Why a frame did not make it into the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RejectionKind {
    /// The frame's data was invalid (the push call threw `InvalidFrame`).
    InvalidFrame,
    /// Tracking could not align it.
    TrackingLost,
    /// No depth within the working range.
    NoUsableDepth,
}

/// A frame that was not fused, as reported to the listener.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FrameRejection {
    /// The frame's timestamp as pushed.
    pub timestamp_s: f64,
    /// Why.
    pub kind: RejectionKind,
    /// A message for logs or a debug overlay.
    pub message: String,
}

/// Receives session events as they happen, on the thread that pushed the frame.
/// Implementations must be thread-safe and should return quickly (post to the UI thread).
#[uniffi::export(with_foreign)]
pub trait ScanListener: Send + Sync {
    /// Guidance after every accepted frame.
    fn on_guidance(&self, guidance: Guidance);
    /// A frame that was not fused (invalid, tracking lost, or no usable depth).
    fn on_frame_rejected(&self, rejection: FrameRejection);
}

/// A scan in progress. Push frames from the camera thread, poll `guidance()` (or set a
/// listener) from the UI thread, then `finish()`.
#[derive(uniffi::Object)]
pub struct ScanSession {
    inner: Mutex<Inner>,
    listener: Mutex<Option<Arc<dyn ScanListener>>>,
    /// The keep-latest slot and worker of the non-blocking `offer_*` calls.
    pub(crate) live: Arc<crate::live::LiveSlot>,
}

struct Inner {
    session: core::ScanSession,
    /// Depth image size of each pushed frame, to place normalised landmarks.
    frame_sizes: Vec<(u32, u32)>,
}

impl ScanSession {
    fn lock(&self) -> Result<MutexGuard<'_, Inner>, MandrelError> {
        self.inner.lock().map_err(|_| {
            MandrelError::Internal(
                "the session lock is poisoned by an earlier panic; start a new session".into(),
            )
        })
    }

    fn listener(&self) -> Option<Arc<dyn ScanListener>> {
        self.listener.lock().ok().and_then(|l| l.clone())
    }

    /// Shared tail of every `push_*`: decode → frame → core push, then tell the listener
    /// (with no lock held).
    pub(crate) fn push(
        &self,
        what: &str,
        info: FrameInfo,
        decode: impl FnOnce() -> Result<DepthFrame, MandrelError>,
    ) -> Result<FrameReport, MandrelError> {
        let timestamp_s = info.timestamp_s;
        self.push_frame(what, timestamp_s, || {
            let depth = decode()?;
            let mut frame =
                convert::frame(depth, info.intrinsics, info.pose.as_ref(), info.timestamp_s)?;
            if let Some(points) = &info.landmarks {
                frame.landmarks = Some(convert::landmarks_pixels(points)?);
            }
            Ok(frame)
        })
    }

    /// Pushes a built core frame (platform buffers or the virtual sensor) and notifies the
    /// listener with no lock held.
    pub(crate) fn push_frame(
        &self,
        what: &str,
        timestamp_s: f64,
        build: impl FnOnce() -> Result<Frame, MandrelError>,
    ) -> Result<FrameReport, MandrelError> {
        let result = guard(what, || {
            let frame = build()?;
            let size = (frame.depth.width(), frame.depth.height());
            let mut inner = self.lock()?;
            let report = inner.session.push_frame(frame)?;
            inner.frame_sizes.push(size);
            let mut report = FrameReport::from(report);
            report.guidance.frames_dropped = self.live.dropped();
            Ok(report)
        });
        if let Some(listener) = self.listener() {
            let notify = guard("ScanListener", || {
                match &result {
                    Ok(r) => {
                        let kind = match r.outcome {
                            FrameOutcome::Fused | FrameOutcome::ObservedVolumeFull => None,
                            FrameOutcome::TrackingLost => Some(RejectionKind::TrackingLost),
                            FrameOutcome::NoUsableDepth => Some(RejectionKind::NoUsableDepth),
                        };
                        if let Some(kind) = kind {
                            listener.on_frame_rejected(FrameRejection {
                                timestamp_s,
                                kind,
                                message: format!(
                                    "frame {} not fused: {:?}",
                                    r.frame_index, r.outcome
                                ),
                            });
                        }
                        listener.on_guidance(r.guidance);
                    }
                    Err(MandrelError::InvalidFrame(m)) => {
                        listener.on_frame_rejected(FrameRejection {
                            timestamp_s,
                            kind: RejectionKind::InvalidFrame,
                            message: m.clone(),
                        })
                    }
                    Err(_) => {}
                }
                Ok(())
            });
            if let (Ok(_), Err(e)) = (&result, notify) {
                return Err(e);
            }
        }
        result
    }
}

#[uniffi::export]
impl ScanSession {
    /// A new session; throws `InvalidConfig` for out-of-range settings.
    #[uniffi::constructor]
    pub fn new(config: SessionConfig) -> Result<Arc<Self>, MandrelError> {
        guard("ScanSession.new", || {
            let session = core::ScanSession::new(core::SessionConfig::try_from(&config)?)?;
            Ok(Arc::new(Self {
                inner: Mutex::new(Inner {
                    session,
                    frame_sizes: Vec::new(),
                }),
                listener: Mutex::new(None),
                live: Arc::default(),
            }))
        })
    }

    /// Sets (or with `None` removes) the listener that receives guidance and rejections.
    pub fn set_listener(&self, listener: Option<Arc<dyn ScanListener>>) {
        match self.listener.lock() {
            Ok(mut l) => *l = listener,
            Err(poisoned) => *poisoned.into_inner() = listener,
        }
    }

    /// The settings this session runs with.
    pub fn config(&self) -> Result<SessionConfig, MandrelError> {
        Ok(SessionConfig::from(self.lock()?.session.config()))
    }

    /// ARKit `ARFrame.sceneDepth` (or `smoothedSceneDepth`): `depthMap` bytes
    /// (`kCVPixelFormatType_DepthFloat32`, metres) and `confidenceMap` bytes
    /// (`ARConfidenceLevel` u8, tightly packed), or an empty buffer when there is no
    /// confidence map. `layout` is the depth map's size and bytes per row.
    pub fn push_arkit_depth(
        &self,
        depth: &[u8],
        confidence: &[u8],
        layout: BufferLayout,
        info: FrameInfo,
    ) -> Result<FrameReport, MandrelError> {
        self.push("push_arkit_depth", info, || {
            convert::arkit_depth(depth, confidence, layout)
        })
    }

    /// TrueDepth `AVDepthData.depthDataMap` bytes in the given pixel format.
    pub fn push_truedepth(
        &self,
        depth: &[u8],
        format: TrueDepthPixelFormat,
        layout: BufferLayout,
        info: FrameInfo,
    ) -> Result<FrameReport, MandrelError> {
        self.push("push_truedepth", info, || {
            convert::truedepth_depth(depth, format, layout)
        })
    }

    /// ARCore `Frame.acquireDepthImage16Bits()` plane bytes (u16 millimetres, 0 = none)
    /// and `acquireRawDepthConfidenceImage()` bytes (u8, tightly packed), or an empty
    /// buffer when there is no confidence image. From Kotlin pass the planes'
    /// direct `ByteBuffer`s as they are: nothing is copied.
    pub fn push_arcore_depth(
        &self,
        depth: &[u8],
        confidence: &[u8],
        layout: BufferLayout,
        info: FrameInfo,
    ) -> Result<FrameReport, MandrelError> {
        self.push("push_arcore_depth", info, || {
            convert::arcore_depth(depth, confidence, layout)
        })
    }

    /// Hand landmarks detected on frame `frame_index` after it was pushed: 21 points,
    /// MediaPipe order, in pixels of that frame's depth image.
    pub fn push_landmarks(
        &self,
        frame_index: u32,
        points: Vec<PixelPoint>,
    ) -> Result<(), MandrelError> {
        guard("push_landmarks", || {
            let lm = convert::landmarks_pixels(&points)?;
            Ok(self
                .lock()?
                .session
                .push_landmarks(frame_index as usize, lm)?)
        })
    }

    /// Apple Vision hand joints for frame `frame_index` (`VNRecognizedPoint.location`:
    /// normalised, origin bottom-left; 21 joints in MediaPipe order, see the iOS demo).
    pub fn push_apple_vision_landmarks(
        &self,
        frame_index: u32,
        normalised: Vec<PixelPoint>,
    ) -> Result<(), MandrelError> {
        guard("push_apple_vision_landmarks", || {
            let mut inner = self.lock()?;
            let (w, h) = *inner.frame_sizes.get(frame_index as usize).ok_or_else(|| {
                MandrelError::NotEnoughData(format!(
                    "landmarks for frame {frame_index}, but only {} frames were pushed",
                    inner.frame_sizes.len()
                ))
            })?;
            let lm = convert::landmarks_vision(&normalised, w, h)?;
            Ok(inner.session.push_landmarks(frame_index as usize, lm)?)
        })
    }

    /// Live feedback: frames fused, coverage of the finger, tracking state, next hint.
    pub fn guidance(&self) -> Result<Guidance, MandrelError> {
        guard("guidance", || {
            let mut g = Guidance::from(self.lock()?.session.guidance());
            g.frames_dropped = self.live.dropped();
            Ok(g)
        })
    }

    /// Measures the finger from everything pushed so far. Throws `NotEnoughData` when no
    /// frame was pushed; a scan that cannot support a size returns status `NeedsRescan`
    /// with reasons. The session stays usable: push more and finish again.
    pub fn finish(&self) -> Result<RingMeasurement, MandrelError> {
        guard("finish", || {
            Ok(RingMeasurement::from(self.lock()?.session.finish()?))
        })
    }

    /// The fused surface as a binary PLY, for on-device display only.
    pub fn mesh_ply(&self) -> Result<Vec<u8>, MandrelError> {
        guard("mesh_ply", || {
            let mesh = self.lock()?.session.mesh();
            let mut out = Vec::new();
            mesh.write_ply(&mut out, PlyFormat::Binary)
                .map_err(|e| MandrelError::Internal(format!("PLY encoding: {e}")))?;
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandrel_core::limits::Limit;

    #[test]
    fn bad_input_never_maps_to_internal() {
        let limit = Limit::SessionFrames.check(u64::MAX).unwrap_err();
        let bad = [
            SessionError::InvalidFrame("x".into()),
            SessionError::InvalidConfig("x".into()),
            SessionError::NotEnoughData("x".into()),
            SessionError::Limit(limit),
        ];
        for e in bad {
            assert_ne!(e.kind(), core::SessionErrorKind::Internal, "{e}");
            let m = MandrelError::from(e.clone());
            assert!(!matches!(m, MandrelError::Internal(_)), "{e} -> {m:?}");
        }
        assert_eq!(
            MandrelError::from(SessionError::Limit(limit)),
            MandrelError::InvalidFrame(limit.to_string())
        );
        assert!(matches!(
            MandrelError::from(SessionError::Internal("bug".into())),
            MandrelError::Internal(_)
        ));
    }
}

//! The virtual depth sensor: a simulated hand scan with exact ground truth, so a shell, a
//! simulator build or a test can run the whole pipeline with no depth camera.
//!
//! Built only with the `sim` cargo feature (demo mode), so production apps ship without it.
//!
//! Guarantees: the frames are those of `mandrel_sim::SimScan::generate` for the
//! seed and options (deterministic); they enter the session through the same path as
//! camera frames (validation, listener).

use crate::error::{guard, MandrelError};
use crate::session::{FingerName, FrameReport, HandSide, ScanSession};
use mandrel_sim::{Coverage, Sensor, SimError, SimOptions, SimScan};
use std::sync::{Arc, Mutex};

impl From<SimError> for MandrelError {
    fn from(e: SimError) -> Self {
        match e {
            SimError::Frame(f) => MandrelError::InvalidFrame(f.to_string()),
            other => MandrelError::InvalidConfig(other.to_string()),
        }
    }
}

/// Which phone sensor the virtual sensor imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum VirtualSensorKind {
    /// Front TrueDepth camera: 640x480, 0.6 mm noise at 30 cm.
    TrueDepth,
    /// Rear LiDAR: 256x192, 4 mm noise at 30 cm.
    Lidar,
}

/// Options of a simulated scan.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VirtualScanOptions {
    /// Sensor imitated.
    pub sensor: VirtualSensorKind,
    /// Number of frames (1 to 2000).
    pub frames: u32,
    /// Frames carry platform poses (else mandrel tracks the camera itself).
    pub poses_given: bool,
    /// The camera goes all around the finger (else only over the back of the hand).
    pub full_coverage: bool,
    /// Finger to measure.
    pub finger: FingerName,
}

/// The defaults: TrueDepth, 40 frames with poses, full coverage, ring finger.
#[uniffi::export]
pub fn virtual_scan_defaults() -> VirtualScanOptions {
    let d = SimOptions::default();
    VirtualScanOptions {
        sensor: match d.sensor {
            Sensor::TrueDepth => VirtualSensorKind::TrueDepth,
            Sensor::Lidar => VirtualSensorKind::Lidar,
        },
        frames: d.frames.min(u32::MAX as usize) as u32,
        poses_given: d.poses_given,
        full_coverage: d.coverage == Coverage::Full,
        finger: d.finger.into(),
    }
}

/// Ground truth of a simulated scan, millimetres.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct VirtualScanTruth {
    /// Hand filmed.
    pub hand: HandSide,
    /// Finger to measure.
    pub finger: FingerName,
    /// True ring circumference, mm.
    pub ring_circumference_mm: f64,
    /// True knuckle circumference, mm.
    pub knuckle_circumference_mm: f64,
}

/// A simulated scan that plays its frames into a `ScanSession`, one by one or all at once.
#[derive(uniffi::Object)]
pub struct VirtualSensor {
    scan: SimScan,
    next: Mutex<usize>,
}

#[uniffi::export]
impl VirtualSensor {
    /// Generates the scan for `seed` (deterministic); throws `InvalidConfig` for options
    /// out of range.
    #[uniffi::constructor]
    pub fn new(seed: u64, options: VirtualScanOptions) -> Result<Arc<Self>, MandrelError> {
        guard("VirtualSensor.new", || {
            let opts = SimOptions {
                sensor: match options.sensor {
                    VirtualSensorKind::TrueDepth => Sensor::TrueDepth,
                    VirtualSensorKind::Lidar => Sensor::Lidar,
                },
                frames: options.frames as usize,
                poses_given: options.poses_given,
                coverage: if options.full_coverage {
                    Coverage::Full
                } else {
                    Coverage::Dorsal
                },
                finger: options.finger.into(),
                ..SimOptions::default()
            };
            let scan = SimScan::generate(seed, &opts)?;
            Ok(Arc::new(Self {
                scan,
                next: Mutex::new(0),
            }))
        })
    }

    /// The ground truth.
    pub fn truth(&self) -> VirtualScanTruth {
        VirtualScanTruth {
            hand: self.scan.target.hand.into(),
            finger: self.scan.target.finger.into(),
            ring_circumference_mm: self.scan.truth.ring_circumference_mm,
            knuckle_circumference_mm: self.scan.truth.knuckle_circumference_mm,
        }
    }

    /// Number of frames in the scan.
    pub fn frame_count(&self) -> u32 {
        self.scan.frames.len().min(u32::MAX as usize) as u32
    }

    /// Frames not yet played.
    pub fn remaining(&self) -> u32 {
        let next = self.next.lock().map(|n| *n).unwrap_or(usize::MAX);
        self.scan.frames.len().saturating_sub(next) as u32
    }

    /// Plays the next frame into `session`; `None` when all frames were played.
    pub fn push_next(
        &self,
        session: Arc<ScanSession>,
    ) -> Result<Option<FrameReport>, MandrelError> {
        let Some(frame) = self.take_next()?.and_then(|i| self.scan.frames.get(i)) else {
            return Ok(None);
        };
        session
            .push_frame("VirtualSensor.push_next", frame.timestamp, || {
                Ok(frame.clone())
            })
            .map(Some)
    }

    /// Offers the next frame to `session` the way a camera thread does (`offer_truedepth`:
    /// returns at once, the frame is worked on the session's worker and may be dropped by
    /// the keep-latest policy); false when all frames were played.
    pub fn offer_next(&self, session: Arc<ScanSession>) -> Result<bool, MandrelError> {
        let Some(frame) = self.take_next()?.and_then(|i| self.scan.frames.get(i)) else {
            return Ok(false);
        };
        let frame = frame.clone();
        session.offer(Box::new(move |s: &ScanSession| {
            let _ = s.push_frame("VirtualSensor.offer_next", frame.timestamp, || Ok(frame));
        }))?;
        Ok(true)
    }

    /// Plays every remaining frame into `session`; returns how many were pushed. Stops at
    /// the first frame the session rejects (and throws its error).
    pub fn push_all(&self, session: Arc<ScanSession>) -> Result<u32, MandrelError> {
        let mut n = 0;
        while self.push_next(session.clone())?.is_some() {
            n += 1;
        }
        Ok(n)
    }
}

impl VirtualSensor {
    /// Claims the index of the next unplayed frame; `None` when all were played.
    fn take_next(&self) -> Result<Option<usize>, MandrelError> {
        let mut next = self
            .next
            .lock()
            .map_err(|_| MandrelError::Internal("virtual sensor lock poisoned".into()))?;
        let i = *next;
        if i >= self.scan.frames.len() {
            return Ok(None);
        }
        *next += 1;
        Ok(Some(i))
    }
}

/// A simulated TrueDepth scan of the ring finger for `seed`, with the default options.
#[uniffi::export]
pub fn simulated_scan(seed: u64) -> Result<Arc<VirtualSensor>, MandrelError> {
    VirtualSensor::new(seed, virtual_scan_defaults())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurement::measurement_to_json;
    use crate::session::session_config_defaults;

    #[test]
    fn offer_next_plays_every_frame_once_worked_or_dropped() {
        let mut opts = virtual_scan_defaults();
        opts.frames = 12;
        let sensor = VirtualSensor::new(3, opts).unwrap();
        let truth = sensor.truth();
        let s = ScanSession::new(session_config_defaults(truth.hand, truth.finger)).unwrap();
        let mut offered = 0;
        while sensor.offer_next(Arc::clone(&s)).unwrap() {
            offered += 1;
        }
        assert_eq!(offered, 12);
        assert_eq!(sensor.remaining(), 0);
        assert!(!sensor.offer_next(Arc::clone(&s)).unwrap());
        s.wait_for_offered_frames();
        let g = s.guidance().unwrap();
        assert_eq!(g.frames_pushed + g.frames_dropped, 12);
        assert!(g.frames_pushed >= 1);
        assert_eq!(g.frames_dropped, s.frames_dropped());
    }

    #[test]
    fn replayed_frames_are_counted_as_duplicates_in_the_measurement() {
        let mut options = virtual_scan_defaults();
        options.sensor = VirtualSensorKind::Lidar;
        options.frames = 16;
        let sensor = VirtualSensor::new(5, options).unwrap();
        let truth = sensor.truth();
        let session = ScanSession::new(session_config_defaults(truth.hand, truth.finger)).unwrap();
        let n = sensor.push_all(session.clone()).unwrap() as usize;
        let first = session.finish().unwrap();
        assert_eq!(
            (first.duplicate_frames_exact, first.duplicate_frames_near),
            (0, 0)
        );
        assert!(!measurement_to_json(first)
            .unwrap()
            .contains("duplicate_frames"));
        // The same frames again, later: a replay adds no new view.
        let end = sensor.scan.frames.last().unwrap().timestamp;
        for f in &sensor.scan.frames {
            let mut f = f.clone();
            f.timestamp += end + 1.0;
            session.push_frame("replay", f.timestamp, || Ok(f)).unwrap();
        }
        let again = session.finish().unwrap();
        let found = (again.duplicate_frames_exact + again.duplicate_frames_near) as usize;
        assert!(
            found >= n / 2 && found <= n,
            "{found} duplicates of {n} replayed frames"
        );
        let json = measurement_to_json(again).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v["duplicate_frames"]["exact"].as_u64().unwrap()
                + v["duplicate_frames"]["near"].as_u64().unwrap(),
            found as u64
        );
    }
}

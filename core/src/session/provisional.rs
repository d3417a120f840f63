//! Provisional measurements while scanning: every [`SessionConfig::provisional_every`]
//! frames the session measures the ring from a bounded, evenly strided subset of the
//! observations kept so far (reusing the landmark views and the located finger), so that
//! guidance can say `Done` when the scan would measure `ok`, and otherwise what is missing.
//! It fits the ring section only: the knuckle section enters neither the status nor the
//! ring's value and uncertainty.
//!
//! Cost is bounded: at most [`PROVISIONAL_MAX_FRAMES`] frames' observations go into one
//! provisional measurement, whatever the scan's length.
//!
//! [`SessionConfig::provisional_every`]: super::SessionConfig::provisional_every

use super::{Hint, ScanSession};
use crate::measure::{measure_ring_only, MeasureInput, Reason, Status};
use crate::mesh;
use serde::{Deserialize, Serialize};

/// Most frames whose observations go into one provisional measurement.
pub const PROVISIONAL_MAX_FRAMES: usize = 24;

/// A measurement taken during the scan from what was kept so far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Provisional {
    /// Frames pushed when it was taken.
    pub frames_pushed: usize,
    /// Ring circumference, millimetres (`None`: no ring section yet).
    pub ring_circumference_mm: Option<f64>,
    /// 1σ uncertainty of the circumference, millimetres.
    pub uncertainty_mm: Option<f64>,
    /// What `finish` would most likely say now.
    pub status: Status,
    /// The first reason it is not `ok` (`None` when it is).
    pub missing: Option<Reason>,
}

impl ScanSession {
    /// Takes a provisional measurement when one is due (every `provisional_every` frames
    /// pushed, never in a fuse-only session).
    pub(super) fn update_provisional(&mut self) {
        let every = self.config.provisional_every;
        let n = self.frames.len();
        if every == 0 || n == 0 || !n.is_multiple_of(every) || !self.config.keep_observations {
            return;
        }
        self.provisional = Some(self.measure_provisional());
    }

    fn measure_provisional(&self) -> Provisional {
        let frames_pushed = self.frames.len();
        let miss = |r: Reason| Provisional {
            frames_pushed,
            ring_circumference_mm: None,
            uncertainty_mm: None,
            status: Status::NeedsRescan,
            missing: Some(r),
        };
        if self.observations.is_empty() {
            return miss(Reason::TooFewFrames);
        }
        let k = self.observations.len();
        let step = k.div_ceil(PROVISIONAL_MAX_FRAMES).max(1);
        let subset: Vec<_> = self
            .observations
            .iter()
            .skip((k - 1) % step)
            .step_by(step)
            .cloned()
            .collect();
        let mut opts = self.config.measure.clone();
        opts.target = self.config.target;
        opts.use_landmarks = self.config.use_landmarks;
        if self.raw_platform_frames <= 1 {
            opts.section.pose_drift_sigma_m = 0.0;
        }
        let surface = if !self.config.use_landmarks || self.views.is_empty() {
            let mut m = mesh::extract(&self.volume);
            m.remove_small_components(200);
            Some(m)
        } else {
            None
        };
        let input = MeasureInput {
            observations: &subset,
            landmark_views: &self.views,
            surface: surface.as_ref(),
            tracking: self.tracking_summary(),
            upstream: self.timings,
        };
        match measure_ring_only(&input, &opts) {
            Ok((m, _)) => Provisional {
                frames_pushed,
                ring_circumference_mm: m.ring_circumference_mm,
                uncertainty_mm: m.uncertainty_mm,
                status: m.status,
                missing: m.reasons.first().copied(),
            },
            Err(_) => miss(Reason::FingerNotFound),
        }
    }

    /// The hint for what the last provisional measurement says is missing (`None` when
    /// there is none yet or it names nothing the user can act on).
    pub(super) fn provisional_hint(&self) -> Option<Hint> {
        let p = self.provisional.as_ref()?;
        if p.status == Status::Ok {
            return Some(Hint::Done);
        }
        Some(match p.missing? {
            Reason::InsufficientCoverage => Hint::ShowPalmSide,
            Reason::TooNoisy | Reason::HandOutOfRange => Hint::MoveCloser,
            Reason::TrackingLost => Hint::SlowDown,
            _ => Hint::KeepMoving,
        })
    }
}

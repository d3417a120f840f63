//! Provisional measurements while scanning: every [`SessionConfig::provisional_every`]
//! frames the session measures the ring from a bounded, evenly strided subset of the
//! observations kept so far (reusing the landmark views and the located finger), so that
//! guidance can say `Done` when the scan would measure `ok`, and otherwise what is missing.
//! It fits the ring section only: the knuckle section enters neither the status nor the
//! ring's value and uncertainty.
//!
//! Cost is bounded: at most [`PROVISIONAL_MAX_FRAMES`] frames' observations go into one
//! provisional measurement, whatever the scan's length. And it is spread: started on every
//! `provisional_every`-th frame from the observations kept then, the measurement runs in
//! steps, one per pushed frame (without landmarks the fused surface is extracted first, in
//! a step of its own), and is published with the frame of its last step, a few frames
//! after it was started. With `provisional_every` shorter than the steps, it runs whole
//! when due.
//!
//! [`SessionConfig::provisional_every`]: super::SessionConfig::provisional_every

use super::{Hint, ScanSession};
use crate::measure::observe::FrameObservations;
use crate::measure::section::AXIS_PASSES;
use crate::measure::{
    MeasureError, MeasureInput, MeasureOptions, Reason, RingJob, RingStep, Status,
};
use crate::mesh::{self, Mesh};
use serde::{Deserialize, Serialize};

/// Most frames whose observations go into one provisional measurement.
pub const PROVISIONAL_MAX_FRAMES: usize = 24;

/// A measurement taken during the scan from what was kept so far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Provisional {
    /// Frames pushed when it was published (it measures the observations kept a few frames
    /// earlier, when it was started).
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

/// A provisional measurement under way.
#[derive(Debug, Clone)]
pub(super) struct ProvisionalJob {
    step: JobStep,
}

/// The next step of a [`ProvisionalJob`].
#[derive(Debug, Clone)]
enum JobStep {
    /// The measurement is to be started on these observations, after the fused surface
    /// has been extracted (in a step of its own) when it locates the finger on it.
    Surface(Vec<FrameObservations>),
    /// The measurement is to be started on these observations (and this surface).
    Start(Vec<FrameObservations>, Option<Box<Mesh>>),
    /// The measurement's next step.
    Ring(Box<RingJob>),
}

/// Steps of a provisional measurement with landmarks (see [`RingJob`]: the first pass of the
/// axis refinement with the finger's location, each further pass, the ring, the taper);
/// one more without.
const RING_STEPS: usize = AXIS_PASSES + 2;

impl ScanSession {
    /// Advances the provisional measurement by one step per pushed frame: starts one when
    /// due (every `provisional_every` frames pushed, never in a fuse-only session), takes the
    /// next step of the one under way, and publishes it when done. With `provisional_every`
    /// shorter than its steps, it is taken whole when due.
    pub(super) fn update_provisional(&mut self) {
        let every = self.config.provisional_every;
        let n = self.frames.len();
        if every == 0 || n == 0 || !self.config.keep_observations {
            return;
        }
        if self.provisional_job.is_none() {
            if !n.is_multiple_of(every) {
                return;
            }
            self.provisional_job = Some(self.start_provisional());
            let steps = if self.locates_from_surface() {
                RING_STEPS + 1
            } else {
                RING_STEPS
            };
            if every < steps {
                while self.provisional_job.is_some() {
                    self.step_provisional();
                }
                return;
            }
        }
        self.step_provisional();
    }

    /// Whether a provisional measurement locates the finger on the fused surface (no
    /// landmarks to use).
    fn locates_from_surface(&self) -> bool {
        !self.config.use_landmarks || self.views.is_empty()
    }

    /// A provisional measurement of the observations kept so far, not yet stepped.
    fn start_provisional(&self) -> ProvisionalJob {
        let k = self.observations.len();
        let step = k.div_ceil(PROVISIONAL_MAX_FRAMES).max(1);
        let subset: Vec<_> = self
            .observations
            .iter()
            .skip(k.saturating_sub(1) % step)
            .step_by(step)
            .cloned()
            .collect();
        ProvisionalJob {
            step: JobStep::Surface(subset),
        }
    }

    /// Takes the next step of the provisional measurement under way; publishes it when
    /// done.
    fn step_provisional(&mut self) {
        let Some(job) = self.provisional_job.take() else {
            return;
        };
        let frames_pushed = self.frames.len();
        let miss = |r: Reason| Provisional {
            frames_pushed,
            ring_circumference_mm: None,
            uncertainty_mm: None,
            status: Status::NeedsRescan,
            missing: Some(r),
        };
        let step = match job.step {
            JobStep::Surface(subset) if subset.is_empty() => {
                self.provisional = Some(miss(Reason::TooFewFrames));
                return;
            }
            JobStep::Surface(subset) if self.locates_from_surface() => {
                let mut m = mesh::extract(&self.volume);
                m.remove_small_components(200);
                self.provisional_job = Some(ProvisionalJob {
                    step: JobStep::Start(subset, Some(Box::new(m))),
                });
                return;
            }
            JobStep::Surface(subset) => self.start_ring(&subset, None),
            JobStep::Start(subset, surface) => self.start_ring(&subset, surface.as_deref()),
            JobStep::Ring(ring) => Ok(ring.step()),
        };
        match step {
            Ok(RingStep::Pending(ring)) => {
                self.provisional_job = Some(ProvisionalJob {
                    step: JobStep::Ring(ring),
                });
            }
            Ok(RingStep::Done(done)) => {
                let m = done.0;
                self.provisional = Some(Provisional {
                    frames_pushed,
                    ring_circumference_mm: m.ring_circumference_mm,
                    uncertainty_mm: m.uncertainty_mm,
                    status: m.status,
                    missing: m.reasons.first().copied(),
                });
            }
            Err(_) => self.provisional = Some(miss(Reason::FingerNotFound)),
        }
    }

    /// The first step of the ring measurement of `subset`.
    fn start_ring(
        &self,
        subset: &[FrameObservations],
        surface: Option<&Mesh>,
    ) -> Result<RingStep, MeasureError> {
        let input = MeasureInput {
            observations: subset,
            landmark_views: &self.views,
            surface,
            tracking: self.tracking_summary(),
            upstream: self.timings,
        };
        RingJob::start(&input, &self.provisional_options())
    }

    /// The measurement options of a provisional measurement.
    fn provisional_options(&self) -> MeasureOptions {
        let mut opts = self.config.measure.clone();
        opts.target = self.config.target;
        opts.use_landmarks = self.config.use_landmarks;
        if self.raw_platform_frames <= 1 {
            opts.section.pose_drift_sigma_m = 0.0;
        }
        opts
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

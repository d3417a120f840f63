//! The measurement record returned by `ScanSession.finish()`, and its translation to and
//! from the core's `Measurement` (the CLI `--json` schema).
//!
//! Guarantees: the conversion is lossless both ways, so a record handed back to
//! `seal_measurement` seals exactly what `finish()` produced (unless the shell edited it).

use crate::error::MandrelError;
use crate::session::{FingerName, HandSide};
use mandrel_core::measure::sizes::{self, SizeSystem};
use mandrel_core::measure::{self as core, LocateMethod as CoreLocateMethod};

/// Whether the scan pins a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MeasurementStatus {
    /// The data pins the size.
    Ok,
    /// The data cannot support a size; see `reasons`.
    NeedsRescan,
}

/// Why a scan needs redoing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RescanReason {
    /// The target finger could not be located.
    FingerNotFound,
    /// Too little of the finger's circumference was seen.
    InsufficientCoverage,
    /// The uncertainty is too large to pin a half size.
    TooNoisy,
    /// Tracking was lost on too many frames.
    TrackingLost,
    /// Too few frames contributed.
    TooFewFrames,
    /// No frames at all.
    NoFrames,
    /// The hand was outside (or at the edge of) the working depth range in most frames.
    HandOutOfRange,
}

/// How the finger was located.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LocateMethod {
    /// Triangulated from 2D landmarks.
    Landmarks,
    /// Landmarks, with depth along a poorly constrained direction.
    LandmarksWithDepth,
    /// Found on the fused surface without landmarks.
    Geometric,
}

/// A circumference as a size label in every system (labels as printed on size charts;
/// `"n/a"` where a system's table does not reach it), from the core's `Sizes`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SizeLabels {
    /// ISO 8653 (inner circumference, mm).
    pub iso: String,
    /// US / Canada.
    pub us: String,
    /// UK / Australia.
    pub uk: String,
    /// EU.
    pub eu: String,
    /// Japan.
    pub jp: String,
    /// Switzerland.
    pub ch: String,
    /// India.
    pub india: String,
    /// China.
    pub cn: String,
}

/// What to buy, from the core's `Recommendation`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Recommendation {
    /// Inner circumference (mm) the recommended size must have at least.
    pub circumference_mm: f64,
    /// The recommended size in every system.
    pub sizes: SizeLabels,
    /// Advice for the user (e.g. comfort fit for a large knuckle).
    pub advice: String,
}

/// Time spent per pipeline stage, milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct StageTimings {
    /// Camera tracking.
    pub track_ms: f64,
    /// Fusion.
    pub fuse_ms: f64,
    /// Per-frame observations.
    pub observe_ms: f64,
    /// Locating the finger.
    pub locate_ms: f64,
    /// Cross-section fits.
    pub section_ms: f64,
    /// End to end.
    pub total_ms: f64,
}

/// The result of a scan (named so it does not clash with `Foundation.Measurement`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RingMeasurement {
    /// `Ok` or `NeedsRescan`.
    pub status: MeasurementStatus,
    /// Why a rescan is needed (empty when `Ok`).
    pub reasons: Vec<RescanReason>,
    /// Hand measured.
    pub hand: HandSide,
    /// Finger measured.
    pub finger: FingerName,
    /// Ring circumference (where a ring sits), mm.
    pub ring_circumference_mm: Option<f64>,
    /// Knuckle circumference (what a ring must pass over), mm.
    pub knuckle_circumference_mm: Option<f64>,
    /// One-sigma uncertainty of the ring circumference, mm.
    pub uncertainty_mm: Option<f64>,
    /// The ring circumference in every sizing system (only when `Ok`).
    pub sizes: Option<SizeLabels>,
    /// What to buy (only when `Ok`).
    pub recommended: Option<Recommendation>,
    /// Degrees of the ring cross-section's outline observed.
    pub coverage_deg: f64,
    /// Frames contributing to the ring section.
    pub frames_used: u32,
    /// How the finger was located (`None` if it was not).
    pub locate_method: Option<LocateMethod>,
    /// Time per stage.
    pub timings: StageTimings,
    /// Section outlines for making a fitted band (`cad_band`), when a ring section was
    /// fitted. Defaults to none in the generated constructors, so shells that build a
    /// measurement (tests, previews) need not name it.
    #[uniffi(default = None)]
    pub fit_geometry: Option<crate::cad::FitGeometry>,
    /// Frames left out because they repeat an earlier frame exactly (a replayed frame).
    /// Defaults to 0 in the generated constructors.
    #[uniffi(default = 0)]
    pub duplicate_frames_exact: u32,
    /// Frames left out because they were seen from (almost) the same viewpoint as an
    /// earlier frame (camera and hand standing still). Defaults to 0.
    #[uniffi(default = 0)]
    pub duplicate_frames_near: u32,
}

impl From<sizes::Sizes> for SizeLabels {
    fn from(s: sizes::Sizes) -> Self {
        let p = |system| s.printed(system).to_string();
        Self {
            iso: p(SizeSystem::Iso),
            us: p(SizeSystem::Us),
            uk: p(SizeSystem::Uk),
            eu: p(SizeSystem::Eu),
            jp: p(SizeSystem::Jp),
            ch: p(SizeSystem::Ch),
            india: p(SizeSystem::In),
            cn: p(SizeSystem::Cn),
        }
    }
}

impl From<SizeLabels> for sizes::Sizes {
    fn from(s: SizeLabels) -> Self {
        let l = sizes::label_from_printed;
        Self {
            iso: l(s.iso),
            us: l(s.us),
            uk: l(s.uk),
            eu: l(s.eu),
            jp: l(s.jp),
            ch: l(s.ch),
            in_: l(s.india),
            cn: l(s.cn),
        }
    }
}

impl From<sizes::Recommendation> for Recommendation {
    fn from(r: sizes::Recommendation) -> Self {
        Self {
            circumference_mm: r.circumference_mm,
            sizes: r.sizes.into(),
            advice: r.advice,
        }
    }
}

impl From<Recommendation> for sizes::Recommendation {
    fn from(r: Recommendation) -> Self {
        Self {
            circumference_mm: r.circumference_mm,
            sizes: r.sizes.into(),
            advice: r.advice,
        }
    }
}

impl From<core::Reason> for RescanReason {
    fn from(r: core::Reason) -> Self {
        match r {
            core::Reason::FingerNotFound => RescanReason::FingerNotFound,
            core::Reason::InsufficientCoverage => RescanReason::InsufficientCoverage,
            core::Reason::TooNoisy => RescanReason::TooNoisy,
            core::Reason::TrackingLost => RescanReason::TrackingLost,
            core::Reason::TooFewFrames => RescanReason::TooFewFrames,
            core::Reason::NoFrames => RescanReason::NoFrames,
            core::Reason::HandOutOfRange => RescanReason::HandOutOfRange,
            // A variant added to core after this mapping was written: the scan still
            // needs redoing; say the data was not good enough.
            _ => RescanReason::TooNoisy,
        }
    }
}

impl From<RescanReason> for core::Reason {
    fn from(r: RescanReason) -> Self {
        match r {
            RescanReason::FingerNotFound => core::Reason::FingerNotFound,
            RescanReason::InsufficientCoverage => core::Reason::InsufficientCoverage,
            RescanReason::TooNoisy => core::Reason::TooNoisy,
            RescanReason::TrackingLost => core::Reason::TrackingLost,
            RescanReason::TooFewFrames => core::Reason::TooFewFrames,
            RescanReason::NoFrames => core::Reason::NoFrames,
            RescanReason::HandOutOfRange => core::Reason::HandOutOfRange,
        }
    }
}

impl From<CoreLocateMethod> for LocateMethod {
    fn from(m: CoreLocateMethod) -> Self {
        match m {
            CoreLocateMethod::Landmarks => LocateMethod::Landmarks,
            CoreLocateMethod::LandmarksWithDepth => LocateMethod::LandmarksWithDepth,
            CoreLocateMethod::Geometric => LocateMethod::Geometric,
            // A variant added to core after this mapping was written: neither
            // landmark method, so geometric.
            _ => LocateMethod::Geometric,
        }
    }
}

impl From<LocateMethod> for CoreLocateMethod {
    fn from(m: LocateMethod) -> Self {
        match m {
            LocateMethod::Landmarks => CoreLocateMethod::Landmarks,
            LocateMethod::LandmarksWithDepth => CoreLocateMethod::LandmarksWithDepth,
            LocateMethod::Geometric => CoreLocateMethod::Geometric,
        }
    }
}

impl From<core::Measurement> for RingMeasurement {
    fn from(m: core::Measurement) -> Self {
        Self {
            status: match m.status {
                core::Status::Ok => MeasurementStatus::Ok,
                core::Status::NeedsRescan => MeasurementStatus::NeedsRescan,
                // A status added to core after this mapping was written is never read as
                // `Ok`: the shell must not sell a size it cannot explain.
                _ => MeasurementStatus::NeedsRescan,
            },
            reasons: m.reasons.into_iter().map(Into::into).collect(),
            hand: m.hand.into(),
            finger: m.finger.into(),
            ring_circumference_mm: m.ring_circumference_mm,
            knuckle_circumference_mm: m.knuckle_circumference_mm,
            uncertainty_mm: m.uncertainty_mm,
            sizes: m.sizes.map(Into::into),
            recommended: m.recommended.map(Into::into),
            coverage_deg: m.coverage_deg,
            frames_used: m.frames_used.min(u32::MAX as usize) as u32,
            locate_method: m.locate_method.map(Into::into),
            timings: StageTimings {
                track_ms: m.timings_ms.track,
                fuse_ms: m.timings_ms.fuse,
                observe_ms: m.timings_ms.observe,
                locate_ms: m.timings_ms.locate,
                section_ms: m.timings_ms.section,
                total_ms: m.timings_ms.total,
            },
            fit_geometry: m.fit_geometry.map(Into::into),
            duplicate_frames_exact: m.duplicate_frames.exact.min(u32::MAX as usize) as u32,
            duplicate_frames_near: m.duplicate_frames.near.min(u32::MAX as usize) as u32,
        }
    }
}

impl From<RingMeasurement> for core::Measurement {
    fn from(m: RingMeasurement) -> Self {
        Self {
            format: core::MEASUREMENT_FORMAT.to_string(),
            version: core::MEASUREMENT_VERSION,
            status: match m.status {
                MeasurementStatus::Ok => core::Status::Ok,
                MeasurementStatus::NeedsRescan => core::Status::NeedsRescan,
            },
            reasons: m.reasons.into_iter().map(Into::into).collect(),
            hand: m.hand.into(),
            finger: m.finger.into(),
            ring_circumference_mm: m.ring_circumference_mm,
            knuckle_circumference_mm: m.knuckle_circumference_mm,
            uncertainty_mm: m.uncertainty_mm,
            sizes: m.sizes.map(Into::into),
            recommended: m.recommended.map(Into::into),
            coverage_deg: m.coverage_deg,
            frames_used: m.frames_used as usize,
            locate_method: m.locate_method.map(Into::into),
            timings_ms: core::Timings {
                track: m.timings.track_ms,
                fuse: m.timings.fuse_ms,
                observe: m.timings.observe_ms,
                locate: m.timings.locate_ms,
                section: m.timings.section_ms,
                total: m.timings.total_ms,
            },
            fit_geometry: m.fit_geometry.map(Into::into),
            duplicate_frames: core::Duplicates {
                exact: m.duplicate_frames_exact as usize,
                near: m.duplicate_frames_near as usize,
            },
        }
    }
}

/// The measurement as the CLI's `--json` prints it (millimetres, snake_case).
#[uniffi::export]
pub fn measurement_to_json(measurement: RingMeasurement) -> Result<String, MandrelError> {
    crate::error::guard("measurement_to_json", || {
        serde_json::to_string_pretty(&core::Measurement::from(measurement))
            .map_err(|e| MandrelError::Internal(format!("measurement JSON: {e}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandrel_core::hand::{Finger, Hand};

    /// A core measurement with sizes from the tables, one system out of its table.
    fn ok_measurement() -> core::Measurement {
        let ring_mm = 40.0;
        core::Measurement {
            format: core::MEASUREMENT_FORMAT.to_string(),
            version: core::MEASUREMENT_VERSION,
            status: core::Status::Ok,
            reasons: vec![],
            hand: Hand::Left,
            finger: Finger::Ring,
            ring_circumference_mm: Some(ring_mm),
            knuckle_circumference_mm: Some(44.5),
            uncertainty_mm: Some(0.25),
            sizes: sizes::sizes_for_circumference(ring_mm).ok(),
            recommended: sizes::recommend(ring_mm, 44.5).ok(),
            coverage_deg: 300.0,
            frames_used: 12,
            locate_method: Some(CoreLocateMethod::Landmarks),
            timings_ms: core::Timings::default(),
            fit_geometry: None,
            duplicate_frames: core::Duplicates { exact: 3, near: 2 },
        }
    }

    #[test]
    fn labels_come_from_the_core_sizes_with_the_out_of_table_marker() {
        let m = ok_measurement();
        let core_sizes = m.sizes.clone().unwrap();
        assert_eq!(core_sizes.jp, None, "40 mm is below the Japanese table");
        let r = RingMeasurement::from(m);
        let labels = r.sizes.unwrap();
        assert_eq!(labels.jp, sizes::OUT_OF_TABLE);
        assert_eq!(labels.iso, "40");
        assert_eq!(core_sizes.in_, None);
        assert_eq!(labels.india, sizes::OUT_OF_TABLE);
    }

    #[test]
    fn conversion_is_lossless_both_ways_and_keeps_the_json() {
        let m = ok_measurement();
        let json = serde_json::to_string_pretty(&m).unwrap();
        let r = RingMeasurement::from(m.clone());
        let back = core::Measurement::from(r.clone());
        assert_eq!(back, m);
        assert_eq!(measurement_to_json(r).unwrap(), json);
    }
}

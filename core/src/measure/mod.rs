//! Finding the target finger, measuring its cross-section, uncertainty and status.
//!
//! [`measure`] turns what a scan left behind (per-frame `FrameObservations`,
//! landmark views, a tracking summary) into a [`Measurement`]: the ring and knuckle
//! circumferences with a 1-sigma uncertainty, the sizes in every system, and a status.
//!
//! Guarantees: [`measure`] never panics on data; a `Measurement` with status
//! [`Status::Ok`] has finite circumferences and an uncertainty no larger than
//! [`MeasureOptions::max_uncertainty_mm`]; every other outcome is
//! [`Status::NeedsRescan`] with at least one [`Reason`], and carries no size to buy.
//! Only invalid options are an `Err`.

mod dedup;
mod fit_frames;
pub mod fit_geometry;
#[cfg(feature = "internals")]
pub mod focal_scale;
#[cfg(not(feature = "internals"))]
pub(crate) mod focal_scale;
#[cfg(feature = "internals")]
pub mod locate;
#[cfg(not(feature = "internals"))]
pub(crate) mod locate;
#[cfg(feature = "internals")]
pub mod observe;
#[cfg(not(feature = "internals"))]
pub(crate) mod observe;
pub mod profile;
#[cfg(feature = "internals")]
pub mod section;
#[cfg(not(feature = "internals"))]
pub(crate) mod section;
pub mod sizes;

pub use dedup::Duplicates;
pub use fit_geometry::{FingerFrame, FitGeometry, KnuckleFit};
pub use focal_scale::LateralScale;
pub use locate::{JointEstimate, LocateConfig, LocateMethod, LocatedFinger};
pub use section::{FingerAxis, SectionConfig, SectionResult, SigmaParts, TangentLine2};

use crate::hand::{Finger, Hand, Target};
use crate::mesh::Mesh;
use locate::{LandmarkView, LocateError};
use observe::FrameObservations;
use section::SectionMeasurer;
use serde::{Deserialize, Serialize};
use sizes::{Recommendation, Sizes};
use std::time::Instant;

/// US half size step in circumference (mm): 1/2 of the 0.0325 in diameter step × π.
pub const US_HALF_SIZE_MM: f64 = 1.297;

/// Errors from [`measure`] (only invalid options; data problems are a `NeedsRescan`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MeasureError {
    /// An option is out of range.
    #[error("invalid measure options: {0}")]
    Options(String),
}

/// Settings for [`measure`].
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureOptions {
    /// Which hand and finger.
    pub target: Target,
    /// Locate the finger from 2D landmarks (when present); `false` forces the geometric
    /// (landmark-free) finder.
    pub use_landmarks: bool,
    /// Landmark localisation settings.
    pub locate: LocateConfig,
    /// Cross-section fit settings.
    pub section: SectionConfig,
    /// Largest 1-sigma uncertainty (mm) for status `ok`, so that the size recommended is the
    /// right one or a half size off at 95 % confidence. See docs/tuning.md#measure.
    pub max_uncertainty_mm: f64,
    /// Least angular coverage of the ring cross-section (degrees, surface or silhouette).
    pub min_coverage_deg: f64,
    /// Widest arc of the ring cross-section's outline (degrees) that may go unobserved
    /// before a too-large uncertainty is put down to coverage (`insufficient_coverage`)
    /// rather than noise (`too_noisy`). See docs/tuning.md#measure.
    pub max_gap_deg: f64,
    /// Largest share of frames the tracker may lose before `tracking_lost`.
    pub max_lost_fraction: f64,
    /// Fewest frames that must contribute to the ring section.
    pub min_frames: usize,
}

impl MeasureOptions {
    /// Defaults for `target`.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            use_landmarks: true,
            locate: LocateConfig::default(),
            section: SectionConfig::default(),
            max_uncertainty_mm: 0.4,
            min_coverage_deg: 200.0,
            max_gap_deg: 90.0,
            max_lost_fraction: 0.3,
            min_frames: 4,
        }
    }

    fn validate(&self) -> Result<(), MeasureError> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !pos(self.max_uncertainty_mm) {
            return Err(MeasureError::Options(format!(
                "max_uncertainty_mm {} must be finite and > 0",
                self.max_uncertainty_mm
            )));
        }
        if !(self.min_coverage_deg.is_finite() && (0.0..=360.0).contains(&self.min_coverage_deg)) {
            return Err(MeasureError::Options(format!(
                "min_coverage_deg {} must be within 0..=360",
                self.min_coverage_deg
            )));
        }
        if !(self.max_gap_deg.is_finite() && (0.0..=360.0).contains(&self.max_gap_deg)) {
            return Err(MeasureError::Options(format!(
                "max_gap_deg {} must be within 0..=360",
                self.max_gap_deg
            )));
        }
        if !(self.max_lost_fraction.is_finite() && (0.0..=1.0).contains(&self.max_lost_fraction)) {
            return Err(MeasureError::Options(format!(
                "max_lost_fraction {} must be within 0..=1",
                self.max_lost_fraction
            )));
        }
        Ok(())
    }
}

/// Overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// The data pins the size.
    Ok,
    /// The data cannot support a size; see the reasons.
    NeedsRescan,
}

/// Views spanning less than this around the finger (degrees) are all from one side of it
/// (e.g. from the back of the hand only): the far side is never seen, neither as surface
/// nor as outline. Scan guidance asks for the other side until the views span this much.
pub const MIN_VIEW_SPAN_DEG: f64 = 180.0;

/// Why a scan needs redoing (or, for `Ok`, nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// The target finger could not be located.
    FingerNotFound,
    /// Too little of the finger's circumference was seen: the observed arcs span less
    /// than [`MeasureOptions::min_coverage_deg`], or the uncertainty is too large to pin a
    /// half size while an arc wider than [`MeasureOptions::max_gap_deg`] went unobserved or
    /// every view was from one side of the finger (views spanning less than 180° around it,
    /// e.g. from the back of the hand only).
    InsufficientCoverage,
    /// The measurement's uncertainty is too large to pin a half size, with the outline
    /// observed all round (noise, pose or localisation errors), or the finger's perimeter
    /// changes too fast along it at the ring position.
    TooNoisy,
    /// The tracker lost too many frames.
    TrackingLost,
    /// Too few frames contributed.
    TooFewFrames,
    /// No frames at all.
    NoFrames,
    /// The hand was outside (or at the edge of) the working depth range in most frames.
    HandOutOfRange,
}

/// How much tracking went wrong during the scan.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TrackingSummary {
    /// Frames pushed.
    pub frames_total: usize,
    /// Frames whose pose came from the tracker (none given).
    pub frames_tracked: usize,
    /// Frames dropped because tracking was lost.
    pub frames_lost: usize,
    /// Median tracker residual over tracked frames, metres (0 if none).
    pub median_residual_m: f64,
}

/// Time spent per stage, milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Timings {
    /// Tracking (pose-less frames).
    pub track: f64,
    /// TSDF integration.
    pub fuse: f64,
    /// Observation extraction.
    pub observe: f64,
    /// Finger localisation.
    pub locate: f64,
    /// Cross-section fits (ring, knuckle).
    pub section: f64,
    /// Everything, end to end: wall time, not the sum of the stages (fusion and observation
    /// extraction run side by side, and the section fits in parallel). For a
    /// [`crate::session::ScanSession`], the time spent inside its `push_frame` calls (with
    /// the per-frame work between stages: checks, guidance, landmark views) and in `finish`.
    /// Reading and decoding the frames is the caller's and not included (`mandrel measure`
    /// decodes each PNG before pushing it).
    pub total: f64,
}

/// The name the measurement JSON carries in its `format` field.
pub const MEASUREMENT_FORMAT: &str = "mandrel.measurement";

/// The version of the measurement JSON this core writes in its `version` field. Version 1
/// is the JSON written before the format was named: it has neither field, and reads as
/// version 1. Version 2 adds the two fields (and the optional `fit_geometry`); version 3
/// the optional `duplicate_frames`.
pub const MEASUREMENT_VERSION: u32 = 3;

/// The version a measurement JSON without a `version` field has (written before the format
/// was versioned).
pub const LEGACY_MEASUREMENT_VERSION: u32 = 1;

fn measurement_format() -> String {
    MEASUREMENT_FORMAT.to_string()
}

fn legacy_measurement_version() -> u32 {
    LEGACY_MEASUREMENT_VERSION
}

/// The result of a scan: what the CLI prints as JSON and the bindings return. The JSON
/// names its format and version first ([`MEASUREMENT_FORMAT`], [`MEASUREMENT_VERSION`]), so
/// a reader can tell one format from the next; JSON from before the versioning reads as
/// version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Measurement {
    /// Format name, always [`MEASUREMENT_FORMAT`] (missing in version 1 JSON).
    #[serde(default = "measurement_format")]
    #[cfg_attr(feature = "schema", schemars(extend("const" = "mandrel.measurement")))]
    pub format: String,
    /// Format version: [`MEASUREMENT_VERSION`] when written by this core, 1 when missing.
    #[serde(default = "legacy_measurement_version")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub version: u32,
    /// `ok` or `needs_rescan`.
    pub status: Status,
    /// Why a rescan is needed (empty when `ok`).
    pub reasons: Vec<Reason>,
    /// Hand measured.
    pub hand: Hand,
    /// Finger measured.
    pub finger: Finger,
    /// Ring circumference (convex hull perimeter at the MCP→PIP midpoint), mm.
    pub ring_circumference_mm: Option<f64>,
    /// Knuckle circumference (largest within ±5 mm of PIP), mm.
    pub knuckle_circumference_mm: Option<f64>,
    /// 1-sigma uncertainty of the ring circumference, mm.
    pub uncertainty_mm: Option<f64>,
    /// The ring circumference in every sizing system (only when `ok`).
    pub sizes: Option<Sizes>,
    /// What to buy (only when `ok`).
    pub recommended: Option<Recommendation>,
    /// Degrees of the ring cross-section's outline observed (surface or silhouette).
    pub coverage_deg: f64,
    /// Frames contributing to the ring section.
    pub frames_used: usize,
    /// How the finger was located (`null` if it was not).
    pub locate_method: Option<LocateMethod>,
    /// Time per stage.
    pub timings_ms: Timings,
    /// The section outlines and finger frame for making a fitted band (absent in
    /// measurements from before it existed, and when no ring section was fitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_geometry: Option<FitGeometry>,
    /// Frames left out of the measurement because they repeat an earlier view (a replayed
    /// frame, or camera and hand standing still): they would make the estimate look more
    /// certain than the data is. Absent when there were none, and before version 3.
    #[serde(default, skip_serializing_if = "Duplicates::is_none")]
    pub duplicate_frames: Duplicates,
}

/// What the scan left for measuring.
#[derive(Debug, Clone, Copy)]
pub struct MeasureInput<'a> {
    /// Per-frame observations (world space).
    pub observations: &'a [FrameObservations],
    /// Frames with landmarks and a pose.
    pub landmark_views: &'a [LandmarkView],
    /// The fused surface, for landmark-free localisation (`None`: landmarks only).
    pub surface: Option<&'a Mesh>,
    /// Tracking summary.
    pub tracking: TrackingSummary,
    /// Time already spent upstream (track, fuse, observe), carried into the result.
    pub upstream: Timings,
}

/// The located finger and its ring section, for drawing (demo) and diagnostics.
#[derive(Debug, Clone)]
pub struct MeasureDetail {
    /// The located joints.
    pub finger: Option<LocatedFinger>,
    /// The ring section.
    pub ring: Option<SectionResult>,
    /// The knuckle section.
    pub knuckle: Option<SectionResult>,
    /// Duplicate frames (replayed, or the same viewpoint again) left out of the measurement.
    pub duplicates: Duplicates,
    /// The scan's lateral scale (how far its focal length is off), when a session with
    /// platform poses estimated it; [`measure`] itself leaves it `None`.
    pub lateral_scale: Option<LateralScale>,
}

/// Measures the target finger. Data problems give a `NeedsRescan` measurement, never an
/// error; see the module guarantees.
pub fn measure(
    input: &MeasureInput<'_>,
    options: &MeasureOptions,
) -> Result<Measurement, MeasureError> {
    measure_detailed(input, options).map(|(m, _)| m)
}

/// [`measure`], also returning the located finger and fitted sections.
pub fn measure_detailed(
    input: &MeasureInput<'_>,
    options: &MeasureOptions,
) -> Result<(Measurement, MeasureDetail), MeasureError> {
    measure_sections(input, options)
}

/// [`measure_detailed`]: the finger located, its ring, knuckle and taper sections fitted,
/// the status concluded.
fn measure_sections(
    input: &MeasureInput<'_>,
    options: &MeasureOptions,
) -> Result<(Measurement, MeasureDetail), MeasureError> {
    options.validate()?;
    let t0 = Instant::now();
    let mut timings = input.upstream;
    let mut m = empty_measurement(options, timings);
    let mut detail = empty_detail();
    let Some((keep, found)) = locate_finger(input, options, &mut m, &mut detail, &mut timings)
    else {
        return Ok((finish_timings(m, input, timings, t0), detail));
    };

    // 2. Cross-sections.
    let ts = Instant::now();
    let axis = FingerAxis {
        mcp: found.mcp.position,
        pip: found.pip.position,
    };
    // What the fit gathers from, bounded whatever the length of the scan; freed once the
    // measurer has gathered its cloud from it, before any section is fitted.
    let measurer = {
        let observations = fit_frames::fit_observations(
            input.observations,
            &keep,
            &axis.mcp,
            &axis.pip,
            &options.section,
        );
        measurer_of(&observations, &found, options)
    };
    let sections = measurer.and_then(|sm| {
        // The ring section (as `sm.ring()`), the knuckle scan and the two taper
        // sections only share the axis: measured side by side.
        let ax = sm.ring_axis();
        let (ring, (knuckle, sides)) = rayon::join(
            || sm.measure_at(&ax.ring_point, &ax.direction, 0.0),
            || rayon::join(|| sm.knuckle(Some(&ax)).ok(), || taper_sections(&sm, &ax)),
        );
        let ring = ring?;
        Ok((ring, knuckle, sides, ax))
    });
    timings.section = ms(ts);
    match sections {
        Ok((ring, knuckle, sides, ax)) => {
            let tracked = tracked_share(&input.tracking);
            conclude(
                &mut m,
                &mut detail,
                options,
                ring,
                knuckle,
                sides,
                &ax,
                tracked,
            );
        }
        Err(_) => m.reasons.push(Reason::FingerNotFound),
    }
    Ok((finish_timings(m, input, timings, t0), detail))
}

/// A measurement with nothing measured yet (`NeedsRescan`, no reasons).
fn empty_measurement(options: &MeasureOptions, timings: Timings) -> Measurement {
    Measurement {
        format: measurement_format(),
        version: MEASUREMENT_VERSION,
        status: Status::NeedsRescan,
        reasons: vec![],
        hand: options.target.hand,
        finger: options.target.finger,
        ring_circumference_mm: None,
        knuckle_circumference_mm: None,
        uncertainty_mm: None,
        sizes: None,
        recommended: None,
        coverage_deg: 0.0,
        frames_used: 0,
        locate_method: None,
        timings_ms: timings,
        fit_geometry: None,
        duplicate_frames: Duplicates::default(),
    }
}

/// A detail with nothing located or fitted yet.
fn empty_detail() -> MeasureDetail {
    MeasureDetail {
        finger: None,
        ring: None,
        knuckle: None,
        duplicates: Duplicates::default(),
        lateral_scale: None,
    }
}

/// `m` with its timings: the caller's wall time when given (stages may have overlapped),
/// else the sum of its stages; plus this call's own wall time since `t0`.
fn finish_timings(
    mut m: Measurement,
    input: &MeasureInput<'_>,
    mut timings: Timings,
    t0: Instant,
) -> Measurement {
    let up = &input.upstream;
    let upstream_ms = if up.total > 0.0 {
        up.total
    } else {
        up.track + up.fuse + up.observe
    };
    timings.total = upstream_ms + ms(t0);
    m.timings_ms = timings;
    m
}

/// The first steps of measuring: the tracking check, the duplicate frames left out and the
/// finger located. Returns the kept frames' indices and the located finger, or `None` when
/// `m` already says why nothing can be measured (its reasons filled).
fn locate_finger(
    input: &MeasureInput<'_>,
    options: &MeasureOptions,
    m: &mut Measurement,
    detail: &mut MeasureDetail,
    timings: &mut Timings,
) -> Option<(Vec<usize>, LocatedFinger)> {
    let tracking = input.tracking;
    if tracking.frames_total > 0
        && tracking.frames_lost as f64 > options.max_lost_fraction * tracking.frames_total as f64
    {
        m.reasons.push(Reason::TrackingLost);
    }
    if input.observations.is_empty() {
        m.reasons.push(Reason::NoFrames);
        return None;
    }
    // Repeated views carry no new information: measure each viewpoint once.
    let (keep, duplicates) = dedup::distinct_frames(input.observations);
    detail.duplicates = duplicates;
    m.duplicate_frames = duplicates;
    let distinct_views = dedup::distinct_landmark_views(input.landmark_views);
    let landmark_views: &[LandmarkView] = &distinct_views;

    // 1. Locate the finger.
    let tl = Instant::now();
    let located: Result<LocatedFinger, LocateError> = if options.use_landmarks
        && !landmark_views.is_empty()
    {
        locate::from_landmarks(landmark_views, options.target.finger, &options.locate)
    } else {
        match input.surface {
            Some(mesh) => locate::geometric::locate(&mesh.vertices, &mesh.normals, options.target),
            None => Err(LocateError::NotFound(
                "no landmarks and no fused surface to search".into(),
            )),
        }
    };
    timings.locate = ms(tl);
    let Ok(found) = located else {
        m.reasons.push(Reason::FingerNotFound);
        return None;
    };
    m.locate_method = Some(found.method);
    detail.finger = Some(found);
    Some((keep, found))
}

/// The last step of measuring: the ring's figures, its uncertainty, the fit geometry and
/// the status from the fitted sections (`sides`: the two taper sections of
/// [`taper_sections`]) on the axis `ax`; sizes when `ok`. `tracked` is the share of the
/// fused frames whose pose the tracker estimated ([`tracked_share`]).
#[allow(clippy::too_many_arguments)]
fn conclude(
    m: &mut Measurement,
    detail: &mut MeasureDetail,
    options: &MeasureOptions,
    ring: SectionResult,
    knuckle: Option<SectionResult>,
    sides: Option<TaperSections>,
    ax: &section::RefinedAxis,
    tracked: f64,
) {
    let Some(found) = detail.finger else {
        m.reasons.push(Reason::FingerNotFound);
        return;
    };
    let (slope, curvature, taper_capped) = measured_taper(sides, &ring);
    let ring_mm = ring.perimeter_m * 1000.0;
    let sigma_mm = combined_sigma_mm(
        &ring,
        &found,
        (slope, curvature),
        ax.direction_sigma_rad,
        tracked,
    );
    m.ring_circumference_mm = Some(ring_mm);
    m.knuckle_circumference_mm = knuckle.as_ref().map(|k| k.perimeter_m * 1000.0);
    m.uncertainty_mm = Some(sigma_mm);
    m.coverage_deg = ring.coverage_deg;
    m.frames_used = ring.frames_used;
    m.fit_geometry = Some(FitGeometry::from_sections(
        &ring,
        &ax.ring_point,
        knuckle.as_ref(),
    ));

    // 3. Status.
    // Too large an uncertainty with a wide unobserved arc is a coverage problem: the fit
    // bridges the arc by extrapolating its observed ends, which multiplies their noise.
    // More views of the same side barely help; seeing the missing side does (the palm side
    // after a scan from the back). Views from one side of the finger only count as such a
    // gap whatever the arc measured. An arc wider than `MAX_CONFIDENT_GAP_DEG` is a coverage
    // problem even when the uncertainty looks small. See docs/tuning.md#measure.
    let unseen = ring.largest_gap_deg > MAX_CONFIDENT_GAP_DEG
        || (sigma_mm > options.max_uncertainty_mm
            && (ring.largest_gap_deg > options.max_gap_deg
                || ring.view_span_deg < MIN_VIEW_SPAN_DEG));
    if ring.coverage_deg < options.min_coverage_deg || unseen {
        m.reasons.push(Reason::InsufficientCoverage);
    }
    if ring.frames_used < options.min_frames {
        m.reasons.push(Reason::TooFewFrames);
    }
    if !(ring_mm.is_finite() && sigma_mm.is_finite())
        || (sigma_mm > options.max_uncertainty_mm && !unseen)
        || taper_capped
    {
        m.reasons.push(Reason::TooNoisy);
    }
    if m.reasons.is_empty() {
        m.status = Status::Ok;
        // A ring must pass the knuckle and the ring position: size for the larger of the two
        // (the knuckle can be thinner than the ring position on some fingers).
        let pass_mm = m
            .knuckle_circumference_mm
            .map_or(ring_mm, |k| k.max(ring_mm));
        let (labels, rec) = size_outputs(ring_mm, pass_mm, sigma_mm);
        m.sizes = labels;
        m.recommended = rec;
    }
    detail.ring = Some(ring);
    detail.knuckle = knuckle;
}

/// The measurer of the located finger `found` from its cropped observations (as
/// [`measure_detailed`] makes it).
fn measurer_of(
    fit_obs: &[FrameObservations],
    found: &LocatedFinger,
    options: &MeasureOptions,
) -> Result<SectionMeasurer, section::SectionError> {
    let axis = FingerAxis {
        mcp: found.mcp.position,
        pip: found.pip.position,
    };
    SectionMeasurer::new(fit_obs, &axis, &options.section)
        .map(|sm| sm.with_axis_sigma_rad(found.direction_sigma_rad()))
}

/// A ring-only measurement taken in steps, one per call, for a provisional measurement
/// while scanning (its cost spread over the frames pushed between two of them): the
/// ring circumference, its uncertainty, the status and the reasons are the ones
/// [`measure_detailed`] gives on the same input (the knuckle enters none of them), while
/// the knuckle circumference, the fit geometry's knuckle and the size recommendation (which
/// sizes for the larger of ring and knuckle) are left out or use the ring alone. Steps: the
/// finger located, its observations gathered and the axis refinement's first pass; each
/// further pass; the ring section; the taper sections and the status. The measurer (the
/// located finger's observations gathered around its axis) is made once, by the first
/// step, and kept between steps.
#[derive(Clone)]
pub(crate) struct RingJob {
    m: Measurement,
    detail: MeasureDetail,
    options: MeasureOptions,
    /// The located finger's measurer.
    sm: SectionMeasurer,
    /// The axis as refined so far.
    axis: section::RefinedAxis,
    /// Passes of the axis refinement still to take.
    axis_passes_left: usize,
    ring: Option<SectionResult>,
    /// [`tracked_share`] of the input.
    tracked: f64,
}

impl std::fmt::Debug for RingJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingJob")
            .field("axis", &self.axis)
            .field("axis_passes_left", &self.axis_passes_left)
            .field("ring", &self.ring)
            .finish_non_exhaustive()
    }
}

/// What a step of a [`RingJob`] leaves.
#[derive(Debug, Clone)]
pub(crate) enum RingStep {
    /// The measurement (and its detail).
    Done(Box<(Measurement, MeasureDetail)>),
    /// Steps still to take.
    Pending(Box<RingJob>),
}

impl RingJob {
    /// The first step: locates the finger, gathers its observations and takes the axis
    /// refinement's first pass.
    /// Timings are left at the input's.
    pub(crate) fn start(
        input: &MeasureInput<'_>,
        options: &MeasureOptions,
    ) -> Result<RingStep, MeasureError> {
        options.validate()?;
        let mut timings = input.upstream;
        let mut m = empty_measurement(options, timings);
        let mut detail = empty_detail();
        let done = |m, detail| Ok(RingStep::Done(Box::new((m, detail))));
        let Some((keep, found)) = locate_finger(input, options, &mut m, &mut detail, &mut timings)
        else {
            return done(m, detail);
        };
        let (mcp, pip) = (found.mcp.position, found.pip.position);
        let fit_obs =
            fit_frames::fit_observations(input.observations, &keep, &mcp, &pip, &options.section);
        let Ok(sm) = measurer_of(&fit_obs, &found, options) else {
            m.reasons.push(Reason::FingerNotFound);
            return done(m, detail);
        };
        drop(fit_obs);
        // The axis refinement's first pass (the given axis when it is off).
        let given = sm.given_axis();
        let (axis, axis_passes_left) = match options.section.refine_axis {
            true => sm
                .refine_axis_pass(&given)
                .map_or((given, 0), |a| (a, section::AXIS_PASSES - 1)),
            false => (given, 0),
        };
        Ok(RingStep::Pending(Box::new(RingJob {
            m,
            detail,
            options: options.clone(),
            sm,
            axis,
            axis_passes_left,
            ring: None,
            tracked: tracked_share(&input.tracking),
        })))
    }

    /// The next step: the axis refinement's next pass, the ring section, then the taper
    /// sections and the status.
    pub(crate) fn step(mut self) -> RingStep {
        let ax = self.axis;
        let sm = &self.sm;
        if self.axis_passes_left > 0 {
            // The next pass of the axis refinement; a pass that keeps the given axis ends
            // it there (as `SectionMeasurer::refine_axis` does).
            match sm.refine_axis_pass(&self.axis) {
                Some(a) => {
                    self.axis = a;
                    self.axis_passes_left -= 1;
                }
                None => {
                    self.axis = sm.given_axis();
                    self.axis_passes_left = 0;
                }
            }
            return RingStep::Pending(Box::new(self));
        }
        let sections = match &self.ring {
            None => sm
                .measure_at(&ax.ring_point, &ax.direction, 0.0)
                .map(|r| (Some(r), None)),
            Some(_) => Ok((None, Some(taper_sections(sm, &ax)))),
        };
        match sections {
            Ok((Some(ring), _)) => {
                self.ring = Some(ring);
                RingStep::Pending(Box::new(self))
            }
            Ok((None, Some(sides))) => {
                let RingJob {
                    mut m,
                    mut detail,
                    options,
                    ring,
                    tracked,
                    ..
                } = self;
                match ring {
                    Some(ring) => conclude(
                        &mut m,
                        &mut detail,
                        &options,
                        ring,
                        None,
                        sides,
                        &ax,
                        tracked,
                    ),
                    None => m.reasons.push(Reason::FingerNotFound),
                }
                RingStep::Done(Box::new((m, detail)))
            }
            _ => {
                let RingJob { mut m, detail, .. } = self;
                m.reasons.push(Reason::FingerNotFound);
                RingStep::Done(Box::new((m, detail)))
            }
        }
    }
}

/// The part of the error (mm of circumference, 1-sigma) that the terms of the uncertainty
/// do not see because they come from the data of this one scan: where the ring plane sits
/// against the true MCP→PIP midpoint beyond the joints' own scatter, and how the section
/// model's smooth contour differs from the finger's true hull. Added in quadrature, so it
/// matters only where the data's own terms are small. Calibrated on randomised virtual
/// scans; see docs/tuning.md#measure.
pub const MODEL_SIGMA_MM: f64 = 0.2;

/// The part of the error (mm of circumference, 1-sigma) that tracked poses add on top of
/// [`MODEL_SIGMA_MM`]: frames registered to the model they build share its registration
/// error, so neither the jackknife over frames nor their depth offsets see it. Added in
/// quadrature, scaled by the share of tracked frames, so scans with platform poses keep
/// their sigma. Calibrated on randomised virtual scans (orbit and front camera, two edge
/// models); see docs/tuning.md#measure.
pub const TRACKED_POSE_SIGMA_MM: f64 = 0.2;

/// Share of the fused frames whose pose came from the tracker (no platform pose): 0 for a
/// scan with platform poses, 1 for a pose-less one.
fn tracked_share(t: &TrackingSummary) -> f64 {
    let tracked = t.frames_tracked.saturating_sub(t.frames_lost);
    let fused = t.frames_total.saturating_sub(t.frames_lost).max(tracked);
    if fused == 0 {
        0.0
    } else {
        tracked as f64 / fused as f64
    }
}

/// Widest arc of the ring section's outline (degrees) that may go unobserved in an `ok`
/// measurement, whatever its uncertainty: across a wider arc the contour is the section
/// prior's guess, and that prior is not a model of the unseen side of a finger (its palmar
/// pad), so the sigma it gives there cannot be trusted. See docs/tuning.md#measure.
pub const MAX_CONFIDENT_GAP_DEG: f64 = 45.0;

/// Smallest taper assumed (perimeter change per unit of axial position, mm per mm): the
/// slope of a typical proximal phalanx near the ring position, and about the noise floor of
/// the measured slope.
const MIN_TAPER: f64 = 0.05;

/// Largest taper a finger's own surface shows (mm per mm). A side section that changes
/// faster has taken in the web, the palm or a neighbour: the taper is then capped here and
/// the measurement is not `ok` (the ring position sits where the finger is not a finger
/// any more, so what a position error costs is unknown). See docs/tuning.md#measure.
const MAX_TAPER: f64 = 1.5;

/// Half the distance between the two extra sections that measure the taper (metres).
const TAPER_STEP_M: f64 = 0.002;

/// How fast the perimeter changes along the finger at the ring position, measured from two
/// extra sections [`TAPER_STEP_M`] either side: `(slope, curvature)` in mm per mm and mm per
/// mm². Near a web between fingers (or a knuckle) the perimeter can change by more than
/// 1 mm per mm, so a fixed allowance would understate what a position error costs. Each
/// estimate is debiased by its own noise (from the three sections' independent noise, [`section_noise_mm`]), so section noise
/// alone does not inflate it. Falls back to `(MIN_TAPER, 0)` when a side section cannot be
/// fitted; capped at [`MAX_TAPER`] (and `MAX_TAPER / step` for the curvature), with the
/// third value `true` when a cap applied. `sides` are the two sections' perimeters and
/// sigmas from [`taper_sections`].
fn measured_taper(sides: Option<TaperSections>, ring: &SectionResult) -> (f64, f64, bool) {
    let step_mm = TAPER_STEP_M * 1000.0;
    let Some(((lo, s_lo), (hi, s_hi))) = sides else {
        return (MIN_TAPER, 0.0, false);
    };
    let (mid, s_mid) = (ring.model_perimeter_m * 1000.0, section_noise_mm(ring));
    let slope = (hi - lo) / (2.0 * step_mm);
    let slope_noise_sq = (s_lo * s_lo + s_hi * s_hi) / (2.0 * step_mm).powi(2);
    let curvature = (hi - 2.0 * mid + lo) / (step_mm * step_mm);
    let curvature_noise_sq = (s_lo * s_lo + 4.0 * s_mid * s_mid + s_hi * s_hi) / step_mm.powi(4);
    let slope = (slope * slope - slope_noise_sq)
        .max(0.0)
        .sqrt()
        .max(MIN_TAPER);
    let curvature = (curvature * curvature - curvature_noise_sq).max(0.0).sqrt();
    let max_curvature = MAX_TAPER / step_mm;
    let capped = slope > MAX_TAPER || curvature > max_curvature;
    (slope.min(MAX_TAPER), curvature.min(max_curvature), capped)
}

/// The part of a section's sigma (mm) that is independent between sections a few
/// millimetres apart: the fit's own (observation noise, unobserved arcs). The frame
/// jackknife and the pose terms come from errors every nearby section shares (the same
/// frames at the same poses), so they cancel in a difference of sections and must not be
/// subtracted from the measured taper as noise.
fn section_noise_mm(r: &SectionResult) -> f64 {
    r.sigma_parts.fit_m.hypot(r.sigma_parts.floor_m) * 1000.0
}

/// Perimeter and sigma (mm) of the sections [`TAPER_STEP_M`] before and after the ring
/// position.
type TaperSections = ((f64, f64), (f64, f64));

/// The two sections of [`measured_taper`] along the refined axis (measured side by side;
/// their model perimeters and [`section_noise_mm`] only, without a reported section's
/// jackknife);
/// `None` when either cannot be fitted.
fn taper_sections(sm: &SectionMeasurer, ax: &section::RefinedAxis) -> Option<TaperSections> {
    let d = ax.direction.into_inner() * TAPER_STEP_M;
    let at = |sign: f64| {
        sm.model_perimeter_at(
            &(ax.ring_point + d * sign),
            &ax.direction,
            sign * TAPER_STEP_M,
        )
        .ok()
        .map(|(p, noise_m)| (p * 1000.0, noise_m * 1000.0))
        .filter(|(p, s)| p.is_finite() && s.is_finite())
    };
    match rayon::join(|| at(-1.0), || at(1.0)) {
        (Some(lo), Some(hi)) => Some((lo, hi)),
        _ => None,
    }
}

/// Ring-circumference 1-sigma (mm): the section's own uncertainty combined with what the
/// localisation adds. A ring-position error δ (1-sigma σp along the axis) changes the perimeter
/// by slope·δ + curvature·δ²/2 (`taper`, measured at the ring position); the variance of that
/// is slope²σp² + curvature²σp⁴/2. An axis tilt α (a 2-vector, 1-sigma `tilt_sigma_rad` per
/// component after the section's re-aiming) lengthens the slice's perimeter P by about
/// P·|α|²/4 (a cylinder cut obliquely); |α|² is σ²χ²₂, mean 2σ² and standard deviation 2σ²,
/// so the term's root mean square is P·σ²/√2. `tracked` (the share of tracked frames)
/// scales the variance of [`TRACKED_POSE_SIGMA_MM`].
fn combined_sigma_mm(
    ring: &SectionResult,
    found: &LocatedFinger,
    taper: (f64, f64),
    tilt_sigma_rad: f64,
    tracked: f64,
) -> f64 {
    let (slope, curvature) = taper;
    let pos_sigma_mm =
        0.5 * (found.mcp.sigma_m.powi(2) + found.pip.sigma_m.powi(2)).sqrt() * 1000.0;
    let loc_var = (slope * pos_sigma_mm).powi(2) + 0.5 * (curvature * pos_sigma_mm.powi(2)).powi(2);
    let tilt_mm = ring.perimeter_m * 1000.0 * tilt_sigma_rad.powi(2) / std::f64::consts::SQRT_2;
    let model_var =
        MODEL_SIGMA_MM.powi(2) + tracked.clamp(0.0, 1.0) * TRACKED_POSE_SIGMA_MM.powi(2);
    ((ring.sigma_m * 1000.0).powi(2) + loc_var + tilt_mm.powi(2) + model_var).sqrt()
}

/// Size labels and recommendation for a measured finger, from the sizing tables
/// ([`sizes`]): the nearest size in each system, and the recommendation rule of
/// [`sizes::recommend`]. `None` when the circumference is outside every table.
fn size_outputs(
    ring_mm: f64,
    knuckle_mm: f64,
    _sigma_mm: f64,
) -> (Option<Sizes>, Option<Recommendation>) {
    let nearest = sizes::sizes_for_circumference(ring_mm).ok();
    let rec = sizes::recommend(ring_mm, knuckle_mm).ok();
    (nearest, rec)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracked_share_counts_fused_tracked_frames_only() {
        let summary = |total, tracked, lost| TrackingSummary {
            frames_total: total,
            frames_tracked: tracked,
            frames_lost: lost,
            median_residual_m: 0.0,
        };
        assert_eq!(tracked_share(&summary(40, 0, 0)), 0.0, "platform poses");
        assert_eq!(
            tracked_share(&summary(64, 64, 4)),
            1.0,
            "pose-less, some lost"
        );
        assert_eq!(tracked_share(&summary(40, 10, 0)), 0.25, "mixed");
        assert_eq!(tracked_share(&summary(0, 0, 0)), 0.0, "nothing pushed");
        assert_eq!(
            tracked_share(&summary(5, 5, 5)),
            0.0,
            "every tracked frame lost"
        );
    }

    #[test]
    fn size_outputs_fill_every_system_and_recommend_at_least_the_ring() {
        let (labels, rec) = size_outputs(57.0, 60.0, 0.2);
        let l = labels.expect("57 mm is in the tables");
        for system in sizes::ALL_SYSTEMS {
            assert!(l.get(system).is_some_and(|v| !v.is_empty()), "{l:?}");
        }
        let r = rec.expect("recommendation");
        assert!(r.circumference_mm >= 57.0, "{r:?}");
        assert!(!r.advice.is_empty());
        let json = serde_json::to_value(&l).unwrap();
        assert!(
            json.get("in").is_some(),
            "India serialises as \"in\": {json}"
        );
    }

    #[test]
    fn out_of_range_circumference_has_no_sizes() {
        let (labels, rec) = size_outputs(f64::NAN, f64::NAN, 0.2);
        assert!(labels.is_none() && rec.is_none());
    }
}

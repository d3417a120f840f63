//! The circumference profile: the finger's section perimeter at evenly spaced positions
//! along its axis, from the MCP joint to past the PIP joint (the knuckle). A diagnostic for
//! pictures and reports ([`crate::ScanSession::circumference_profile`]); the measurement
//! itself never reads it.

use super::locate::LocatedFinger;
use super::observe::FrameObservations;
use super::section::{FingerAxis, SectionConfig, SectionMeasurer};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How far past the PIP joint the profile runs (metres): past the knuckle's widest section.
pub const PROFILE_PAST_PIP_M: f64 = 0.008;

/// Spacing of the profile's sections along the axis (metres).
pub const PROFILE_STEP_M: f64 = 0.001;

/// One section of a [`CircumferenceProfile`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfilePoint {
    /// Position along the finger axis relative to the ring position (MCP→PIP positive), mm.
    pub position_mm: f64,
    /// Section perimeter (what a ring there would measure), mm.
    pub circumference_mm: f64,
    /// 1-sigma of `circumference_mm` (mm): the fit's and the pose terms; without the frame
    /// jackknife and the localisation terms of the ring measurement, so narrower than its
    /// uncertainty.
    pub sigma_mm: f64,
}

/// The finger's circumference along its axis, with the joints' positions on the same scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CircumferenceProfile {
    /// Sections that could be fitted, in order of position (positions without enough data
    /// are left out).
    pub points: Vec<ProfilePoint>,
    /// MCP joint position along the axis relative to the ring position, mm (negative).
    pub mcp_mm: f64,
    /// PIP joint position along the axis relative to the ring position, mm (positive).
    pub pip_mm: f64,
}

/// Fits sections every [`PROFILE_STEP_M`] from the MCP joint to [`PROFILE_PAST_PIP_M`]
/// past the PIP joint, on the same (re-aimed) axis the ring section is measured on. The
/// sections are fitted without the frame jackknife (it dominates the cost and the profile
/// is a picture, not a size). `None` when the axis is implausible or nothing was observed.
pub(crate) fn circumference_profile(
    observations: &[FrameObservations],
    finger: &LocatedFinger,
    section: &SectionConfig,
) -> Option<CircumferenceProfile> {
    let axis = FingerAxis::new(finger.mcp.position, finger.pip.position).ok()?;
    let cfg = SectionConfig {
        jackknife_groups: 0,
        ..section.clone()
    };
    let sm = SectionMeasurer::new(observations, &axis, &cfg)
        .ok()?
        .with_axis_sigma_rad(finger.direction_sigma_rad());
    let ax = sm.ring_axis();
    let dir = ax.direction.into_inner();
    let mcp_m = (axis.mcp - ax.ring_point).dot(&dir);
    let pip_m = (axis.pip - ax.ring_point).dot(&dir);
    let end_m = pip_m + PROFILE_PAST_PIP_M;
    let steps = ((end_m - mcp_m) / PROFILE_STEP_M).floor().max(0.0) as usize;
    let points: Vec<ProfilePoint> = (0..=steps)
        .into_par_iter()
        .filter_map(|i| {
            let t = mcp_m + i as f64 * PROFILE_STEP_M;
            let r = sm
                .measure_at(&(ax.ring_point + dir * t), &ax.direction, t)
                .ok()?;
            let p = ProfilePoint {
                position_mm: t * 1000.0,
                circumference_mm: r.perimeter_m * 1000.0,
                sigma_mm: r.sigma_m * 1000.0,
            };
            (p.circumference_mm.is_finite() && p.sigma_mm.is_finite()).then_some(p)
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    Some(CircumferenceProfile {
        points,
        mcp_mm: mcp_m * 1000.0,
        pip_mm: pip_m * 1000.0,
    })
}

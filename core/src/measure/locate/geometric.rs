//! Landmark-free finger localisation from the observed surface (being built).

use super::{LocateError, LocatedFinger};
use crate::measure::observe::FrameObservations;
use crate::scan::Target;

/// Locates `target`'s MCP and PIP from surface observations alone.
pub fn locate(
    _observations: &[FrameObservations],
    _target: Target,
) -> Result<LocatedFinger, LocateError> {
    Err(LocateError::NotFound(
        "landmark-free localisation is not available in this build".into(),
    ))
}

//! From a measurement to a manufacturable band: a watertight mesh whose inner surface
//! follows the measured ring section grown by a fit clearance, its checks, and its STL and
//! SVG bytes.
//!
//! Guarantees: [`build_band`] makes a band only from a measurement with status `ok` and
//! fit geometry ([`crate::measure::FitGeometry`]); its inner outline's perimeter is the
//! ring circumference plus the clearance of [`BandFit`] (a round inner shape: at least
//! that, and enough to pass the knuckle); its wall is never thinner than the thickness
//! asked for. [`check_band`] verifies all three from the triangles. Nothing here opens a
//! file: the writers return bytes or text.
//!
//! Files, one concept each: `outline` (convex outlines grown to a perimeter, offsets),
//! `band` (options and the mesh), `checks`, `stl` and `svg` (the writers).

mod band;
mod checks;
pub mod outline;
mod stl;
mod svg;

pub use band::{
    build_band, Band, BandFit, BandOptions, Face, InnerShape, KnucklePassage, COMFORT_DOME_SHARE,
    SEGMENT_RANGE, THICKNESS_RANGE_MM, WIDTH_RANGE_MM,
};
pub use checks::{check_band, BandReport};
pub use stl::band_stl;
pub use svg::contour_svg;

/// Why a band cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CadError {
    /// The measurement's status is not `ok`: its size is not pinned down.
    #[error("the measurement's status is not ok: rescan before making a band")]
    NotOk,
    /// The measurement carries no fit geometry (made before it existed, or no section).
    #[error("the measurement has no fit geometry (ring section outline); measure again with this version")]
    NoFitGeometry,
    /// The fit geometry is unusable.
    #[error("unusable fit geometry: {0}")]
    BadGeometry(String),
    /// An option is out of range.
    #[error("invalid band options: {0}")]
    Options(String),
    /// A writer failed.
    #[error("writing the band: {0}")]
    Write(String),
}

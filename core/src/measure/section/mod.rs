//! The finger's cross-section perpendicular to its axis: a robust closed convex model fitted
//! to surface samples and silhouette tangents, its perimeter (what a ring measures), and an
//! honest 1-sigma uncertainty.
//!
//! Model: the support function of the convex hull of the section in the slice plane,
//! `h(θ, s) = a0 + Σ_{k=1..K} (a_k cos kθ + b_k sin kθ) + g·s`, where `θ` is the outward
//! normal direction and `s` the axial offset of an observation from the plane (`g` absorbs the
//! finger's taper across the slab). By Cauchy's formula the perimeter is `2π·a0`.
//! - A surface sample `q` constrains `h(θ_q) = q·n(θ_q)`, where `θ_q` is the normal direction
//!   of the closest point of the current contour (orthogonal-distance fitting, re-assigned at
//!   each iteration).
//! - A silhouette tangent (a line of sight grazing the finger, projected along the axis)
//!   constrains `h(θ_n) = c`, its offset along its outward normal: free space beside the finger
//!   bounds it as surface does.
//! - Harmonics `k ≥ 2` carry a Gaussian prior sized to real finger shapes (ellipticity down to
//!   ~0.75, flattened palmar side), so arcs that nothing observed are filled smoothly and their
//!   uncertainty shows up in the perimeter's variance instead of being hidden.
//! - Robust IRLS (Huber, then Tukey) rejects neighbouring fingers, flying pixels and stray
//!   silhouettes.
//! - The reported perimeter is that of the convex hull of the fitted contour moved, per 2°
//!   bin of normal direction, by the surface samples' mean residual where it is significant
//!   (`refine`): the smooth model cuts real corners (a coarse polygonal mesh), the hull of
//!   the refined contour keeps those the data show; elsewhere it equals `2π·a0`.
//!
//! Uncertainty (`sigma_m`) = the posterior standard deviation of `2π·a0` (noise scaled by the
//! observed residuals, prior for unobserved arcs) combined with a delete-a-group jackknife
//! over frames (catches per-frame pose errors and correlated noise) and a small floor.
//!
//! The axis can be refined: slices from the ring position towards PIP are fitted and the
//! line through their centres (Steiner points) is combined with the given axis, each
//! weighted by its direction uncertainty (no accept/reject threshold), so the ring slice is
//! perpendicular to the finger and centred on it; the combined direction's 1-sigma is
//! reported ([`RefinedAxis::direction_sigma_rad`]) for the caller to propagate.
//!
//! Files, one concept each: `types` (the public types), `gather` (observations
//! around the axis and slicing), `model` (the support function and its parameter layout),
//! `fit` (the robust fit of one slice), `refine` (the reported perimeter), `coverage`, `uncertainty` (jackknife and noise
//! terms), `axis` (re-aiming the axis) and `measurer` ([`SectionMeasurer`]).

mod axis;
mod coverage;
mod fit;
mod gather;
mod measurer;
mod model;
mod refine;
mod types;
mod uncertainty;

#[cfg(test)]
mod tests;

pub(crate) use axis::AXIS_PASSES;
pub(crate) use coverage::angular_span_deg;
pub use measurer::SectionMeasurer;
#[cfg(any(test, feature = "internals"))]
pub use measurer::{contour_length, ring_section};
#[cfg(not(feature = "internals"))]
pub(crate) use types::SectionError;
pub use types::{FingerAxis, RefinedAxis, SectionConfig, SectionResult, SigmaParts, TangentLine2};
#[cfg(feature = "internals")]
pub use types::{SectionError, MAX_AXIS_LENGTH_M, MIN_AXIS_LENGTH_M, UNOBSERVED_DATA_GAIN};

//! mandrel-sim: a virtual depth sensor with exact ground truth, for tests, benchmarks, the
//! CLI demo and the shells' demo mode. It stays out of the phone crate `mandrel-core`, so
//! apps ship neither the simulator nor its random-number dependencies.
//!
//! Analytic shapes ([`shapes`]) are rendered into depth frames through a realistic sensor
//! noise model ([`render`]); a parametric hand carries exact ground truth ([`hand`]); whole
//! simulated scans add camera paths, pose drift and noisy landmarks ([`capture`]), and a
//! triangle-mesh hand can be filmed the same way ([`mesh_hand`]).
//!
//! Guarantees: everything here is deterministic given a seed (randomness comes only from
//! the caller's rng, `rand_pcg` in this crate's own uses); ground truth is computed from
//! the same analytic surfaces that are rendered.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod film;
pub mod front;
pub mod hand;
pub mod mesh_hand;
pub mod mesh_surface;
pub mod render;
pub mod shapes;
pub mod structured_light;

pub use capture::{write_scan_with_truth, Coverage, PoseDrift, Sensor, SimOptions, SimScan, Truth};
pub use hand::{FingerTruth, HandModel, HandParams};
pub use render::{render_depth, try_render_depth, NoiseModel};
pub use shapes::{
    BoundingSphere, Cylinder, Ellipsoid, EllipticCylinder, EllipticFrustum, Hit, OrientedBox,
    Plane, Ray, Scene, Sphere, Surface,
};
pub use structured_light::StructuredLight;

use mandrel_core::frame::FrameError;

/// Errors from building virtual scenes, sensors and scans.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A shape parameter is invalid (non-finite, non-positive radius, zero axis...).
    #[error("invalid shape: {0}")]
    Shape(String),
    /// A noise model parameter is out of range.
    #[error("invalid noise model: {0}")]
    Noise(String),
    /// Simulation options are invalid.
    #[error("invalid simulation options: {0}")]
    Options(String),
    /// Intrinsics, pose or frame construction failed.
    #[error(transparent)]
    Frame(#[from] FrameError),
}

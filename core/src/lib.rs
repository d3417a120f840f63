//! mandrel-core: a hand scan in, a ring size out, on the device.
//!
//! An app drives a [`ScanSession`]: it pushes [`Frame`]s (depth, [`Intrinsics`], an optional
//! camera pose and optional [`Landmarks`]) as the camera delivers them, shows the session's
//! [`Guidance`], and calls [`ScanSession::finish`] for a [`Measurement`]: ring and knuckle
//! circumferences with a 1-sigma uncertainty, a [`Status`] with its [`Reason`]s, [`Sizes`] in
//! every system and a [`Recommendation`]. [`seal_measurement`] turns a measurement into the
//! only bytes meant to leave the device: an HPKE [`Envelope`] to the retailer's key, sealed
//! only with the shopper's [`Consent`]. [`SecureStore`] keeps records encrypted at rest.
//! The crate root re-exports exactly that surface.
//!
//! The modules read as the pipeline, and data flows one way: [`frame`] → [`session`]
//! (tracking, fusion and per-frame observations) → [`mesh`] → [`measure`] → [`seal`];
//! `docs/architecture.md` shows which module owns each step. [`scan`] reads and writes scan
//! folders for desktop tools. The stage internals (tracking, fusion, observations, finger
//! location, section fitting, the HPKE primitives) are crate-private; the `internals` cargo
//! feature exposes them to the workspace's tests, benchmarks and tools, not as a stable API.
//! The virtual depth sensor used by tests, benchmarks and the demo is the separate
//! `mandrel-sim` crate.
//!
//! The crate opens no sockets, spawns no threads it does not join, and writes files only
//! through functions whose purpose is to write them (scan and mesh writers).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod cad;
pub mod frame;
#[cfg(feature = "internals")]
pub mod fuse;
#[cfg(not(feature = "internals"))]
pub(crate) mod fuse;
pub mod hand;
pub mod limits;
pub mod measure;
pub mod mesh;
pub(crate) mod numeric;
pub mod scan;
pub mod seal;
pub mod segment;
pub mod session;
#[cfg(feature = "internals")]
pub mod track;
#[cfg(not(feature = "internals"))]
pub(crate) mod track;

pub use frame::{DepthFrame, Frame, FrameError, Intrinsics, Landmarks, LANDMARK_COUNT};
pub use hand::{Finger, Hand, ParseNameError, Target};
pub use limits::{Limit, LimitExceeded};
pub use measure::sizes::{Fit, Recommendation, SizeError, SizeSystem, Sizes};
pub use measure::{
    LocateConfig, LocateMethod, MeasureOptions, Measurement, Reason, SectionConfig, Status,
    Timings, TrackingSummary,
};
pub use measure::{MEASUREMENT_FORMAT, MEASUREMENT_VERSION};
pub use mesh::{Mesh, MeshError, PlyFormat};
pub use scan::{ScanError, ScanFolder};
pub use seal::{
    new_scan_id, seal_measurement, Consent, ConsentError, Content, DataKey, Envelope, Opened,
    RecipientPublicKey, RecordKind, Scope, SealError, SealRequest, SecureStore, StoreError,
};
pub use segment::{HandMask, MaskRun};
pub use session::{
    FrameOutcome, FrameReport, Guidance, Hint, ScanSession, SessionConfig, SessionError,
    TrackingState,
};
pub use track::TrackConfig;

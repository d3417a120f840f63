//! mandrel-ffi: the API an iOS or Android shell links, generated for Swift, Kotlin and
//! Python by UniFFI (proc-macros, library mode).
//!
//! This crate only translates: it turns platform buffers, poses and records into
//! `mandrel-core` types and back, and maps every core error onto one [`MandrelError`].
//! Guarantees: no panic crosses the boundary (core calls run under `catch_unwind`, a panic
//! becomes [`MandrelError::Internal`]); bad input is always a typed error naming the
//! problem; exported objects are `Send + Sync`.
#![warn(missing_docs)]

mod cad;
mod convert;
mod error;
mod live;
mod measurement;
mod seal;
mod session;
#[cfg(feature = "sim")]
mod sim;

pub use cad::{
    band_options_defaults, cad_band, seal_fitted_band_order, BandFit, BandInnerShape, BandOptions,
    FingerFrame, FitGeometry, KnuckleFit, OutlinePoint, Vector3Mm,
};
pub use convert::{
    landmarks_from_apple_vision, pose_to_opencv_row_major, BufferLayout, CameraIntrinsics,
    CameraPose, PixelPoint, PoseConvention, TrueDepthPixelFormat,
};
pub use error::MandrelError;
pub use live::{FinishListener, ProvisionalMeasurement};
pub use measurement::{
    measurement_to_json, LocateMethod, MeasurementStatus, Recommendation, RescanReason,
    RingMeasurement, SizeLabels, StageTimings,
};
pub use seal::{
    new_scan_id, now_rfc3339_utc, seal_measurement, seal_measurement_json,
    seal_measurement_with_mesh, Consent, ConsentScope, EncryptedStore, RecordKind,
};
pub use session::{
    session_config_defaults, FingerName, FrameInfo, FrameOutcome, FrameRejection, FrameReport,
    Guidance, HandSide, RejectionKind, ScanHint, ScanListener, ScanSession, SessionConfig,
    TrackingState,
};
#[cfg(feature = "sim")]
pub use sim::{
    simulated_scan, virtual_scan_defaults, VirtualScanOptions, VirtualScanTruth, VirtualSensor,
    VirtualSensorKind,
};

uniffi::setup_scaffolding!();

/// The version of the mandrel library (the Rust crate version).
#[uniffi::export]
pub fn mandrel_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

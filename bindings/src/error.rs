//! The one error type of the FFI surface.
//!
//! Guarantees: every core error maps onto exactly one variant whose message names the
//! problem and what to do about it; `Internal` is reserved for bugs (a caught panic, a
//! poisoned lock), never for bad input.

use mandrel_core::frame::FrameError;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Everything that can go wrong behind the binding. Kotlin sees `MandrelException.*`,
/// Swift `MandrelError.*`, Python `MandrelError.*`; the message is the full explanation.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum MandrelError {
    /// A frame, pose, intrinsics or landmark set handed in by the shell is unusable.
    #[error("invalid frame: {0}")]
    InvalidFrame(String),
    /// A session or store configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The scan does not hold enough data for the request (e.g. finish with no frames).
    #[error("not enough data: {0}")]
    NotEnoughData(String),
    /// The user's consent is missing for the requested operation (sealing, upload).
    #[error("consent required: {0}")]
    ConsentRequired(String),
    /// A cryptographic operation failed (bad key, tampered ciphertext).
    #[error("crypto: {0}")]
    Crypto(String),
    /// The encrypted store could not read or write its data.
    #[error("storage: {0}")]
    Storage(String),
    /// A bug inside mandrel (caught panic, poisoned lock). Please report it.
    #[error("internal error (please report): {0}")]
    Internal(String),
}

impl From<FrameError> for MandrelError {
    fn from(e: FrameError) -> Self {
        MandrelError::InvalidFrame(e.to_string())
    }
}

/// Runs `f`, turning a panic into [`MandrelError::Internal`] with the panic message, so
/// that no unwinding ever reaches the foreign caller.
pub(crate) fn guard<T>(
    what: &str,
    f: impl FnOnce() -> Result<T, MandrelError>,
) -> Result<T, MandrelError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic payload".to_string());
            Err(MandrelError::Internal(format!("{what} panicked: {msg}")))
        }
    }
}

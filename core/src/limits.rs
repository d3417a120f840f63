//! Every limit the core puts on input from outside, in one place.
//!
//! Frames, scan folders, keys and envelopes come from cameras, disks and other parties;
//! each size below bounds what one of them can make the core allocate or compute, so that
//! a session or a command stays within a fixed memory budget whatever it is given. A limit
//! hit is a [`LimitExceeded`] error naming the limit, the value found and the maximum; the
//! table in `docs/limits.md` lists them with their reasons. [`read`] opens files within
//! these limits (regular files only, read with a length cap).

pub mod read;

/// Largest number of pixels in one depth frame: 2 MiP, above the largest phone depth map
/// (ARKit 256x192, TrueDepth 640x480, ARCore up to 640x480) with room for a 1920x1080
/// desktop sensor. Bounds every per-frame buffer (depth, observations, tracking pyramid).
pub const MAX_FRAME_PIXELS: u64 = 2 * 1024 * 1024;

/// Largest number of frames one session accepts: 20 minutes at 30 fps. What the session
/// keeps per frame beyond the bounded observation store is a few hundred bytes.
pub const MAX_SESSION_FRAMES: u64 = 36_000;

/// Largest number of surface samples (and, separately, silhouette tangents) kept from one
/// frame before the finger is located: a denser frame is thinned evenly. Sized with
/// [`MAX_SESSION_OBSERVATION_BYTES`] so that a landmark-free scan, whose frames stay
/// uncropped until `finish`, keeps enough distinct views in the store.
pub const MAX_OBSERVATION_POINTS_PER_FRAME: u64 = 32_768;

/// Budget for the observations a session keeps (bytes). Past it the store is thinned:
/// every second kept frame is dropped and from then on only every second new frame is
/// kept (the kept frames stay spread over the whole scan).
///
/// One term of a session's memory bound (`docs/limits.md`, "What a session holds"): the
/// store, the fused volume at its voxel cap, the tracker's per-pixel buffers, a few
/// hundred bytes per frame pushed, and what `finish` adds (twice
/// [`MAX_FIT_OBSERVATION_BYTES`], or once plus one slice's working set per thread) must
/// together stay within 256 MB.
pub const MAX_SESSION_OBSERVATION_BYTES: u64 = 48 << 20;

/// Budget for the observations the section fit is given (bytes, after cropping each frame
/// to the region around the finger the fit gathers from); past it the frames are chosen to
/// cover every direction around the finger (`measure::fit_frames`). The fit gathers a
/// cloud no larger than this input, which is freed before any section is fitted, so
/// `finish` adds at most twice this budget, or once plus its slices' working sets.
pub const MAX_FIT_OBSERVATION_BYTES: u64 = 24 << 20;

/// Most frames the section fit is given (the distinct frames of a session, chosen as for
/// [`MAX_FIT_OBSERVATION_BYTES`] past it). Each frame in a slice adds a pose-error offset
/// to that slice's fit, whose normal equations grow with the square of the frame count, so
/// this bounds each slice's working set whatever the frames hold.
pub const MAX_FIT_FRAMES: u64 = 96;

/// Largest `scan.json` read (bytes).
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// Largest number of frames a scan manifest may list (the session's frame cap).
pub const MAX_MANIFEST_FRAMES: u64 = MAX_SESSION_FRAMES;

/// Largest depth PNG read (bytes): a 2 MiP 16-bit image stored uncompressed is 4 MiB.
pub const MAX_PNG_BYTES: u64 = 16 << 20;

/// Largest key file read (bytes): a key is one line of 43 base64url characters.
pub const MAX_KEY_FILE_BYTES: u64 = 4096;

/// Largest measurement JSON sealed or opened (bytes); a measurement is a few KB.
pub const MAX_MEASUREMENT_BYTES: u64 = 1 << 20;

/// Largest mesh PLY sealed or opened (bytes); a hand mesh at 1 mm is a few MB.
pub const MAX_MESH_BYTES: u64 = 32 << 20;

/// Largest envelope JSON parsed or opened (bytes): the base64url of the largest bundle
/// (measurement and mesh) plus the header, with room to spare.
pub const MAX_ENVELOPE_BYTES: u64 = 48 << 20;

/// Largest envelope header (bytes): ids, timestamps and the consent record.
pub const MAX_HEADER_BYTES: u64 = 64 << 10;

/// Largest decrypted bundle (bytes): the measurement, the mesh and the framing.
pub const MAX_BUNDLE_BYTES: u64 = MAX_MEASUREMENT_BYTES + MAX_MESH_BYTES + 64;

/// Largest record the encrypted store seals or opens (bytes of plaintext).
pub const MAX_STORE_RECORD_BYTES: u64 = 64 << 20;

/// Which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`MAX_FRAME_PIXELS`].
    FramePixels,
    /// [`MAX_SESSION_FRAMES`].
    SessionFrames,
    /// [`MAX_MANIFEST_BYTES`].
    ManifestBytes,
    /// [`MAX_MANIFEST_FRAMES`].
    ManifestFrames,
    /// [`MAX_PNG_BYTES`].
    PngBytes,
    /// [`MAX_KEY_FILE_BYTES`].
    KeyFileBytes,
    /// [`MAX_MEASUREMENT_BYTES`].
    MeasurementBytes,
    /// [`MAX_MESH_BYTES`].
    MeshBytes,
    /// [`MAX_ENVELOPE_BYTES`].
    EnvelopeBytes,
    /// [`MAX_HEADER_BYTES`].
    HeaderBytes,
    /// [`MAX_BUNDLE_BYTES`].
    BundleBytes,
    /// [`MAX_STORE_RECORD_BYTES`].
    StoreRecordBytes,
}

impl Limit {
    /// The maximum allowed value.
    pub const fn max(self) -> u64 {
        match self {
            Limit::FramePixels => MAX_FRAME_PIXELS,
            Limit::SessionFrames => MAX_SESSION_FRAMES,
            Limit::ManifestBytes => MAX_MANIFEST_BYTES,
            Limit::ManifestFrames => MAX_MANIFEST_FRAMES,
            Limit::PngBytes => MAX_PNG_BYTES,
            Limit::KeyFileBytes => MAX_KEY_FILE_BYTES,
            Limit::MeasurementBytes => MAX_MEASUREMENT_BYTES,
            Limit::MeshBytes => MAX_MESH_BYTES,
            Limit::EnvelopeBytes => MAX_ENVELOPE_BYTES,
            Limit::HeaderBytes => MAX_HEADER_BYTES,
            Limit::BundleBytes => MAX_BUNDLE_BYTES,
            Limit::StoreRecordBytes => MAX_STORE_RECORD_BYTES,
        }
    }

    /// What is counted, for messages ("pixels per frame").
    pub const fn name(self) -> &'static str {
        match self {
            Limit::FramePixels => "pixels per frame",
            Limit::SessionFrames => "frames per session",
            Limit::ManifestBytes => "scan manifest size (bytes)",
            Limit::ManifestFrames => "frames in a scan manifest",
            Limit::PngBytes => "depth PNG size (bytes)",
            Limit::KeyFileBytes => "key file size (bytes)",
            Limit::MeasurementBytes => "measurement JSON size (bytes)",
            Limit::MeshBytes => "mesh size (bytes)",
            Limit::EnvelopeBytes => "envelope size (bytes)",
            Limit::HeaderBytes => "envelope header size (bytes)",
            Limit::BundleBytes => "bundle size (bytes)",
            Limit::StoreRecordBytes => "store record size (bytes)",
        }
    }

    /// `Ok` when `value` is within the limit, else the error naming both.
    pub fn check(self, value: u64) -> Result<(), LimitExceeded> {
        if value > self.max() {
            Err(LimitExceeded { limit: self, value })
        } else {
            Ok(())
        }
    }
}

/// An input over one of the limits of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{} is {value}, over the limit of {} (see docs/limits.md)", limit.name(), limit.max())]
pub struct LimitExceeded {
    /// The limit hit.
    pub limit: Limit,
    /// The value found (at least; a read stops one byte past the limit).
    pub value: u64,
}

/// Checks a frame's pixel count against [`MAX_FRAME_PIXELS`].
pub fn check_frame_pixels(width: u32, height: u32) -> Result<(), LimitExceeded> {
    Limit::FramePixels.check(width as u64 * height as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_limit_and_the_value() {
        let e = check_frame_pixels(8192, 8192).unwrap_err();
        assert_eq!(e.value, 8192 * 8192);
        let m = e.to_string();
        assert!(m.contains("pixels per frame"), "{m}");
        assert!(
            m.contains("67108864") && m.contains(&MAX_FRAME_PIXELS.to_string()),
            "{m}"
        );
        assert!(check_frame_pixels(1920, 1080).is_ok());
        assert!(check_frame_pixels(640, 480).is_ok());
    }
}

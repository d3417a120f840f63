//! Depth frames, camera intrinsics and camera poses, as every later stage sees them.
//!
//! Guarantees: a [`DepthFrame`] always has `width * height` depth samples in metres, each
//! either a finite positive distance or `0.0` (no depth); NaN, infinities and negative
//! values from a platform buffer are mapped to `0.0` and counted, never propagated.
//! [`Intrinsics`] are finite with positive focal lengths and a principal point inside a
//! non-empty image. Poses are camera-to-world [`Isometry3<f64>`] in OpenCV camera axes
//! (x right, y down, z forward), metres.
//!
//! Platform constructors live in [`formats`]; platform pose conventions in [`pose`]. The
//! checked forms the later stages take ([`ValidFrame`], [`DepthView`], [`ValidIntrinsics`])
//! live in [`valid`].

pub mod fingerprint;
pub mod formats;
pub mod pose;
pub mod valid;

pub use valid::{DepthView, ValidFrame, ValidIntrinsics};

use nalgebra::{Isometry3, Point2, Point3, Vector3};
use serde::{Deserialize, Serialize};

/// Largest image side accepted from any sensor (pixels). Guards against absurd sizes.
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// Errors from building frames, intrinsics or poses out of platform data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A pixel buffer does not hold `width * height` samples of the stated format.
    #[error("{what}: buffer holds {actual} bytes, expected {expected} ({width}x{height} x {bytes_per_sample} bytes per sample)")]
    BufferLength {
        /// Which buffer (e.g. "depth", "confidence").
        what: &'static str,
        /// Bytes received.
        actual: usize,
        /// Bytes expected.
        expected: usize,
        /// Image width in pixels.
        width: u32,
        /// Image height in pixels.
        height: u32,
        /// Bytes per sample of the format.
        bytes_per_sample: usize,
    },
    /// The image size is zero or larger than [`MAX_IMAGE_SIDE`].
    #[error("image size {width}x{height} is not usable (each side must be 1..={MAX_IMAGE_SIDE})")]
    ImageSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// Intrinsics are not finite, have a non-positive focal length, or a principal point far outside the image.
    #[error("invalid intrinsics: {0}")]
    Intrinsics(String),
    /// The frame's size does not match the intrinsics' size.
    #[error("frame is {frame_w}x{frame_h} but intrinsics are for {intr_w}x{intr_h}")]
    SizeMismatch {
        /// Frame width.
        frame_w: u32,
        /// Frame height.
        frame_h: u32,
        /// Intrinsics width.
        intr_w: u32,
        /// Intrinsics height.
        intr_h: u32,
    },
    /// A pose matrix is not finite, not a rigid transform, or places the camera absurdly far away.
    #[error("invalid pose: {0}")]
    Pose(String),
    /// A depth scale (units per metre) is not finite and positive.
    #[error("invalid depth scale {0}: must be finite and > 0 (units per metre)")]
    DepthScale(f64),
    /// A PNG could not be decoded or is not 16-bit single channel.
    #[error("depth image: {0}")]
    Image(String),
    /// Landmarks are malformed (wrong count or non-finite coordinates).
    #[error("invalid landmarks: {0}")]
    Landmarks(String),
    /// Every pixel of the frame is invalid (no depth at all).
    #[error("frame has no valid depth pixels")]
    NoValidDepth,
    /// The frame is over one of the [`crate::limits`] (pixels per frame).
    #[error(transparent)]
    Limit(#[from] crate::limits::LimitExceeded),
}

/// Pinhole camera intrinsics in pixels for an image of `width x height`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Intrinsics {
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Focal length along x, pixels.
    pub fx: f64,
    /// Focal length along y, pixels.
    pub fy: f64,
    /// Principal point x (column), pixels; centre of the top-left pixel is 0.
    pub cx: f64,
    /// Principal point y (row), pixels.
    pub cy: f64,
}

impl Intrinsics {
    /// Validated intrinsics: finite, positive focal lengths, principal point within one image
    /// size of the image (allows off-centre crops), size within [`MAX_IMAGE_SIDE`].
    pub fn new(
        width: u32,
        height: u32,
        fx: f64,
        fy: f64,
        cx: f64,
        cy: f64,
    ) -> Result<Self, FrameError> {
        let k = Self {
            width,
            height,
            fx,
            fy,
            cx,
            cy,
        };
        k.validate()?;
        Ok(k)
    }

    /// Checks the invariants documented on [`Intrinsics::new`].
    pub fn validate(&self) -> Result<(), FrameError> {
        check_size(self.width, self.height)?;
        for (name, v) in [
            ("fx", self.fx),
            ("fy", self.fy),
            ("cx", self.cx),
            ("cy", self.cy),
        ] {
            if !v.is_finite() {
                return Err(FrameError::Intrinsics(format!(
                    "{name} is {v}, must be finite"
                )));
            }
        }
        if self.fx <= 0.0 || self.fy <= 0.0 {
            return Err(FrameError::Intrinsics(format!(
                "focal lengths must be > 0 pixels (fx = {}, fy = {})",
                self.fx, self.fy
            )));
        }
        let side = self.width.max(self.height) as f64;
        for (name, f) in [("fx", self.fx), ("fy", self.fy)] {
            if f < side / MAX_FOCAL_RATIO || f > side * MAX_FOCAL_RATIO {
                return Err(FrameError::Intrinsics(format!(
                    "{name} = {f:?} pixels is not a camera's focal length for a {}x{} image (must be within {}..={})",
                    self.width,
                    self.height,
                    side / MAX_FOCAL_RATIO,
                    side * MAX_FOCAL_RATIO
                )));
            }
        }
        let (w, h) = (self.width as f64, self.height as f64);
        if self.cx < -w || self.cx > 2.0 * w || self.cy < -h || self.cy > 2.0 * h {
            return Err(FrameError::Intrinsics(format!(
                "principal point ({}, {}) lies far outside the {}x{} image",
                self.cx, self.cy, self.width, self.height
            )));
        }
        Ok(())
    }

    /// Intrinsics for the same camera at another resolution (e.g. ARKit's 1920x1440 colour
    /// intrinsics scaled to the 256x192 depth map). Pixel centres stay consistent.
    pub fn scaled_to(&self, width: u32, height: u32) -> Result<Self, FrameError> {
        let sx = width as f64 / self.width as f64;
        let sy = height as f64 / self.height as f64;
        Self::new(
            width,
            height,
            self.fx * sx,
            self.fy * sy,
            (self.cx + 0.5) * sx - 0.5,
            (self.cy + 0.5) * sy - 0.5,
        )
    }

    /// Back-projects pixel (u, v) at depth `z` metres to a camera-frame point.
    #[inline]
    pub fn unproject(&self, u: f64, v: f64, z: f64) -> Point3<f64> {
        Point3::new((u - self.cx) * z / self.fx, (v - self.cy) * z / self.fy, z)
    }

    /// Projects a camera-frame point to pixel coordinates; `None` behind the camera.
    #[inline]
    pub fn project(&self, p: &Point3<f64>) -> Option<Point2<f64>> {
        if p.z <= 0.0 {
            return None;
        }
        Some(Point2::new(
            self.fx * p.x / p.z + self.cx,
            self.fy * p.y / p.z + self.cy,
        ))
    }

    /// Unit ray direction (camera frame) through pixel (u, v).
    #[inline]
    pub fn ray(&self, u: f64, v: f64) -> Vector3<f64> {
        Vector3::new((u - self.cx) / self.fx, (v - self.cy) / self.fy, 1.0).normalize()
    }
}

/// Checks that an image size is usable: each side in `1..=`[`MAX_IMAGE_SIDE`]. Public so
/// that frame producers outside the crate (the virtual sensor) apply the same rule.
/// Intrinsics may describe a larger image than a depth frame (ARKit's colour camera).
pub fn check_size(width: u32, height: u32) -> Result<(), FrameError> {
    if width == 0 || height == 0 || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(FrameError::ImageSize { width, height });
    }
    Ok(())
}

/// [`check_size`] plus the frame limit: at most [`crate::limits::MAX_FRAME_PIXELS`]
/// pixels. Every depth buffer is checked with it before a sample is read.
pub fn check_frame_size(width: u32, height: u32) -> Result<(), FrameError> {
    check_size(width, height)?;
    crate::limits::check_frame_pixels(width, height)?;
    Ok(())
}

/// Focal lengths (pixels) must lie within this factor of the image's larger side, either
/// way: a field of view between about 0.1 and 179.9 degrees. Smaller or larger values are
/// not a camera, and make back-projection overflow.
pub const MAX_FOCAL_RATIO: f64 = 1000.0;

/// A depth image in metres, row-major, with optional per-pixel confidence in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthFrame {
    width: u32,
    height: u32,
    depth_m: Vec<f32>,
    confidence: Option<Vec<f32>>,
    rejected_non_finite: usize,
}

impl DepthFrame {
    /// Builds a frame from metres. Non-finite or negative samples become `0.0` (no depth)
    /// and are counted in [`DepthFrame::rejected_non_finite`].
    pub fn from_metres(width: u32, height: u32, depth_m: Vec<f32>) -> Result<Self, FrameError> {
        check_frame_size(width, height)?;
        let expected = width as usize * height as usize;
        if depth_m.len() != expected {
            return Err(FrameError::BufferLength {
                what: "depth",
                actual: depth_m.len() * 4,
                expected: expected * 4,
                width,
                height,
                bytes_per_sample: 4,
            });
        }
        let mut depth_m = depth_m;
        let mut rejected = 0;
        // Branch-free (vectorises): a rejected sample becomes 0 and is counted.
        for d in depth_m.iter_mut() {
            let bad = !(d.is_finite() && *d >= 0.0);
            *d = if bad { 0.0 } else { *d };
            rejected += bad as usize;
        }
        Ok(Self {
            width,
            height,
            depth_m,
            confidence: None,
            rejected_non_finite: rejected,
        })
    }

    /// This frame with no depth (0) wherever `keep` (one flag per pixel, row-major) is
    /// false, its confidence kept: what [`DepthFrame::from_metres`] and
    /// [`DepthFrame::with_confidence`] build from the masked samples, without checking them
    /// again (a frame's samples and confidences passed those checks already).
    pub(crate) fn masked(&self, keep: &[bool]) -> Result<Self, FrameError> {
        if keep.len() != self.depth_m.len() {
            return Err(FrameError::BufferLength {
                what: "mask",
                actual: keep.len(),
                expected: self.depth_m.len(),
                width: self.width,
                height: self.height,
                bytes_per_sample: 1,
            });
        }
        Ok(Self {
            width: self.width,
            height: self.height,
            depth_m: self
                .depth_m
                .iter()
                .zip(keep)
                .map(|(&z, &k)| if k { z } else { 0.0 })
                .collect(),
            confidence: self.confidence.clone(),
            rejected_non_finite: 0,
        })
    }

    /// Attaches a confidence map in `[0, 1]` (1 = fully trusted), one value per pixel.
    /// Values outside `[0, 1]` or non-finite are clamped to the range / treated as 0.
    pub fn with_confidence(mut self, confidence: Vec<f32>) -> Result<Self, FrameError> {
        if confidence.len() != self.depth_m.len() {
            return Err(FrameError::BufferLength {
                what: "confidence",
                actual: confidence.len() * 4,
                expected: self.depth_m.len() * 4,
                width: self.width,
                height: self.height,
                bytes_per_sample: 4,
            });
        }
        let confidence = confidence
            .into_iter()
            .map(|c| {
                if c.is_finite() {
                    c.clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect();
        self.confidence = Some(confidence);
        Ok(self)
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Depth samples in metres, row-major; `0.0` = no depth.
    pub fn depth_m(&self) -> &[f32] {
        &self.depth_m
    }
    /// Per-pixel confidence in `[0, 1]`, if the sensor supplied one.
    pub fn confidence(&self) -> Option<&[f32]> {
        self.confidence.as_deref()
    }
    /// Depth at pixel (u, v) in metres; `0.0` = no depth. Panics only on out-of-range indices
    /// (internal use; callers iterate within `width x height`).
    #[inline]
    pub fn at(&self, u: u32, v: u32) -> f32 {
        self.depth_m[(v * self.width + u) as usize]
    }
    /// How many input samples were NaN, infinite or negative and were mapped to "no depth".
    pub fn rejected_non_finite(&self) -> usize {
        self.rejected_non_finite
    }
    /// Number of pixels with depth.
    pub fn valid_count(&self) -> usize {
        self.depth_m.iter().filter(|&&d| d > 0.0).count()
    }
    /// Checks that this frame matches the intrinsics' image size.
    pub fn check_matches(&self, k: &Intrinsics) -> Result<(), FrameError> {
        if self.width != k.width || self.height != k.height {
            return Err(FrameError::SizeMismatch {
                frame_w: self.width,
                frame_h: self.height,
                intr_w: k.width,
                intr_h: k.height,
            });
        }
        Ok(())
    }
}

/// Hand landmark count in MediaPipe order (0 wrist, 1-4 thumb, 5-8 index, 9-12 middle,
/// 13-16 ring, 17-20 little).
pub const LANDMARK_COUNT: usize = 21;

/// 2D hand landmarks in pixels (u = column, v = row), MediaPipe order.
#[derive(Debug, Clone, PartialEq)]
pub struct Landmarks {
    points: [Point2<f64>; LANDMARK_COUNT],
}

impl Landmarks {
    /// Validated landmarks: exactly 21 finite (u, v) pixel positions. Points may lie
    /// outside the image (a landmark detector extrapolates off-screen joints).
    pub fn new(points: &[[f64; 2]]) -> Result<Self, FrameError> {
        if points.len() != LANDMARK_COUNT {
            return Err(FrameError::Landmarks(format!(
                "expected {LANDMARK_COUNT} points in MediaPipe order, got {}",
                points.len()
            )));
        }
        let mut out = [Point2::origin(); LANDMARK_COUNT];
        for (i, p) in points.iter().enumerate() {
            if !p[0].is_finite() || !p[1].is_finite() {
                return Err(FrameError::Landmarks(format!(
                    "point {i} is not finite: {p:?}"
                )));
            }
            out[i] = Point2::new(p[0], p[1]);
        }
        Ok(Self { points: out })
    }

    /// From Apple Vision joints: normalised `[0, 1]` coordinates with the origin at the
    /// bottom-left, in MediaPipe order (Vision's joints map one to one). `None` entries
    /// (joints Vision did not report) make the whole set invalid.
    pub fn from_apple_vision(
        normalised: &[[f64; 2]],
        width: u32,
        height: u32,
    ) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let px: Vec<[f64; 2]> = normalised
            .iter()
            .map(|p| {
                [
                    p[0] * width as f64 - 0.5,
                    (1.0 - p[1]) * height as f64 - 0.5,
                ]
            })
            .collect();
        Self::new(&px)
    }

    /// The 21 points.
    pub fn points(&self) -> &[Point2<f64>; LANDMARK_COUNT] {
        &self.points
    }
}

/// One captured frame: depth, intrinsics, optional camera-to-world pose, optional landmarks.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Depth in metres.
    pub depth: DepthFrame,
    /// Intrinsics matching `depth`'s size.
    pub intrinsics: Intrinsics,
    /// Camera-to-world pose in OpenCV camera axes, if the platform gave one.
    pub pose: Option<Isometry3<f64>>,
    /// 2D hand landmarks on this frame, if any.
    pub landmarks: Option<Landmarks>,
    /// Capture time, seconds.
    pub timestamp: f64,
}

impl Frame {
    /// A validated frame: intrinsics valid and matching the depth size, pose rigid and finite
    /// ([`ValidFrame::new`]'s checks), and a finite timestamp.
    pub fn new(
        depth: DepthFrame,
        intrinsics: Intrinsics,
        pose: Option<Isometry3<f64>>,
        landmarks: Option<Landmarks>,
        timestamp: f64,
    ) -> Result<Self, FrameError> {
        let frame = ValidFrame::new(Self {
            depth,
            intrinsics,
            pose,
            landmarks,
            timestamp,
        })?
        .into_frame();
        if !timestamp.is_finite() {
            return Err(FrameError::Pose(format!(
                "timestamp {timestamp} is not finite"
            )));
        }
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn masked_is_the_frame_built_from_the_masked_samples() {
        let depth = vec![0.3, f32::NAN, 0.5, -1.0, 0.0, 0.7];
        let conf = vec![0.5, 2.0, f32::NAN, 1.0, 0.2, 0.9];
        let keep = [true, true, false, true, false, true];
        let f = DepthFrame::from_metres(3, 2, depth)
            .unwrap()
            .with_confidence(conf.clone())
            .unwrap();
        let cut: Vec<f32> = f
            .depth_m()
            .iter()
            .zip(&keep)
            .map(|(&z, &k)| if k { z } else { 0.0 })
            .collect();
        let want = DepthFrame::from_metres(3, 2, cut)
            .unwrap()
            .with_confidence(f.confidence().unwrap().to_vec())
            .unwrap();
        assert_eq!(f.masked(&keep).unwrap(), want);
        assert!(matches!(
            f.masked(&keep[..5]),
            Err(FrameError::BufferLength { what: "mask", .. })
        ));
    }
    use super::*;

    #[test]
    fn intrinsics_reject_zero_nan_and_absurd_values() {
        assert!(Intrinsics::new(640, 480, 590.0, 590.0, 319.5, 239.5).is_ok());
        for (fx, fy, cx, cy) in [
            (0.0, 590.0, 319.5, 239.5),
            (590.0, -1.0, 319.5, 239.5),
            (f64::NAN, 590.0, 319.5, 239.5),
            (590.0, 590.0, f64::INFINITY, 239.5),
            (590.0, 590.0, 5000.0, 239.5),
        ] {
            let e = Intrinsics::new(640, 480, fx, fy, cx, cy).unwrap_err();
            assert!(matches!(e, FrameError::Intrinsics(_)), "{e}");
        }
        assert!(matches!(
            Intrinsics::new(0, 480, 590.0, 590.0, 0.0, 0.0),
            Err(FrameError::ImageSize { .. })
        ));
        assert!(matches!(
            Intrinsics::new(100_000, 480, 590.0, 590.0, 0.0, 0.0),
            Err(FrameError::ImageSize { .. })
        ));
    }

    #[test]
    fn scaling_intrinsics_keeps_pixel_centres_consistent() {
        // ARKit: colour intrinsics at 1920x1440 scaled to the 256x192 depth map.
        let k = Intrinsics::new(1920, 1440, 1500.0, 1500.0, 959.5, 719.5).unwrap();
        let d = k.scaled_to(256, 192).unwrap();
        assert!(
            (d.fx - 200.0).abs() < 1e-9
                && (d.cx - 127.5).abs() < 1e-9
                && (d.cy - 95.5).abs() < 1e-9
        );
        let p = d.unproject(10.0, 20.0, 0.3);
        let q = d.project(&p).unwrap();
        assert!((q.x - 10.0).abs() < 1e-9 && (q.y - 20.0).abs() < 1e-9);
        assert!(d.project(&Point3::new(0.0, 0.0, -1.0)).is_none());
    }

    #[test]
    fn frame_checks_size_pose_and_depth_values() {
        let k = Intrinsics::new(4, 2, 5.0, 5.0, 1.5, 0.5).unwrap();
        let d = DepthFrame::from_metres(
            4,
            2,
            vec![0.3, f32::NAN, -0.1, f32::INFINITY, 0.2, 0.0, 0.25, 0.3],
        )
        .unwrap();
        assert_eq!(d.rejected_non_finite(), 3);
        assert_eq!(d.valid_count(), 4);
        assert!(Frame::new(d.clone(), k, None, None, 0.0).is_ok());
        let k2 = Intrinsics::new(8, 2, 5.0, 5.0, 1.5, 0.5).unwrap();
        assert!(matches!(
            Frame::new(d.clone(), k2, None, None, 0.0),
            Err(FrameError::SizeMismatch { .. })
        ));
        let far = Isometry3::translation(1e4, 0.0, 0.0);
        assert!(matches!(
            Frame::new(d.clone(), k, Some(far), None, 0.0),
            Err(FrameError::Pose(_))
        ));
        assert!(Frame::new(d.clone(), k, None, None, f64::NAN).is_err());
        assert!(matches!(
            DepthFrame::from_metres(4, 2, vec![0.3; 7]),
            Err(FrameError::BufferLength { .. })
        ));
        assert!(matches!(
            d.clone().with_confidence(vec![1.0; 3]),
            Err(FrameError::BufferLength { .. })
        ));
        let c = d
            .with_confidence(vec![2.0, -1.0, f32::NAN, 0.5, 1.0, 1.0, 1.0, 1.0])
            .unwrap();
        assert_eq!(&c.confidence().unwrap()[..4], &[1.0, 0.0, 0.0, 0.5]);
    }

    #[test]
    fn landmarks_validate_and_convert_from_apple_vision() {
        let pts = vec![[10.0, 20.0]; LANDMARK_COUNT];
        assert!(Landmarks::new(&pts).is_ok());
        assert!(matches!(
            Landmarks::new(&pts[..20]),
            Err(FrameError::Landmarks(_))
        ));
        let mut bad = pts.clone();
        bad[7] = [f64::NAN, 1.0];
        assert!(Landmarks::new(&bad)
            .unwrap_err()
            .to_string()
            .contains("point 7"));
        // Vision: (0, 0) is the bottom-left corner of the image, y up.
        let mut v = vec![[0.5, 0.5]; LANDMARK_COUNT];
        v[0] = [0.0, 0.0];
        v[1] = [1.0, 1.0];
        let l = Landmarks::from_apple_vision(&v, 640, 480).unwrap();
        assert_eq!(l.points()[0], Point2::new(-0.5, 479.5));
        assert_eq!(l.points()[1], Point2::new(639.5, -0.5));
        assert_eq!(l.points()[2], Point2::new(319.5, 239.5));
    }
}

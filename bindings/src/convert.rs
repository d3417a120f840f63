//! Records the shell passes in (intrinsics, poses, buffer layouts, landmarks) and their
//! translation into `mandrel-core` frames.
//!
//! Guarantees: every value is validated by the core before use; pose matrices are taken in
//! the platform's own convention and converted by `mandrel_core::frame::pose`; pixel
//! buffers are borrowed (`&[u8]`, zero-copy from a direct `ByteBuffer` / `Data`) and read
//! exactly once.

use crate::error::MandrelError;
use mandrel_core::frame::formats::{self, RowLayout, TrueDepthFormat};
use mandrel_core::frame::{pose, DepthFrame, Frame, Intrinsics, Landmarks};
use nalgebra::Isometry3;

/// Pinhole intrinsics of the depth image, in pixels of that image (not of the colour image:
/// scale ARKit's/ARCore's colour intrinsics to the depth size first).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct CameraIntrinsics {
    /// Depth image width, pixels.
    pub width: u32,
    /// Depth image height, pixels.
    pub height: u32,
    /// Focal length along x, pixels.
    pub fx: f64,
    /// Focal length along y, pixels.
    pub fy: f64,
    /// Principal point x (column), pixels.
    pub cx: f64,
    /// Principal point y (row), pixels.
    pub cy: f64,
}

impl From<Intrinsics> for CameraIntrinsics {
    fn from(k: Intrinsics) -> Self {
        Self {
            width: k.width,
            height: k.height,
            fx: k.fx,
            fy: k.fy,
            cx: k.cx,
            cy: k.cy,
        }
    }
}

impl TryFrom<CameraIntrinsics> for Intrinsics {
    type Error = MandrelError;
    fn try_from(k: CameraIntrinsics) -> Result<Self, MandrelError> {
        Ok(Intrinsics::new(k.width, k.height, k.fx, k.fy, k.cx, k.cy)?)
    }
}

/// Which convention a camera-to-world matrix is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PoseConvention {
    /// ARKit `ARFrame.camera.transform` (camera x right, y up, z backward).
    Arkit,
    /// ARCore `Frame.getCamera().getPose().toMatrix(..)` (the OpenGL camera; not the
    /// display-oriented pose).
    Arcore,
    /// mandrel's own: OpenCV camera axes (x right, y down, z forward).
    Opencv,
}

/// A camera-to-world pose as the platform hands it over: a 4x4 rigid transform in metres,
/// 16 numbers in column-major order (`simd_float4x4` memory layout, `Pose.toMatrix`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CameraPose {
    /// The convention of `column_major`.
    pub convention: PoseConvention,
    /// 16 numbers, column-major.
    pub column_major: Vec<f32>,
}

impl TryFrom<&CameraPose> for Isometry3<f64> {
    type Error = MandrelError;
    fn try_from(p: &CameraPose) -> Result<Self, MandrelError> {
        if p.column_major.len() != 16 {
            return Err(MandrelError::InvalidFrame(format!(
                "pose must have 16 numbers (4x4 column-major), got {}",
                p.column_major.len()
            )));
        }
        let m: Vec<f64> = p.column_major.iter().map(|&v| v as f64).collect();
        let iso = match p.convention {
            PoseConvention::Arkit => pose::from_arkit_column_major(&m)?,
            PoseConvention::Arcore => pose::from_arcore_column_major(&m)?,
            PoseConvention::Opencv => pose::from_column_major(&m)?,
        };
        pose::validate(&iso)?;
        Ok(iso)
    }
}

/// Size and row layout of a pixel buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct BufferLayout {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from one row to the next (`CVPixelBufferGetBytesPerRow`,
    /// `Image.Plane.getRowStride()`); 0 means tightly packed.
    pub bytes_per_row: u32,
}

impl BufferLayout {
    fn rows(&self) -> RowLayout {
        if self.bytes_per_row == 0 {
            RowLayout::Packed
        } else {
            RowLayout::Stride(self.bytes_per_row as usize)
        }
    }
}

/// AVFoundation TrueDepth pixel formats (`AVDepthData.depthDataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TrueDepthPixelFormat {
    /// `kCVPixelFormatType_DepthFloat32`: metres.
    DepthFloat32,
    /// `kCVPixelFormatType_DepthFloat16`: metres, half precision.
    DepthFloat16,
    /// `kCVPixelFormatType_DisparityFloat32`: 1/metres.
    DisparityFloat32,
    /// `kCVPixelFormatType_DisparityFloat16`: 1/metres, half precision.
    DisparityFloat16,
}

impl From<TrueDepthPixelFormat> for TrueDepthFormat {
    fn from(f: TrueDepthPixelFormat) -> Self {
        match f {
            TrueDepthPixelFormat::DepthFloat32 => TrueDepthFormat::DepthFloat32,
            TrueDepthPixelFormat::DepthFloat16 => TrueDepthFormat::DepthFloat16,
            TrueDepthPixelFormat::DisparityFloat32 => TrueDepthFormat::DisparityFloat32,
            TrueDepthPixelFormat::DisparityFloat16 => TrueDepthFormat::DisparityFloat16,
        }
    }
}

/// A point in image pixels (x = column, y = row), or a normalised point for Apple Vision.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct PixelPoint {
    /// Horizontal coordinate.
    pub x: f64,
    /// Vertical coordinate.
    pub y: f64,
}

fn optional(confidence: &[u8]) -> Option<&[u8]> {
    if confidence.is_empty() {
        None
    } else {
        Some(confidence)
    }
}

/// ARKit `sceneDepth.depthMap` (f32 metres) + optional `confidenceMap` (u8 0..2, packed).
pub(crate) fn arkit_depth(
    depth: &[u8],
    confidence: &[u8],
    layout: BufferLayout,
) -> Result<DepthFrame, MandrelError> {
    Ok(formats::arkit_scene_depth(
        depth,
        optional(confidence),
        layout.width,
        layout.height,
        layout.rows(),
    )?)
}

/// TrueDepth `AVDepthData.depthDataMap` in any of its float formats.
pub(crate) fn truedepth_depth(
    depth: &[u8],
    format: TrueDepthPixelFormat,
    layout: BufferLayout,
) -> Result<DepthFrame, MandrelError> {
    Ok(formats::truedepth(
        depth,
        format.into(),
        layout.width,
        layout.height,
        layout.rows(),
    )?)
}

/// ARCore `acquireDepthImage16Bits` (u16 mm) + optional raw confidence (u8, packed).
pub(crate) fn arcore_depth(
    depth: &[u8],
    confidence: &[u8],
    layout: BufferLayout,
) -> Result<DepthFrame, MandrelError> {
    Ok(formats::arcore_depth16(
        depth,
        optional(confidence),
        layout.width,
        layout.height,
        layout.rows(),
    )?)
}

/// A validated core frame out of a decoded depth image and the shell's metadata.
pub(crate) fn frame(
    depth: DepthFrame,
    intrinsics: CameraIntrinsics,
    camera_pose: Option<&CameraPose>,
    timestamp_s: f64,
) -> Result<Frame, MandrelError> {
    let k = Intrinsics::try_from(intrinsics)?;
    let pose = camera_pose.map(Isometry3::<f64>::try_from).transpose()?;
    Ok(Frame::new(depth, k, pose, None, timestamp_s)?)
}

/// Landmarks in MediaPipe order and image pixels.
pub(crate) fn landmarks_pixels(points: &[PixelPoint]) -> Result<Landmarks, MandrelError> {
    let pts: Vec<[f64; 2]> = points.iter().map(|p| [p.x, p.y]).collect();
    Ok(Landmarks::new(&pts)?)
}

/// Landmarks from Apple Vision (normalised, origin bottom-left), in MediaPipe order.
pub(crate) fn landmarks_vision(
    points: &[PixelPoint],
    width: u32,
    height: u32,
) -> Result<Landmarks, MandrelError> {
    let pts: Vec<[f64; 2]> = points.iter().map(|p| [p.x, p.y]).collect();
    Ok(Landmarks::from_apple_vision(&pts, width, height)?)
}

/// Converts Apple Vision hand joints (`VNRecognizedPoint.location`: normalised `[0, 1]`,
/// origin bottom-left, 21 points in MediaPipe order) to image pixels (origin top-left) of a
/// `width x height` image.
#[uniffi::export]
pub fn landmarks_from_apple_vision(
    normalised: Vec<PixelPoint>,
    width: u32,
    height: u32,
) -> Result<Vec<PixelPoint>, MandrelError> {
    crate::error::guard("landmarks_from_apple_vision", || {
        let lm = landmarks_vision(&normalised, width, height)?;
        Ok(lm
            .points()
            .iter()
            .map(|p| PixelPoint { x: p.x, y: p.y })
            .collect())
    })
}

/// A platform pose converted to mandrel's convention (camera-to-world, OpenCV camera axes),
/// as 16 numbers row-major: what `scan.json` stores. Useful to check a shell's pose wiring.
#[uniffi::export]
pub fn pose_to_opencv_row_major(camera_pose: CameraPose) -> Result<Vec<f64>, MandrelError> {
    crate::error::guard("pose_to_opencv_row_major", || {
        let iso = Isometry3::<f64>::try_from(&camera_pose)?;
        Ok(pose::to_row_major(&iso).to_vec())
    })
}

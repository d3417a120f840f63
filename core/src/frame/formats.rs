//! Constructors for the depth buffers phone platforms hand over, and 16-bit PNG on disk.
//!
//! Each takes the raw bytes exactly as the platform exposes them (little-endian, as on
//! every iOS and Android device), an optional row stride for padded `CVPixelBuffer` rows,
//! and checks the buffer length before reading a single sample.

use super::{check_frame_size, DepthFrame, FrameError};
use half::f16;

/// How a buffer's rows are laid out: tightly packed, or with a row stride in bytes
/// (`CVPixelBufferGetBytesPerRow` on iOS, `Image.Plane.getRowStride()` on Android).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RowLayout {
    /// Rows follow each other with no padding.
    #[default]
    Packed,
    /// Each row starts `bytes_per_row` bytes after the previous one.
    Stride(usize),
}

/// Reads `width * height` samples of `N` bytes each, honouring a row stride.
fn read_samples<const N: usize, T>(
    what: &'static str,
    bytes: &[u8],
    width: u32,
    height: u32,
    layout: RowLayout,
    decode: impl Fn([u8; N]) -> T,
) -> Result<Vec<T>, FrameError> {
    check_frame_size(width, height)?;
    let (w, h) = (width as usize, height as usize);
    let row_bytes = w * N;
    let stride = match layout {
        RowLayout::Packed => row_bytes,
        RowLayout::Stride(s) => s,
    };
    // Saturating: a stride from the caller may be absurd (a saturated length is longer
    // than any buffer, so the check below refuses it).
    let span = |stride: usize| stride.saturating_mul(h - 1).saturating_add(row_bytes);
    let length_error = || FrameError::BufferLength {
        what,
        actual: bytes.len(),
        expected: span(stride.max(row_bytes)),
        width,
        height,
        bytes_per_sample: N,
    };
    if stride < row_bytes {
        return Err(length_error());
    }
    let needed = span(stride);
    // Packed buffers must match exactly; strided ones may carry padding after the last row.
    let ok = match layout {
        RowLayout::Packed => bytes.len() == needed,
        RowLayout::Stride(_) => bytes.len() >= needed && bytes.len() <= stride.saturating_mul(h),
    };
    if !ok {
        return Err(length_error());
    }
    let mut out = Vec::with_capacity(w * h);
    for r in 0..h {
        let row = &bytes[r * stride..r * stride + row_bytes];
        out.extend(row.chunks_exact(N).map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            decode(a)
        }));
    }
    Ok(out)
}

/// ARKit `ARDepthData.depthMap` (`sceneDepth` / `smoothedSceneDepth`): `DepthFloat32`
/// metres, typically 256x192, with the optional `confidenceMap` (`ARConfidenceLevel` u8:
/// 0 low, 1 medium, 2 high) mapped to weights 0.2 / 0.6 / 1.0.
pub fn arkit_scene_depth(
    depth_bytes: &[u8],
    confidence: Option<&[u8]>,
    width: u32,
    height: u32,
    layout: RowLayout,
) -> Result<DepthFrame, FrameError> {
    let depth = read_samples::<4, f32>(
        "ARKit depth",
        depth_bytes,
        width,
        height,
        layout,
        f32::from_le_bytes,
    )?;
    let frame = DepthFrame::from_metres(width, height, depth)?;
    match confidence {
        None => Ok(frame),
        Some(c) => {
            let levels = read_samples::<1, u8>(
                "ARKit confidence",
                c,
                width,
                height,
                RowLayout::Packed,
                |b| b[0],
            )?;
            if let Some((i, bad)) = levels.iter().enumerate().find(|(_, &l)| l > 2) {
                return Err(FrameError::Image(format!(
                    "ARKit confidence at pixel {i} is {bad}; ARConfidenceLevel is 0, 1 or 2"
                )));
            }
            frame.with_confidence(
                levels
                    .iter()
                    .map(|&l| [0.2, 0.6, 1.0][l as usize])
                    .collect(),
            )
        }
    }
}

/// AVFoundation TrueDepth pixel formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrueDepthFormat {
    /// `kCVPixelFormatType_DepthFloat32`: metres, f32.
    DepthFloat32,
    /// `kCVPixelFormatType_DepthFloat16`: metres, IEEE half.
    DepthFloat16,
    /// `kCVPixelFormatType_DisparityFloat32`: 1/metres, f32.
    DisparityFloat32,
    /// `kCVPixelFormatType_DisparityFloat16`: 1/metres, IEEE half.
    DisparityFloat16,
}

/// AVFoundation `AVDepthData.depthDataMap` from the TrueDepth camera, in any of its four
/// float formats. Disparity is inverted to metres; zero or negative disparity is no depth.
pub fn truedepth(
    bytes: &[u8],
    format: TrueDepthFormat,
    width: u32,
    height: u32,
    layout: RowLayout,
) -> Result<DepthFrame, FrameError> {
    use TrueDepthFormat::*;
    let raw: Vec<f32> = match format {
        DepthFloat32 | DisparityFloat32 => read_samples::<4, f32>(
            "TrueDepth",
            bytes,
            width,
            height,
            layout,
            f32::from_le_bytes,
        )?,
        DepthFloat16 | DisparityFloat16 => {
            read_samples::<2, f32>("TrueDepth", bytes, width, height, layout, |b| {
                f16::from_le_bytes(b).to_f32()
            })?
        }
    };
    let metres = match format {
        DepthFloat32 | DepthFloat16 => raw,
        DisparityFloat32 | DisparityFloat16 => raw
            .into_iter()
            .map(|d| {
                if d.is_finite() && d > 0.0 {
                    1.0 / d
                } else if d == 0.0 {
                    0.0
                } else {
                    f32::NAN
                }
            })
            .collect(),
    };
    DepthFrame::from_metres(width, height, metres)
}

/// ARCore `Frame.acquireDepthImage16Bits()` / `acquireRawDepthImage16Bits()`: u16
/// millimetres (0 = no depth), with the optional `acquireRawDepthConfidenceImage()` (u8,
/// 0 = no confidence .. 255 = full) mapped linearly to `[0, 1]`.
pub fn arcore_depth16(
    depth_bytes: &[u8],
    confidence: Option<&[u8]>,
    width: u32,
    height: u32,
    layout: RowLayout,
) -> Result<DepthFrame, FrameError> {
    let mm = read_samples::<2, u16>(
        "ARCore depth",
        depth_bytes,
        width,
        height,
        layout,
        u16::from_le_bytes,
    )?;
    let frame = DepthFrame::from_metres(
        width,
        height,
        mm.into_iter().map(|v| (v as f64 / 1000.0) as f32).collect(),
    )?;
    match confidence {
        None => Ok(frame),
        Some(c) => {
            let conf = read_samples::<1, f32>(
                "ARCore confidence",
                c,
                width,
                height,
                RowLayout::Packed,
                |b| b[0] as f32 / 255.0,
            )?;
            frame.with_confidence(conf)
        }
    }
}

/// Depth from 16-bit samples with a scale in units per metre (`value / depth_scale` metres,
/// 0 = no depth): the scan folder's PNG convention.
pub fn from_u16_scaled(
    values: &[u16],
    width: u32,
    height: u32,
    depth_scale: f64,
) -> Result<DepthFrame, FrameError> {
    if !depth_scale.is_finite() || depth_scale <= 0.0 {
        return Err(FrameError::DepthScale(depth_scale));
    }
    check_frame_size(width, height)?;
    if values.len() != width as usize * height as usize {
        return Err(FrameError::BufferLength {
            what: "16-bit depth",
            actual: values.len() * 2,
            expected: width as usize * height as usize * 2,
            width,
            height,
            bytes_per_sample: 2,
        });
    }
    DepthFrame::from_metres(
        width,
        height,
        values
            .iter()
            .map(|&v| (v as f64 / depth_scale) as f32)
            .collect(),
    )
}

/// Decodes a 16-bit grayscale PNG (bytes in memory) with `depth_scale` units per metre.
/// The image size is read from the PNG header and checked against the frame limits before
/// anything is decoded, and the decoder's allocations are capped, so a small file cannot
/// claim a huge image.
pub fn png16(png_bytes: &[u8], depth_scale: f64) -> Result<DepthFrame, FrameError> {
    if png_bytes.len() as u64 > crate::limits::MAX_PNG_BYTES {
        return Err(crate::limits::LimitExceeded {
            limit: crate::limits::Limit::PngBytes,
            value: png_bytes.len() as u64,
        }
        .into());
    }
    // Signature (8), IHDR chunk length (4) and type (4), then width and height (u32 BE).
    if png_bytes.len() >= 24 && &png_bytes[12..16] == b"IHDR" {
        let be = |i: usize| {
            u32::from_be_bytes([
                png_bytes[i],
                png_bytes[i + 1],
                png_bytes[i + 2],
                png_bytes[i + 3],
            ])
        };
        check_frame_size(be(16), be(20))?;
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(super::MAX_IMAGE_SIDE);
    limits.max_image_height = Some(super::MAX_IMAGE_SIDE);
    // The decoded image (at most 8 bytes per pixel before conversion) plus decoder state.
    limits.max_alloc = Some(crate::limits::MAX_FRAME_PIXELS * 8 + (16 << 20));
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(png_bytes), image::ImageFormat::Png);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| FrameError::Image(format!("cannot decode PNG: {e}")))?;
    let luma = match img {
        image::DynamicImage::ImageLuma16(l) => l,
        other => {
            return Err(FrameError::Image(format!(
                "expected a 16-bit single-channel PNG, got {:?}",
                other.color()
            )))
        }
    };
    let (w, h) = luma.dimensions();
    from_u16_scaled(luma.as_raw(), w, h, depth_scale)
}

/// Encodes depth as a 16-bit grayscale PNG with `depth_scale` units per metre; depths that
/// do not fit in u16 at that scale are written as 0 (no depth) and counted in the result.
pub fn encode_png16(frame: &DepthFrame, depth_scale: f64) -> Result<(Vec<u8>, usize), FrameError> {
    if !depth_scale.is_finite() || depth_scale <= 0.0 {
        return Err(FrameError::DepthScale(depth_scale));
    }
    let mut clipped = 0;
    let values: Vec<u16> = frame
        .depth_m()
        .iter()
        .map(|&d| {
            let v = (d as f64 * depth_scale).round();
            if v > u16::MAX as f64 {
                clipped += 1;
                0
            } else {
                v as u16
            }
        })
        .collect();
    let img =
        image::ImageBuffer::<image::Luma<u16>, _>::from_raw(frame.width(), frame.height(), values)
            .ok_or_else(|| FrameError::Image("buffer size mismatch while encoding".into()))?;
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| FrameError::Image(format!("cannot encode PNG: {e}")))?;
    Ok((out, clipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn arkit_reads_depth_and_confidence() {
        let d = f32_bytes(&[0.3, f32::NAN, -1.0, 0.25, 0.0, 0.31]);
        let f = arkit_scene_depth(&d, Some(&[2, 1, 0, 2, 2, 1]), 3, 2, RowLayout::Packed).unwrap();
        assert_eq!(f.depth_m(), &[0.3, 0.0, 0.0, 0.25, 0.0, 0.31]);
        assert_eq!(f.rejected_non_finite(), 2);
        assert_eq!(f.confidence().unwrap()[1], 0.6);
        assert!(matches!(
            arkit_scene_depth(&d, Some(&[3; 6]), 3, 2, RowLayout::Packed),
            Err(FrameError::Image(_))
        ));
    }

    #[test]
    fn wrong_buffer_length_is_typed() {
        let d = f32_bytes(&[0.3; 5]);
        let e = arkit_scene_depth(&d, None, 3, 2, RowLayout::Packed).unwrap_err();
        assert!(
            matches!(
                e,
                FrameError::BufferLength {
                    actual: 20,
                    expected: 24,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("expected 24"));
        assert!(matches!(
            arcore_depth16(&[0; 12], Some(&[0; 5]), 3, 2, RowLayout::Packed),
            Err(FrameError::BufferLength { .. })
        ));
        assert!(matches!(
            truedepth(&[], TrueDepthFormat::DepthFloat16, 0, 2, RowLayout::Packed),
            Err(FrameError::ImageSize { .. })
        ));
    }

    #[test]
    fn stride_skips_row_padding() {
        // 2x2 f32 with 12-byte rows (4 bytes of padding each).
        let mut b = Vec::new();
        b.extend(f32_bytes(&[0.1, 0.2]));
        b.extend([9u8; 4]);
        b.extend(f32_bytes(&[0.3, 0.4]));
        let f = truedepth(
            &b,
            TrueDepthFormat::DepthFloat32,
            2,
            2,
            RowLayout::Stride(12),
        )
        .unwrap();
        assert_eq!(f.depth_m(), &[0.1, 0.2, 0.3, 0.4]);
        assert!(truedepth(
            &b,
            TrueDepthFormat::DepthFloat32,
            2,
            2,
            RowLayout::Stride(4)
        )
        .is_err());
    }

    #[test]
    fn disparity_half_floats_invert_to_metres() {
        let b: Vec<u8> = [4.0f32, 0.0, -2.0, 2.5]
            .iter()
            .flat_map(|&x| f16::from_f32(x).to_le_bytes())
            .collect();
        let f = truedepth(
            &b,
            TrueDepthFormat::DisparityFloat16,
            2,
            2,
            RowLayout::Packed,
        )
        .unwrap();
        assert_eq!(f.depth_m(), &[0.25, 0.0, 0.0, 0.4]);
        assert_eq!(f.rejected_non_finite(), 1);
    }

    #[test]
    fn arcore_millimetres_and_png_round_trip() {
        let mm: Vec<u8> = [300u16, 0, 1234, 65535]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let f = arcore_depth16(&mm, Some(&[255, 0, 128, 255]), 2, 2, RowLayout::Packed).unwrap();
        assert!((f.depth_m()[0] - 0.3).abs() < 1e-6);
        let (png, clipped) = encode_png16(&f, 1000.0).unwrap();
        assert_eq!(clipped, 0);
        let back = png16(&png, 1000.0).unwrap();
        assert_eq!(back.depth_m(), f.depth_m());
        assert!(matches!(png16(&png, 0.0), Err(FrameError::DepthScale(_))));
        assert!(matches!(
            png16(b"not a png", 1000.0),
            Err(FrameError::Image(_))
        ));
    }
}

import Mandrel

/// Pixel size of an image.
public struct PixelSize: Equatable, Sendable {
    /// Width, pixels.
    public let width: Int
    /// Height, pixels.
    public let height: Int

    /// A size.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// Errors of `scaleIntrinsics`.
public enum IntrinsicsScalingError: Error, Equatable, Sendable {
    /// A size is zero or negative.
    case emptyImage(PixelSize)
    /// The depth image is not the video image scaled (a crop): intrinsics cannot be scaled.
    case aspectMismatch(video: PixelSize, depth: PixelSize)
    /// A focal length or principal point is not a finite positive number.
    case badValue(String)
}

/// Scales pinhole intrinsics given for the video (colour) image — ARKit's
/// `camera.intrinsics` for `imageResolution`, AVFoundation's `intrinsicMatrix` for
/// `intrinsicMatrixReferenceDimensions` — to the depth image, whose pixels cover the same
/// field of view at a lower resolution: focal lengths and principal point scale with the
/// width and height ratios. The core wants intrinsics in depth pixels.
///
/// `fx, fy, cx, cy` come from the 3x3 matrix (`m[0][0], m[1][1], m[2][0], m[2][1]` of a
/// column-major `simd_float3x3`). The aspect ratios must agree within 1 %: a depth image
/// cropped from the video needs the crop offset, not a scale.
public func scaleIntrinsics(
    fx: Double, fy: Double, cx: Double, cy: Double,
    video: PixelSize, depth: PixelSize
) throws -> CameraIntrinsics {
    for size in [video, depth] where size.width <= 0 || size.height <= 0 {
        throw IntrinsicsScalingError.emptyImage(size)
    }
    for (name, v) in [("fx", fx), ("fy", fy), ("cx", cx), ("cy", cy)] where !(v.isFinite && v > 0) {
        throw IntrinsicsScalingError.badValue("\(name) = \(v) must be a finite positive number of pixels")
    }
    let sx = Double(depth.width) / Double(video.width)
    let sy = Double(depth.height) / Double(video.height)
    guard abs(sx / sy - 1) <= 0.01 else {
        throw IntrinsicsScalingError.aspectMismatch(video: video, depth: depth)
    }
    return CameraIntrinsics(
        width: UInt32(depth.width), height: UInt32(depth.height),
        fx: fx * sx, fy: fy * sy, cx: cx * sx, cy: cy * sy)
}

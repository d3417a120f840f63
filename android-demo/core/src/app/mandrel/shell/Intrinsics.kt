package app.mandrel.shell

import app.mandrel.CameraIntrinsics
import kotlin.math.abs

/**
 * Pinhole intrinsics of a colour image as the platform gives them: ARCore's
 * `Camera.getImageIntrinsics()` (for the CPU image) or camera2's
 * `LENS_INTRINSIC_CALIBRATION` (for the sensor's active array). Pixel centres are at
 * integer coordinates, as in mandrel.
 */
data class ImageIntrinsics(
    val fx: Double,
    val fy: Double,
    val cx: Double,
    val cy: Double,
    val width: Int,
    val height: Int,
) {
    init {
        require(width > 0 && height > 0) { "image size must be positive, got ${width}x$height" }
        require(fx.isFinite() && fy.isFinite() && fx > 0 && fy > 0) { "focal lengths must be positive and finite, got fx=$fx fy=$fy" }
        require(cx.isFinite() && cy.isFinite()) { "principal point must be finite, got ($cx, $cy)" }
    }

    /**
     * These intrinsics for a depth image of `depthWidth x depthHeight` covering the same field
     * of view (ARCore's depth image, a DEPTH16 stream of the same sensor). Throws
     * IllegalArgumentException when the aspect ratios differ by more than 1 %: that depth
     * image is a crop, not a scale, and a scaled focal length would be wrong.
     */
    fun scaledTo(depthWidth: Int, depthHeight: Int): CameraIntrinsics {
        require(depthWidth > 0 && depthHeight > 0) { "depth size must be positive, got ${depthWidth}x$depthHeight" }
        val sx = depthWidth.toDouble() / width
        val sy = depthHeight.toDouble() / height
        require(abs(sx / sy - 1.0) <= MAX_ASPECT_MISMATCH) {
            "depth image ${depthWidth}x$depthHeight does not have the aspect ratio of the ${width}x$height image " +
                "(scale x $sx vs y $sy, limit ${MAX_ASPECT_MISMATCH * 100} %): it is cropped, not scaled"
        }
        // Pixel centres at integers: a point u maps to (u + 0.5) * s - 0.5.
        return CameraIntrinsics(
            depthWidth.toUInt(), depthHeight.toUInt(),
            fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5,
        )
    }

    /**
     * These intrinsics for an output stream of `outWidth x outHeight` that camera2 makes from the
     * largest centred region of this (active-array) image with the output's aspect ratio, scaled:
     * what a DEPTH16 stream of another aspect ratio than its sensor sees.
     */
    fun centreCroppedTo(outWidth: Int, outHeight: Int): CameraIntrinsics {
        require(outWidth > 0 && outHeight > 0) { "output size must be positive, got ${outWidth}x$outHeight" }
        val outAspect = outWidth.toDouble() / outHeight
        val cropW = minOf(width.toDouble(), height * outAspect)
        val cropH = cropW / outAspect
        val x0 = (width - cropW) / 2
        val y0 = (height - cropH) / 2
        val s = outWidth / cropW
        return CameraIntrinsics(
            outWidth.toUInt(), outHeight.toUInt(),
            fx * s, fy * s, (cx - x0 + 0.5) * s - 0.5, (cy - y0 + 0.5) * s - 0.5,
        )
    }

    companion object {
        /** Largest relative difference of the two scale factors still treated as one image. */
        const val MAX_ASPECT_MISMATCH = 0.01

        /** From ARCore's `CameraIntrinsics` arrays (`getFocalLength`, `getPrincipalPoint`, `getImageDimensions`). */
        fun fromArcore(focalLength: FloatArray, principalPoint: FloatArray, imageDimensions: IntArray): ImageIntrinsics {
            require(focalLength.size == 2 && principalPoint.size == 2 && imageDimensions.size == 2) {
                "ARCore intrinsics arrays must each hold 2 numbers, got ${focalLength.size}, ${principalPoint.size}, ${imageDimensions.size}"
            }
            return ImageIntrinsics(focalLength[0].toDouble(), focalLength[1].toDouble(),
                principalPoint[0].toDouble(), principalPoint[1].toDouble(), imageDimensions[0], imageDimensions[1])
        }

        /**
         * From camera2's `LENS_INTRINSIC_CALIBRATION` ([fx, fy, cx, cy, s]) for an active array
         * of `arrayWidth x arrayHeight`. A skew `s` beyond 1e-3 of fx is refused: mandrel's model has none.
         */
        fun fromLensCalibration(calibration: FloatArray, arrayWidth: Int, arrayHeight: Int): ImageIntrinsics {
            require(calibration.size == 5) { "LENS_INTRINSIC_CALIBRATION has 5 numbers, got ${calibration.size}" }
            require(abs(calibration[4]) <= 1e-3 * abs(calibration[0])) { "lens skew ${calibration[4]} is not supported (limit 1e-3 fx)" }
            return ImageIntrinsics(calibration[0].toDouble(), calibration[1].toDouble(),
                calibration[2].toDouble(), calibration[3].toDouble(), arrayWidth, arrayHeight)
        }
    }
}

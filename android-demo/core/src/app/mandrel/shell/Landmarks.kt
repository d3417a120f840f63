package app.mandrel.shell

import app.mandrel.CameraIntrinsics
import app.mandrel.PixelPoint

/** A MediaPipe `NormalizedLandmark`'s x and y: `[0, 1]` of the image MediaPipe saw, origin top-left. */
data class NormalizedPoint(val x: Float, val y: Float)

/**
 * Maps MediaPipe HandLandmarker results to pixels of the depth image the session receives.
 *
 * MediaPipe runs on the colour image turned upright (rotated clockwise by the sensor
 * orientation, e.g. 90 on most phones held upright), so its landmarks are normalised in that
 * rotated image. Depth is in the sensor's own orientation. The mapping undoes the rotation,
 * goes to colour pixels, and through the colour and depth intrinsics to depth pixels, so it
 * stays right when the depth image is smaller or its principal point is elsewhere.
 */
object LandmarkMapper {
    /** Number of hand landmarks MediaPipe gives (and mandrel expects). */
    const val HAND_LANDMARKS = 21

    /**
     * Undoes a clockwise rotation of `rotationDegrees` (0, 90, 180, 270) applied to the sensor
     * image before detection: returns the point normalised in the sensor image.
     */
    fun unrotate(p: NormalizedPoint, rotationDegrees: Int): NormalizedPoint = when (normalise(rotationDegrees)) {
        0 -> p
        90 -> NormalizedPoint(p.y, 1f - p.x)
        180 -> NormalizedPoint(1f - p.x, 1f - p.y)
        else -> NormalizedPoint(1f - p.y, p.x)
    }

    /** Inverse of [unrotate]: a sensor-normalised point as seen in the upright image. */
    fun rotate(p: NormalizedPoint, rotationDegrees: Int): NormalizedPoint = when (normalise(rotationDegrees)) {
        0 -> p
        90 -> NormalizedPoint(1f - p.y, p.x)
        180 -> NormalizedPoint(1f - p.x, 1f - p.y)
        else -> NormalizedPoint(p.y, 1f - p.x)
    }

    private fun normalise(rotationDegrees: Int): Int {
        val r = ((rotationDegrees % 360) + 360) % 360
        require(r % 90 == 0) { "rotation must be a multiple of 90 degrees, got $rotationDegrees" }
        return r
    }

    /**
     * The 21 landmarks in depth pixels. `colour` are the intrinsics of the sensor-oriented
     * colour image MediaPipe's input came from; `depth` those of the depth image (see
     * [ImageIntrinsics.scaledTo]). Throws IllegalArgumentException for a wrong count or a
     * point that is not finite.
     */
    fun toDepthPixels(
        landmarks: List<NormalizedPoint>,
        rotationDegrees: Int,
        colour: ImageIntrinsics,
        depth: CameraIntrinsics,
    ): List<PixelPoint> {
        require(landmarks.size == HAND_LANDMARKS) { "a hand has $HAND_LANDMARKS landmarks, got ${landmarks.size}" }
        return landmarks.mapIndexed { i, lm ->
            require(lm.x.isFinite() && lm.y.isFinite()) { "landmark $i is not finite: (${lm.x}, ${lm.y})" }
            val s = unrotate(lm, rotationDegrees)
            // Normalised -> colour pixel (centres at integers) -> ray -> depth pixel.
            val u = s.x * colour.width - 0.5
            val v = s.y * colour.height - 0.5
            val rx = (u - colour.cx) / colour.fx
            val ry = (v - colour.cy) / colour.fy
            PixelPoint(depth.fx * rx + depth.cx, depth.fy * ry + depth.cy)
        }
    }
}

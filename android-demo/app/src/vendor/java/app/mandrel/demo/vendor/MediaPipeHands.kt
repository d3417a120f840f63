// Compiled by the Gradle build only (needs com.google.mediapipe:tasks-vision and the
// hand_landmarker.task model in app/src/main/assets, downloaded from MediaPipe's model page).
package app.mandrel.demo.vendor

import android.content.Context
import android.graphics.Bitmap
import android.graphics.Matrix
import app.mandrel.demo.YuvToBitmap
import app.mandrel.shell.NormalizedPoint
import com.google.ar.core.Frame
import com.google.ar.core.exceptions.NotYetAvailableException
import com.google.mediapipe.framework.image.BitmapImageBuilder
import com.google.mediapipe.tasks.core.BaseOptions
import com.google.mediapipe.tasks.vision.core.RunningMode
import com.google.mediapipe.tasks.vision.handlandmarker.HandLandmarker

/**
 * MediaPipe HandLandmarker on ARCore's CPU image. The image is turned upright here (by the
 * sensor's `rotationDegrees`, clockwise) before detection, so the landmarks are normalised,
 * top-left, in the upright image: exactly what `LandmarkMapper.toDepthPixels` undoes.
 */
class MediaPipeHands(context: Context, private val rotationDegrees: Int) : AutoCloseable {
    private val landmarker: HandLandmarker = HandLandmarker.createFromOptions(context,
        HandLandmarker.HandLandmarkerOptions.builder()
            .setBaseOptions(BaseOptions.builder().setModelAssetPath("hand_landmarker.task").build())
            .setRunningMode(RunningMode.VIDEO)
            .setNumHands(1)
            .setMinHandDetectionConfidence(0.6f)
            .build())

    /** The 21 landmarks of the first hand on `frame`'s camera image, with the rotation used; null when none. */
    fun detect(frame: Frame): Pair<List<NormalizedPoint>, Int>? {
        val image = try { frame.acquireCameraImage() } catch (e: NotYetAvailableException) { return null }
        val upright: Bitmap = image.use { img ->
            val sensor = YuvToBitmap.convert(img)
            if (rotationDegrees % 360 == 0) sensor
            else Bitmap.createBitmap(sensor, 0, 0, sensor.width, sensor.height, Matrix().apply { postRotate(rotationDegrees.toFloat()) }, false)
        }
        val result = landmarker.detectForVideo(BitmapImageBuilder(upright).build(), frame.timestamp / 1_000_000)
        val hand = result.landmarks().firstOrNull() ?: return null
        return hand.map { NormalizedPoint(it.x(), it.y()) } to rotationDegrees
    }

    override fun close() = landmarker.close()
}

// Drop-in ARCore scanner for an Android app, wired to mandrel. Not built in this repository
// (no Android SDK here): copy jniLibs/ and the generated Kotlin from
// bindings/scripts/build-android.sh into the app, add `implementation("net.java.dev.jna:jna:5.13.0@aar")`,
// and call `MandrelScanner.onFrame` from the GL thread's ARCore update.
//
// What it shows: the depth and confidence planes handed over as the direct ByteBuffers
// ARCore gives (no copy), ARCore's camera pose passed in ARCore's own convention
// (`getPose()`, not the display-oriented pose), intrinsics scaled to the depth image,
// MediaPipe landmarks pushed for the frame they were detected on, guidance through the
// listener, and sealing with consent.
package app.mandrel.demo

import android.os.Handler
import android.os.Looper
import app.mandrel.*
import com.google.ar.core.Frame
import com.google.ar.core.exceptions.NotYetAvailableException

class MandrelScanner(
    hand: HandSide,
    finger: FingerName,
    private val onGuidance: (Guidance) -> Unit,
) : AutoCloseable {
    private val session = ScanSession(sessionConfigDefaults(hand, finger))
    private val main = Handler(Looper.getMainLooper())

    init {
        session.setListener(object : ScanListener {
            override fun onGuidance(guidance: Guidance) { main.post { this@MandrelScanner.onGuidance(guidance) } }
            override fun onFrameRejected(rejection: FrameRejection) { /* debug overlay only */ }
        })
    }

    /** Call once per ARCore frame (Config.DepthMode.AUTOMATIC). Returns the frame index, or null. */
    fun onFrame(frame: Frame): UInt? {
        val depth = try { frame.acquireRawDepthImage16Bits() } catch (e: NotYetAvailableException) { return null }
        val confidence = try { frame.acquireRawDepthConfidenceImage() } catch (e: NotYetAvailableException) { depth.close(); return null }
        try {
            val plane = depth.planes[0]
            val w = depth.width
            val h = depth.height
            // ARCore intrinsics are for the CPU image: scale them to the depth image.
            val k = frame.camera.imageIntrinsics
            val (iw, ih) = k.imageDimensions.let { it[0] to it[1] }
            val sx = w.toDouble() / iw
            val sy = h.toDouble() / ih
            val intrinsics = CameraIntrinsics(w.toUInt(), h.toUInt(),
                k.focalLength[0] * sx, k.focalLength[1] * sy, k.principalPoint[0] * sx, k.principalPoint[1] * sy)
            val m = FloatArray(16)
            frame.camera.pose.toMatrix(m, 0) // column-major, OpenGL camera axes
            val info = FrameInfo(intrinsics, CameraPose(PoseConvention.ARCORE, m.toList()), frame.timestamp / 1e9, null)
            val report = session.pushArcoreDepth(
                plane.buffer,                      // direct ByteBuffer: passed without a copy
                confidence.planes[0].buffer,
                BufferLayout(w.toUInt(), h.toUInt(), plane.rowStride.toUInt()),
                info,
            )
            return report.frameIndex
        } catch (e: MandrelException.InvalidFrame) {
            return null // the listener was told why
        } finally {
            depth.close()
            confidence.close()
        }
    }

    /** MediaPipe Hands landmarks (normalised, top-left origin) detected on frame [frameIndex]. */
    fun onLandmarks(frameIndex: UInt, normalised: List<Pair<Float, Float>>, depthWidth: Int, depthHeight: Int) {
        val px = normalised.map { (x, y) -> PixelPoint(x * depthWidth - 0.5, y * depthHeight - 0.5) }
        try { session.pushLandmarks(frameIndex, px) } catch (e: MandrelException) { /* stale frame: ignore */ }
    }

    fun finish(): RingMeasurement = session.finish()

    /** After the shopper agreed in the UI: the only way data leaves the phone. */
    fun seal(m: RingMeasurement, retailerKey: String): String =
        sealMeasurement(m, Consent("ring sizing for your order", ConsentScope.MEASUREMENT, "2026-01", nowRfc3339Utc()),
            retailerKey, newScanId())

    override fun close() = session.close()
}

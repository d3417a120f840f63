// Compiled by the Gradle build only (needs com.google.ar:core from Google Maven); the APK
// that CI assembles without Gradle leaves this source set out.
package app.mandrel.demo.vendor

import app.mandrel.BufferLayout
import app.mandrel.CameraPose
import app.mandrel.FrameInfo
import app.mandrel.PoseConvention
import app.mandrel.ScanSession
import app.mandrel.demo.OffscreenGl
import app.mandrel.shell.DepthSource
import app.mandrel.shell.ImageIntrinsics
import app.mandrel.shell.LandmarkMapper
import com.google.ar.core.Config
import com.google.ar.core.Frame
import com.google.ar.core.Session
import com.google.ar.core.TrackingState
import com.google.ar.core.exceptions.NotYetAvailableException

/** Whether ARCore gives this phone depth at all, and which kind, for the start screen. */
object ArCoreDepthSupport {
    /** RAW_DEPTH_ONLY (raw depth + confidence) is what mandrel wants; AUTOMATIC is smoothed. */
    fun bestMode(session: Session): Config.DepthMode? = when {
        session.isDepthModeSupported(Config.DepthMode.RAW_DEPTH_ONLY) -> Config.DepthMode.RAW_DEPTH_ONLY
        session.isDepthModeSupported(Config.DepthMode.AUTOMATIC) -> Config.DepthMode.AUTOMATIC
        else -> null
    }

    /** Honest words about this phone's depth. */
    fun describe(session: Session): String = when (bestMode(session)) {
        null -> "ARCore has no depth on this phone: it cannot size a ring (demo mode still works)."
        else -> "ARCore depth is available. Without a time-of-flight sensor it is depth from motion, " +
            "centimetre-class: mandrel will often answer 'too noisy' instead of a size on this phone."
    }
}

/**
 * ARCore depth frames: `acquireRawDepthImage16Bits` (u16 mm) with
 * `acquireRawDepthConfidenceImage` (u8), `Camera.getPose()` in ARCore's own convention
 * (not the display-oriented pose), intrinsics from `Camera.getImageIntrinsics()` scaled to
 * the depth image, and MediaPipe landmarks when a detector is given.
 *
 * ARCore's `Session.update()` needs a GL context on its thread: [offerNext] makes an
 * off-screen one on the first call, so every call must come from that one thread (the
 * shell's camera thread). The planes are copied into the offer, which returns at once, so
 * ARCore's images are released before the library works the frame. No preview is drawn;
 * the guidance overlay is the UI.
 */
class ArCoreDepthSource(private val ar: Session, private val hands: MediaPipeHands?) : DepthSource {
    override val name: String = "ARCore depth"
    private var gl: OffscreenGl? = null
    private var lastTimestampNs = 0L
    private var closed = false

    init {
        val mode = ArCoreDepthSupport.bestMode(ar) ?: throw IllegalStateException("ARCore depth is not supported on this phone")
        ar.configure(ar.config.apply { depthMode = mode; focusMode = Config.FocusMode.AUTO })
    }

    override val exhausted: Boolean get() = closed

    override fun offerNext(session: ScanSession): Boolean {
        if (closed) return false
        if (gl == null) {
            gl = OffscreenGl().also { ar.setCameraTextureName(it.cameraTexture) }
            ar.resume()
        }
        val f: Frame = ar.update()
        if (f.timestamp == lastTimestampNs) return false // no new camera frame yet
        lastTimestampNs = f.timestamp
        val camera = f.camera
        if (camera.trackingState != TrackingState.TRACKING) return false // no trustworthy pose
        val depth = try { f.acquireRawDepthImage16Bits() } catch (e: NotYetAvailableException) { return false }
        try {
            val confidence = try { f.acquireRawDepthConfidenceImage() } catch (e: NotYetAvailableException) { null }
            try {
                val k = camera.imageIntrinsics
                val colour = ImageIntrinsics.fromArcore(k.focalLength, k.principalPoint, k.imageDimensions)
                val depthK = colour.scaledTo(depth.width, depth.height)
                val m = FloatArray(16)
                camera.pose.toMatrix(m, 0)
                val landmarks = hands?.detect(f)?.let { (points, rotation) -> LandmarkMapper.toDepthPixels(points, rotation, colour, depthK) }
                val plane = depth.planes[0]
                session.offerArcoreDepth(
                    bytesOf(plane.buffer),
                    confidence?.planes?.get(0)?.buffer?.let(::bytesOf) ?: ByteArray(0),
                    BufferLayout(depth.width.toUInt(), depth.height.toUInt(), plane.rowStride.toUInt()),
                    FrameInfo(depthK, CameraPose(PoseConvention.ARCORE, m.toList()), f.timestamp / 1e9, landmarks),
                )
                return true
            } finally {
                confidence?.close()
            }
        } finally {
            depth.close()
        }
    }

    /** The plane's bytes (from its position to its limit), for the offer to copy. */
    private fun bytesOf(plane: java.nio.ByteBuffer): ByteArray = ByteArray(plane.remaining()).also { plane.duplicate().get(it) }

    override fun close() {
        if (closed) return
        closed = true
        hands?.close()
        ar.pause()
        ar.close()
        gl?.close()
        gl = null
    }
}

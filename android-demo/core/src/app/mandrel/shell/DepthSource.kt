package app.mandrel.shell

import app.mandrel.ScanSession
import app.mandrel.VirtualScanTruth
import app.mandrel.VirtualSensor

/**
 * Something that hands depth frames to a session: the virtual sensor (demo mode), a camera2
 * DEPTH16 stream or ARCore (in the app). [ScanFlow.offerFrame] calls [offerNext] from the
 * shell's camera thread; a camera source offers its latest frame, if any, with the library's
 * non-blocking `offer*` calls, which copy the frame and return at once (the library works one
 * frame at a time on its own thread and drops a waiting frame when a newer one arrives).
 */
interface DepthSource : AutoCloseable {
    /** A name for the UI ("Virtual sensor", "Time-of-flight camera", "ARCore depth"). */
    val name: String

    /**
     * Offers one frame to `session` without waiting for it to be worked; false when no new
     * frame is ready (or the source is exhausted). The frame's guidance or rejection reaches
     * the session's listener.
     */
    fun offerNext(session: ScanSession): Boolean

    /** True when the source will never give another frame. */
    val exhausted: Boolean
}

/** Demo mode: the library's virtual depth sensor, with its ground truth. */
class VirtualDepthSource(private val sensor: VirtualSensor) : DepthSource {
    override val name: String = "Virtual sensor (demo)"

    /** The simulated finger's true size. */
    val truth: VirtualScanTruth get() = sensor.truth()

    override fun offerNext(session: ScanSession): Boolean = sensor.offerNext(session)

    override val exhausted: Boolean get() = sensor.remaining() == 0u

    override fun close() = sensor.close()
}

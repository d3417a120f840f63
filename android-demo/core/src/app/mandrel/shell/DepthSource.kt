package app.mandrel.shell

import app.mandrel.FrameReport
import app.mandrel.ScanSession
import app.mandrel.VirtualScanTruth
import app.mandrel.VirtualSensor

/**
 * Something that hands depth frames to a session: the virtual sensor (demo mode), a camera2
 * DEPTH16 stream or ARCore (in the app). [ScanFlow] calls [pushNext] whenever it may take a
 * frame; a camera source pushes its latest frame, if any.
 */
interface DepthSource : AutoCloseable {
    /** A name for the UI ("Virtual sensor", "Time-of-flight camera", "ARCore depth"). */
    val name: String

    /** Pushes one frame into `session`; null when no new frame is ready (or the source is exhausted). */
    fun pushNext(session: ScanSession): FrameReport?

    /** True when the source will never give another frame. */
    val exhausted: Boolean
}

/** Demo mode: the library's virtual depth sensor, with its ground truth. */
class VirtualDepthSource(private val sensor: VirtualSensor) : DepthSource {
    override val name: String = "Virtual sensor (demo)"

    /** The simulated finger's true size. */
    val truth: VirtualScanTruth get() = sensor.truth()

    override fun pushNext(session: ScanSession): FrameReport? = sensor.pushNext(session)

    override val exhausted: Boolean get() = sensor.remaining() == 0u

    override fun close() = sensor.close()
}

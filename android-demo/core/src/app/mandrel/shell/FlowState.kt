package app.mandrel.shell

import app.mandrel.Guidance
import app.mandrel.ProvisionalMeasurement
import app.mandrel.RingMeasurement

/** Where the scan flow is; each state is one screen of the app. */
sealed class FlowState {
    /** Asking for the camera permission. */
    data object NeedsPermission : FlowState()

    /** The camera permission was refused: `message` explains, the app offers settings. */
    data class PermissionDenied(val message: String) : FlowState()

    /** The consent screen. */
    data object NeedsConsent : FlowState()

    /** Consent given; waiting for the shell to start a depth source. */
    data class ReadyToScan(val consent: ConsentRecord) : FlowState()

    /**
     * Capturing with live guidance: `hint` and `tracking` are the overlay's lines, `notice` the
     * last frame's problem, `dropped` how many frames the library skipped to keep up with the
     * camera (null while none).
     */
    data class Capturing(
        val source: String,
        val guidance: Guidance?,
        val hint: String,
        val tracking: String,
        val notice: String?,
        val dropped: String? = null,
    ) : FlowState()

    /**
     * Still capturing (`live`), with the library's latest provisional measurement that has a
     * ring value; `size` is its line for the overlay.
     */
    data class Provisional(val live: Capturing, val provisional: ProvisionalMeasurement, val size: String) : FlowState()

    /**
     * Capture stopped (guidance said done, the source ran out, or the shopper asked): the
     * library measures in the background; `message` is the screen's line.
     */
    data class Finishing(val source: String, val message: String) : FlowState()

    /** The final measurement (a size, or why there is none); `message` is an error to show. */
    data class Result(val measurement: RingMeasurement, val view: ResultView, val message: String?) : FlowState()

    /** A sealed envelope waits for attempt `attempt`, to be sent after `delayMs`. */
    data class Uploading(val scanId: String, val attempt: Int, val delayMs: Long) : FlowState()

    /** The upload stopped; `canRetry` when the sealed envelope is kept for a later try. */
    data class UploadFailed(val scanId: String, val message: String, val canRetry: Boolean) : FlowState()

    /** The store has the sealed result; nothing of the scan is left on the phone. */
    data class Done(val scanId: String) : FlowState()

    /** The shopper cancelled or declined; nothing of the scan is left on the phone. */
    data class Discarded(val reason: String) : FlowState()
}

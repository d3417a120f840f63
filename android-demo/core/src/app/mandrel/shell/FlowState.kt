package app.mandrel.shell

import app.mandrel.Guidance
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

    /** Capturing with live guidance: `hint` and `tracking` are the overlay's lines, `notice` the last frame's problem. */
    data class Capturing(
        val source: String,
        val guidance: Guidance?,
        val hint: String,
        val tracking: String,
        val notice: String?,
    ) : FlowState()

    /** Guidance said done: a first size, shown while the shopper confirms or keeps scanning. */
    data class Provisional(val measurement: RingMeasurement, val view: ResultView, val guidance: Guidance?) : FlowState()

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

package app.mandrel.shell

import app.mandrel.FingerName
import app.mandrel.HandSide
import app.mandrel.MandrelException
import app.mandrel.MeasurementStatus
import app.mandrel.RecordKind
import app.mandrel.RingMeasurement
import app.mandrel.ScanHint
import app.mandrel.ScanSession
import app.mandrel.newScanId
import app.mandrel.sealMeasurement
import app.mandrel.sessionConfigDefaults

/** The fixed inputs of one flow. */
class FlowConfig(
    val hand: HandSide,
    val finger: FingerName,
    /** The retailer's X25519 public key, base64url (ships with the app). */
    val retailerPublicKey: String,
    val upload: UploadRequestBuilder,
    val retry: RetryPolicy = RetryPolicy(),
)

/**
 * The scan flow: permission → consent → capture with live guidance → provisional size →
 * result → seal → upload with retry → done, or discard from anywhere.
 *
 * The flow decides; the shell draws [state] and performs what the flow asks (start the
 * camera, send an [UploadRequest], wait `delayMs`). Every method is safe to call from any
 * thread (camera thread for [pushFrame], UI thread for the rest). A call that does not fit
 * the current state throws IllegalStateException, except [pushFrame], which ignores late
 * frames. Nothing is written to storage before [seal]; [cancel] closes the session and the
 * source and deletes every record of the scan.
 */
class ScanFlow(
    private val config: FlowConfig,
    private val records: ScanRecords,
    private val newSession: () -> ScanSession = { ScanSession(sessionConfigDefaults(config.hand, config.finger)) },
) {
    private val lock = Any()
    private var session: ScanSession? = null
    private var source: DepthSource? = null
    private var consent: ConsentRecord? = null
    private var provisionalShown = false

    /** Called after every state change, on the thread that caused it. */
    @Volatile var onStateChanged: ((FlowState) -> Unit)? = null

    /** The current state. */
    @Volatile var state: FlowState = FlowState.NeedsPermission
        private set

    private fun move(to: FlowState) {
        state = to
        onStateChanged?.invoke(to)
    }

    private fun wrongState(call: String): Nothing = throw IllegalStateException("$call is not possible in state ${state::class.simpleName}")

    /** The camera permission's answer. */
    fun onPermission(granted: Boolean): Unit = synchronized(lock) {
        if (state !is FlowState.NeedsPermission && state !is FlowState.PermissionDenied) wrongState("onPermission")
        move(if (granted) FlowState.NeedsConsent
            else FlowState.PermissionDenied("The camera is needed to measure your finger. Allow it in Settings, or use a ring sizer."))
    }

    /** The consent screen's answer: a record when the shopper agreed, null when they declined. */
    fun onConsent(record: ConsentRecord?): Unit = synchronized(lock) {
        if (state !is FlowState.NeedsConsent) wrongState("onConsent")
        if (record == null) {
            move(FlowState.Discarded("You did not agree, so nothing was scanned or kept."))
        } else {
            consent = record
            move(FlowState.ReadyToScan(record))
        }
    }

    /** Starts capturing from `depth` (the flow owns and closes it). Throws MandrelException.InvalidConfig for bad settings. */
    fun startCapture(depth: DepthSource): Unit = synchronized(lock) {
        val ready = state as? FlowState.ReadyToScan ?: run { depth.close(); wrongState("startCapture") }
        val s = try { newSession() } catch (e: MandrelException) { depth.close(); throw e }
        session = s
        source = depth
        consent = ready.consent
        provisionalShown = false
        move(FlowState.Capturing(depth.name, null, GuidanceText.hint(ScanHint.HOLD_STILL), "", null))
    }

    /**
     * Takes one frame from the source into the session and updates the guidance. Returns
     * true when a frame was pushed. When guidance first says done, computes the provisional
     * size; when the source runs dry, finishes. Frames arriving in any other state are ignored.
     */
    fun pushFrame(): Boolean = synchronized(lock) {
        val s = session ?: return false
        val src = source ?: return false
        val current = state
        if (current !is FlowState.Capturing && current !is FlowState.Provisional) return false
        val report = try {
            src.pushNext(s)
        } catch (e: MandrelException.InvalidFrame) {
            if (current is FlowState.Capturing) move(current.copy(notice = GuidanceText.rejection(app.mandrel.RejectionKind.INVALID_FRAME)))
            return false
        }
        if (report == null) {
            if (src.exhausted && current is FlowState.Capturing) finishLocked()
            return false
        }
        val g = report.guidance
        if (current is FlowState.Capturing) {
            if (g.hint == ScanHint.DONE && !provisionalShown) {
                provisionalShown = true
                val m = s.finish()
                move(FlowState.Provisional(m, ResultView.of(m, provisional = true), g))
            } else {
                move(current.copy(guidance = g, hint = GuidanceText.hint(g.hint), tracking = GuidanceText.tracking(g.tracking),
                    notice = GuidanceText.outcome(report.outcome)))
            }
        } else if (current is FlowState.Provisional) {
            move(current.copy(guidance = g))
        }
        if (src.exhausted && state is FlowState.Capturing) finishLocked()
        true
    }

    /** From the provisional size: keep scanning to refine it. */
    fun keepScanning(): Unit = synchronized(lock) {
        val p = state as? FlowState.Provisional ?: wrongState("keepScanning")
        val src = source ?: wrongState("keepScanning")
        move(FlowState.Capturing(src.name, p.guidance, GuidanceText.hint(ScanHint.KEEP_MOVING),
            p.guidance?.let { GuidanceText.tracking(it.tracking) } ?: "", null))
    }

    /** Measures from everything captured so far (the shopper tapped "measure" or confirmed the provisional size). */
    fun finish(): Unit = synchronized(lock) {
        if (state !is FlowState.Capturing && state !is FlowState.Provisional) wrongState("finish")
        finishLocked()
    }

    private fun finishLocked() {
        val s = session ?: wrongState("finish")
        val m: RingMeasurement = try {
            s.finish()
        } catch (e: MandrelException.NotEnoughData) {
            val c = state as? FlowState.Capturing
            if (c != null) move(c.copy(notice = GuidanceText.error(e).message))
            return
        }
        source?.close()
        source = null
        move(FlowState.Result(m, ResultView.of(m), null))
    }

    /** From a result without a size: scan again with the same consent. */
    fun rescan(depth: DepthSource): Unit = synchronized(lock) {
        if (state !is FlowState.Result) { depth.close(); wrongState("rescan") }
        val c = consent ?: run { depth.close(); wrongState("rescan") }
        closeSession()
        move(FlowState.ReadyToScan(c))
        startCapture(depth)
    }

    /**
     * Seals the result for the retailer with the shopper's consent and keeps the envelope
     * encrypted until it is delivered. Only a result with a size can be sealed.
     */
    fun seal(): Unit = synchronized(lock) {
        val r = state as? FlowState.Result ?: wrongState("seal")
        if (r.measurement.status != MeasurementStatus.OK || !r.view.canSeal) wrongState("seal (no size to send)")
        val c = consent ?: wrongState("seal (no consent)")
        val scanId: String
        try {
            scanId = newScanId()
            val envelope = sealMeasurement(r.measurement, c.toBinding(), config.retailerPublicKey, scanId)
            records.put(RecordKind.CONSENT, scanId, c.toJson().toByteArray(Charsets.UTF_8))
            records.put(RecordKind.SEALED_ENVELOPE, scanId, envelope.toByteArray(Charsets.UTF_8))
        } catch (e: MandrelException) {
            move(r.copy(message = GuidanceText.error(e).message))
            return
        }
        closeSession()
        move(FlowState.Uploading(scanId, 1, 0))
    }

    /** The request to send now (state Uploading, after its `delayMs`). */
    fun nextUpload(): UploadRequest = synchronized(lock) {
        val u = state as? FlowState.Uploading ?: wrongState("nextUpload")
        val envelope = try {
            records.get(RecordKind.SEALED_ENVELOPE, u.scanId)
        } catch (e: MandrelException) {
            records.forget(u.scanId)
            move(FlowState.UploadFailed(u.scanId, GuidanceText.error(e).message, canRetry = false))
            throw IllegalStateException("the sealed envelope of ${u.scanId} could not be read", e)
        } ?: run {
            move(FlowState.UploadFailed(u.scanId, "The sealed result is no longer on this phone.", canRetry = false))
            throw IllegalStateException("no sealed envelope stored for ${u.scanId}")
        }
        config.upload.build(u.scanId, String(envelope, Charsets.UTF_8), u.attempt)
    }

    /** What came back from the request of [nextUpload]. */
    fun onUploadResponse(response: UploadResponse): Unit = synchronized(lock) {
        val u = state as? FlowState.Uploading ?: wrongState("onUploadResponse")
        when (val d = config.retry.decide(u.attempt, response)) {
            is RetryDecision.Delivered -> {
                records.forget(u.scanId)
                consent = null
                move(FlowState.Done(u.scanId))
            }
            is RetryDecision.RetryAfter -> move(FlowState.Uploading(u.scanId, u.attempt + 1, d.delayMs))
            is RetryDecision.GiveUp -> {
                if (!d.keepEnvelope) records.forget(u.scanId)
                move(FlowState.UploadFailed(u.scanId, d.message, d.keepEnvelope))
            }
        }
    }

    /** Tries a kept envelope again (after UploadFailed with canRetry, or one found at start-up). */
    fun retryUpload(scanId: String): Unit = synchronized(lock) {
        val f = state
        val ok = (f is FlowState.UploadFailed && f.canRetry && f.scanId == scanId) ||
            (f is FlowState.NeedsPermission && scanId in records.pendingUploads())
        if (!ok) wrongState("retryUpload")
        move(FlowState.Uploading(scanId, 1, 0))
    }

    /**
     * Stops and forgets the scan, from any state: closes the source and the session and
     * deletes every stored record of it (a sealed envelope not yet delivered too).
     */
    fun cancel(reason: String = "Cancelled: nothing of this scan was kept."): Unit = synchronized(lock) {
        if (state is FlowState.Done || state is FlowState.Discarded) return
        source?.close()
        source = null
        closeSession()
        when (val s = state) {
            is FlowState.Uploading -> records.forget(s.scanId)
            is FlowState.UploadFailed -> records.forget(s.scanId)
            else -> {}
        }
        consent = null
        move(FlowState.Discarded(reason))
    }

    /** True while a session holds scan data in memory. */
    val holdsScanData: Boolean get() = synchronized(lock) { session != null || source != null }

    private fun closeSession() {
        session?.close()
        session = null
    }
}

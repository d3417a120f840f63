package app.mandrel.shell

import app.mandrel.FingerName
import app.mandrel.FinishListener
import app.mandrel.FrameRejection
import app.mandrel.Guidance
import app.mandrel.HandSide
import app.mandrel.MandrelException
import app.mandrel.MeasurementStatus
import app.mandrel.RecordKind
import app.mandrel.RingMeasurement
import app.mandrel.ScanHint
import app.mandrel.ScanListener
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
 * The scan flow: permission → consent → capture with live guidance (and the library's
 * provisional size) → measuring in the background → result → seal → upload with retry →
 * done, or discard from anywhere.
 *
 * The flow decides; the shell draws [state] and performs what the flow asks (start the
 * camera, send an [UploadRequest], wait `delayMs`). Every method is safe to call from any
 * thread (camera thread for [offerFrame], UI thread for the rest) and none waits on the
 * library's work: frames are offered (the library works them on its own thread and reports
 * through the session's listener), and `finish` runs through `finishInBackground`. A call
 * that does not fit the current state throws IllegalStateException, except [offerFrame],
 * which ignores late frames. Nothing is written to storage before [seal]; [cancel] closes the
 * session and the source and deletes every record of the scan, and a result of the
 * cancelled scan that arrives later is dropped.
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
    /** Bumped when a capture starts or the scan is dropped: listener calls of an older session are ignored. */
    private var generation = 0
    /** A frame was rejected since the last guidance (its notice stays until the next good frame). */
    private var rejectedSinceGuidance = false

    /** Called after every state change, on the thread that caused it (the library's threads for guidance and results). */
    @Volatile var onStateChanged: ((FlowState) -> Unit)? = null

    /** The current state. */
    @Volatile var state: FlowState = FlowState.NeedsPermission
        private set

    /** Listener calls and measurements of a cancelled or replaced scan that arrived late and were dropped. */
    @Volatile var lateResultsDropped: Int = 0
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
        generation++
        s.setListener(Live(generation))
        session = s
        source = depth
        consent = ready.consent
        rejectedSinceGuidance = false
        move(FlowState.Capturing(depth.name, null, GuidanceText.hint(ScanHint.HOLD_STILL), "", null))
    }

    /** The live part of the current state, while capturing. */
    private fun live(): FlowState.Capturing? = when (val s = state) {
        is FlowState.Capturing -> s
        is FlowState.Provisional -> s.live
        else -> null
    }

    /**
     * Offers the source's next frame to the session (call it from the camera thread, as often
     * as frames come): returns at once with true when a frame was offered. The guidance comes
     * back through the session's listener. When the source runs dry, the measurement starts
     * in the background. Frames arriving in any other state are ignored.
     */
    fun offerFrame(): Boolean = synchronized(lock) {
        val s = session ?: return false
        val src = source ?: return false
        if (live() == null) return false
        val offered = src.offerNext(s)
        if (src.exhausted && live() != null) startFinishLocked()
        offered
    }

    /** Measures from everything captured so far, in the background (the shopper tapped "measure now"). */
    fun finish(): Unit = synchronized(lock) {
        if (live() == null) wrongState("finish")
        startFinishLocked()
    }

    private fun startFinishLocked() {
        val s = session ?: wrongState("finish")
        val name = live()?.source ?: source?.name ?: ""
        val back = live() ?: FlowState.Capturing(name, null, GuidanceText.hint(ScanHint.HOLD_STILL), "", null)
        move(FlowState.Finishing(name, GuidanceText.FINISHING))
        // The library waits for the frames already offered, measures on its own thread and
        // calls back; nothing here waits on it.
        try {
            s.finishInBackground(Measured(generation, back))
        } catch (e: MandrelException) {
            move(back.copy(notice = GuidanceText.error(e).message))
        }
    }

    /** The session's listener: guidance (with the provisional measurement) and rejected frames, on the library's frame thread. */
    private inner class Live(private val gen: Int) : ScanListener {
        override fun onGuidance(guidance: Guidance): Unit = synchronized(lock) {
            if (gen != generation) { lateResultsDropped++; return }
            val current = state
            val live = live() ?: return
            val next = live.copy(
                guidance = guidance,
                hint = GuidanceText.hint(guidance.hint),
                tracking = GuidanceText.tracking(guidance.tracking),
                notice = if (rejectedSinceGuidance) live.notice else null,
                dropped = GuidanceText.dropped(guidance.framesDropped),
            )
            rejectedSinceGuidance = false
            // The provisional measurement is shown once it has a ring value; a later one without
            // a value keeps the last value on screen.
            val fresh = guidance.provisional?.takeIf { it.ringCircumferenceMm != null }
            val shown = fresh ?: (current as? FlowState.Provisional)?.provisional
            val size = shown?.let { GuidanceText.provisional(it) }
            move(if (shown != null && size != null) FlowState.Provisional(next, shown, size) else next)
            // Done: the library's provisional measurement would be ok. Stop and measure.
            if (guidance.hint == ScanHint.DONE) startFinishLocked()
        }

        override fun onFrameRejected(rejection: FrameRejection): Unit = synchronized(lock) {
            if (gen != generation) { lateResultsDropped++; return }
            val live = live() ?: return
            rejectedSinceGuidance = true
            val next = live.copy(notice = GuidanceText.rejection(rejection))
            move(when (val current = state) {
                is FlowState.Provisional -> current.copy(live = next)
                else -> next
            })
        }
    }

    /** The result of `finishInBackground`, on the library's finish thread. */
    private inner class Measured(private val gen: Int, private val resume: FlowState.Capturing) : FinishListener {
        override fun onMeasurement(measurement: RingMeasurement): Unit = synchronized(lock) {
            if (gen != generation || state !is FlowState.Finishing) { lateResultsDropped++; return }
            source?.close()
            source = null
            move(FlowState.Result(measurement, ResultView.of(measurement), null))
        }

        override fun onFailure(message: String): Unit = synchronized(lock) {
            if (gen != generation || state !is FlowState.Finishing) { lateResultsDropped++; return }
            // Nothing measurable yet (e.g. no frame arrived): back to capture, saying why.
            val e = if (message.startsWith("not enough data")) MandrelException.NotEnoughData(message) else MandrelException.Internal(message)
            move(resume.copy(notice = GuidanceText.error(e).message))
        }
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
        generation++
        session?.setListener(null)
        session?.close()
        session = null
    }
}

// The scan flow end to end on the virtual sensor offering frames like a camera: permission,
// consent, capture with guidance and the library's provisional size, measuring in the
// background, result, seal, upload with retries, done; the envelope opened by `mandrel open`;
// dropped frames counted and shown; cancelling (mid-scan, mid-measurement) and failing paths
// leave nothing behind.

import app.mandrel.*
import app.mandrel.shell.*
import java.io.File
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/** Wraps a source: counts closes and offers and, when asked, offers an unusable frame first. */
class ProbeSource(private val inner: DepthSource, private var badFirst: Boolean = false) : DepthSource {
    @Volatile var closed = 0
    @Volatile var offered = 0
    override val name: String get() = inner.name
    override val exhausted: Boolean get() = inner.exhausted
    override fun offerNext(session: ScanSession): Boolean {
        if (badFirst) {
            badFirst = false
            session.offerArcoreDepth(ByteArray(2), ByteArray(0), BufferLayout(64u, 48u, 0u),
                FrameInfo(CameraIntrinsics(64u, 48u, 60.0, 60.0, 31.5, 23.5), null, 0.0, null))
            return true
        }
        return inner.offerNext(session).also { if (it) offered++ }
    }
    override fun close() { closed++; inner.close() }
}

class FlowRig(env: TestEnv, val retry: RetryPolicy = RetryPolicy(maxAttempts = 3)) {
    val keys = MemoryKeyStore()
    val storage = MemoryRecordStorage()
    val records = ScanRecords(keys, storage)
    /** Every state, in order (guidance and results arrive on the library's threads). */
    val states = CopyOnWriteArrayList<FlowState>()
    val sessions = CopyOnWriteArrayList<ScanSession>()
    val flow = ScanFlow(
        FlowConfig(HandSide.LEFT, FingerName.RING, env.publicKey, UploadRequestBuilder("https://shop.example", "mandrel-test"), retry),
        records,
    ) { ScanSession(sessionConfigDefaults(HandSide.LEFT, FingerName.RING)).also { sessions += it } }
    init { flow.onStateChanged = { states += it } }

    fun consent() = ConsentRecord.grant("ring sizing for order 1234", ConsentScope.MEASUREMENT, "2026-01", "Example Shop", nowRfc3339Utc())

    fun toCapture(source: DepthSource) {
        flow.onPermission(true)
        flow.onConsent(consent())
        flow.startCapture(source)
    }

    val capturing: Boolean get() = flow.state is FlowState.Capturing || flow.state is FlowState.Provisional

    /**
     * Offers frames as a camera thread would until the flow leaves capture (or `limit` offers).
     * `intervalMs` > 0: a camera at that pace (the library may drop frames when it falls
     * behind); 0: each frame is worked before the next is offered (no drop, deterministic).
     */
    fun capture(limit: Int = 1000, intervalMs: Long = 0) {
        var n = 0
        while (n++ < limit && capturing) {
            val offered = flow.offerFrame()
            if (intervalMs > 0) Thread.sleep(intervalMs)
            else if (offered) sessions.last().waitForOfferedFrames()
        }
    }

    /** Waits until the background measurement of the flow has come back (the state left Finishing). */
    fun awaitMeasured(): FlowState {
        awaitUntil("the measurement") { flow.state !is FlowState.Finishing }
        return flow.state
    }

    /** Captures, asks for the measurement if guidance did not end capture, and waits for it. */
    fun measure(limit: Int = 1000): FlowState.Result {
        capture(limit)
        if (capturing) flow.finish()
        val r = awaitMeasured()
        return r as? FlowState.Result ?: throw AssertionFailed("no result: $r")
    }
}

/** Polls `cond` until it holds, failing after `timeoutMs`. */
fun awaitUntil(what: String, timeoutMs: Long = 120_000, cond: () -> Boolean) {
    val end = System.nanoTime() + timeoutMs * 1_000_000
    while (!cond()) {
        if (System.nanoTime() > end) throw AssertionFailed("timed out waiting for $what")
        Thread.sleep(5)
    }
}

fun virtual(seed: Long, frames: Int = 40, sensor: VirtualSensorKind = VirtualSensorKind.TRUE_DEPTH, full: Boolean = true) =
    VirtualDepthSource(VirtualSensor(seed.toULong(), virtualScanDefaults().copy(frames = frames.toUInt(), sensor = sensor, fullCoverage = full)))

fun sessionIsClosed(s: ScanSession): Boolean = try { s.guidance(); false } catch (e: IllegalStateException) { true }

fun runFlowTests(h: Harness, env: TestEnv) {
    h.test("permission refused, then granted in settings; consent declined discards") {
        val rig = FlowRig(env)
        rig.flow.onPermission(false)
        val denied = rig.flow.state
        expect(denied is FlowState.PermissionDenied && denied.message.contains("Settings")) { "$denied" }
        rig.flow.onPermission(true)
        expect(rig.flow.state == FlowState.NeedsConsent) { "${rig.flow.state}" }
        rig.flow.onConsent(null)
        expect(rig.flow.state is FlowState.Discarded && rig.storage.names().isEmpty() && rig.sessions.isEmpty()) { "${rig.flow.state}" }
    }

    h.test("calls out of order are refused with the state named") {
        val rig = FlowRig(env)
        val e = expectThrows<IllegalStateException> { rig.flow.seal() }
        expect(e.message!!.contains("NeedsPermission")) { e.message!! }
        expectThrows<IllegalStateException> { rig.flow.onConsent(rig.consent()) }
        val src = ProbeSource(virtual(1, frames = 2))
        expectThrows<IllegalStateException> { rig.flow.startCapture(src) }
        expect(src.closed == 1) { "a refused source was not closed" }
        expect(!rig.flow.offerFrame()) { "a frame was taken before capture" }
        expectThrows<IllegalStateException> { rig.flow.nextUpload() }
    }

    var sealedPath: File? = null
    var truthMm = 0.0
    var measuredMm = 0.0
    var measuredSigmaMm = 0.0

    h.test("whole simulated scan: offered frames, provisional from guidance, done, measured in the background within 2 sigma of the truth, sealed, uploaded") {
        val rig = FlowRig(env)
        val source = virtual(2026, frames = 60)
        truthMm = source.truth.ringCircumferenceMm
        val probe = ProbeSource(source, badFirst = true)
        rig.toCapture(probe)
        rig.flow.offerFrame()
        val bad = GuidanceText.rejection(RejectionKind.INVALID_FRAME)
        awaitUntil("the bad frame's notice") { (rig.flow.state as? FlowState.Capturing)?.notice == bad }
        // A camera at 10 frames per second: the library works each frame before the next comes
        // unless the machine is loaded (then it drops some and says so).
        rig.capture(intervalMs = 100)
        val result = rig.awaitMeasured()
        expect(result is FlowState.Result) { "after ${probe.offered} frames: $result" }
        result as FlowState.Result
        val m = result.measurement
        val ring = m.ringCircumferenceMm ?: throw AssertionFailed("no size: ${m.status} ${m.reasons}")
        measuredMm = ring
        val live = rig.states.mapNotNull { when (it) { is FlowState.Capturing -> it; is FlowState.Provisional -> it.live; else -> null } }
        val last = live.mapNotNull { it.guidance }.lastOrNull() ?: throw AssertionFailed("no guidance reached the flow")
        val shown = rig.states.filterIsInstance<FlowState.Provisional>()
        val firstShown = shown.firstOrNull()?.provisional
        println("     virtual TrueDepth scan, ${probe.offered} of 60 frames offered: %d worked, %d dropped; first provisional after %s frames: %s mm; %s"
            .format(last.framesPushed.toInt(), last.framesDropped.toInt(), firstShown?.framesPushed, firstShown?.ringCircumferenceMm?.let { "%.2f".format(it) },
                if (last.hint == ScanHint.DONE) "guidance said done after ${last.framesPushed} frames" else "the source ran out first (last hint ${last.hint})"))
        println("     result: ring %.2f mm, truth %.2f mm, error %+.2f mm, sigma %s mm, US %s, status %s, %d frames used"
            .format(ring, truthMm, ring - truthMm, m.uncertaintyMm?.let { "%.2f".format(it) }, m.sizes?.us, m.status, m.framesUsed.toInt()))
        expect(m.status == MeasurementStatus.OK && result.view.canSeal) { "status ${m.status} ${m.reasons}" }
        // How many frames the library works depends on the machine's load (it drops what it
        // cannot keep up with), so the result is held to its own uncertainty: within two
        // sigma of the truth plus 0.1 mm (as the core's fixed-seed front scan test).
        val sigma = m.uncertaintyMm ?: throw AssertionFailed("an ok result without sigma")
        measuredSigmaMm = sigma
        near(ring, truthMm, 2.0 * sigma + 0.1, "ring circumference vs truth (sigma %.2f mm)".format(sigma))
        expect(shown.isNotEmpty() && shown.all { it.provisional.ringCircumferenceMm != null && it.size.startsWith("So far: ") }) {
            "no provisional size with a value shown in ${last.framesPushed} frames"
        }
        val hints = live.map { it.hint }.toSet()
        expect(hints.isNotEmpty() && hints.all { it.isNotBlank() }) { "no guidance shown" }
        expect(probe.closed == 1) { "source not closed after the measurement" }
        expect(rig.storage.names().isEmpty()) { "something stored before sealing: ${rig.storage.names()}" }

        rig.flow.seal()
        val up = rig.flow.state as FlowState.Uploading
        expect(up.attempt == 1 && up.delayMs == 0L && rig.storage.names().size == 2) { "$up ${rig.storage.names()}" }
        expect(sessionIsClosed(rig.sessions.single())) { "session still open after sealing" }
        // A server that fails twice, then stores it.
        val bodies = ArrayList<String>()
        for (response in listOf(UploadResponse.Http(503), UploadResponse.NetworkError("timeout"), UploadResponse.Http(201))) {
            val req = rig.flow.nextUpload()
            expect(req.header("Idempotency-Key") == up.scanId) { "idempotency key" }
            bodies += String(req.body, Charsets.UTF_8)
            rig.flow.onUploadResponse(response)
        }
        expect(bodies.toSet().size == 1) { "retries sent different envelopes" }
        val attempts = rig.states.filterIsInstance<FlowState.Uploading>().map { it.attempt to it.delayMs }
        expect(attempts == listOf(1 to 0L, 2 to 1000L, 3 to 2000L)) { "attempts $attempts" }
        expect(rig.flow.state == FlowState.Done(up.scanId)) { "${rig.flow.state}" }
        expect(rig.storage.names().isEmpty() && !rig.flow.holdsScanData) { "left behind after delivery: ${rig.storage.names()}" }
        val order = rig.states.map { it::class.simpleName }.distinct()
        expect(order == listOf("NeedsConsent", "ReadyToScan", "Capturing", "Provisional", "Finishing", "Result", "Uploading", "Done")) { "states $order" }
        sealedPath = File(env.scratch, "sealed-${up.scanId}.json").also { it.writeText(bodies[0]) }
    }

    h.test("mandrel open (the retailer's side) opens the uploaded envelope: same size, consent in the header") {
        val sealed = sealedPath ?: throw AssertionFailed("no envelope from the scan test")
        val p = ProcessBuilder(env.cli.path, "open", sealed.path, "--key", env.privateKeyFile.path, "--json").redirectErrorStream(false).start()
        val out = p.inputStream.bufferedReader().readText()
        val err = p.errorStream.bufferedReader().readText()
        expect(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) { "mandrel open failed: $err" }
        val opened = Json.parse(out).obj()
        val measurement = opened["measurement"].obj()
        val header = opened["header"].obj()
        val ring = measurement["ring_circumference_mm"].num()
        near(ring, measuredMm, 1e-9, "opened ring circumference vs the app's")
        near(ring, truthMm, 2.0 * measuredSigmaMm + 0.1, "opened ring circumference vs truth")
        expect(measurement["status"] == "ok") { "status ${measurement["status"]}" }
        val consent = header["consent"].obj()
        expect(consent["purpose"] == "ring sizing for order 1234" && consent["scope"] == "measurement") { "consent $consent" }
        println("     mandrel open: ring %.2f mm (truth %.2f mm, error %+.2f mm), scan id %s".format(ring, truthMm, ring - truthMm, header["scan_id"]))
        // One byte changed and the retailer refuses it.
        val tampered = File(env.scratch, "tampered.json")
        tampered.writeText(sealed.readText().replaceFirst("ring sizing", "ring sizinG"))
        val q = ProcessBuilder(env.cli.path, "open", tampered.path, "--key", env.privateKeyFile.path).start()
        q.inputStream.readBytes(); q.errorStream.readBytes()
        expect(q.waitFor(60, TimeUnit.SECONDS) && q.exitValue() != 0) { "a tampered envelope opened" }
    }

    h.test("cancelling mid-scan closes the session and the source and leaves nothing behind") {
        val rig = FlowRig(env)
        val scratchBefore = env.scratch.list()!!.toSet()
        val probe = ProbeSource(virtual(5, frames = 40))
        rig.toCapture(probe)
        rig.capture(limit = 10)
        expect(probe.offered == 10 && rig.flow.holdsScanData) { "offered ${probe.offered}" }
        rig.flow.cancel()
        expect(rig.flow.state is FlowState.Discarded) { "${rig.flow.state}" }
        expect(probe.closed == 1 && sessionIsClosed(rig.sessions.single())) { "source closed ${probe.closed}, session closed ${sessionIsClosed(rig.sessions.single())}" }
        expect(rig.storage.names().isEmpty() && !rig.flow.holdsScanData) { "left behind: ${rig.storage.names()}" }
        expect(!rig.flow.offerFrame()) { "a late camera frame was taken after cancel" }
        expect(env.scratch.list()!!.toSet() == scratchBefore) { "files written: ${env.scratch.list()!!.toSet() - scratchBefore}" }
        rig.flow.cancel() // twice is harmless
    }

    h.test("cancelling while the library measures drops the late measurement") {
        val rig = FlowRig(env)
        val probe = ProbeSource(virtual(7, frames = 40))
        rig.toCapture(probe)
        rig.capture(limit = 12)
        rig.flow.finish()
        expect(rig.flow.state is FlowState.Finishing) { "finish waited or skipped the background: ${rig.flow.state}" }
        rig.flow.cancel()
        expect(rig.flow.state is FlowState.Discarded && probe.closed == 1) { "${rig.flow.state}, source closed ${probe.closed}" }
        // The library still measures on its own thread; its result comes back and is dropped.
        awaitUntil("the cancelled measurement to come back") { rig.flow.lateResultsDropped >= 1 }
        Thread.sleep(100)
        expect(rig.flow.state is FlowState.Discarded) { "a late measurement revived the scan: ${rig.flow.state}" }
        expect(rig.states.none { it is FlowState.Result }) { "a result was shown after cancel" }
        expect(rig.storage.names().isEmpty() && !rig.flow.holdsScanData) { "left behind: ${rig.storage.names()}" }
    }

    h.test("a camera faster than the library: offers never wait, frames are dropped, counted and shown") {
        val rig = FlowRig(env)
        val probe = ProbeSource(virtual(10, frames = 40))
        rig.toCapture(probe)
        val s = rig.sessions.single()
        var slowestMs = 0.0
        // 30 of the source's 40 frames, so that capture is still on when the last one is worked.
        repeat(30) {
            if (rig.capturing) {
                val t0 = System.nanoTime()
                rig.flow.offerFrame()
                slowestMs = maxOf(slowestMs, (System.nanoTime() - t0) / 1e6)
            }
        }
        s.waitForOfferedFrames()
        val g = s.guidance()
        println("     ${probe.offered} frames offered back to back: ${g.framesPushed} worked, ${g.framesDropped} dropped, slowest offer %.1f ms".format(slowestMs))
        expect(probe.offered == 30 && g.framesPushed + g.framesDropped == 30u) { "offered ${probe.offered}, worked ${g.framesPushed}, dropped ${g.framesDropped}" }
        expect(g.framesDropped >= 1u) { "nothing was dropped: the offers waited for the work" }
        // The last frame worked was offered after every other: its guidance carries the total.
        val live = when (val st = rig.flow.state) { is FlowState.Capturing -> st; is FlowState.Provisional -> st.live; else -> null }
        expect(live != null && live.dropped == GuidanceText.dropped(g.framesDropped)) {
            "the overlay shows ${live?.dropped} (state ${rig.flow.state::class.simpleName}), the library dropped ${g.framesDropped}"
        }
        rig.flow.finish()
        val r = rig.awaitMeasured()
        expect(r is FlowState.Result && r.measurement.framesUsed <= g.framesPushed) { "$r" }
        rig.flow.cancel()
    }

    h.test("cancelling during upload deletes the sealed envelope") {
        val rig = FlowRig(env)
        rig.toCapture(virtual(8, frames = 40))
        rig.measure()
        rig.flow.seal()
        rig.flow.onUploadResponse(UploadResponse.NetworkError("offline"))
        expect(rig.flow.state is FlowState.Uploading && rig.storage.names().isNotEmpty()) { "${rig.flow.state}" }
        rig.flow.cancel()
        expect(rig.flow.state is FlowState.Discarded && rig.storage.names().isEmpty()) { "left behind: ${rig.storage.names()}" }
    }

    h.test("upload refused (4xx) forgets the envelope; out of attempts keeps it for a later retry") {
        val rig = FlowRig(env, RetryPolicy(maxAttempts = 2, baseDelayMs = 10, maxDelayMs = 100))
        rig.toCapture(virtual(9, frames = 40))
        rig.measure()
        rig.flow.seal()
        val id = (rig.flow.state as FlowState.Uploading).scanId
        rig.flow.onUploadResponse(UploadResponse.Http(502))
        rig.flow.onUploadResponse(UploadResponse.Http(502))
        val failed = rig.flow.state
        expect(failed is FlowState.UploadFailed && failed.canRetry && rig.records.pendingUploads() == listOf(id)) { "$failed" }
        rig.flow.retryUpload(id)
        expect(rig.flow.state == FlowState.Uploading(id, 1, 0)) { "${rig.flow.state}" }
        rig.flow.nextUpload()
        rig.flow.onUploadResponse(UploadResponse.Http(400))
        val refused = rig.flow.state
        expect(refused is FlowState.UploadFailed && !refused.canRetry && refused.message.contains("400")) { "$refused" }
        expect(rig.storage.names().isEmpty()) { "a refused envelope was kept: ${rig.storage.names()}" }
        expectThrows<IllegalStateException> { rig.flow.retryUpload(id) }
    }

    h.test("measure now with no frames goes back to capture and says why") {
        val rig = FlowRig(env)
        rig.toCapture(virtual(3, frames = 5))
        rig.flow.finish()
        val c = rig.awaitMeasured()
        expect(c is FlowState.Capturing && c.notice == GuidanceText.error(MandrelException.NotEnoughData("x")).message) { "$c" }
        rig.flow.cancel()
    }

    h.test("a scan that cannot support a size shows reasons, cannot be sealed, and can be redone") {
        val rig = FlowRig(env)
        rig.toCapture(virtual(4, frames = 3, full = false))
        rig.capture() // the source runs dry: the flow finishes by itself
        val r = rig.awaitMeasured()
        expect(r is FlowState.Result) { "$r" }
        r as FlowState.Result
        expect(r.measurement.status == MeasurementStatus.NEEDS_RESCAN) { "3 dorsal frames gave ${r.measurement.status} ${r.measurement.ringCircumferenceMm}" }
        expect(r.view.circumference == null && r.view.problems.isNotEmpty() && !r.view.canSeal) { "${r.view}" }
        println("     3 dorsal frames: ${r.measurement.reasons}")
        expectThrows<IllegalStateException> { rig.flow.seal() }
        rig.flow.rescan(virtual(6, frames = 40))
        expect(rig.flow.state is FlowState.Capturing && sessionIsClosed(rig.sessions[0]) && rig.sessions.size == 2) { "${rig.flow.state}" }
        rig.flow.cancel()
        expect(rig.sessions.all { sessionIsClosed(it) }) { "a session stayed open" }
    }

    h.test("virtual LiDAR (coarse depth): a size only when right, else an honest rescan") {
        val rig = FlowRig(env)
        val src = virtual(12, frames = 40, sensor = VirtualSensorKind.LIDAR)
        val truth = src.truth.ringCircumferenceMm
        rig.toCapture(src)
        val r = rig.measure()
        val m = r.measurement
        println("     virtual LiDAR: status ${m.status} ${m.reasons}, ring ${m.ringCircumferenceMm?.let { "%.2f".format(it) }} mm, truth %.2f mm".format(truth))
        if (m.status == MeasurementStatus.OK) {
            near(m.ringCircumferenceMm!!, truth, 1.0, "a LiDAR size given with status OK")
        } else {
            expect(r.view.circumference == null && m.reasons.isNotEmpty()) { "rescan without reasons or with a number" }
        }
        rig.flow.cancel()
    }
}

// Guidance, error and result texts: every variant of the library has words, the errors are
// the real ones the library throws, and a result without a size shows no number.

import app.mandrel.*
import app.mandrel.shell.*
import java.nio.ByteBuffer

fun okMeasurement(): RingMeasurement {
    val labels = SizeLabels("54", "7", "N 1/2", "54", "n/a", "14", "14", "14")
    return RingMeasurement(MeasurementStatus.OK, emptyList(), HandSide.LEFT, FingerName.RING, 54.2, 58.0, 0.3,
        labels, Recommendation(54.5, labels, "Choose a comfort fit."), 320.0, 40u, LocateMethod.LANDMARKS,
        StageTimings(0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
}

fun runTextTests(h: Harness) {
    h.test("every scan hint has its own guidance text") {
        val texts = ScanHint.entries.map { GuidanceText.hint(it) }
        expect(texts.all { it.isNotBlank() }) { "blank hint text: $texts" }
        expect(texts.toSet().size == texts.size) { "two hints share a text: $texts" }
    }

    h.test("every tracking state, rejection and frame outcome has text") {
        val tracking = TrackingState.entries.map { GuidanceText.tracking(it) }
        val rejections = RejectionKind.entries.map { GuidanceText.rejection(it) }
        expect(tracking.all { it.isNotBlank() } && tracking.toSet().size == tracking.size) { "tracking texts $tracking" }
        expect(rejections.all { it.isNotBlank() } && rejections.toSet().size == rejections.size) { "rejection texts $rejections" }
        expect(GuidanceText.outcome(FrameOutcome.FUSED) == null) { "a fused frame shows a notice" }
        expect(GuidanceText.outcome(FrameOutcome.NO_USABLE_DEPTH) == GuidanceText.rejection(RejectionKind.NO_USABLE_DEPTH)) { "no-depth notice" }
        expect(GuidanceText.rejection(FrameRejection(1.0, RejectionKind.TRACKING_LOST, "debug")).contains("slowly")) { "listener rejection text" }
    }

    h.test("every rescan reason has text; too_noisy says no size is guessed") {
        val texts = RescanReason.entries.map { GuidanceText.rescan(it) }
        expect(texts.all { it.isNotBlank() } && texts.toSet().size == texts.size) { "rescan texts $texts" }
        val noisy = GuidanceText.rescan(RescanReason.TOO_NOISY)
        expect(noisy.contains("not guess") && noisy.contains("ring sizer")) { noisy }
    }

    h.test("every error variant, as the library really throws it, maps to a message") {
        val thrown = ArrayList<MandrelException>()
        val s = ScanSession(sessionConfigDefaults(HandSide.LEFT, FingerName.RING))
        thrown += expectThrows<MandrelException.InvalidFrame> {
            s.pushArcoreDepth(ByteBuffer.allocateDirect(10), ByteBuffer.allocateDirect(0), BufferLayout(64u, 48u, 0u),
                FrameInfo(CameraIntrinsics(64u, 48u, 60.0, 60.0, 31.5, 23.5), null, 0.0, null))
        }
        thrown += expectThrows<MandrelException.InvalidConfig> {
            ScanSession(sessionConfigDefaults(HandSide.LEFT, FingerName.RING).copy(voxelSizeM = 0.5f))
        }
        thrown += expectThrows<MandrelException.NotEnoughData> { s.finish() }
        thrown += expectThrows<MandrelException.ConsentRequired> {
            sealMeasurement(okMeasurement(), null, "9Jh3y7bH9x0H4M1QfG8m2pXk0eV7cQ2l6sR1tY5uW3o", newScanId())
        }
        thrown += expectThrows<MandrelException.Crypto> {
            sealMeasurement(okMeasurement(), Consent("p", ConsentScope.MEASUREMENT, "1", nowRfc3339Utc()), "not-a-key", newScanId())
        }
        val store = EncryptedStore(ByteArray(32) { 7 })
        val rec = store.seal(RecordKind.MEASUREMENT, "a", byteArrayOf(1, 2, 3))
        rec[rec.size - 1] = (rec[rec.size - 1].toInt() xor 1).toByte()
        thrown += expectThrows<MandrelException.Storage> { store.open(RecordKind.MEASUREMENT, "a", rec) }
        // Internal is only thrown for a bug (a caught panic): built here to check its text.
        thrown += MandrelException.Internal("a caught panic")
        s.close(); store.close()
        expect(thrown.map { it::class }.toSet().size == 7) { "not every variant reached: ${thrown.map { it::class.simpleName }}" }
        val texts = thrown.map { GuidanceText.error(it) }
        expect(texts.all { it.message.isNotBlank() }) { "blank error text" }
        expect(texts.map { it.message }.toSet().size == 7) { "two errors share a text: $texts" }
        expect(thrown.all { !it.message.isNullOrBlank() }) { "a library error without a message" }
        expect(!GuidanceText.error(thrown[4]).retry && GuidanceText.error(thrown[2]).retry) { "retry flags" }
    }

    h.test("result view: every sizing system, n/a shown as not in chart, sealable when ok") {
        val v = ResultView.of(okMeasurement())
        expect(v.sizes.map { it.system } == listOf("ISO 8653 (mm)", "US / Canada", "UK / Australia", "EU", "Japan", "Switzerland", "India", "China")) { "systems ${v.sizes}" }
        expect(v.sizes.first { it.system == "Japan" }.label == ResultView.NOT_IN_CHART) { "n/a label ${v.sizes}" }
        expect(v.circumference == "54.2 mm ± 0.3 mm") { "circumference ${v.circumference}" }
        expect(v.recommended.size == 8 && v.advice == "Choose a comfort fit." && v.canSeal) { "recommended $v" }
    }

    h.test("overlay lines: the provisional size only with a ring value, dropped frames only when some were") {
        val p = ProvisionalMeasurement(20u, 54.24, 0.31, MeasurementStatus.NEEDS_RESCAN, RescanReason.TOO_NOISY)
        expect(GuidanceText.provisional(p) == "So far: 54.2 mm ± 0.3 mm") { "${GuidanceText.provisional(p)}" }
        expect(GuidanceText.provisional(p.copy(uncertaintyMm = null)) == "So far: 54.2 mm") { "no sigma" }
        expect(GuidanceText.provisional(p.copy(ringCircumferenceMm = null)) == null) { "a provisional without a value has a line" }
        expect(GuidanceText.dropped(0u) == null) { "a dropped line with none dropped" }
        expect(GuidanceText.dropped(1u) == "1 frame skipped to keep up with the camera.") { "${GuidanceText.dropped(1u)}" }
        expect(GuidanceText.dropped(12u)!!.startsWith("12 frames skipped")) { "${GuidanceText.dropped(12u)}" }
        expect(GuidanceText.FINISHING.contains("hold still") && GuidanceText.hint(ScanHint.DONE).contains("hold still")) { "done texts" }
    }

    h.test("result view of a scan that needs redoing shows reasons and no number") {
        val m = okMeasurement().copy(status = MeasurementStatus.NEEDS_RESCAN, reasons = listOf(RescanReason.TOO_NOISY, RescanReason.INSUFFICIENT_COVERAGE),
            sizes = null, recommended = null)
        val v = ResultView.of(m)
        expect(v.circumference == null && v.sizes.isEmpty() && !v.canSeal) { "a size is shown: $v" }
        expect(v.problems == listOf(GuidanceText.rescan(RescanReason.TOO_NOISY), GuidanceText.rescan(RescanReason.INSUFFICIENT_COVERAGE))) { "${v.problems}" }
    }
}

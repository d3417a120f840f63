// Scan session tests: a shared scan replayed as an ARCore shell would push it, error paths
// with their exact exception types, the listener, sealing and the encrypted store.

import app.mandrel.*
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.Collections
import javax.imageio.ImageIO

val NO_CONFIDENCE: ByteBuffer = ByteBuffer.allocateDirect(0)

/** A 4x4 row-major OpenCV camera-to-world pose as ARCore's `Pose.toMatrix` gives it:
 *  OpenGL camera axes (T_arcore = T_opencv * diag(1, -1, -1, 1)), column-major floats. */
fun opencvRowMajorToArcore(m: List<Double>): List<Float> {
    val flip = doubleArrayOf(1.0, -1.0, -1.0, 1.0)
    val out = MutableList(16) { 0f }
    for (r in 0 until 4) for (c in 0 until 4) out[c * 4 + r] = (m[r * 4 + c] * flip[c]).toFloat()
    return out
}

/** A 16-bit PNG of `depth_scale` units per metre, as ARCore's u16 millimetres (direct buffer). */
fun pngToArcoreDepth(file: File, depthScale: Double): Triple<ByteBuffer, Int, Int> {
    val img = ImageIO.read(file) ?: throw IllegalStateException("cannot decode $file")
    val w = img.width
    val h = img.height
    val raster = img.raster
    val buf = ByteBuffer.allocateDirect(w * h * 2).order(ByteOrder.LITTLE_ENDIAN)
    for (v in 0 until h) for (u in 0 until w) {
        val units = raster.getSample(u, v, 0)
        val mm = Math.round(units / depthScale * 1000.0).toInt().coerceIn(0, 65535)
        buf.putShort(mm.toShort())
    }
    buf.flip()
    return Triple(buf, w, h)
}

class RecordingListener : ScanListener {
    val guidance: MutableList<Guidance> = Collections.synchronizedList(ArrayList())
    val rejections: MutableList<FrameRejection> = Collections.synchronizedList(ArrayList())
    override fun onGuidance(guidance: Guidance) { this.guidance.add(guidance) }
    override fun onFrameRejected(rejection: FrameRejection) { rejections.add(rejection) }
}

fun intrinsics640() = CameraIntrinsics(640u, 480u, 590.0, 590.0, 319.5, 239.5)

fun runSessionTests(h: Harness, repo: String) {
    val scanDir = File(repo, "../shared/scans/td-full-pose-01")
    var measured: RingMeasurement? = null

    h.test("ARCore replay of td-full-pose-01 through a ScanSession: frames, poses, landmarks, finish") {
        if (!scanDir.isDirectory) {
            if (System.getenv("CI") == "true") throw AssertionFailed("shared scan missing: $scanDir")
            println("     (skipped: $scanDir not found)")
            return@test
        }
        val scan = Json.parse(File(scanDir, "scan.json").readText()).obj()
        val truth = Json.parse(File(scanDir, "truth.json").readText()).obj()
        val k = scan["intrinsics"].obj()
        val target = scan["target"].obj()
        val depthScale = scan["depth_scale"].num()
        val intr = CameraIntrinsics(k["width"].num().toUInt(), k["height"].num().toUInt(),
            k["fx"].num(), k["fy"].num(), k["cx"].num(), k["cy"].num())
        val hand = if (target["hand"] == "left") HandSide.LEFT else HandSide.RIGHT
        val finger = FingerName.valueOf((target["finger"] as String).uppercase())
        val session = ScanSession(sessionConfigDefaults(hand, finger))
        val listener = RecordingListener()
        session.setListener(listener)
        val frames = scan["frames"].list()
        var fused = 0
        for ((i, fr) in frames.withIndex()) {
            val f = fr.obj()
            val (depth, w, hgt) = pngToArcoreDepth(File(scanDir, f["depth"] as String), depthScale)
            val pose = f["pose"]?.list()?.map { it.num() }?.let { CameraPose(PoseConvention.ARCORE, opencvRowMajorToArcore(it)) }
            val landmarks = f["landmarks"]?.list()?.map { p -> p.list().let { PixelPoint(it[0].num(), it[1].num()) } }
            val report = session.pushArcoreDepth(depth, NO_CONFIDENCE, BufferLayout(w.toUInt(), hgt.toUInt(), 0u),
                FrameInfo(intr, pose, f["timestamp"].num(), landmarks))
            check(report.frameIndex == i.toUInt()) { "frame index ${report.frameIndex} != $i" }
            if (report.outcome == FrameOutcome.FUSED) fused++
        }
        val g = session.guidance()
        check(g.framesPushed == frames.size.toUInt()) { "guidance counts ${g.framesPushed} frames" }
        check(listener.guidance.size == frames.size) { "listener saw ${listener.guidance.size} guidance updates" }
        val m = session.finish()
        measured = m
        val trueRing = truth["ring_circumference_mm"].num()
        val ring = m.ringCircumferenceMm ?: throw AssertionFailed("no ring circumference; status ${m.status} ${m.reasons}")
        println("     frames ${frames.size}, fused $fused, coverage ${"%.0f".format(g.coverageDeg)} deg, hint ${g.hint}; " +
            "ring ${"%.2f".format(ring)} mm (truth ${"%.2f".format(trueRing)}, error ${"%+.2f".format(ring - trueRing)}), " +
            "sigma ${m.uncertaintyMm?.let { "%.2f".format(it) }} mm, status ${m.status}, sizes ${m.sizes?.us}")
        // Never confidently wrong: a size is only given when it is right.
        if (m.status == MeasurementStatus.OK) {
            check(Math.abs(ring - trueRing) <= 0.5) { "status OK but ring $ring mm is ${ring - trueRing} mm off truth $trueRing" }
            check(m.sizes != null && m.recommended != null) { "status OK without sizes" }
        } else {
            check(m.reasons.isNotEmpty() && m.sizes == null) { "rescan without reasons, or with sizes" }
        }
        // The binding's translation (u16 mm, ARCore pose convention) must keep the scan
        // measurable: a pose or unit mistake shows up as centimetres.
        check(Math.abs(ring - trueRing) <= 5.0) { "ring $ring mm is ${ring - trueRing} mm off truth $trueRing" }
        // The issue's accuracy target; enforced with MANDREL_ACCEPTANCE=1 (core accuracy work
        // is tracked separately), always printed.
        println("     acceptance: |error| ${"%.2f".format(Math.abs(ring - trueRing))} mm, target 0.5 mm: " +
            if (Math.abs(ring - trueRing) <= 0.5) "met" else "NOT met")
        if (System.getenv("MANDREL_ACCEPTANCE") == "1") {
            check(Math.abs(ring - trueRing) <= 0.5) { "ring circumference $ring mm is ${ring - trueRing} mm off truth $trueRing" }
        }
        val ply = session.meshPly()
        check(String(ply, 0, 4, Charsets.US_ASCII) == "ply\n") { "mesh is not a PLY" }
    }

    h.test("wrong buffer length is InvalidFrame naming the sizes") {
        val s = ScanSession(sessionConfigDefaults(HandSide.LEFT, FingerName.RING))
        val listener = RecordingListener()
        s.setListener(listener)
        val short = ByteBuffer.allocateDirect(640 * 480 * 2 - 2)
        val e = expectThrows<MandrelException.InvalidFrame> {
            s.pushArcoreDepth(short, NO_CONFIDENCE, BufferLayout(640u, 480u, 0u), FrameInfo(intrinsics640(), null, 0.0, null))
        }
        check(e.message!!.contains("614398") && e.message!!.contains("614400")) { e.message!! }
        check(listener.rejections.size == 1 && listener.rejections[0].kind == RejectionKind.INVALID_FRAME) { "listener: ${listener.rejections}" }
        check(s.guidance().framesPushed == 0u) { "a rejected frame was counted" }
    }

    h.test("NaN intrinsics is InvalidFrame") {
        val s = ScanSession(sessionConfigDefaults(HandSide.LEFT, FingerName.RING))
        val depth = ByteBuffer.allocateDirect(640 * 480 * 2)
        val e = expectThrows<MandrelException.InvalidFrame> {
            s.pushArcoreDepth(depth, NO_CONFIDENCE, BufferLayout(640u, 480u, 0u),
                FrameInfo(CameraIntrinsics(640u, 480u, Double.NaN, 590.0, 319.5, 239.5), null, 0.0, null))
        }
        check(e.message!!.contains("fx")) { e.message!! }
    }

    h.test("finish with no frames is NotEnoughData") {
        val s = ScanSession(sessionConfigDefaults(HandSide.RIGHT, FingerName.INDEX))
        expectThrows<MandrelException.NotEnoughData> { s.finish() }
    }

    h.test("absurd voxel size is InvalidConfig") {
        val cfg = sessionConfigDefaults(HandSide.LEFT, FingerName.RING).copy(voxelSizeM = 0.5f)
        expectThrows<MandrelException.InvalidConfig> { ScanSession(cfg) }
    }

    h.test("sealing without consent is ConsentRequired") {
        val m = measured ?: throw AssertionFailed("no measurement from the scan test")
        val key = "9Jh3y7bH9x0H4M1QfG8m2pXk0eV7cQ2l6sR1tY5uW3o" // any 32-byte base64url key
        val e = expectThrows<MandrelException.ConsentRequired> { sealMeasurement(m, null, key, newScanId()) }
        check(e.message!!.contains("consent")) { e.message!! }
    }

    h.test("sealing with consent yields an envelope; a bad key is Crypto") {
        val m = measured ?: throw AssertionFailed("no measurement from the scan test")
        val consent = Consent("ring sizing for order 1234", ConsentScope.MEASUREMENT, "2026-01", nowRfc3339Utc())
        val key = "9Jh3y7bH9x0H4M1QfG8m2pXk0eV7cQ2l6sR1tY5uW3o"
        val env = Json.parse(sealMeasurement(m, consent, key, newScanId())).obj()
        check(env["format"] == "mandrel-sealed") { "format ${env["format"]}" }
        check(!(env["ciphertext"] as String).contains("circumference")) { "plaintext leaked" }
        expectThrows<MandrelException.Crypto> { sealMeasurement(m, consent, "not-a-key", newScanId()) }
        expectThrows<MandrelException.ConsentRequired> {
            sealMeasurementWithMesh(m, byteArrayOf(112, 108, 121, 10), consent, key, newScanId())
        }
    }

    h.test("encrypted store round trip; tampering is Storage; short key is InvalidConfig") {
        val store = EncryptedStore(ByteArray(32) { it.toByte() })
        val rec = store.seal(RecordKind.MEASUREMENT, "scan-1", "{\"ring\":68.7}".toByteArray())
        check(String(store.open(RecordKind.MEASUREMENT, "scan-1", rec)) == "{\"ring\":68.7}") { "round trip" }
        rec[rec.size - 1] = (rec[rec.size - 1].toInt() xor 1).toByte()
        expectThrows<MandrelException.Storage> { store.open(RecordKind.MEASUREMENT, "scan-1", rec) }
        expectThrows<MandrelException.InvalidConfig> { EncryptedStore(ByteArray(16)) }
    }

    h.test("every error variant carries its message") {
        // Reached above: InvalidFrame, InvalidConfig, NotEnoughData, ConsentRequired, Crypto,
        // Storage. Internal is reserved for bugs; check the type exists and is a MandrelException.
        val e: MandrelException = MandrelException.Internal("x")
        check(e.message == "x") { "message ${e.message}" }
    }

    h.test("fuzz: 1000 random buffers and intrinsics give only typed errors") {
        val rnd = java.util.Random(42)
        val s = ScanSession(sessionConfigDefaults(HandSide.LEFT, FingerName.RING))
        var typed = 0
        var accepted = 0
        for (i in 0 until 1000) {
            val sane = rnd.nextBoolean() // half the cases: well-formed, random depth content
            val w = if (sane) 64 else rnd.nextInt(80) + (if (rnd.nextInt(10) == 0) -5 else 1)
            val hgt = if (sane) 48 else rnd.nextInt(60) + 1
            val len = if (sane || rnd.nextBoolean()) maxOf(0, w) * hgt * 2 else rnd.nextInt(12000)
            val depth = ByteBuffer.allocateDirect(len)
            for (j in 0 until len) depth.put(rnd.nextInt(256).toByte())
            depth.flip()
            val conf = if (sane) NO_CONFIDENCE else if (rnd.nextInt(4) == 0) ByteBuffer.allocateDirect(rnd.nextInt(5000)) else NO_CONFIDENCE
            fun wild(): Double = when (rnd.nextInt(6)) {
                0 -> Double.NaN; 1 -> -rnd.nextDouble() * 1e3; 2 -> Double.POSITIVE_INFINITY
                else -> rnd.nextDouble() * 2000
            }
            val intr = if (sane) CameraIntrinsics(64u, 48u, 60.0, 60.0, 31.5, 23.5)
                else CameraIntrinsics(maxOf(0, w).toUInt(), hgt.toUInt(), wild(), wild(), wild(), wild())
            val pose = if (sane) CameraPose(PoseConvention.ARCORE, listOf(1f, 0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 1f))
                else if (rnd.nextBoolean()) CameraPose(PoseConvention.entries[rnd.nextInt(3)], List(if (rnd.nextInt(8) == 0) 15 else 16) { (rnd.nextGaussian() * 3).toFloat() }) else null
            try {
                s.pushArcoreDepth(depth, conf, BufferLayout(maxOf(0, w).toUInt(), hgt.toUInt(), if (!sane && rnd.nextInt(5) == 0) rnd.nextInt(400).toUInt() else 0u),
                    FrameInfo(intr, pose, if (!sane && rnd.nextInt(20) == 0) Double.NaN else i.toDouble(), null))
                accepted++
            } catch (e: MandrelException.Internal) {
                throw AssertionFailed("input $i gave Internal: ${e.message}")
            } catch (e: MandrelException) {
                check(!e.message.isNullOrEmpty()) { "empty message" }
                typed++
            }
        }
        println("     $typed typed errors, $accepted accepted")
        check(typed + accepted == 1000) { "lost inputs" }
        check(accepted > 0 && typed > 0) { "the fuzz must exercise both paths" }
    }
}

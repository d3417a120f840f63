// Intrinsics scaling, MediaPipe landmark mapping (rotation, intrinsics) and camera2 DEPTH16
// splitting, checked against direct projections and against the library.

import app.mandrel.*
import app.mandrel.shell.*
import java.nio.ByteBuffer
import java.nio.ByteOrder

/** Projects the camera-frame point (x, y, z) with pinhole intrinsics: pixel centres at integers. */
fun project(k: CameraIntrinsics, x: Double, y: Double, z: Double) = PixelPoint(k.fx * x / z + k.cx, k.fy * y / z + k.cy)

fun runGeometryTests(h: Harness) {
    val colour = ImageIntrinsics(492.0, 491.0, 318.2, 241.7, 640, 480)

    h.test("intrinsics scale to the depth image with pixel centres kept") {
        val d = colour.scaledTo(160, 120)
        expect(d.width == 160u && d.height == 120u) { "size ${d.width}x${d.height}" }
        near(d.fx, 123.0, 1e-12, "fx"); near(d.fy, 122.75, 1e-12, "fy")
        near(d.cx, (318.2 + 0.5) / 4 - 0.5, 1e-12, "cx"); near(d.cy, (241.7 + 0.5) / 4 - 0.5, 1e-12, "cy")
        // The image centre stays the image centre.
        val centred = ImageIntrinsics(500.0, 500.0, 319.5, 239.5, 640, 480).scaledTo(256, 192)
        near(centred.cx, 127.5, 1e-12, "centre x"); near(centred.cy, 95.5, 1e-12, "centre y")
        // The library accepts the result.
        poseToOpencvRowMajor(CameraPose(PoseConvention.OPENCV, listOf(1f, 0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 1f)))
    }

    h.test("intrinsics: a cropped depth image and bad calibrations are refused with the numbers") {
        val e = expectThrows<IllegalArgumentException> { colour.scaledTo(160, 90) }
        expect(e.message!!.contains("160x90") && e.message!!.contains("640x480")) { e.message!! }
        expectThrows<IllegalArgumentException> { ImageIntrinsics.fromLensCalibration(floatArrayOf(500f, 500f, 320f, 240f, 3f), 640, 480) }
        expectThrows<IllegalArgumentException> { ImageIntrinsics.fromArcore(floatArrayOf(500f), floatArrayOf(1f, 2f), intArrayOf(640, 480)) }
        expectThrows<IllegalArgumentException> { ImageIntrinsics(Double.NaN, 1.0, 0.0, 0.0, 10, 10) }
        val k = ImageIntrinsics.fromArcore(floatArrayOf(500f, 501f), floatArrayOf(320f, 240f), intArrayOf(640, 480))
        expect(k.fy == 501.0 && k.width == 640) { "$k" }
    }

    h.test("intrinsics of a centre-cropped stream: 4:3 array to 16:9 output keeps the optical axis") {
        val array = ImageIntrinsics(1000.0, 1000.0, 1999.5, 1499.5, 4000, 3000)
        val k = array.centreCroppedTo(1600, 900) // crop 4000x2250 from y = 375, scale 0.4
        near(k.fx, 400.0, 1e-9, "fx"); near(k.cx, 799.5, 1e-9, "cx"); near(k.cy, 449.5, 1e-9, "cy")
        val same = array.centreCroppedTo(400, 300)
        val scaled = array.scaledTo(400, 300)
        near(same.cx, scaled.cx, 1e-9, "same aspect: cx"); near(same.fy, scaled.fy, 1e-9, "same aspect: fy")
    }

    h.test("landmark rotation: unrotate inverts rotate for every quarter turn; corners go where a clockwise turn puts them") {
        val p = NormalizedPoint(0.2f, 0.7f)
        for (r in listOf(0, 90, 180, 270, -90, 450)) {
            val back = LandmarkMapper.unrotate(LandmarkMapper.rotate(p, r), r)
            near(back.x.toDouble(), 0.2, 1e-6, "x after $r"); near(back.y.toDouble(), 0.7, 1e-6, "y after $r")
        }
        // The sensor's top-left corner is top-right after a clockwise quarter turn.
        expect(LandmarkMapper.rotate(NormalizedPoint(0f, 0f), 90) == NormalizedPoint(1f, 0f)) { "90" }
        expect(LandmarkMapper.rotate(NormalizedPoint(0f, 0f), 270) == NormalizedPoint(0f, 1f)) { "270" }
        expect(LandmarkMapper.unrotate(NormalizedPoint(1f, 0f), 90) == NormalizedPoint(0f, 0f)) { "unrotate 90" }
        expectThrows<IllegalArgumentException> { LandmarkMapper.unrotate(p, 45) }
    }

    h.test("MediaPipe landmarks on the upright image land on the depth pixels of the same 3D points") {
        val depthK = colour.scaledTo(160, 120)
        val colourK = CameraIntrinsics(640u, 480u, colour.fx, colour.fy, colour.cx, colour.cy)
        val rnd = java.util.Random(7)
        val pts = List(21) { Triple(rnd.nextGaussian() * 0.05, rnd.nextGaussian() * 0.04, 0.25 + rnd.nextDouble() * 0.1) }
        for (rotation in listOf(0, 90, 180, 270)) {
            // What MediaPipe reports: the colour pixel, normalised, turned upright.
            val mp = pts.map { (x, y, z) ->
                val px = project(colourK, x, y, z)
                LandmarkMapper.rotate(NormalizedPoint(((px.x + 0.5) / 640).toFloat(), ((px.y + 0.5) / 480).toFloat()), rotation)
            }
            val mapped = LandmarkMapper.toDepthPixels(mp, rotation, colour, depthK)
            for ((i, p) in pts.withIndex()) {
                val want = project(depthK, p.first, p.second, p.third)
                near(mapped[i].x, want.x, 1e-3, "landmark $i x at rotation $rotation")
                near(mapped[i].y, want.y, 1e-3, "landmark $i y at rotation $rotation")
            }
        }
    }

    h.test("landmark mapping refuses a wrong count and non-finite points; the library takes its output") {
        val depthK = colour.scaledTo(160, 120)
        val e = expectThrows<IllegalArgumentException> { LandmarkMapper.toDepthPixels(List(20) { NormalizedPoint(0.5f, 0.5f) }, 90, colour, depthK) }
        expect(e.message!!.contains("21") && e.message!!.contains("20")) { e.message!! }
        expectThrows<IllegalArgumentException> {
            LandmarkMapper.toDepthPixels(List(21) { NormalizedPoint(if (it == 3) Float.NaN else 0.5f, 0.5f) }, 90, colour, depthK)
        }
        val sensor = VirtualSensor(11uL, virtualScanDefaults().copy(frames = 2u))
        val s = ScanSession(sessionConfigDefaults(HandSide.LEFT, FingerName.RING))
        val r = sensor.pushNext(s) ?: throw AssertionFailed("no virtual frame")
        val lm = LandmarkMapper.toDepthPixels(List(21) { NormalizedPoint(0.3f + it * 0.01f, 0.5f) }, 90, colour, depthK)
        s.pushLandmarks(r.frameIndex, lm)
        s.close(); sensor.close()
    }

    h.test("DEPTH16: range and confidence split, row padding honoured, confidence codes mapped") {
        val w = 3; val hgt = 2; val stride = 8
        val src = ByteBuffer.allocateDirect(stride * hgt).order(ByteOrder.LITTLE_ENDIAN)
        val samples = listOf(intArrayOf(300, 0), intArrayOf(301, 1), intArrayOf(0x1FFF, 7), intArrayOf(450, 2), intArrayOf(0, 0), intArrayOf(1234, 4))
        for ((i, s) in samples.withIndex()) src.putShort((i / w) * stride + (i % w) * 2, ((s[1] shl 13) or s[0]).toShort())
        val depth = ByteBuffer.allocateDirect(2 * w * hgt)
        val conf = ByteBuffer.allocateDirect(w * hgt)
        Depth16.split(src, w, hgt, stride, 2, depth, conf)
        depth.order(ByteOrder.LITTLE_ENDIAN)
        for ((i, s) in samples.withIndex()) {
            expect((depth.getShort(2 * i).toInt() and 0xFFFF) == s[0]) { "depth $i: ${depth.getShort(2 * i)}" }
            expect((conf.get(i).toInt() and 0xFF) == Depth16.confidence(s[1])) { "confidence $i: ${conf.get(i)}" }
        }
        expect(Depth16.confidence(0) == 255 && Depth16.confidence(1) == 0 && Depth16.confidence(8 - 1) == 219) { "codes" }
        expect((2..7).map { Depth16.confidence(it) }.zipWithNext().all { (a, b) -> a < b }) { "confidence not increasing with code" }
        val e = expectThrows<IllegalArgumentException> { Depth16.split(ByteBuffer.allocateDirect(10), w, hgt, stride, 2, depth, conf) }
        expect(e.message!!.contains("10 bytes")) { e.message!! }
    }

    h.test("DEPTH16 frame of a flat wall enters the library as an ARCore-style buffer") {
        val w = 64; val hgt = 48
        val src = ByteBuffer.allocateDirect(w * hgt * 2).order(ByteOrder.LITTLE_ENDIAN)
        for (i in 0 until w * hgt) src.putShort(i * 2, 300.toShort()) // 300 mm, full confidence
        val depth = ByteBuffer.allocateDirect(w * hgt * 2)
        val conf = ByteBuffer.allocateDirect(w * hgt)
        Depth16.split(src, w, hgt, w * 2, 2, depth, conf)
        val s = ScanSession(sessionConfigDefaults(HandSide.LEFT, FingerName.RING))
        val k = ImageIntrinsics(60.0, 60.0, 31.5, 23.5, w, hgt).scaledTo(w, hgt)
        val r = s.pushArcoreDepth(depth, conf, BufferLayout(w.toUInt(), hgt.toUInt(), 0u), FrameInfo(k, null, 0.0, null))
        expect(r.frameIndex == 0u && s.guidance().framesPushed == 1u) { "report $r" }
        s.close()
    }
}

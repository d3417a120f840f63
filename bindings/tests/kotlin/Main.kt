// Kotlin binding tests (JVM + JNA): what an Android shell sees of mandrel.
// Usage: java ... MainKt REPO_ROOT. Prints "N passed, N failed"; exits 1 on any failure.

import app.mandrel.*
import kotlin.system.exitProcess

fun main(args: Array<String>) {
    val repo = args.firstOrNull() ?: "."
    val h = Harness()

    h.test("library loads and reports its version") {
        check(mandrelVersion().isNotEmpty()) { "empty version" }
    }

    h.test("Apple Vision landmarks: normalised bottom-left to pixels") {
        val pts = List(21) { i -> PixelPoint(i / 20.0, 0.25) }
        val px = landmarksFromAppleVision(pts, 640u, 480u)
        check(px.size == 21) { "got ${px.size} points" }
        check(Math.abs(px[20].x - (640.0 - 0.5)) < 1e-9) { "x ${px[20].x}" }
        check(Math.abs(px[0].y - (0.75 * 480 - 0.5)) < 1e-9) { "y ${px[0].y}" }
    }

    h.test("Apple Vision landmarks: wrong count is InvalidFrame") {
        val e = expectThrows<MandrelException.InvalidFrame> {
            landmarksFromAppleVision(List(20) { PixelPoint(0.5, 0.5) }, 640u, 480u)
        }
        check(e.message!!.contains("21")) { "message does not name the count: ${e.message}" }
    }

    h.test("Apple Vision landmarks: NaN is InvalidFrame") {
        expectThrows<MandrelException.InvalidFrame> {
            landmarksFromAppleVision(List(21) { PixelPoint(Double.NaN, 0.5) }, 640u, 480u)
        }
    }

    h.test("ARCore pose converts to OpenCV axes (y and z flipped)") {
        // ARCore camera at (1, 2, 3), identity rotation, column-major.
        val m = listOf(1f, 0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 1f, 0f, 1f, 2f, 3f, 1f)
        val cv = poseToOpencvRowMajor(CameraPose(PoseConvention.ARCORE, m))
        val expected = listOf(1.0, 0.0, 0.0, 1.0, 0.0, -1.0, 0.0, 2.0, 0.0, 0.0, -1.0, 3.0, 0.0, 0.0, 0.0, 1.0)
        for (i in 0 until 16) check(Math.abs(cv[i] - expected[i]) < 1e-6) { "element $i: ${cv[i]} != ${expected[i]}" }
    }

    h.test("pose that is not rigid is InvalidFrame") {
        val m = listOf(2f, 0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f, 1f)
        val e = expectThrows<MandrelException.InvalidFrame> { poseToOpencvRowMajor(CameraPose(PoseConvention.ARKIT, m)) }
        check(e.message!!.contains("pose")) { e.message!! }
    }

    h.test("pose with 15 numbers is InvalidFrame") {
        expectThrows<MandrelException.InvalidFrame> { poseToOpencvRowMajor(CameraPose(PoseConvention.ARKIT, List(15) { 0f })) }
    }

    runSessionTests(h, repo)
    exitProcess(h.summary())
}

// Benchmark: milliseconds per pushed 640x480 f32 depth frame through the Kotlin binding
// (direct ByteBuffer, zero-copy), same frame and pose each time; compare with
// `cargo run --release -p mandrel-ffi --example bench_push_frame`.
// Usage: java ... BenchKt SCAN_DIR [ITERATIONS]

import app.mandrel.*
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import javax.imageio.ImageIO

fun main(args: Array<String>) {
    val dir = File(args[0])
    val iters = args.getOrNull(1)?.toInt() ?: 30
    val scan = Json.parse(File(dir, "scan.json").readText()).obj()
    val k = scan["intrinsics"].obj()
    val scale = scan["depth_scale"].num()
    val f0 = scan["frames"].list()[0].obj()
    val img = ImageIO.read(File(dir, f0["depth"] as String))
    val w = img.width
    val h = img.height
    val intr = CameraIntrinsics(w.toUInt(), h.toUInt(), k["fx"].num(), k["fy"].num(), k["cx"].num(), k["cy"].num())
    val row = f0["pose"].list().map { it.num() }
    val col = List(16) { i -> row[(i % 4) * 4 + i / 4].toFloat() }
    val pose = CameraPose(PoseConvention.OPENCV, col)
    val target = scan["target"].obj()
    val hand = if (target["hand"] == "left") HandSide.LEFT else HandSide.RIGHT
    val finger = FingerName.valueOf((target["finger"] as String).uppercase())
    for (label in listOf("scan frame", "empty frame")) {
        val buf = ByteBuffer.allocateDirect(w * h * 4).order(ByteOrder.LITTLE_ENDIAN)
        for (v in 0 until h) for (u in 0 until w) {
            buf.putFloat(if (label == "empty frame") 0f else (img.raster.getSample(u, v, 0) / scale).toFloat())
        }
        buf.flip()
        val layout = BufferLayout(w.toUInt(), h.toUInt(), 0u)
        ScanSession(sessionConfigDefaults(hand, finger)).use { s ->
            // Warm-up (JIT, first allocation of the volume).
            for (i in 0 until 3) s.pushTruedepth(buf, TrueDepthPixelFormat.DEPTH_FLOAT32, layout, FrameInfo(intr, pose, i.toDouble(), null))
        }
        ScanSession(sessionConfigDefaults(hand, finger)).use { s ->
            val t = System.nanoTime()
            for (i in 0 until iters) s.pushTruedepth(buf, TrueDepthPixelFormat.DEPTH_FLOAT32, layout, FrameInfo(intr, pose, i.toDouble(), null))
            val ms = (System.nanoTime() - t) / 1e6 / iters
            println("$label ${w}x$h f32, $iters pushes: kotlin binding ${"%.3f".format(ms)} ms/frame")
        }
    }
}

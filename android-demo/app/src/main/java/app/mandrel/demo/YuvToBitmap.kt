package app.mandrel.demo

import android.graphics.Bitmap
import android.graphics.ImageFormat
import android.media.Image

/** A camera `YUV_420_888` image as an ARGB bitmap (BT.601 full range), for hand detection. */
object YuvToBitmap {
    /** Converts `image` (any row and pixel strides); the caller closes the image. */
    fun convert(image: Image): Bitmap {
        require(image.format == ImageFormat.YUV_420_888) { "expected YUV_420_888, got format ${image.format}" }
        val w = image.width
        val h = image.height
        val (yp, up, vp) = image.planes.let { Triple(it[0], it[1], it[2]) }
        val y = yp.buffer
        val u = up.buffer
        val v = vp.buffer
        val out = IntArray(w * h)
        for (row in 0 until h) {
            for (col in 0 until w) {
                val luma = (y.get(row * yp.rowStride + col * yp.pixelStride).toInt() and 0xFF).toFloat()
                val ci = (row / 2) * up.rowStride + (col / 2) * up.pixelStride
                val cb = (u.get(ci).toInt() and 0xFF) - 128f
                val cr = (v.get((row / 2) * vp.rowStride + (col / 2) * vp.pixelStride).toInt() and 0xFF) - 128f
                val r = (luma + 1.402f * cr).toInt().coerceIn(0, 255)
                val g = (luma - 0.344136f * cb - 0.714136f * cr).toInt().coerceIn(0, 255)
                val b = (luma + 1.772f * cb).toInt().coerceIn(0, 255)
                out[row * w + col] = (0xFF shl 24) or (r shl 16) or (g shl 8) or b
            }
        }
        return Bitmap.createBitmap(out, w, h, Bitmap.Config.ARGB_8888)
    }
}

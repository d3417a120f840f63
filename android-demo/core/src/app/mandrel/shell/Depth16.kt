package app.mandrel.shell

import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * camera2 `ImageFormat.DEPTH16` samples split into what `pushArcoreDepth` takes: u16
 * millimetres (low 13 bits) and u8 confidence (top 3 bits, where 0 means full confidence,
 * 1 none and k = 2..7 means (k - 1) / 7), mapped to 0..255.
 */
object Depth16 {
    /** Largest range a DEPTH16 sample can hold, millimetres. */
    const val MAX_RANGE_MM = 0x1FFF

    /** The 0..255 confidence of a DEPTH16 confidence code 0..7. */
    fun confidence(code: Int): Int = when (code) {
        0 -> 255
        1 -> 0
        else -> ((code - 1) * 255 + 3) / 7
    }

    /**
     * Splits `src` (`width x height` samples, `rowStride` bytes per row, `pixelStride` bytes per
     * sample as `Image.Plane` reports them, little-endian) into `depthOut` (packed u16 mm,
     * `2 * width * height` bytes) and `confidenceOut` (packed u8, `width * height` bytes).
     * Both outputs are direct buffers the caller reuses across frames.
     */
    fun split(src: ByteBuffer, width: Int, height: Int, rowStride: Int, pixelStride: Int, depthOut: ByteBuffer, confidenceOut: ByteBuffer) {
        require(width > 0 && height > 0) { "DEPTH16 size must be positive, got ${width}x$height" }
        require(pixelStride >= 2) { "DEPTH16 pixel stride must be at least 2 bytes, got $pixelStride" }
        require(rowStride >= width * pixelStride) { "row stride $rowStride is below width $width x pixel stride $pixelStride" }
        val needed = rowStride.toLong() * (height - 1) + pixelStride.toLong() * (width - 1) + 2
        require(src.remaining() >= needed) { "DEPTH16 plane holds ${src.remaining()} bytes, ${width}x$height needs $needed" }
        require(depthOut.capacity() >= 2 * width * height) { "depth output holds ${depthOut.capacity()} bytes, needs ${2 * width * height}" }
        require(confidenceOut.capacity() >= width * height) { "confidence output holds ${confidenceOut.capacity()} bytes, needs ${width * height}" }
        val s = src.duplicate().order(ByteOrder.LITTLE_ENDIAN)
        val base = s.position()
        depthOut.clear(); depthOut.order(ByteOrder.LITTLE_ENDIAN)
        confidenceOut.clear()
        for (y in 0 until height) {
            val row = base + y * rowStride
            for (x in 0 until width) {
                val sample = s.getShort(row + x * pixelStride).toInt() and 0xFFFF
                depthOut.putShort((sample and MAX_RANGE_MM).toShort())
                confidenceOut.put(confidence(sample ushr 13).toByte())
            }
        }
        depthOut.flip()
        confidenceOut.flip()
    }
}

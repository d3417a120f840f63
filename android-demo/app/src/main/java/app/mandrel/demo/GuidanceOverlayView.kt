package app.mandrel.demo

import android.content.Context
import android.graphics.Canvas
import android.graphics.Color
import android.graphics.Paint
import android.graphics.RectF
import android.view.View
import app.mandrel.shell.FlowState

/**
 * The live guidance overlay: a ring that fills with the finger's observed circumference
 * (coverage, degrees), the hint in large type, the tracking line, the library's provisional
 * size once it has one, the frames dropped to keep up, and the last frame's problem.
 */
class GuidanceOverlayView(context: Context) : View(context) {
    private var state: FlowState.Capturing? = null
    private var size: String? = null
    private val track = Paint(Paint.ANTI_ALIAS_FLAG).apply { style = Paint.Style.STROKE; strokeWidth = 18f; color = 0x33FFFFFF }
    private val fill = Paint(Paint.ANTI_ALIAS_FLAG).apply { style = Paint.Style.STROKE; strokeWidth = 18f; color = 0xFF3DDC84.toInt(); strokeCap = Paint.Cap.ROUND }
    private val big = Paint(Paint.ANTI_ALIAS_FLAG).apply { color = Color.WHITE; textSize = 56f; textAlign = Paint.Align.CENTER }
    private val small = Paint(Paint.ANTI_ALIAS_FLAG).apply { color = 0xFFCCCCCC.toInt(); textSize = 36f; textAlign = Paint.Align.CENTER }
    private val warn = Paint(Paint.ANTI_ALIAS_FLAG).apply { color = 0xFFFFB300.toInt(); textSize = 36f; textAlign = Paint.Align.CENTER }
    private val arc = RectF()

    init { setBackgroundColor(Color.BLACK) }

    /** Shows `s` and the provisional `size` line (null before there is one); call on the UI thread. */
    fun show(s: FlowState.Capturing, size: String?) {
        state = s
        this.size = size
        invalidate()
    }

    override fun onDraw(canvas: Canvas) {
        super.onDraw(canvas)
        val s = state ?: return
        val cx = width / 2f
        val cy = height * 0.4f
        val r = minOf(width, height) * 0.3f
        arc.set(cx - r, cy - r, cx + r, cy + r)
        canvas.drawOval(arc, track)
        val coverage = (s.guidance?.coverageDeg ?: 0.0).coerceIn(0.0, 360.0).toFloat()
        canvas.drawArc(arc, -90f, coverage, false, fill)
        val frames = s.guidance?.let { "${it.framesFused} of ${it.framesPushed} frames fused" } ?: s.source
        canvas.drawText(frames, cx, cy + 12f, small)
        wrap(canvas, s.hint, cx, cy + r + 100f, big)
        size?.let { canvas.drawText(it, cx, cy - r - 40f, big) }
        canvas.drawText(s.tracking, cx, cy + r + 240f, small)
        s.dropped?.let { canvas.drawText(it, cx, cy + r + 290f, small) }
        s.notice?.let { wrap(canvas, it, cx, cy + r + 350f, warn) }
    }

    private fun wrap(canvas: Canvas, text: String, x: Float, y: Float, paint: Paint) {
        val maxWidth = width * 0.9f
        var line = StringBuilder()
        var yy = y
        for (word in text.split(' ')) {
            val candidate = if (line.isEmpty()) word else "$line $word"
            if (paint.measureText(candidate) > maxWidth && line.isNotEmpty()) {
                canvas.drawText(line.toString(), x, yy, paint)
                yy += paint.textSize * 1.2f
                line = StringBuilder(word)
            } else {
                line = StringBuilder(candidate)
            }
        }
        if (line.isNotEmpty()) canvas.drawText(line.toString(), x, yy, paint)
    }
}

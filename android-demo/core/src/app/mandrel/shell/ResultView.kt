package app.mandrel.shell

import app.mandrel.MeasurementStatus
import app.mandrel.RingMeasurement
import app.mandrel.SizeLabels
import java.util.Locale

/** One line of the size table: a system's name and the size in it. */
data class SizeRow(val system: String, val label: String)

/**
 * What the result screen shows for a measurement: a headline, the circumference with its
 * uncertainty, the size in every system, the recommendation and advice, or, when the scan
 * cannot support a size, the reasons and no size at all.
 */
data class ResultView(
    val headline: String,
    val circumference: String?,
    val sizes: List<SizeRow>,
    val recommended: List<SizeRow>,
    val advice: String?,
    val problems: List<String>,
    val canSeal: Boolean,
) {
    companion object {
        /** Shown where a system's chart does not reach the size. */
        const val NOT_IN_CHART = "not in chart"

        /** Every sizing system, in display order. */
        fun rows(s: SizeLabels): List<SizeRow> = listOf(
            SizeRow("ISO 8653 (mm)", s.iso), SizeRow("US / Canada", s.us), SizeRow("UK / Australia", s.uk),
            SizeRow("EU", s.eu), SizeRow("Japan", s.jp), SizeRow("Switzerland", s.ch),
            SizeRow("India", s.india), SizeRow("China", s.cn),
        ).map { if (it.label == "n/a") it.copy(label = NOT_IN_CHART) else it }

        /** The view of the final measurement `m`. */
        fun of(m: RingMeasurement): ResultView {
            val ring = m.ringCircumferenceMm
            val sigma = m.uncertaintyMm
            val circumference = ring?.let {
                String.format(Locale.US, "%.1f mm", it) + (sigma?.let { s -> String.format(Locale.US, " ± %.1f mm", s) } ?: "")
            }
            return when (m.status) {
                MeasurementStatus.OK -> ResultView(
                    headline = "Your ring size",
                    circumference = circumference,
                    sizes = m.sizes?.let(::rows) ?: emptyList(),
                    recommended = m.recommended?.let { rows(it.sizes) } ?: emptyList(),
                    advice = m.recommended?.advice?.takeIf { it.isNotBlank() },
                    problems = emptyList(),
                    canSeal = m.sizes != null,
                )
                MeasurementStatus.NEEDS_RESCAN -> ResultView(
                    headline = "We can't give a size from this scan",
                    circumference = null, // never show a number the scan cannot support
                    sizes = emptyList(),
                    recommended = emptyList(),
                    advice = null,
                    problems = m.reasons.map(GuidanceText::rescan).ifEmpty { listOf(GuidanceText.rescan(app.mandrel.RescanReason.TOO_NOISY)) },
                    canSeal = false,
                )
            }
        }
    }
}

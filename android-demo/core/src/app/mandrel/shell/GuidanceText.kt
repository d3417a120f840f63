package app.mandrel.shell

import app.mandrel.FrameOutcome
import app.mandrel.FrameRejection
import app.mandrel.MandrelException
import app.mandrel.ProvisionalMeasurement
import app.mandrel.RejectionKind
import app.mandrel.RescanReason
import app.mandrel.ScanHint
import app.mandrel.TrackingState

/**
 * The words the shopper reads: one text for every hint, tracking state, frame rejection,
 * rescan reason and error of the library. Every `when` is exhaustive over the generated
 * enums, so a variant added to the library fails the shell's build instead of showing
 * nothing.
 */
object GuidanceText {
    /** What to do next, for the live overlay. */
    fun hint(hint: ScanHint): String = when (hint) {
        ScanHint.HOLD_STILL -> "Hold your hand steady in view, fingers spread."
        ScanHint.MOVE_CLOSER -> "Move the phone closer to your hand."
        ScanHint.MOVE_FARTHER -> "Move the phone a little farther from your hand."
        ScanHint.SLOW_DOWN -> "Slow down: move the phone more slowly."
        ScanHint.SHOW_PALM_SIDE -> "Turn your hand to show the palm side of the finger."
        ScanHint.KEEP_MOVING -> "Keep moving slowly around the finger."
        ScanHint.DONE -> "Done: hold still while we measure."
    }

    /** The Finishing screen's line: capture has stopped and the library is measuring. */
    const val FINISHING = "Done: hold still, measuring…"

    /** The overlay's dropped-frames line, or null while the library dropped none. */
    fun dropped(framesDropped: UInt): String? = when (framesDropped) {
        0u -> null
        1u -> "1 frame skipped to keep up with the camera."
        else -> "$framesDropped frames skipped to keep up with the camera."
    }

    /** The overlay's line for a provisional measurement, e.g. "So far: 54.2 mm ± 0.3 mm"; null without a ring value. */
    fun provisional(p: ProvisionalMeasurement): String? {
        val ring = p.ringCircumferenceMm ?: return null
        val sigma = p.uncertaintyMm?.let { String.format(java.util.Locale.US, " ± %.1f mm", it) } ?: ""
        return String.format(java.util.Locale.US, "So far: %.1f mm", ring) + sigma
    }

    /** A short status line for the tracking state. */
    fun tracking(state: TrackingState): String = when (state) {
        TrackingState.NOT_STARTED -> "Waiting for the first depth frame."
        TrackingState.PLATFORM -> "Tracking with the phone's motion sensors."
        TrackingState.TRACKING -> "Tracking your hand."
        TrackingState.LOST -> "Lost track: hold still for a moment, then move slowly."
    }

    /** Why a frame did not count, for the overlay (the debug message goes to the log). */
    fun rejection(kind: RejectionKind): String = when (kind) {
        RejectionKind.INVALID_FRAME -> "The camera sent an unusable frame; keep going."
        RejectionKind.TRACKING_LOST -> "That frame could not be lined up: move more slowly."
        RejectionKind.NO_USABLE_DEPTH -> "No depth on your hand: keep it 10 to 60 cm from the phone."
    }

    /** [rejection] of a listener event. */
    fun rejection(r: FrameRejection): String = rejection(r.kind)

    /** A frame's outcome, or null when it counted. */
    fun outcome(outcome: FrameOutcome): String? = when (outcome) {
        FrameOutcome.FUSED -> null
        FrameOutcome.OBSERVED_VOLUME_FULL -> null
        FrameOutcome.TRACKING_LOST -> rejection(RejectionKind.TRACKING_LOST)
        FrameOutcome.NO_USABLE_DEPTH -> rejection(RejectionKind.NO_USABLE_DEPTH)
    }

    /** Why a scan cannot give a size, said honestly: the phone's depth may simply not be enough. */
    fun rescan(reason: RescanReason): String = when (reason) {
        RescanReason.FINGER_NOT_FOUND -> "We could not find the finger. Keep the whole hand in view, fingers spread."
        RescanReason.INSUFFICIENT_COVERAGE -> "We saw too little of the finger. Move around it, palm side too."
        RescanReason.TOO_NOISY -> "This phone's depth was too coarse to tell ring sizes apart, so we will not guess. " +
            "Try again in good light, closer; if it repeats, this phone cannot size a ring: use a ring sizer."
        RescanReason.TRACKING_LOST -> "The phone lost track too often. Move more slowly."
        RescanReason.TOO_FEW_FRAMES -> "Too few views of the finger. Scan a little longer."
        RescanReason.NO_FRAMES -> "No depth frames arrived from the camera."
        RescanReason.HAND_OUT_OF_RANGE -> "Your hand was too near or too far. Keep it 10 to 60 cm from the phone."
    }

    /** A message for the shopper for every error of the library, and whether trying again can help. */
    fun error(e: MandrelException): ErrorText = when (e) {
        is MandrelException.InvalidFrame -> ErrorText("The camera sent a frame we cannot use.", retry = true)
        is MandrelException.InvalidConfig -> ErrorText("This app is set up wrongly for this phone. Please update the app.", retry = false)
        is MandrelException.NotEnoughData -> ErrorText("Not enough of the scan yet: keep scanning.", retry = true)
        is MandrelException.ConsentRequired -> ErrorText("We need your agreement before anything leaves this phone.", retry = true)
        is MandrelException.Crypto -> ErrorText("Your result could not be sealed securely, so nothing was sent.", retry = false)
        is MandrelException.Storage -> ErrorText("A saved result could not be read; it was discarded.", retry = false)
        is MandrelException.Internal -> ErrorText("Something went wrong inside the app. Please scan again.", retry = true)
    }
}

/** A message for the shopper and whether the same action may succeed when tried again. */
data class ErrorText(val message: String, val retry: Boolean)

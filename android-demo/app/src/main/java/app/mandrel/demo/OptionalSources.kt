package app.mandrel.demo

import android.app.Activity
import app.mandrel.shell.DepthSource

/**
 * Depth sources and hand-landmark detectors that need libraries only Gradle can fetch
 * (ARCore, MediaPipe tasks-vision). Their adapters live in the `vendor` source set
 * (app/src/vendor), compiled by the Gradle build only; the framework-only APK built in CI
 * has none, and [load] returns null there.
 */
interface OptionalSources {
    /** What the phone's ARCore depth can do, for the start screen (null: no ARCore). */
    fun arcoreDepthSupport(activity: Activity): String?

    /** An ARCore depth source with MediaPipe landmarks, or null with nothing to offer. */
    fun arcoreSource(activity: Activity): DepthSource?

    companion object {
        /** The vendor adapters when this build has them. */
        fun load(): OptionalSources? = try {
            Class.forName("app.mandrel.demo.vendor.VendorSources").getDeclaredConstructor().newInstance() as OptionalSources
        } catch (e: ClassNotFoundException) {
            null
        } catch (e: LinkageError) {
            null
        }
    }
}

// Compiled by the Gradle build only: loaded by name from OptionalSources.load().
package app.mandrel.demo.vendor

import android.app.Activity
import android.content.Context
import android.hardware.camera2.CameraCharacteristics
import android.hardware.camera2.CameraManager
import app.mandrel.demo.OptionalSources
import app.mandrel.shell.DepthSource
import com.google.ar.core.ArCoreApk
import com.google.ar.core.Session

/** The ARCore and MediaPipe adapters, for a Gradle build with Google Play services for AR. */
class VendorSources : OptionalSources {
    private fun arcoreSession(activity: Activity): Session? = try {
        if (ArCoreApk.getInstance().requestInstall(activity, true) == ArCoreApk.InstallStatus.INSTALLED) Session(activity) else null
    } catch (e: Exception) {
        null // ARCore missing, declined, or this phone is not supported
    }

    override fun arcoreDepthSupport(activity: Activity): String? {
        val availability = ArCoreApk.getInstance().checkAvailability(activity)
        if (!availability.isSupported) return "ARCore is not supported on this phone."
        if (activity.checkSelfPermission(android.Manifest.permission.CAMERA) != android.content.pm.PackageManager.PERMISSION_GRANTED) {
            return "ARCore is supported; its depth is checked once the camera is allowed."
        }
        val session = arcoreSession(activity) ?: return "ARCore is not installed or was declined."
        return try { ArCoreDepthSupport.describe(session) } finally { session.close() }
    }

    override fun arcoreSource(activity: Activity): DepthSource? {
        val session = arcoreSession(activity) ?: return null
        if (ArCoreDepthSupport.bestMode(session) == null) { session.close(); return null }
        val hands = try { MediaPipeHands(activity, backCameraRotation(activity)) } catch (e: Exception) { null }
        return ArCoreDepthSource(session, hands)
    }

    private fun backCameraRotation(context: Context): Int {
        val manager = context.getSystemService(Context.CAMERA_SERVICE) as CameraManager
        val back = manager.cameraIdList.firstOrNull {
            manager.getCameraCharacteristics(it).get(CameraCharacteristics.LENS_FACING) == CameraCharacteristics.LENS_FACING_BACK
        } ?: return 90
        return manager.getCameraCharacteristics(back).get(CameraCharacteristics.SENSOR_ORIENTATION) ?: 90
    }
}

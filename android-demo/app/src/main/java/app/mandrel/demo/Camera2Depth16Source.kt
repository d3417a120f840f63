package app.mandrel.demo

import android.graphics.ImageFormat
import android.hardware.camera2.CameraCaptureSession
import android.hardware.camera2.CameraCharacteristics
import android.hardware.camera2.CameraDevice
import android.hardware.camera2.CameraManager
import android.media.Image
import android.media.ImageReader
import android.os.Handler
import android.util.Size
import app.mandrel.BufferLayout
import app.mandrel.CameraIntrinsics
import app.mandrel.FrameInfo
import app.mandrel.ScanSession
import app.mandrel.shell.Depth16
import app.mandrel.shell.DepthSource
import app.mandrel.shell.ImageIntrinsics
import java.nio.ByteBuffer

/**
 * A time-of-flight camera's `DEPTH16` stream through camera2, for phones that expose one
 * (`REQUEST_AVAILABLE_CAPABILITIES_DEPTH_OUTPUT`). No platform pose: mandrel tracks the
 * camera itself. Frames arrive on `handler`'s thread (the shell's camera thread); [offerNext]
 * offers the latest one to the library, which copies it and returns at once.
 */
class Camera2Depth16Source private constructor(
    private val device: CameraDevice,
    private val reader: ImageReader,
    private val intrinsics: CameraIntrinsics,
) : DepthSource {
    override val name: String = "Time-of-flight camera"
    private var latest: Image? = null
    private var closed = false
    private var captureSession: CameraCaptureSession? = null
    // Reused for every frame: the offer copies them during the call.
    private val depthBytes = ByteArray(2 * reader.width * reader.height)
    private val confidenceBytes = ByteArray(reader.width * reader.height)
    private val depth: ByteBuffer = ByteBuffer.wrap(depthBytes)
    private val confidence: ByteBuffer = ByteBuffer.wrap(confidenceBytes)

    override val exhausted: Boolean get() = closed

    private fun onImage() {
        val image = try { reader.acquireLatestImage() } catch (e: IllegalStateException) { null } ?: return
        synchronized(this) {
            if (closed) { image.close(); return }
            latest?.close()
            latest = image
        }
    }

    override fun offerNext(session: ScanSession): Boolean {
        val image = synchronized(this) { latest.also { latest = null } } ?: return false
        try {
            val plane = image.planes[0]
            Depth16.split(plane.buffer, image.width, image.height, plane.rowStride, plane.pixelStride, depth, confidence)
            // The reader's images all have the reader's size, the size of these arrays.
            session.offerArcoreDepth(depthBytes, confidenceBytes,
                BufferLayout(image.width.toUInt(), image.height.toUInt(), 0u),
                FrameInfo(intrinsics, null, image.timestamp / 1e9, null))
            return true
        } finally {
            image.close()
        }
    }

    @Synchronized override fun close() {
        if (closed) return
        closed = true
        latest?.close()
        latest = null
        captureSession?.close()
        device.close()
        reader.close()
    }

    companion object {
        /** The id of a camera with a DEPTH16 stream, or null (most phones: use ARCore or demo mode). */
        fun findDepthCamera(manager: CameraManager): String? = manager.cameraIdList.firstOrNull { id ->
            val c = manager.getCameraCharacteristics(id)
            val caps = c.get(CameraCharacteristics.REQUEST_AVAILABLE_CAPABILITIES) ?: intArrayOf()
            val map = c.get(CameraCharacteristics.SCALER_STREAM_CONFIGURATION_MAP)
            CameraCharacteristics.REQUEST_AVAILABLE_CAPABILITIES_DEPTH_OUTPUT in caps &&
                (map?.getOutputSizes(ImageFormat.DEPTH16)?.isNotEmpty() ?: false)
        }

        /**
         * Depth intrinsics of camera `id` for a `size` stream: LENS_INTRINSIC_CALIBRATION when the
         * phone reports it, else the focal length over the physical sensor size; null when neither.
         */
        fun intrinsics(c: CameraCharacteristics, size: Size): CameraIntrinsics? {
            val array = c.get(CameraCharacteristics.SENSOR_INFO_ACTIVE_ARRAY_SIZE) ?: return null
            val cal = c.get(CameraCharacteristics.LENS_INTRINSIC_CALIBRATION)
            val k = if (cal != null && cal.size == 5 && cal[0] > 0f) {
                ImageIntrinsics.fromLensCalibration(cal, array.width(), array.height())
            } else {
                val f = c.get(CameraCharacteristics.LENS_INFO_AVAILABLE_FOCAL_LENGTHS)?.firstOrNull() ?: return null
                val phys = c.get(CameraCharacteristics.SENSOR_INFO_PHYSICAL_SIZE) ?: return null
                val fx = f / phys.width * array.width()
                val fy = f / phys.height * array.height()
                ImageIntrinsics(fx.toDouble(), fy.toDouble(), (array.width() - 1) / 2.0, (array.height() - 1) / 2.0, array.width(), array.height())
            }
            return k.centreCroppedTo(size.width, size.height)
        }

        /**
         * Opens camera `id` and starts its largest DEPTH16 stream; `onReady` gets the source (or
         * null with a reason) on `handler`'s thread. Needs the CAMERA permission.
         */
        fun open(manager: CameraManager, id: String, handler: Handler, onReady: (Camera2Depth16Source?, String?) -> Unit) {
            val c = manager.getCameraCharacteristics(id)
            val sizes = c.get(CameraCharacteristics.SCALER_STREAM_CONFIGURATION_MAP)?.getOutputSizes(ImageFormat.DEPTH16)
            val size = sizes?.maxByOrNull { it.width * it.height } ?: return onReady(null, "camera $id has no DEPTH16 stream")
            val k = intrinsics(c, size) ?: return onReady(null, "camera $id reports no intrinsics: its depth cannot be measured")
            val reader = ImageReader.newInstance(size.width, size.height, ImageFormat.DEPTH16, 3)
            try {
                manager.openCamera(id, object : CameraDevice.StateCallback() {
                    override fun onOpened(device: CameraDevice) {
                        val source = Camera2Depth16Source(device, reader, k)
                        reader.setOnImageAvailableListener({ source.onImage() }, handler)
                        device.createCaptureSession(listOf(reader.surface), object : CameraCaptureSession.StateCallback() {
                            override fun onConfigured(s: CameraCaptureSession) {
                                source.captureSession = s
                                val req = device.createCaptureRequest(CameraDevice.TEMPLATE_PREVIEW).apply { addTarget(reader.surface) }
                                s.setRepeatingRequest(req.build(), null, handler)
                                onReady(source, null)
                            }
                            override fun onConfigureFailed(s: CameraCaptureSession) {
                                source.close()
                                onReady(null, "the depth stream could not be configured")
                            }
                        }, handler)
                    }
                    override fun onDisconnected(device: CameraDevice) { device.close() }
                    override fun onError(device: CameraDevice, error: Int) {
                        device.close()
                        onReady(null, "camera error $error")
                    }
                }, handler)
            } catch (e: SecurityException) {
                reader.close()
                onReady(null, "no camera permission")
            }
        }
    }
}

package app.mandrel.demo

import android.Manifest
import android.app.Activity
import android.content.Context
import android.content.pm.PackageManager
import android.graphics.Color
import android.graphics.Typeface
import android.hardware.camera2.CameraManager
import android.os.Bundle
import android.os.Handler
import android.os.HandlerThread
import android.os.Looper
import android.view.Gravity
import android.view.View
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TableLayout
import android.widget.TableRow
import android.widget.TextView
import app.mandrel.ConsentScope
import app.mandrel.FingerName
import app.mandrel.HandSide
import app.mandrel.MandrelException
import app.mandrel.VirtualSensor
import app.mandrel.mandrelVersion
import app.mandrel.nowRfc3339Utc
import app.mandrel.virtualScanDefaults
import app.mandrel.shell.ConsentRecord
import app.mandrel.shell.DepthSource
import app.mandrel.shell.FlowConfig
import app.mandrel.shell.FlowState
import app.mandrel.shell.GuidanceText
import app.mandrel.shell.ResultView
import app.mandrel.shell.ScanFlow
import app.mandrel.shell.ScanRecords
import app.mandrel.shell.UploadRequestBuilder
import app.mandrel.shell.VirtualDepthSource

/**
 * The demo shell: one Activity, framework views only. It draws the [ScanFlow]'s state and
 * does what the flow asks: camera permission, consent, a depth source (time-of-flight
 * camera2, ARCore when the vendor adapters are built in, or the virtual sensor in demo
 * mode), frames offered from the camera thread (never waiting on the library), the
 * measurement taken in the background, the upload over HTTPS with the flow's retry delays.
 */
class MainActivity : Activity() {
    private val main = Handler(Looper.getMainLooper())
    private val worker = HandlerThread("mandrel-frames").apply { start() }
    private val work = Handler(worker.looper)
    private var flow: ScanFlow? = null
    private var demoMode = false
    @Volatile private var pumping = false
    private lateinit var overlay: GuidanceOverlayView
    private val optional: OptionalSources? by lazy { OptionalSources.load() }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        overlay = GuidanceOverlayView(this)
        val nativeProblem = nativeLibraryProblem()
        if (nativeProblem != null) {
            screen("This build cannot scan", nativeProblem)
            return
        }
        showStart()
    }

    override fun onDestroy() {
        flow?.cancel("The app was closed: nothing of this scan was kept.")
        worker.quitSafely()
        super.onDestroy()
    }

    /** Null when libmandrel_ffi.so and JNA's dispatch library load; else why not. */
    private fun nativeLibraryProblem(): String? = try {
        mandrelVersion()
        null
    } catch (e: LinkageError) {
        "This APK carries no native library (it was assembled without the Android NDK), so " +
            "mandrel cannot run here. Build the app with Gradle after bindings/scripts/build-android.sh " +
            "(see android-demo/README.md).\n\n${e.javaClass.simpleName}: ${e.message}"
    }

    private fun newFlow(): ScanFlow {
        val records = ScanRecords(AndroidKeystoreDataKeys(this), FileRecordStorage(this))
        val config = FlowConfig(HandSide.LEFT, FingerName.RING, getString(R.string.retailer_public_key),
            UploadRequestBuilder(getString(R.string.upload_endpoint), "mandrel-demo/${mandrelVersion()}"))
        return ScanFlow(config, records).also { f -> f.onStateChanged = { s -> main.post { render(s) } } }
    }

    private fun depthCamera(): String? = try {
        Camera2Depth16Source.findDepthCamera(getSystemService(Context.CAMERA_SERVICE) as CameraManager)
    } catch (e: Exception) {
        null
    }

    // Screens -------------------------------------------------------------------------------

    private fun showStart() {
        val tof = depthCamera()
        val arcore = optional?.arcoreDepthSupport(this)
        val depthText = buildString {
            append(if (tof != null) "Time-of-flight depth camera found (camera $tof): good enough for a ring size.\n"
                else "No time-of-flight depth camera.\n")
            append(arcore ?: "ARCore depth is not built into this app.")
            append("\n\nWhere the depth cannot tell ring sizes apart, the app says so (too noisy) instead of guessing.")
        }
        val column = column()
        column.addView(title("Find your ring size"))
        column.addView(body(depthText))
        if (tof != null || optional != null) {
            column.addView(button("Scan with the camera") { demoMode = false; begin() })
        }
        column.addView(button("Demo: virtual depth sensor") { demoMode = true; begin() })
        setContentView(scroll(column))
    }

    private fun begin() {
        val f = newFlow()
        flow = f
        render(f.state)
        if (demoMode) {
            f.onPermission(true) // the virtual sensor needs no camera
        } else if (checkSelfPermission(Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) {
            f.onPermission(true)
        } else {
            requestPermissions(arrayOf(Manifest.permission.CAMERA), REQUEST_CAMERA)
        }
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        if (requestCode == REQUEST_CAMERA) {
            flow?.onPermission(grantResults.isNotEmpty() && grantResults[0] == PackageManager.PERMISSION_GRANTED)
        }
    }

    private fun render(s: FlowState) {
        val f = flow ?: return
        when (s) {
            is FlowState.NeedsPermission -> screen("Camera", "Asking for the camera…")
            is FlowState.PermissionDenied -> screen("Camera needed", s.message, "Back" to { showStart() })
            is FlowState.NeedsConsent -> consentScreen(f)
            is FlowState.ReadyToScan -> startSource(f)
            is FlowState.Capturing -> { captureScreen(f, s, null); pump(f) }
            is FlowState.Provisional -> captureScreen(f, s.live, s.size)
            is FlowState.Finishing -> screen("Measuring", s.message, "Cancel" to { later { f.cancel() } })
            is FlowState.Result -> resultScreen(s.view, s.message,
                *(if (s.view.canSeal) arrayOf("Send to ${getString(R.string.store_name)}" to { sealInBackground(f) }) else emptyArray()),
                "Scan again" to { rescan(f) }, "Discard" to { later { f.cancel() } })
            is FlowState.Uploading -> {
                screen("Sending", "Sending your sealed result (attempt ${s.attempt})…", "Cancel and delete it" to { f.cancel() })
                upload(f, s)
            }
            is FlowState.UploadFailed -> screen("Not sent", s.message,
                *(if (s.canRetry) arrayOf("Try again" to { later { f.retryUpload(s.scanId) } }) else emptyArray()), "Discard" to { later { f.cancel() } })
            is FlowState.Done -> screen("Sent", "${getString(R.string.store_name)} has your ring size. Nothing of the scan is left on this phone.",
                "Done" to { showStart() })
            is FlowState.Discarded -> screen("Nothing kept", s.reason, "Start over" to { showStart() })
        }
    }

    private fun consentScreen(f: ScanFlow) {
        val store = getString(R.string.store_name)
        val purpose = "ring sizing for your order at $store"
        screen("Before we scan",
            "To size your ring, the app measures your finger from the camera's depth images, on this phone.\n\n" +
                "Only the measurement (circumference and sizes, no images, no hand model) is sent, sealed so that only " +
                "$store can open it, for: $purpose.\n\nDepth images never leave the phone and are not stored. " +
                "Privacy policy version ${getString(R.string.privacy_policy_version)}.",
            "I agree" to {
                f.onConsent(ConsentRecord.grant(purpose, ConsentScope.MEASUREMENT, getString(R.string.privacy_policy_version), store, nowRfc3339Utc()))
            },
            "No thanks" to { f.onConsent(null) })
    }

    private fun startSource(f: ScanFlow) {
        screen("Starting", "Starting the depth camera…")
        if (demoMode) {
            work.post { startOrReport(f) { VirtualDepthSource(VirtualSensor(System.nanoTime().toULong(), virtualScanDefaults())) } }
            return
        }
        val arcore = optional?.arcoreSource(this)
        if (arcore != null) { work.post { startOrReport(f) { arcore } }; return }
        val id = depthCamera() ?: return screen("No depth camera", "This phone has no depth camera this build can use. Try the demo.", "Back" to { f.cancel() })
        Camera2Depth16Source.open(getSystemService(Context.CAMERA_SERVICE) as CameraManager, id, work) { source, problem ->
            if (source == null) main.post { screen("Depth camera failed", problem ?: "unknown", "Back" to { f.cancel() }) }
            else startOrReport(f) { source }
        }
    }

    private fun startOrReport(f: ScanFlow, make: () -> DepthSource) {
        try {
            f.startCapture(make())
            pump(f)
        } catch (e: MandrelException) {
            main.post { screen("Cannot start", GuidanceText.error(e).message, "Back" to { f.cancel() }) }
        }
    }

    /**
     * Offers frames from the camera thread while the flow captures (about 30 a second). An
     * offer copies the frame and returns at once: the library works one frame at a time on its
     * own thread and drops a waiting one when a newer one comes, so this thread never waits.
     */
    private fun pump(f: ScanFlow) {
        if (pumping) return
        pumping = true
        work.post(object : Runnable {
            override fun run() {
                val s = f.state
                if (s !is FlowState.Capturing && s !is FlowState.Provisional) { pumping = false; return }
                try { f.offerFrame() } catch (e: MandrelException) { main.post { screen("Scan failed", GuidanceText.error(e).message, "Back" to { f.cancel() }) } }
                work.postDelayed(this, FRAME_INTERVAL_MS)
            }
        })
    }

    private fun captureScreen(f: ScanFlow, s: FlowState.Capturing, size: String?) {
        if (overlay.parent == null) {
            val column = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL; setBackgroundColor(Color.BLACK) }
            column.addView(overlay, LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, 0, 1f))
            val buttons = LinearLayout(this).apply { orientation = LinearLayout.HORIZONTAL; setGravity(Gravity.CENTER) }
            buttons.addView(button("Measure now") { later { f.finish() } })
            buttons.addView(button("Cancel") { later { f.cancel() } })
            column.addView(buttons)
            setContentView(column)
        }
        overlay.show(s, size)
    }

    private fun rescan(f: ScanFlow) {
        if (demoMode) later { f.rescan(VirtualDepthSource(VirtualSensor(System.nanoTime().toULong(), virtualScanDefaults()))) }
        else { f.cancel("Starting again."); begin() }
    }

    private fun sealInBackground(f: ScanFlow) = later { f.seal() }

    /** Runs a flow action on the frame worker; a tap that arrives after the state moved on is ignored. */
    private fun later(action: () -> Unit) {
        work.post {
            try { action() } catch (e: IllegalStateException) { /* a stale tap: the screen is already gone */ }
        }
    }

    private fun upload(f: ScanFlow, s: FlowState.Uploading) {
        work.postDelayed({
            if (f.state == s) {
                val response = HttpUploader.send(f.nextUpload())
                if (f.state == s) f.onUploadResponse(response)
            }
        }, s.delayMs)
    }

    private fun resultScreen(v: ResultView, message: String?, vararg actions: Pair<String, () -> Unit>) {
        val column = column()
        column.addView(title(v.headline))
        v.circumference?.let { column.addView(title(it)) }
        if (v.sizes.isNotEmpty()) column.addView(table(v.sizes.map { it.system to it.label }))
        if (v.recommended.isNotEmpty()) {
            column.addView(body("Recommended (fits over the knuckle):"))
            column.addView(table(v.recommended.map { it.system to it.label }))
        }
        v.advice?.let { column.addView(body(it)) }
        for (p in v.problems) column.addView(body("• $p"))
        message?.let { column.addView(body(it).apply { setTextColor(0xFFB00020.toInt()) }) }
        for ((label, action) in actions) column.addView(button(label, action))
        setContentView(scroll(column))
    }

    // Small view helpers ----------------------------------------------------------------------

    private fun screen(heading: String, text: String, vararg actions: Pair<String, () -> Unit>) {
        val column = column()
        column.addView(title(heading))
        column.addView(body(text))
        for ((label, action) in actions) column.addView(button(label, action))
        setContentView(scroll(column))
    }

    private fun column() = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL; setPadding(48, 64, 48, 64) }
    private fun scroll(v: View) = ScrollView(this).apply { addView(v) }
    private fun title(text: String) = TextView(this).apply { this.text = text; textSize = 26f; setTypeface(typeface, Typeface.BOLD); setPadding(0, 16, 0, 16) }
    private fun body(text: String) = TextView(this).apply { this.text = text; textSize = 17f; setPadding(0, 8, 0, 8) }
    private fun button(label: String, action: () -> Unit) = Button(this).apply { text = label; setOnClickListener { action() } }

    private fun table(rows: List<Pair<String, String>>) = TableLayout(this).apply {
        setColumnStretchable(1, true)
        for ((k, v) in rows) {
            addView(TableRow(this@MainActivity).apply {
                addView(TextView(this@MainActivity).apply { text = k; textSize = 16f; setPadding(0, 4, 32, 4) })
                addView(TextView(this@MainActivity).apply { text = v; textSize = 16f; setTypeface(typeface, Typeface.BOLD) })
            })
        }
    }

    private companion object {
        const val REQUEST_CAMERA = 1
        const val FRAME_INTERVAL_MS = 33L
    }
}

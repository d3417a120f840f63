import Mandrel

/// Whether the app may use the camera, as the platform reports it (AVFoundation's
/// `AVAuthorizationStatus` in the app).
public enum CameraAuthorization: Equatable, Sendable {
    /// Never asked: the flow asks before anything else.
    case notDetermined
    /// Granted.
    case authorized
    /// Refused by the shopper: the flow stops and points to Settings.
    case denied
    /// Blocked by device policy (parental controls, MDM).
    case restricted
}

/// Frames and coverage so far, as the live guidance overlay shows them.
public struct CaptureProgress: Equatable, Sendable {
    /// The core's latest guidance (`nil` before the first frame).
    public var guidance: Guidance?
    /// Frames the core did not fuse since capture started.
    public var rejectedFrames: Int
    /// Frames the core dropped to keep up with the camera (keep-latest policy of `offer_*`).
    public var framesDropped: UInt32 { guidance?.framesDropped ?? 0 }
    /// Why the last frame was not fused, if the last frame was not fused.
    public var lastRejection: RejectionKind?

    /// No frame yet.
    public static let empty = CaptureProgress(guidance: nil, rejectedFrames: 0, lastRejection: nil)
}

/// Why the flow stopped before the upload finished.
public enum ScanFailure: Equatable, Sendable, Error {
    /// The camera may not be used.
    case cameraUnavailable(CameraAuthorization)
    /// The Rust core refused (bad frame, configuration, consent, crypto, storage, bug).
    case core(MandrelError)
    /// The upload failed for good (or retries ran out); the sealed envelope is still pending.
    case upload(UploadFailure)
    /// The encrypted pending-upload store or the key store failed.
    case storage(String)
}

/// Where the scan flow is. The order of a successful scan: `requestingCameraPermission` →
/// `awaitingConsent` → `capturing` → `provisional` → `finishing` → `result` → `sealing` →
/// `uploading` (→ `waitingToRetry` → `uploading` …) → `done`. `cancel` from any live phase
/// goes to `discarded`.
public enum ScanPhase: Equatable, Sendable {
    /// Nothing started.
    case idle
    /// Waiting for the camera permission prompt.
    case requestingCameraPermission
    /// Waiting for the shopper to accept (or decline) sharing the measurement.
    case awaitingConsent
    /// Frames flow into the core; the overlay shows the guidance.
    case capturing(CaptureProgress)
    /// Still capturing, with the core's provisional measurement (one with a ring value) to
    /// show while the scan completes.
    case provisional(CaptureProgress, ProvisionalMeasurement)
    /// Capture stopped; the core is measuring off the main actor (`finishInBackground`).
    case finishing
    /// The measurement (status `ok`, or `needsRescan` with reasons).
    case result(RingMeasurement)
    /// The core is sealing the measurement for the retailer.
    case sealing
    /// Sending the sealed envelope (attempt counts from 1).
    case uploading(attempt: Int)
    /// A retryable upload failure: the next attempt starts after `delaySeconds`.
    case waitingToRetry(nextAttempt: Int, delaySeconds: Double)
    /// Uploaded; the scan's local data is gone.
    case done(scanID: String)
    /// Cancelled or declined; the scan's local data is gone.
    case discarded
    /// Stopped on a failure; `retry` or `cancel` from here.
    case failed(ScanFailure)

    /// True while frames are wanted.
    public var isCapturing: Bool {
        switch self {
        case .capturing, .provisional: return true
        default: return false
        }
    }

    /// True once the flow has ended (done or discarded).
    public var isTerminal: Bool {
        switch self {
        case .done, .discarded: return true
        default: return false
        }
    }
}

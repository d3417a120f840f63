import Mandrel

/// Something that happened: a tap, a platform answer, a core result, an upload outcome.
/// The state machine turns each into a new phase and the effects to run.
public enum ScanEvent: Sendable {
    /// The scan screen opened; the camera permission as the platform reports it now.
    case start(CameraAuthorization)
    /// The answer to the camera permission prompt.
    case cameraPermissionAnswered(granted: Bool)
    /// The shopper agreed to the consent screen.
    case consentGranted(ConsentRecord)
    /// The shopper declined: nothing is captured or kept.
    case consentDeclined
    /// New guidance from the core after a frame, with the latest provisional measurement and
    /// the count of dropped frames.
    case guidance(Guidance)
    /// A frame was not fused.
    case frameRejected(FrameRejection)
    /// The depth source has no more frames (the virtual sensor ran out).
    case sourceEnded
    /// The shopper asked to finish now.
    case finishRequested
    /// The final measurement (from the core's `FinishListener`).
    case measured(RingMeasurement)
    /// The shopper asked to send the size to the retailer.
    case sendRequested
    /// The core sealed the measurement.
    case sealed(SealedEnvelope)
    /// One upload attempt ended.
    case uploadFinished(UploadOutcome)
    /// The retry delay is over.
    case retryTimerFired
    /// The shopper asked to try again (after a failure) or to scan again (after a rescan
    /// verdict).
    case retry
    /// A core or storage call failed.
    case failed(ScanFailure)
    /// The shopper cancelled: stop, and delete everything the scan produced.
    case cancel
    /// At launch: an envelope sealed in an earlier run is still pending; send it.
    case resumeUpload(SealedEnvelope)
}

/// Work the state machine asks the controller to do. Effects are data, so tests check the
/// flow without a camera, a network or the core.
public enum ScanEffect: Equatable, Sendable {
    /// Show the platform's camera permission prompt.
    case requestCameraPermission
    /// Open a new core session and start the depth source.
    case startCapture
    /// Stop the depth source (the session stays for `finish`).
    case stopCapture
    /// Measure the finished capture in the background (`finishInBackground`).
    case finish
    /// Seal the measurement under this consent.
    case seal(ConsentRecord)
    /// Send the sealed envelope (attempt counts from 1).
    case upload(attempt: Int)
    /// Fire `retryTimerFired` after the delay.
    case scheduleRetry(delaySeconds: Double)
    /// Drop the session, the measurement and any pending envelope of this scan.
    case discardScanData
    /// The envelope arrived: delete its pending copy.
    case clearPendingUpload(scanID: String)
}

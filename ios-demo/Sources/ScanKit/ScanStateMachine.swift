import Mandrel

/// The scan flow's rules: a pure function of (phase, event) → (phase, effects). It holds no
/// platform object, so the same flow runs in the app, the demo mode and the tests.
public struct ScanStateMachine: Sendable {
    /// The flow's settings.
    public struct Settings: Equatable, Sendable {
        /// Upload retries.
        public var retry: RetryPolicy

        /// The default retry policy. Provisional measurements need no settings: the core takes
        /// them itself while frames arrive and delivers them with the guidance.
        public init(retry: RetryPolicy = RetryPolicy()) {
            self.retry = retry
        }
    }

    /// Where the flow is.
    public private(set) var phase: ScanPhase = .idle
    /// The consent given for this scan (`nil` until given; cleared on discard).
    public private(set) var consent: ConsentRecord?
    /// The measurement shown on the result screen (cleared on discard).
    public private(set) var measurement: RingMeasurement?
    /// The sealed envelope waiting for upload (cleared on discard and after upload).
    public private(set) var envelope: SealedEnvelope?
    /// The rules' settings.
    public let settings: Settings
    /// A frame was rejected since the last guidance: the core reports a frame that was not
    /// fused first as a rejection, then with its guidance, and the rejection stays on screen
    /// until a later frame's guidance.
    private var rejectedSinceGuidance = false

    /// A flow in `idle`.
    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Applies `event` and returns the effects to run, in order. Events that do not apply
    /// to the current phase (a late frame after cancel, a double tap) change nothing.
    public mutating func handle(_ event: ScanEvent) -> [ScanEffect] {
        switch (phase, event) {
        case (.idle, .start(let camera)), (.discarded, .start(let camera)), (.done, .start(let camera)):
            reset()
            switch camera {
            case .authorized:
                phase = .awaitingConsent
                return []
            case .notDetermined:
                phase = .requestingCameraPermission
                return [.requestCameraPermission]
            case .denied, .restricted:
                phase = .failed(.cameraUnavailable(camera))
                return []
            }

        case (.idle, .resumeUpload(let e)):
            envelope = e
            return startUpload(attempt: 1)

        case (.requestingCameraPermission, .cameraPermissionAnswered(let granted)):
            phase = granted ? .awaitingConsent : .failed(.cameraUnavailable(.denied))
            return []

        case (.awaitingConsent, .consentGranted(let record)):
            consent = record
            return beginCapture()

        case (.awaitingConsent, .consentDeclined):
            return discard()

        case (.capturing(var progress), .guidance(let g)):
            progress.guidance = g
            if !rejectedSinceGuidance { progress.lastRejection = nil }
            rejectedSinceGuidance = false
            return continueCapture(progress, shown: nil, g)

        case (.provisional(var progress, let shown), .guidance(let g)):
            progress.guidance = g
            if !rejectedSinceGuidance { progress.lastRejection = nil }
            rejectedSinceGuidance = false
            return continueCapture(progress, shown: shown, g)

        case (.capturing(var progress), .frameRejected(let r)):
            progress.rejectedFrames += 1
            progress.lastRejection = r.kind
            rejectedSinceGuidance = true
            phase = .capturing(progress)
            return []

        case (.provisional(var progress, let m), .frameRejected(let r)):
            progress.rejectedFrames += 1
            progress.lastRejection = r.kind
            rejectedSinceGuidance = true
            phase = .provisional(progress, m)
            return []

        case (.capturing, .sourceEnded), (.provisional, .sourceEnded),
             (.capturing, .finishRequested), (.provisional, .finishRequested):
            return endCapture()

        case (.finishing, .measured(let m)):
            measurement = m
            phase = .result(m)
            return []

        case (.result(let m), .sendRequested):
            guard m.status == .ok, let consent else { return [] }
            phase = .sealing
            return [.seal(consent)]

        case (.result, .retry):
            // "Scan again" after a rescan verdict (or to improve an ok one): a fresh session.
            measurement = nil
            return beginCapture()

        case (.sealing, .sealed(let e)):
            envelope = e
            return startUpload(attempt: 1)

        case (.uploading(let attempt), .uploadFinished(let outcome)):
            switch outcome {
            case .delivered:
                let id = envelope?.scanID ?? ""
                envelope = nil
                phase = .done(scanID: id)
                return [.clearPendingUpload(scanID: id)]
            case .failed(let failure):
                if let delay = settings.retry.delayBeforeRetry(after: failure, attempt: attempt) {
                    phase = .waitingToRetry(nextAttempt: attempt + 1, delaySeconds: delay)
                    return [.scheduleRetry(delaySeconds: delay)]
                }
                phase = .failed(.upload(failure))
                return []
            }

        case (.waitingToRetry(let next, _), .retryTimerFired):
            return startUpload(attempt: next)

        case (.failed(.upload), .retry):
            // A manual retry starts a new round of attempts.
            guard envelope != nil else { return [] }
            return startUpload(attempt: 1)

        case (.failed(.cameraUnavailable), .start(let camera)):
            phase = .idle
            return handle(.start(camera))

        case (_, .failed(let failure)):
            guard !phase.isTerminal else { return [] }
            let wasCapturing = phase.isCapturing
            phase = .failed(failure)
            return wasCapturing ? [.stopCapture] : []

        case (_, .cancel):
            guard !phase.isTerminal else { return [] }
            return discard()

        default:
            return []
        }
    }

    private mutating func reset() {
        consent = nil
        measurement = nil
        envelope = nil
        rejectedSinceGuidance = false
    }

    private mutating func beginCapture() -> [ScanEffect] {
        rejectedSinceGuidance = false
        phase = .capturing(.empty)
        return [.startCapture]
    }

    /// Capture goes on with new guidance: the core's provisional measurement is shown once it
    /// has a ring value (a later one without a value keeps the last value on screen), and
    /// guidance saying `done` (the measurement would be `ok`) ends capture.
    private mutating func continueCapture(_ progress: CaptureProgress, shown: ProvisionalMeasurement?, _ g: Guidance) -> [ScanEffect] {
        let latest = g.provisional.flatMap { $0.ringCircumferenceMm == nil ? nil : $0 } ?? shown
        phase = latest.map { ScanPhase.provisional(progress, $0) } ?? ScanPhase.capturing(progress)
        return g.hint == .done ? endCapture() : []
    }

    private mutating func endCapture() -> [ScanEffect] {
        phase = .finishing
        return [.stopCapture, .finish]
    }

    private mutating func startUpload(attempt: Int) -> [ScanEffect] {
        phase = .uploading(attempt: attempt)
        return [.upload(attempt: attempt)]
    }

    private mutating func discard() -> [ScanEffect] {
        let wasCapturing = phase.isCapturing
        reset()
        phase = .discarded
        return (wasCapturing ? [.stopCapture] : []) + [.discardScanData]
    }
}

import Mandrel

/// The scan flow's rules: a pure function of (phase, event) → (phase, effects). It holds no
/// platform object, so the same flow runs in the app, the demo mode and the tests.
public struct ScanStateMachine: Sendable {
    /// When to take a provisional measurement during capture.
    public struct Settings: Equatable, Sendable {
        /// Fused frames before the first provisional measurement.
        public var provisionalAfterFrames: UInt32
        /// Degrees of the finger's circumference seen before the first provisional
        /// measurement.
        public var provisionalAfterCoverageDeg: Double
        /// Fused frames between two provisional measurements (one at a time).
        public var provisionalEveryFrames: UInt32
        /// Upload retries.
        public var retry: RetryPolicy

        /// A provisional size once a third of the finger was seen in 8 fused frames, updated
        /// every 6 fused frames.
        public init(
            provisionalAfterFrames: UInt32 = 8,
            provisionalAfterCoverageDeg: Double = 120,
            provisionalEveryFrames: UInt32 = 6,
            retry: RetryPolicy = RetryPolicy()
        ) {
            self.provisionalAfterFrames = provisionalAfterFrames
            self.provisionalAfterCoverageDeg = provisionalAfterCoverageDeg
            self.provisionalEveryFrames = provisionalEveryFrames
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
    /// A provisional measurement is running.
    private var provisionalInFlight = false
    /// Fused frames when the last provisional measurement was requested.
    private var provisionalAtFrames: UInt32?

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
            progress.lastRejection = nil
            phase = .capturing(progress)
            return g.hint == .done ? endCapture() : provisionalDue(g)

        case (.provisional(var progress, let m), .guidance(let g)):
            progress.guidance = g
            progress.lastRejection = nil
            phase = .provisional(progress, m)
            return g.hint == .done ? endCapture() : provisionalDue(g)

        case (.capturing(var progress), .frameRejected(let r)):
            progress.rejectedFrames += 1
            progress.lastRejection = r.kind
            phase = .capturing(progress)
            return []

        case (.provisional(var progress, let m), .frameRejected(let r)):
            progress.rejectedFrames += 1
            progress.lastRejection = r.kind
            phase = .provisional(progress, m)
            return []

        case (.capturing(let progress), .provisionalMeasured(let m)),
             (.provisional(let progress, _), .provisionalMeasured(let m)):
            provisionalInFlight = false
            // Only a measurement that pins a size is worth showing while capture goes on.
            if m.status == .ok { phase = .provisional(progress, m) }
            return []

        case (.capturing, .provisionalUnavailable), (.provisional, .provisionalUnavailable):
            // Only the final measurement's errors stop the flow.
            provisionalInFlight = false
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
        provisionalInFlight = false
        provisionalAtFrames = nil
    }

    private mutating func beginCapture() -> [ScanEffect] {
        provisionalInFlight = false
        provisionalAtFrames = nil
        phase = .capturing(.empty)
        return [.startCapture]
    }

    /// A provisional measurement when enough was seen, none is running, and enough new frames
    /// were fused since the last one.
    private mutating func provisionalDue(_ g: Guidance) -> [ScanEffect] {
        guard !provisionalInFlight, g.framesFused >= settings.provisionalAfterFrames,
              g.coverageDeg >= settings.provisionalAfterCoverageDeg else { return [] }
        if let last = provisionalAtFrames, g.framesFused < last + settings.provisionalEveryFrames { return [] }
        provisionalInFlight = true
        provisionalAtFrames = g.framesFused
        return [.measureProvisional]
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

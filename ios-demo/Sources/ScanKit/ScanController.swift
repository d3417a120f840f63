import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Mandrel

/// Runs the scan flow: feeds events into the `ScanStateMachine` on the main actor and
/// carries out its effects with the Rust core (session, finish, seal), the depth source, the
/// encrypted pending-upload store and the uploader. Core calls that take time (`finish`,
/// sealing) run off the main actor: depth sources offer frames to the core from their own
/// queue (`offer_*`, never waiting), guidance and provisional measurements arrive through the
/// core's listener, and `finish` runs through `finishInBackground`. Results from a cancelled
/// scan are dropped.
@MainActor
public final class ScanController {
    /// Everything the controller works with.
    public struct Dependencies: Sendable {
        /// The session settings (hand, finger, …).
        public var sessionConfig: SessionConfig
        /// Frames.
        public var depthSource: DepthSource
        /// The camera permission prompt.
        public var camera: CameraPermission
        /// Sends requests.
        public var uploader: Uploader
        /// Builds the upload request.
        public var requestBuilder: EnvelopeRequestBuilder
        /// Keeps the sealed envelope until it is delivered.
        public var pendingUploads: PendingUploadStore
        /// The retailer's X25519 public key, base64url.
        public var recipientPublicKey: String
        /// Waits before a retry (`Task.sleep` in the app; instant in tests).
        public var sleep: @Sendable (Double) async -> Void

        /// The dependencies.
        public init(sessionConfig: SessionConfig, depthSource: DepthSource, camera: CameraPermission,
                    uploader: Uploader, requestBuilder: EnvelopeRequestBuilder,
                    pendingUploads: PendingUploadStore, recipientPublicKey: String,
                    sleep: @escaping @Sendable (Double) async -> Void = { seconds in
                        try? await Task.sleep(nanoseconds: UInt64(max(seconds, 0) * 1e9))
                    }) {
            self.sessionConfig = sessionConfig
            self.depthSource = depthSource
            self.camera = camera
            self.uploader = uploader
            self.requestBuilder = requestBuilder
            self.pendingUploads = pendingUploads
            self.recipientPublicKey = recipientPublicKey
            self.sleep = sleep
        }
    }

    /// The flow's rules and data.
    public private(set) var machine: ScanStateMachine
    /// The current phase.
    public var phase: ScanPhase { machine.phase }
    /// Called on the main actor after every change of phase (the UI's model listens here).
    public var onPhaseChange: ((ScanPhase) -> Void)?
    /// The open core session (`nil` outside a scan).
    public private(set) var session: ScanSession?
    /// Every effect run, in order (for diagnostics and tests).
    public private(set) var effectLog: [ScanEffect] = []
    /// The latest events of a cancelled or replaced scan that arrived late and were dropped (a
    /// guidance still in flight, a measurement that finished after cancel); the last 16 only.
    public private(set) var staleEvents: [ScanEvent] = []

    private let deps: Dependencies
    /// Bumped when a scan starts or is discarded: late results of an older scan are dropped.
    private var generation = 0
    private var pendingScanID: String?
    private var work: [Task<Void, Never>] = []

    /// A controller in `idle`.
    public init(dependencies: Dependencies, settings: ScanStateMachine.Settings = .init()) {
        self.deps = dependencies
        self.machine = ScanStateMachine(settings: settings)
    }

    /// Starts the flow with the platform's current camera permission.
    public func start() {
        send(.start(deps.camera.status()))
    }

    /// Sends the oldest envelope an earlier run sealed but could not deliver (the app was
    /// closed mid-upload); returns false when there is none or the flow is not idle. An
    /// envelope that no longer decrypts (key deleted, file altered) is removed.
    @discardableResult
    public func resumePendingUpload() -> Bool {
        guard phase == .idle else { return false }
        for scanID in deps.pendingUploads.pendingScanIDs() {
            do {
                let envelope = try deps.pendingUploads.load(scanID: scanID)
                pendingScanID = scanID
                send(.resumeUpload(envelope))
                return true
            } catch {
                try? deps.pendingUploads.remove(scanID: scanID)
            }
        }
        return false
    }

    /// Applies `event` and runs the resulting effects.
    public func send(_ event: ScanEvent) {
        let before = machine.phase
        let effects = machine.handle(event)
        for effect in effects {
            effectLog.append(effect)
            run(effect)
        }
        if machine.phase != before { onPhaseChange?(machine.phase) }
    }

    /// A sink that delivers events of the current scan only.
    private func sink() -> ScanEventSink {
        let mine = generation
        return ScanEventSink { [weak self] event in
            Task { @MainActor in self?.receive(event, generation: mine) }
        }
    }

    private func receive(_ event: ScanEvent, generation mine: Int) {
        guard mine == generation else {
            staleEvents = Array((staleEvents + [event]).suffix(16))
            return
        }
        send(event)
    }

    private func run(_ effect: ScanEffect) {
        switch effect {
        case .requestCameraPermission:
            let camera = deps.camera, events = sink()
            work.append(Task { events.send(.cameraPermissionAnswered(granted: await camera.request())) })

        case .startCapture:
            generation += 1
            session?.setListener(listener: nil)
            do {
                let session = try ScanSession(config: deps.sessionConfig)
                let events = sink()
                session.setListener(listener: ListenerRelay(events))
                self.session = session
                deps.depthSource.start(session: session, events: events)
            } catch {
                send(.failed(.core(error as? MandrelError ?? .Internal(message: "\(error)"))))
            }

        case .stopCapture:
            deps.depthSource.stop()

        case .finish:
            guard let session else { return }
            // The core waits for the frames already offered, measures on its own thread and
            // calls the relay; the main actor never waits. A result that arrives after a
            // cancel or a new scan is dropped by the sink's generation check.
            let events = sink()
            do {
                try session.finishInBackground(listener: FinishRelay(events))
            } catch {
                send(.failed(.core(error as? MandrelError ?? .Internal(message: "\(error)"))))
            }

        case .seal(let consent):
            guard let measurement = machine.measurement else { return }
            let key = deps.recipientPublicKey
            let mine = generation
            work.append(Task.detached { [weak self] in
                let result: Result<SealedEnvelope, MandrelError> = Result {
                    let scanID = try newScanId()
                    let json = try sealMeasurement(measurement: measurement, consent: consent.coreConsent,
                                                   recipientPublicKey: key, scanId: scanID)
                    return SealedEnvelope(scanID: scanID, json: json)
                }.mapError { $0 as? MandrelError ?? .Internal(message: "\($0)") }
                await self?.sealFinished(result, generation: mine)
            })

        case .upload(let attempt):
            guard let envelope = machine.envelope else { return }
            let request: URLRequest
            do {
                request = try deps.requestBuilder.request(for: envelope, attempt: attempt)
            } catch {
                send(.uploadFinished(.failed(error as? UploadFailure ?? .badRequest("\(error)"))))
                return
            }
            let uploader = deps.uploader, events = sink()
            work.append(Task {
                do {
                    let response = try await uploader.send(request)
                    events.send(.uploadFinished(response.outcome))
                } catch let failure as UploadFailure {
                    events.send(.uploadFinished(.failed(failure)))
                } catch {
                    events.send(.uploadFinished(.failed(.network("\(error)"))))
                }
            })

        case .scheduleRetry(let delay):
            let sleep = deps.sleep, events = sink()
            work.append(Task {
                await sleep(delay)
                events.send(.retryTimerFired)
            })

        case .discardScanData:
            generation += 1
            deps.depthSource.stop()
            session?.setListener(listener: nil)
            session = nil
            work.forEach { $0.cancel() }
            work.removeAll()
            if let id = pendingScanID {
                do { try deps.pendingUploads.remove(scanID: id) } catch {
                    // The flow is already discarded; the next start retries the removal.
                }
                pendingScanID = nil
            }

        case .clearPendingUpload(let scanID):
            try? deps.pendingUploads.remove(scanID: scanID)
            pendingScanID = nil
            session?.setListener(listener: nil)
            session = nil
            work.removeAll()
        }
    }

    /// Keeps the envelope encrypted on disk before the first upload attempt, so it survives
    /// the app closing; a seal that finishes after a cancel is thrown away.
    private func sealFinished(_ result: Result<SealedEnvelope, MandrelError>, generation mine: Int) {
        guard mine == generation else { return }
        switch result {
        case .success(let envelope):
            do {
                try deps.pendingUploads.save(envelope)
                pendingScanID = envelope.scanID
                send(.sealed(envelope))
            } catch {
                send(.failed(.storage("\(error)")))
            }
        case .failure(let error):
            send(.failed(.core(error)))
        }
    }

    /// Waits until the running effects settled (tests and previews).
    public func settle() async {
        while let task = work.first {
            work.removeFirst()
            await task.value
        }
    }
}

/// Forwards the core's listener calls (on its frame worker thread) to the controller.
final class ListenerRelay: ScanListener, @unchecked Sendable {
    private let events: ScanEventSink

    init(_ events: ScanEventSink) {
        self.events = events
    }

    func onGuidance(guidance: Guidance) {
        events.send(.guidance(guidance))
    }

    func onFrameRejected(rejection: FrameRejection) {
        events.send(.frameRejected(rejection))
    }
}

/// Forwards the core's `finishInBackground` result (on its finish thread) to the controller.
final class FinishRelay: FinishListener, @unchecked Sendable {
    private let events: ScanEventSink

    init(_ events: ScanEventSink) {
        self.events = events
    }

    func onMeasurement(measurement: RingMeasurement) {
        events.send(.measured(measurement))
    }

    func onFailure(message: String) {
        events.send(.failed(.core(Self.error(message))))
    }

    /// The listener gets the core error's text ("not enough data: …", the usual case when
    /// nothing was captured); anything else is a core failure the shopper cannot fix.
    static func error(_ message: String) -> MandrelError {
        message.hasPrefix("not enough data") ? .NotEnoughData(message: message) : .Internal(message: message)
    }
}

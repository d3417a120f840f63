// The UI's model: owns the ScanController on the main actor and republishes its phase.
// Frames never pass through here: depth sources offer them to the core from their own
// capture queues, and the measurement is taken off the main actor (finishInBackground).
import Combine
import Foundation
import Mandrel
import ScanKit

@MainActor
final class ScanModel: ObservableObject {
    @Published private(set) var phase: ScanPhase = .idle
    @Published private(set) var sourceName: String
    let text: LocalizedText
    let formatter: ResultFormatter
    /// The virtual sensor's truth in demo mode, shown beside the result.
    let demoTruth: VirtualScanTruth?
    private let controller: ScanController

    init(controller: ScanController, sourceName: String, demoTruth: VirtualScanTruth?, locale: Locale = .current) {
        self.controller = controller
        self.sourceName = sourceName
        self.demoTruth = demoTruth
        self.text = LocalizedText(locale: locale)
        self.formatter = ResultFormatter(locale: locale, text: LocalizedText(locale: locale))
        controller.onPhaseChange = { [weak self] phase in self?.phase = phase }
    }

    /// The app's wiring: the best depth camera this device has (LiDAR, then TrueDepth), else
    /// demo mode on the virtual sensor; Keychain, URLSession and the pending-upload folder.
    static func makeDefault() -> ScanModel {
        let info = Bundle.main.infoDictionary ?? [:]
        let endpoint = URL(string: info["MandrelUploadURL"] as? String ?? "") ?? URL(string: "https://retailer.example/ring-sizes")!
        let key = info["MandrelRecipientKey"] as? String ?? ""
        let support = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        let pending = PendingUploadStore(directory: support.appendingPathComponent("pending-uploads"),
                                         keyStore: KeychainKeyStore(service: "app.mandrel.demo.data-key"))
        let choice = DepthSourceChoice.best()
        let truth = choice.demoTruth
        let hand = truth?.hand ?? .left
        let deps = ScanController.Dependencies(
            sessionConfig: sessionConfigDefaults(hand: hand, finger: .ring),
            depthSource: choice.source, camera: AVCameraPermission(), uploader: URLSessionUploader(),
            requestBuilder: EnvelopeRequestBuilder(endpoint: endpoint), pendingUploads: pending,
            recipientPublicKey: key)
        return ScanModel(controller: ScanController(dependencies: deps), sourceName: choice.name, demoTruth: truth)
    }

    func start() {
        // An envelope left by an earlier run goes first; the scan starts after it.
        if !controller.resumePendingUpload() { controller.start() }
    }
    func accept(purpose: String) {
        controller.send(.consentGranted(.grantedNow(purpose: purpose, scope: .measurement, policyVersion: "2026-01")))
    }
    func decline() { controller.send(.consentDeclined) }
    func finishNow() { controller.send(.finishRequested) }
    func send() { controller.send(.sendRequested) }
    func retry() { controller.send(.retry) }
    func cancel() { controller.send(.cancel) }
    func cameraAnswered(_ granted: Bool) { controller.send(.cameraPermissionAnswered(granted: granted)) }
}

// Drop-in ARKit scanner for an iOS app, wired to mandrel. Not built in this repository (no
// Xcode here): add Mandrel.xcframework and Mandrel.swift from bindings/scripts/build-ios.sh,
// then present `ScanViewController`.
//
// What it shows: sceneDepth buffers handed over without copying (the CVPixelBuffer is
// locked and passed as Data with no copy), ARKit's camera transform passed in ARKit's
// own convention, intrinsics scaled from the colour image to the depth map, Apple Vision
// hand landmarks pushed for the frame they were detected on, guidance through the
// listener, and sealing with consent.
import ARKit
import Mandrel
import UIKit
import Vision

/// Receives mandrel's events on the camera queue and forwards them to the main thread.
final class ScanEvents: ScanListener, @unchecked Sendable {
    private let onGuidance: @Sendable (Guidance) -> Void
    init(onGuidance: @escaping @Sendable (Guidance) -> Void) { self.onGuidance = onGuidance }
    func onGuidance(guidance: Guidance) {
        DispatchQueue.main.async { [onGuidance] in onGuidance(guidance) }
    }
    func onFrameRejected(rejection: FrameRejection) {
        // A debug overlay could show rejection.message; mandrel never logs scan data.
    }
}

final class ScanViewController: UIViewController, ARSessionDelegate {
    private let arSession = ARSession()
    private let queue = DispatchQueue(label: "mandrel.scan")
    private var scan: ScanSession!
    private let hintLabel = UILabel()
    private var lastVisionFrame = -1

    override func viewDidLoad() {
        super.viewDidLoad()
        hintLabel.frame = view.bounds.insetBy(dx: 20, dy: 80)
        hintLabel.numberOfLines = 0
        view.addSubview(hintLabel)
        do {
            var config = sessionConfigDefaults(hand: .left, finger: .ring)
            config.voxelSizeM = 0.001
            scan = try ScanSession(config: config)
        } catch {
            hintLabel.text = "\(error)"
            return
        }
        scan.setListener(listener: ScanEvents { [weak self] g in self?.show(g) })
        let ar = ARWorldTrackingConfiguration()
        ar.frameSemantics = [.sceneDepth]       // LiDAR devices
        arSession.delegate = self
        arSession.delegateQueue = queue
        arSession.run(ar)
    }

    private func show(_ g: Guidance) {
        let hint: String
        switch g.hint {
        case .holdStill: hint = "Hold your hand still in view"
        case .moveCloser: hint = "Move closer"
        case .moveFarther: hint = "Move farther away"
        case .slowDown: hint = "Slow down"
        case .showPalmSide: hint = "Turn your hand to show the palm side"
        case .keepMoving: hint = "Keep moving around the finger"
        case .done: hint = "Done"
        }
        hintLabel.text = "\(hint)\n\(Int(g.coverageDeg))° seen, \(g.framesFused) frames"
        if g.hint == .done { finishScan() }
    }

    func session(_ session: ARSession, didUpdate frame: ARFrame) {
        guard let depth = frame.sceneDepth else { return }
        let map = depth.depthMap
        let w = CVPixelBufferGetWidth(map), h = CVPixelBufferGetHeight(map)
        // ARKit intrinsics are for the colour image: scale them to the depth map.
        let k = frame.camera.intrinsics
        let res = frame.camera.imageResolution
        let sx = Double(w) / Double(res.width), sy = Double(h) / Double(res.height)
        let intrinsics = CameraIntrinsics(width: UInt32(w), height: UInt32(h),
                                          fx: Double(k[0][0]) * sx, fy: Double(k[1][1]) * sy,
                                          cx: Double(k[2][0]) * sx, cy: Double(k[2][1]) * sy)
        let t = frame.camera.transform // simd_float4x4, columns
        let pose = CameraPose(convention: .arkit, columnMajor: [t.columns.0, t.columns.1, t.columns.2, t.columns.3].flatMap { [$0.x, $0.y, $0.z, $0.w] })
        let info = FrameInfo(intrinsics: intrinsics, pose: pose, timestampS: frame.timestamp, landmarks: nil)

        CVPixelBufferLockBaseAddress(map, .readOnly)
        defer { CVPixelBufferUnlockBaseAddress(map, .readOnly) }
        let depthData = Data(bytesNoCopy: CVPixelBufferGetBaseAddress(map)!,
                             count: CVPixelBufferGetBytesPerRow(map) * h, deallocator: .none)
        var confidence = Data()
        if let c = depth.confidenceMap {
            CVPixelBufferLockBaseAddress(c, .readOnly)
            // The confidence map is tightly packed (one byte per pixel, width-aligned).
            confidence = Data(bytes: CVPixelBufferGetBaseAddress(c)!, count: w * h)
            CVPixelBufferUnlockBaseAddress(c, .readOnly)
        }
        let layout = BufferLayout(width: UInt32(w), height: UInt32(h), bytesPerRow: UInt32(CVPixelBufferGetBytesPerRow(map)))
        guard let report = try? scan.pushArkitDepth(depth: depthData, confidence: confidence, layout: layout, info: info) else {
            return // the listener was told why
        }
        // Hand landmarks every 5th frame, on the colour image; Vision's points are
        // normalised, so they map onto the depth map of the same frame.
        if report.frameIndex % 5 == 0 { detectHand(frame.capturedImage, frameIndex: report.frameIndex) }
    }

    private func detectHand(_ image: CVPixelBuffer, frameIndex: UInt32) {
        let request = VNDetectHumanHandPoseRequest()
        request.maximumHandCount = 1
        try? VNImageRequestHandler(cvPixelBuffer: image, orientation: .up).perform([request])
        guard let hand = request.results?.first,
              let pts = try? hand.recognizedPoints(.all) else { return }
        // Vision joint names in MediaPipe order (wrist, thumb CMC..tip, index MCP..tip, ...).
        let order: [VNHumanHandPoseObservation.JointName] = [
            .wrist, .thumbCMC, .thumbMP, .thumbIP, .thumbTip,
            .indexMCP, .indexPIP, .indexDIP, .indexTip, .middleMCP, .middlePIP, .middleDIP, .middleTip,
            .ringMCP, .ringPIP, .ringDIP, .ringTip, .littleMCP, .littlePIP, .littleDIP, .littleTip]
        let normalised = order.compactMap { name in pts[name].map { PixelPoint(x: Double($0.location.x), y: Double($0.location.y)) } }
        guard normalised.count == 21 else { return }
        try? scan.pushAppleVisionLandmarks(frameIndex: frameIndex, normalised: normalised)
    }

    private func finishScan() {
        arSession.pause()
        queue.async { [scan] in
            guard let scan, let m = try? scan.finish() else { return }
            DispatchQueue.main.async { self.present(m) }
        }
    }

    private func present(_ m: RingMeasurement) {
        switch m.status {
        case .ok:
            hintLabel.text = "US \(m.recommended?.sizes.us ?? "?") · EU \(m.recommended?.sizes.eu ?? "?")\n\(m.recommended?.advice ?? "")"
        case .needsRescan:
            hintLabel.text = "Please scan again: \(m.reasons)"
        }
    }

    /// After the shopper agreed in the UI: the only way data leaves the phone.
    func upload(_ m: RingMeasurement, retailerKey: String) throws -> String {
        let consent = Consent(purpose: "ring sizing for your order", scope: .measurement,
                              policyVersion: "2026-01", grantedAt: nowRfc3339Utc())
        return try sealMeasurement(measurement: m, consent: consent, recipientPublicKey: retailerKey, scanId: try newScanId())
    }
}

// The rear LiDAR as a depth source: ARKit's sceneDepth (Float32 metres) with its confidence
// map and the camera transform (ARKit's convention; the core converts), intrinsics scaled
// from the captured image to the depth map, and Vision landmarks on the captured image.
// Threading: ARKit calls the delegate on `arQueue`, which runs Vision and offers the depth and
// confidence maps to the core with `offerArkitDepth`: the call copies the buffers and returns
// at once (the core works one frame at a time on its own thread and drops a waiting frame
// when a newer one arrives, counted in `Guidance.framesDropped`). No ARFrame buffer is kept
// after the callback, so ARKit never waits and never runs out of frames (it recycles a small
// pool).
import ARKit
import Mandrel
import ScanKit

final class LiDARDepthSource: NSObject, DepthSource, ARSessionDelegate, @unchecked Sendable {
    private let arSession = ARSession()
    private let arQueue = DispatchQueue(label: "mandrel.lidar.delegate", qos: .userInitiated)
    private let handPose = HandPoseDetector()
    private let lock = NSLock()
    private var session: ScanSession?
    private var events: ScanEventSink?

    func start(session: ScanSession, events: ScanEventSink) {
        lock.lock()
        self.session = session
        self.events = events
        lock.unlock()
        let config = ARWorldTrackingConfiguration()
        guard ARWorldTrackingConfiguration.supportsFrameSemantics(.sceneDepth) else {
            events.send(.failed(.core(.InvalidConfig(message: "this device has no LiDAR sceneDepth"))))
            return
        }
        // Raw per-frame depth (not smoothedSceneDepth: the core fuses frames itself).
        config.frameSemantics = [.sceneDepth]
        arSession.delegate = self
        arSession.delegateQueue = arQueue
        arSession.run(config, options: [.resetTracking, .removeExistingAnchors])
    }

    func stop() {
        lock.lock()
        session = nil
        events = nil
        lock.unlock()
        arSession.pause()
    }

    func session(_ arSession: ARSession, didUpdate frame: ARFrame) {
        lock.lock()
        let session = self.session, events = self.events
        lock.unlock()
        guard let session, let events, let depth = frame.sceneDepth else { return }
        offer(session: session, events: events, depthMap: depth.depthMap, confidence: depth.confidenceMap,
              image: frame.capturedImage, camera: frame.camera, timestamp: frame.timestamp)
    }

    private func offer(session: ScanSession, events: ScanEventSink, depthMap: CVPixelBuffer, confidence: CVPixelBuffer?, image: CVPixelBuffer,
                      camera: ARCamera, timestamp: TimeInterval) {
        let size = PixelSize(width: CVPixelBufferGetWidth(depthMap), height: CVPixelBufferGetHeight(depthMap))
        let k = camera.intrinsics
        let resolution = camera.imageResolution
        guard let intrinsics = try? scaleIntrinsics(
            fx: Double(k[0][0]), fy: Double(k[1][1]), cx: Double(k[2][0]), cy: Double(k[2][1]),
            video: PixelSize(width: Int(resolution.width), height: Int(resolution.height)), depth: size) else { return }
        let t = camera.transform
        let pose = CameraPose(convention: .arkit, columnMajor: [t.columns.0, t.columns.1, t.columns.2, t.columns.3].flatMap { [$0.x, $0.y, $0.z, $0.w] })
        let landmarks = handPose.detect(in: image, orientation: .up).flatMap { HandLandmarks.depthPixels($0, size: size) }
        let info = FrameInfo(intrinsics: intrinsics, pose: pose, timestampS: timestamp, landmarks: landmarks)

        CVPixelBufferLockBaseAddress(depthMap, .readOnly)
        defer { CVPixelBufferUnlockBaseAddress(depthMap, .readOnly) }
        guard let base = CVPixelBufferGetBaseAddress(depthMap) else { return }
        let bytesPerRow = CVPixelBufferGetBytesPerRow(depthMap)
        let depthBytes = Data(bytesNoCopy: base, count: bytesPerRow * size.height, deallocator: .none)
        var confidenceBytes = Data()
        if let confidence {
            CVPixelBufferLockBaseAddress(confidence, .readOnly)
            defer { CVPixelBufferUnlockBaseAddress(confidence, .readOnly) }
            // The core takes the confidence map tightly packed (one ARConfidenceLevel byte per pixel).
            if let c = CVPixelBufferGetBaseAddress(confidence) {
                let stride = CVPixelBufferGetBytesPerRow(confidence)
                confidenceBytes.reserveCapacity(size.width * size.height)
                for row in 0..<size.height {
                    confidenceBytes.append(c.advanced(by: row * stride).assumingMemoryBound(to: UInt8.self), count: size.width)
                }
            }
        }
        let layout = BufferLayout(width: UInt32(size.width), height: UInt32(size.height), bytesPerRow: UInt32(bytesPerRow))
        // Returns at once; the frame's problems reach the UI through the session's listener.
        do {
            try session.offerArkitDepth(depth: depthBytes, confidence: confidenceBytes, layout: layout, info: info)
        } catch {
            events.send(.failed(.core(error as? MandrelError ?? .Internal(message: "\(error)"))))
        }
    }
}

// Picks the depth source: LiDAR (ARKit sceneDepth) on devices that have it, the front
// TrueDepth camera otherwise, and demo mode on the virtual sensor when there is no depth
// camera at all (the simulator, older phones).
import ARKit
import AVFoundation
import Mandrel
import ScanKit

struct DepthSourceChoice {
    let source: DepthSource
    let name: String
    /// The virtual sensor's truth in demo mode.
    var demoTruth: VirtualScanTruth? = nil

    static func best() -> DepthSourceChoice {
        if ARWorldTrackingConfiguration.supportsFrameSemantics(.sceneDepth) {
            return DepthSourceChoice(source: LiDARDepthSource(), name: "LiDAR")
        }
        if AVCaptureDevice.default(.builtInTrueDepthCamera, for: .video, position: .front) != nil {
            return DepthSourceChoice(source: TrueDepthSource(), name: "TrueDepth")
        }
        #if MANDREL_SIM
        // Demo mode: the core's virtual sensor at about 30 frames per second.
        let seed = UInt64.random(in: 1...UInt64(UInt32.max))
        if let demo = try? VirtualDepthSource(seed: seed, options: virtualScanDefaults(), frameIntervalSeconds: 1.0 / 30.0) {
            return DepthSourceChoice(source: demo, name: "Demo (virtual sensor)", demoTruth: demo.truth)
        }
        #endif
        return DepthSourceChoice(source: NoDepthSource(), name: "No depth camera")
    }
}

/// A source that reports at once that it has nothing (a build without the virtual sensor on a
/// device without a depth camera).
final class NoDepthSource: DepthSource, @unchecked Sendable {
    func start(session: ScanSession, events: ScanEventSink) {
        events.send(.failed(.core(.NotEnoughData(message: "this device has no depth camera"))))
    }
    func stop() {}
}

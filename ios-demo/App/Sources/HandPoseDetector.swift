// Vision hand landmarks: VNDetectHumanHandPoseRequest on the colour frame, joints mapped to
// ScanKit's MediaPipe-ordered HandJoint (normalised, origin bottom-left as Vision gives them).
import CoreVideo
import ImageIO
import ScanKit
import Vision

final class HandPoseDetector: @unchecked Sendable {
    private let request: VNDetectHumanHandPoseRequest = {
        let r = VNDetectHumanHandPoseRequest()
        r.maximumHandCount = 1
        return r
    }()

    private static let joints: [(VNHumanHandPoseObservation.JointName, HandJoint)] = [
        (.wrist, .wrist),
        (.thumbCMC, .thumbCMC), (.thumbMP, .thumbMP), (.thumbIP, .thumbIP), (.thumbTip, .thumbTip),
        (.indexMCP, .indexMCP), (.indexPIP, .indexPIP), (.indexDIP, .indexDIP), (.indexTip, .indexTip),
        (.middleMCP, .middleMCP), (.middlePIP, .middlePIP), (.middleDIP, .middleDIP), (.middleTip, .middleTip),
        (.ringMCP, .ringMCP), (.ringPIP, .ringPIP), (.ringDIP, .ringDIP), (.ringTip, .ringTip),
        (.littleMCP, .littleMCP), (.littlePIP, .littlePIP), (.littleDIP, .littleDIP), (.littleTip, .littleTip),
    ]

    /// The joints of the most prominent hand in `image`, or `nil` when there is none. Called
    /// on the capture queue (the request object is used by one queue only).
    func detect(in image: CVPixelBuffer, orientation: CGImagePropertyOrientation) -> [HandJoint: VisionJoint]? {
        let handler = VNImageRequestHandler(cvPixelBuffer: image, orientation: orientation)
        guard (try? handler.perform([request])) != nil,
              let hand = request.results?.first,
              let points = try? hand.recognizedPoints(.all) else { return nil }
        var out: [HandJoint: VisionJoint] = [:]
        for (name, joint) in Self.joints {
            guard let p = points[name] else { continue }
            out[joint] = VisionJoint(x: Double(p.location.x), y: Double(p.location.y), confidence: Double(p.confidence))
        }
        return out
    }
}

import Mandrel

/// The 21 hand joints, declared in MediaPipe's landmark order (wrist, then each finger from
/// its base to its tip: thumb, index, middle, ring, little). The app maps Apple Vision's
/// `VNHumanHandPoseObservation.JointName` onto these one by one.
public enum HandJoint: Int, CaseIterable, Sendable {
    case wrist
    case thumbCMC, thumbMP, thumbIP, thumbTip
    case indexMCP, indexPIP, indexDIP, indexTip
    case middleMCP, middlePIP, middleDIP, middleTip
    case ringMCP, ringPIP, ringDIP, ringTip
    case littleMCP, littlePIP, littleDIP, littleTip

    /// Index in MediaPipe's 21-landmark list.
    public var mediaPipeIndex: Int { rawValue }
}

/// One joint as Vision reports it: normalised image coordinates in `[0, 1]` with the origin
/// at the bottom left (`VNRecognizedPoint.location`), and its confidence.
public struct VisionJoint: Equatable, Sendable {
    /// Horizontal position, 0 = left edge, 1 = right edge.
    public let x: Double
    /// Vertical position, 0 = bottom edge, 1 = top edge.
    public let y: Double
    /// Vision's confidence in `[0, 1]`.
    public let confidence: Double

    /// A joint.
    public init(x: Double, y: Double, confidence: Double) {
        self.x = x
        self.y = y
        self.confidence = confidence
    }
}

/// Hand landmarks in the order and coordinates the core takes.
public enum HandLandmarks {
    /// The joints in MediaPipe order, still normalised with Vision's bottom-left origin (what
    /// `ScanSession.pushAppleVisionLandmarks` takes), or `nil` when a joint is missing,
    /// below `minConfidence`, or outside the image.
    public static func mediaPipeOrder(_ joints: [HandJoint: VisionJoint], minConfidence: Double = 0.3) -> [PixelPoint]? {
        var points: [PixelPoint] = []
        points.reserveCapacity(HandJoint.allCases.count)
        for joint in HandJoint.allCases {
            guard let j = joints[joint], j.confidence >= minConfidence,
                  (0...1).contains(j.x), (0...1).contains(j.y) else { return nil }
            points.append(PixelPoint(x: j.x, y: j.y))
        }
        return points
    }

    /// The joints in MediaPipe order, in pixels of a `size` image with the origin at the
    /// top-left pixel's centre (`x * w - 0.5`, `(1 - y) * h - 0.5`): what `FrameInfo.landmarks`
    /// and `pushLandmarks` take. The same mapping as the core's Vision conversion.
    public static func depthPixels(_ joints: [HandJoint: VisionJoint], size: PixelSize, minConfidence: Double = 0.3) -> [PixelPoint]? {
        guard size.width > 0, size.height > 0,
              let normalised = mediaPipeOrder(joints, minConfidence: minConfidence) else { return nil }
        let w = Double(size.width), h = Double(size.height)
        return normalised.map { PixelPoint(x: $0.x * w - 0.5, y: (1 - $0.y) * h - 0.5) }
    }
}

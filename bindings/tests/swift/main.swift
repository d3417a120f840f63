// Swift binding tests (Swift 6 language mode): what an iOS shell sees of mandrel.
// Usage: mandrel-tests REPO_ROOT. Prints "N passed, N failed"; exits 1 on any failure.
import Foundation
import Mandrel

let repo = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "."
var h = Harness()

h.test("library loads and reports its version") {
    try expect(!mandrelVersion().isEmpty, "empty version")
}

h.test("Apple Vision landmarks: normalised bottom-left to pixels") {
    let pts = (0..<21).map { PixelPoint(x: Double($0) / 20.0, y: 0.25) }
    let px = try landmarksFromAppleVision(normalised: pts, width: 640, height: 480)
    try expect(px.count == 21, "count \(px.count)")
    try expect(abs(px[20].x - 639.5) < 1e-9, "x \(px[20].x)")
}

h.test("Apple Vision landmarks: wrong count is InvalidFrame") {
    try expectError({ _ = try landmarksFromAppleVision(normalised: [PixelPoint(x: 0.5, y: 0.5)], width: 640, height: 480) }) {
        if case .InvalidFrame(let message) = $0 { return message.contains("21") }
        return false
    }
}

h.test("ARKit pose that is not rigid is InvalidFrame") {
    let m: [Float] = [2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    try expectError({ _ = try poseToOpencvRowMajor(cameraPose: CameraPose(convention: .arkit, columnMajor: m)) }) {
        if case .InvalidFrame = $0 { return true }
        return false
    }
}

runSessionTests(&h, repo: repo)
exit(h.summary())

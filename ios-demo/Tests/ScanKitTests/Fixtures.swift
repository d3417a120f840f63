import Foundation
import Mandrel
@testable import ScanKit
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Test doubles and sample values shared by the suites.
enum Fixture {
    static let labels = SizeLabels(iso: "54", us: "7", uk: "N1/2", eu: "54", jp: "14", ch: "14", india: "n/a", cn: "14")

    static func measurement(status: MeasurementStatus = .ok, reasons: [RescanReason] = [], ring: Double = 54.0) -> RingMeasurement {
        RingMeasurement(
            status: status, reasons: reasons, hand: .left, finger: .ring,
            ringCircumferenceMm: status == .ok ? ring : nil,
            knuckleCircumferenceMm: status == .ok ? ring + 3.1 : nil,
            uncertaintyMm: status == .ok ? 0.2 : nil,
            sizes: status == .ok ? labels : nil,
            recommended: status == .ok ? Recommendation(circumferenceMm: ring + 1.55, sizes: labels,
                                                        advice: "Your knuckle is 3.1 mm larger than the base of your finger.") : nil,
            coverageDeg: 300, framesUsed: 30, locateMethod: .landmarks,
            timings: StageTimings(trackMs: 0, fuseMs: 0, observeMs: 0, locateMs: 0, sectionMs: 0, totalMs: 0))
    }

    static func guidance(frames: UInt32, coverage: Double, hint: ScanHint, provisional: ProvisionalMeasurement? = nil,
                         dropped: UInt32 = 0) -> Guidance {
        Guidance(framesPushed: frames, framesFused: frames, coverageDeg: coverage, tracking: .platform, hint: hint,
                 provisional: provisional, framesDropped: dropped)
    }

    /// A provisional measurement as the core delivers it with the guidance.
    static func provisional(frames: UInt32 = 10, ring: Double? = 54.2, status: MeasurementStatus = .ok,
                            missing: RescanReason? = nil) -> ProvisionalMeasurement {
        ProvisionalMeasurement(framesPushed: frames, ringCircumferenceMm: ring, uncertaintyMm: ring == nil ? nil : 0.3,
                               status: status, missing: missing)
    }

    static let consent = ConsentRecord(purpose: "ring sizing for order 1234", scope: .measurement,
                                       policyVersion: "2026-01", grantedAt: "2026-12-07T04:00:00Z", shownInLocale: "en_GB")

    /// A temporary folder removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("scankit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Camera permission with a fixed answer.
struct FixedCamera: CameraPermission {
    let current: CameraAuthorization
    let grants: Bool
    func status() -> CameraAuthorization { current }
    func request() async -> Bool { grants }
}

/// An uploader that answers from a script and records every request.
final class ScriptedUploader: Uploader, @unchecked Sendable {
    private let lock = NSLock()
    private var script: [Result<HTTPResponseSummary, UploadFailure>]
    private(set) var requests: [URLRequest] = []

    init(_ script: [Result<HTTPResponseSummary, UploadFailure>]) {
        self.script = script
    }

    var sent: [URLRequest] {
        lock.lock(); defer { lock.unlock() }
        return requests
    }

    func send(_ request: URLRequest) async throws -> HTTPResponseSummary {
        let next: Result<HTTPResponseSummary, UploadFailure> = {
            lock.lock(); defer { lock.unlock() }
            requests.append(request)
            return script.isEmpty ? .success(HTTPResponseSummary(status: 201)) : script.removeFirst()
        }()
        return try next.get()
    }
}

/// A depth source that pushes nothing (state-machine tests drive events by hand).
final class SilentSource: DepthSource, @unchecked Sendable {
    private(set) var starts = 0
    private(set) var stops = 0
    func start(session: ScanSession, events: ScanEventSink) { starts += 1 }
    func stop() { stops += 1 }
}

/// Polls `condition` on the main actor until it holds or `timeout` passes.
@MainActor
func waitUntil(timeout: Double = 60, _ condition: @MainActor () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline { return false }
        try? await Task.sleep(nanoseconds: 5_000_000)
    }
    return true
}

/// Fails the test unless `condition` holds within `timeout` seconds.
@MainActor
func expectEventually(timeout: Double = 60, _ condition: @MainActor () -> Bool, _ message: @autoclosure () -> String = "",
                      file: StaticString = #filePath, line: UInt = #line) async {
    let reached = await waitUntil(timeout: timeout, condition)
    XCTAssertTrue(reached, "not reached in \(timeout) s: \(message())", file: file, line: line)
}

import Foundation
import Mandrel
@testable import ScanKit
import XCTest

/// The whole flow through the real Rust library, with the virtual sensor as the depth
/// source offering frames like a camera (`offerNext`: the core may drop frames): consent,
/// capture with guidance and the core's provisional measurement, `finishInBackground`,
/// result, seal, upload with retries, and the envelope opened by the `mandrel` CLI
/// (`MANDREL_CLI`, set by test.sh).
final class SimulatedScanTests: XCTestCase {
    func testSimulatedScanMeasuresWithinHalfAMillimetreAndItsEnvelopeOpensWithTheCli() async throws {
        try await SimulatedScan.measureSealUploadAndOpen()
    }

    func testCancellingMidScanLeavesNothingBehind() async throws {
        try await SimulatedScan.cancelMidScan()
    }

    func testCancellingWhileTheCoreMeasuresDropsTheLateMeasurement() async throws {
        try await SimulatedScan.cancelMidFinish()
    }

    func testCancellingWhileSealingKeepsNoEnvelope() async throws {
        try await SimulatedScan.cancelWhileSealing()
    }

    func testAnOutOfRangeSessionSettingFailsTheFlowWithTheCoreError() async throws {
        try await SimulatedScan.outOfRangeSetting()
    }

    func testAPendingEnvelopeFromAnEarlierRunIsDeliveredAndAnUnreadableOneDropped() async throws {
        try await SimulatedScan.resumePending()
    }
}

/// The scenarios, on the main actor like the app's controller.
@MainActor
enum SimulatedScan {
    private static var env: [String: String] { ProcessInfo.processInfo.environment }

    /// Runs `executable` with `arguments`; returns its standard output, failing on a non-zero exit.
    private static func run(_ executable: String, _ arguments: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: "cli", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey:
                "\(executable) \(arguments.joined(separator: " ")) exited \(p.terminationStatus): \(String(decoding: errData, as: UTF8.self))"])
        }
        return data
    }

    private static func controller(source: DepthSource, hand: HandSide, finger: FingerName, pending: PendingUploadStore,
                            uploader: Uploader, key: String, voxel: Float? = nil) -> ScanController {
        var config = sessionConfigDefaults(hand: hand, finger: finger)
        if let voxel { config.voxelSizeM = voxel }
        return ScanController(dependencies: .init(
            sessionConfig: config, depthSource: source, camera: FixedCamera(current: .notDetermined, grants: true),
            uploader: uploader,
            requestBuilder: EnvelopeRequestBuilder(endpoint: URL(string: "https://retailer.example/ring-sizes")!),
            pendingUploads: pending, recipientPublicKey: key, sleep: { _ in }))
    }

    static func measureSealUploadAndOpen() async throws {
        let dir = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = env["MANDREL_CLI"] ?? ""
        if cli.isEmpty && env["CI"] == "true" { XCTFail("MANDREL_CLI is not set (ios-demo/test.sh sets it)") }
        var recipient = "9Jh3y7bH9x0H4M1QfG8m2pXk0eV7cQ2l6sR1tY5uW3o"
        let keyPrefix = dir.appendingPathComponent("retailer").path
        if !cli.isEmpty {
            _ = try run(cli, ["keygen", keyPrefix])
            recipient = try String(contentsOfFile: keyPrefix + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        // 10 frames per second, offered like a camera's: the core works each before the next
        // comes unless the machine is loaded (then it drops some and says how many). 60 frames,
        // so that the core's provisional measurement (every 10 frames) can reach `ok` and its
        // guidance say `done` before the source runs out.
        var options = virtualScanDefaults()
        options.frames = 60
        let source = try VirtualDepthSource(seed: 17, options: options, frameIntervalSeconds: 0.1)
        let truth = source.truth
        let pending = PendingUploadStore(directory: dir.appendingPathComponent("pending"), keyStore: InMemoryKeyStore())
        let uploader = ScriptedUploader([.failure(.network("offline")), .success(HTTPResponseSummary(status: 503, retryAfterSeconds: 0)),
                                         .success(HTTPResponseSummary(status: 201))])
        let c = controller(source: source, hand: truth.hand, finger: truth.finger, pending: pending, uploader: uploader, key: recipient)
        var phases: [ScanPhase] = []
        c.onPhaseChange = { phases.append($0) }

        c.start()
        await expectEventually({ c.phase == .awaitingConsent }, "\(c.phase)")
        c.send(.consentGranted(Fixture.consent))
        await expectEventually({ if case .result = c.phase { return true }; return c.phase.isTerminal || { if case .failed = c.phase { return true }; return false }() }, "\(c.phase)")
        guard case .result(let m) = c.phase else { return XCTFail("no result: \(c.phase)") }
        XCTAssertEqual(m.status, .ok, "reasons \(m.reasons)")
        let ring = try XCTUnwrap(m.ringCircumferenceMm)
        let error = ring - truth.ringCircumferenceMm
        print("simulated scan (seed 17, \(truth.finger), \(m.framesUsed) frames): ring \(String(format: "%.3f", ring)) mm, truth \(String(format: "%.3f", truth.ringCircumferenceMm)) mm, error \(String(format: "%+.3f", error)) mm")
        XCTAssertLessThanOrEqual(abs(error), 0.5)
        // Measured through finishInBackground, after the capture stopped.
        XCTAssertEqual(c.effectLog.filter { $0 == .finish }.count, 1)
        XCTAssertTrue(phases.contains(.finishing))
        let stopAt = try XCTUnwrap(c.effectLog.firstIndex(of: .stopCapture)), finishAt = try XCTUnwrap(c.effectLog.firstIndex(of: .finish))
        XCTAssertLessThan(stopAt, finishAt, "the source stops before the core measures")
        // The guidance the overlay showed last, and the provisional measurements it carried.
        let progresses: [(CaptureProgress, ProvisionalMeasurement?)] = phases.compactMap {
            switch $0 {
            case .capturing(let p): return (p, nil)
            case .provisional(let p, let v): return (p, v)
            default: return nil
            }
        }
        let last = try XCTUnwrap(progresses.last?.0.guidance, "no guidance reached the controller")
        let shown = progresses.compactMap { $0.1 }
        XCTAssertFalse(shown.isEmpty, "the core delivered no provisional measurement with a value in \(last.framesPushed) frames")
        XCTAssertTrue(shown.allSatisfy { $0.ringCircumferenceMm != nil })
        let firstShown = try XCTUnwrap(shown.first)
        // The session's own counts at the end (guidance that arrived after capture stopped is not shown).
        let session = try XCTUnwrap(c.session, "the session is kept until the envelope is delivered")
        let totals = try session.guidance()
        XCTAssertEqual(totals.framesDropped, session.framesDropped())
        XCTAssertLessThanOrEqual(totals.framesPushed + totals.framesDropped, 60, "more frames than the source has")
        print("simulated scan, session totals: \(totals.framesPushed + totals.framesDropped) frames offered, \(totals.framesPushed) worked, \(totals.framesDropped) dropped")
        // Guidance saying done moves straight to .finishing, so the phases hold the guidance just
        // before it; capture stopping before the source's 60 frames means it came (nothing else here
        // asks to finish).
        let offered = totals.framesPushed + totals.framesDropped
        let doneAt = offered < 60 ? "guidance said done on frame \(last.framesPushed + 1) worked, \(offered) of 60 offered"
            : "the source ran out first (last hint shown \(last.hint))"
        print("simulated scan, last guidance shown: \(last.framesPushed) frames worked, \(last.framesDropped) dropped; first provisional after \(firstShown.framesPushed) frames: \(String(format: "%.3f", firstShown.ringCircumferenceMm ?? .nan)) mm (\(firstShown.status)); \(doneAt)")

        c.send(.sendRequested)
        await expectEventually({ c.phase.isTerminal || { if case .failed = c.phase { return true }; return false }() }, "\(c.phase)")
        guard case .done(let scanID) = c.phase else { return XCTFail("not delivered: \(c.phase)") }
        XCTAssertTrue(phases.contains(.waitingToRetry(nextAttempt: 2, delaySeconds: 1)), "\(phases)")
        let sent = uploader.sent
        XCTAssertEqual(sent.count, 3)
        XCTAssertEqual(Set(sent.compactMap { $0.value(forHTTPHeaderField: "Idempotency-Key") }), [scanID])
        XCTAssertEqual(Set(sent.compactMap(\.httpBody)).count, 1, "every attempt sends the same envelope")
        XCTAssertEqual(pending.pendingScanIDs(), [], "the delivered envelope was kept")
        XCTAssertNil(c.session)

        // Write the envelope out and open it as the retailer would.
        let body = try XCTUnwrap(sent.last?.httpBody)
        let out = env["MANDREL_ENVELOPE_OUT"].map { URL(fileURLWithPath: $0) } ?? dir.appendingPathComponent("sealed.json")
        try body.write(to: out)
        guard !cli.isEmpty else { return print("(mandrel open skipped: MANDREL_CLI not set)") }
        let opened = try run(cli, ["open", out.path, "--key", keyPrefix + ".key", "--json"])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: opened) as? [String: Any])
        let measurement = try XCTUnwrap(json["measurement"] as? [String: Any])
        XCTAssertEqual((measurement["ring_circumference_mm"] as? NSNumber)?.doubleValue ?? .nan, ring, accuracy: 1e-9)
        XCTAssertEqual(measurement["status"] as? String, "ok")
        let header = try XCTUnwrap(json["header"] as? [String: Any])
        XCTAssertTrue("\(header)".contains(Fixture.consent.purpose), "\(header)")
        XCTAssertTrue("\(header)".contains(scanID), "\(header)")
        print("mandrel open: \(out.lastPathComponent) opened, ring \(ring) mm, scan \(scanID)")
    }

    static func cancelMidScan() async throws {
        let dir = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try VirtualDepthSource(seed: 5, options: virtualScanDefaults(), frameIntervalSeconds: 0.05)
        let keys = InMemoryKeyStore()
        let pending = PendingUploadStore(directory: dir.appendingPathComponent("pending"), keyStore: keys)
        let uploader = ScriptedUploader([])
        let c = controller(source: source, hand: source.truth.hand, finger: source.truth.finger, pending: pending,
                           uploader: uploader, key: "9Jh3y7bH9x0H4M1QfG8m2pXk0eV7cQ2l6sR1tY5uW3o")
        c.start()
        await expectEventually({ c.phase == .awaitingConsent })
        c.send(.consentGranted(Fixture.consent))
        await expectEventually({
            switch c.phase {
            case .capturing(let p), .provisional(let p, _): return (p.guidance?.framesPushed ?? 0) >= 4
            default: return false
            }
        }, "\(c.phase)")
        XCTAssertTrue(c.phase.isCapturing, "the scan ended before it could be cancelled: \(c.phase)")
        weak var session = c.session
        XCTAssertNotNil(session)
        c.send(.cancel)
        XCTAssertEqual(c.phase, .discarded)
        XCTAssertNil(c.session)
        XCTAssertNil(c.machine.consent)
        XCTAssertNil(c.machine.measurement)
        XCTAssertNil(c.machine.envelope)
        // The source stops pushing and lets go of the session: the core frees every frame.
        await expectEventually(timeout: 10, { session == nil }, "the core session is still alive after cancel")
        let effects = c.effectLog.count
        try await Task.sleep(nanoseconds: 200_000_000)
        XCTAssertEqual(c.phase, .discarded, "a late event revived the scan")
        XCTAssertEqual(c.effectLog.count, effects, "effects ran after cancel: \(c.effectLog.suffix(3))")
        XCTAssertEqual(pending.pendingScanIDs(), [])
        XCTAssertTrue(uploader.sent.isEmpty)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        XCTAssertEqual(leftovers, [], "files left behind: \(leftovers)")
    }

    static func cancelMidFinish() async throws {
        let dir = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try VirtualDepthSource(seed: 5, options: virtualScanDefaults(), frameIntervalSeconds: 0.05)
        let pending = PendingUploadStore(directory: dir.appendingPathComponent("pending"), keyStore: InMemoryKeyStore())
        let c = controller(source: source, hand: source.truth.hand, finger: source.truth.finger, pending: pending,
                           uploader: ScriptedUploader([]), key: "9Jh3y7bH9x0H4M1QfG8m2pXk0eV7cQ2l6sR1tY5uW3o")
        c.start()
        await expectEventually({ c.phase == .awaitingConsent })
        c.send(.consentGranted(Fixture.consent))
        await expectEventually({
            switch c.phase {
            case .capturing(let p), .provisional(let p, _): return (p.guidance?.framesPushed ?? 0) >= 6
            default: return false
            }
        }, "\(c.phase)")
        XCTAssertTrue(c.phase.isCapturing, "the scan ended before it could be finished by hand: \(c.phase)")
        c.send(.finishRequested)
        XCTAssertEqual(c.phase, .finishing, "finish must not wait on the main actor")
        c.send(.cancel)
        XCTAssertEqual(c.phase, .discarded)
        let effects = c.effectLog.count
        // The core still measures on its own thread; its listener's result arrives and is dropped.
        let isFinishResult: (ScanEvent) -> Bool = {
            switch $0 {
            case .measured, .failed: return true
            default: return false
            }
        }
        await expectEventually({ c.staleEvents.contains(where: isFinishResult) }, "the cancelled measurement never came back: \(c.staleEvents.count) stale events")
        XCTAssertEqual(c.phase, .discarded, "a late measurement revived the scan")
        XCTAssertNil(c.machine.measurement)
        XCTAssertEqual(c.effectLog.count, effects, "effects ran after cancel: \(c.effectLog.suffix(3))")
        XCTAssertEqual(pending.pendingScanIDs(), [])
    }

    static func cancelWhileSealing() async throws {
        let dir = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try VirtualDepthSource(seed: 9, options: virtualScanDefaults(), frameIntervalSeconds: 0.1)
        let pending = PendingUploadStore(directory: dir.appendingPathComponent("pending"), keyStore: InMemoryKeyStore())
        let c = controller(source: source, hand: source.truth.hand, finger: source.truth.finger, pending: pending,
                           uploader: ScriptedUploader([]), key: "9Jh3y7bH9x0H4M1QfG8m2pXk0eV7cQ2l6sR1tY5uW3o")
        c.start()
        await expectEventually({ c.phase == .awaitingConsent })
        c.send(.consentGranted(Fixture.consent))
        await expectEventually({ if case .result = c.phase { return true }; return false }, "\(c.phase)")
        c.send(.sendRequested)
        XCTAssertEqual(c.phase, .sealing)
        c.send(.cancel)
        await c.settle()
        try await Task.sleep(nanoseconds: 100_000_000)
        XCTAssertEqual(c.phase, .discarded)
        XCTAssertEqual(pending.pendingScanIDs(), [], "an envelope sealed after cancel was stored")
    }

    static func outOfRangeSetting() async throws {
        let source = SilentSource()
        let dir = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = controller(source: source, hand: .left, finger: .ring,
                           pending: PendingUploadStore(directory: dir, keyStore: InMemoryKeyStore()),
                           uploader: ScriptedUploader([]), key: "x", voxel: 0.5)
        c.send(.start(.authorized))
        c.send(.consentGranted(Fixture.consent))
        guard case .failed(.core(.InvalidConfig(let message))) = c.phase else { return XCTFail("\(c.phase)") }
        XCTAssertTrue(message.contains("0.5"), message)
        XCTAssertEqual(source.starts, 0)
        XCTAssertEqual(LocalizedText(localization: "en").message(for: .core(.InvalidConfig(message: message))),
                       "The scanner is misconfigured. Please update the app.")
    }

    static func resumePending() async throws {
        let dir = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = InMemoryKeyStore()
        let pending = PendingUploadStore(directory: dir, keyStore: keys)
        let good = SealedEnvelope(scanID: "bb00", json: "{\"format\":\"mandrel-sealed\"}")
        try pending.save(good)
        // A file from another device (other key) sorts first and cannot be opened.
        let foreign = PendingUploadStore(directory: dir, keyStore: InMemoryKeyStore())
        try foreign.save(SealedEnvelope(scanID: "aa00", json: "{}"))
        let uploader = ScriptedUploader([])
        let c = controller(source: SilentSource(), hand: .left, finger: .ring, pending: pending, uploader: uploader, key: "x")
        XCTAssertTrue(c.resumePendingUpload())
        await expectEventually({ c.phase.isTerminal }, "\(c.phase)")
        XCTAssertEqual(c.phase, .done(scanID: "bb00"))
        XCTAssertEqual(uploader.sent.first?.httpBody, Data(good.json.utf8))
        XCTAssertEqual(pending.pendingScanIDs(), [])
        XCTAssertFalse(c.resumePendingUpload(), "nothing left, and the flow is no longer idle")
    }
}

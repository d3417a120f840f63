import Foundation
import Mandrel
@testable import ScanKit
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

final class IntrinsicsAndLandmarkTests: XCTestCase {
    func testIntrinsicsScaleFromVideoToLidarDepth() throws {
        // ARKit: 1920x1440 colour image, 256x192 sceneDepth (a 7.5x reduction).
        let k = try scaleIntrinsics(fx: 1500, fy: 1500, cx: 960, cy: 720,
                                    video: PixelSize(width: 1920, height: 1440), depth: PixelSize(width: 256, height: 192))
        XCTAssertEqual(k.width, 256)
        XCTAssertEqual(k.height, 192)
        XCTAssertEqual(k.fx, 200, accuracy: 1e-9)
        XCTAssertEqual(k.fy, 200, accuracy: 1e-9)
        XCTAssertEqual(k.cx, 128, accuracy: 1e-9)
        XCTAssertEqual(k.cy, 96, accuracy: 1e-9)
        // TrueDepth: 4032x3024 reference dimensions to 640x480 depth.
        let t = try scaleIntrinsics(fx: 2742.0, fy: 2742.0, cx: 2015.5, cy: 1511.5,
                                    video: PixelSize(width: 4032, height: 3024), depth: PixelSize(width: 640, height: 480))
        XCTAssertEqual(t.fx, 2742.0 * 640 / 4032, accuracy: 1e-9)
        XCTAssertEqual(t.cy, 1511.5 * 480 / 3024, accuracy: 1e-9)
    }

    func testIntrinsicsRefuseACropAnEmptyImageAndBadValues() {
        XCTAssertThrowsError(try scaleIntrinsics(fx: 1500, fy: 1500, cx: 960, cy: 540,
                                                 video: PixelSize(width: 1920, height: 1080), depth: PixelSize(width: 640, height: 480))) {
            XCTAssertEqual($0 as? IntrinsicsScalingError,
                           .aspectMismatch(video: PixelSize(width: 1920, height: 1080), depth: PixelSize(width: 640, height: 480)))
        }
        XCTAssertThrowsError(try scaleIntrinsics(fx: 1, fy: 1, cx: 1, cy: 1, video: PixelSize(width: 0, height: 10), depth: PixelSize(width: 4, height: 3)))
        XCTAssertThrowsError(try scaleIntrinsics(fx: .nan, fy: 1, cx: 1, cy: 1, video: PixelSize(width: 4, height: 3), depth: PixelSize(width: 4, height: 3)))
    }

    private func joints() -> [HandJoint: VisionJoint] {
        var out: [HandJoint: VisionJoint] = [:]
        for j in HandJoint.allCases {
            out[j] = VisionJoint(x: 0.2 + 0.03 * Double(j.rawValue), y: 0.9 - 0.035 * Double(j.rawValue), confidence: 0.9)
        }
        return out
    }

    func testJointsComeInMediaPipeOrder() throws {
        XCTAssertEqual(HandJoint.allCases.count, 21)
        XCTAssertEqual(HandJoint.wrist.mediaPipeIndex, 0)
        XCTAssertEqual(HandJoint.thumbTip.mediaPipeIndex, 4)
        XCTAssertEqual(HandJoint.indexMCP.mediaPipeIndex, 5)
        XCTAssertEqual(HandJoint.ringMCP.mediaPipeIndex, 13)
        XCTAssertEqual(HandJoint.ringPIP.mediaPipeIndex, 14)
        XCTAssertEqual(HandJoint.littleTip.mediaPipeIndex, 20)
        let points = try XCTUnwrap(HandLandmarks.mediaPipeOrder(joints()))
        XCTAssertEqual(points.count, 21)
        XCTAssertEqual(points[13].x, 0.2 + 0.03 * 13, accuracy: 1e-12)
    }

    func testVisionToDepthPixelsFlipsTheOriginExactlyAsTheCoreDoes() throws {
        let size = PixelSize(width: 640, height: 480)
        let mine = try XCTUnwrap(HandLandmarks.depthPixels(joints(), size: size))
        let core = try landmarksFromAppleVision(normalised: XCTUnwrap(HandLandmarks.mediaPipeOrder(joints())), width: 640, height: 480)
        XCTAssertEqual(mine.count, core.count)
        for (a, b) in zip(mine, core) {
            XCTAssertEqual(a.x, b.x, accuracy: 1e-9)
            XCTAssertEqual(a.y, b.y, accuracy: 1e-9)
        }
        // Vision's top-left corner (0, 1) is the depth image's first pixel row.
        XCTAssertEqual(try XCTUnwrap(HandLandmarks.depthPixels([:].merging(joints()) { a, _ in a }, size: size))[0].y,
                       (1 - 0.9) * 480 - 0.5, accuracy: 1e-9)
    }

    func testMissingUnsureOrOutsideJointsGiveNoLandmarks() {
        var missing = joints()
        missing[.ringDIP] = nil
        XCTAssertNil(HandLandmarks.mediaPipeOrder(missing))
        var unsure = joints()
        unsure[.ringPIP] = VisionJoint(x: 0.5, y: 0.5, confidence: 0.1)
        XCTAssertNil(HandLandmarks.mediaPipeOrder(unsure))
        XCTAssertNotNil(HandLandmarks.mediaPipeOrder(unsure, minConfidence: 0.05))
        var outside = joints()
        outside[.wrist] = VisionJoint(x: 1.2, y: 0.5, confidence: 1)
        XCTAssertNil(HandLandmarks.mediaPipeOrder(outside))
    }
}

final class UploadRequestTests: XCTestCase {
    func testEnvelopeRequestCarriesTheEnvelopeVerbatimWithAnIdempotencyKey() throws {
        let builder = EnvelopeRequestBuilder(endpoint: URL(string: "https://retailer.example/ring-sizes")!, userAgent: "Test/1")
        let envelope = SealedEnvelope(scanID: "0123456789abcdef0123456789abcdef", json: "{\"format\":\"mandrel-sealed\"}")
        let r = try builder.request(for: envelope, attempt: 2)
        XCTAssertEqual(r.httpMethod, "POST")
        XCTAssertEqual(r.url?.absoluteString, "https://retailer.example/ring-sizes")
        XCTAssertEqual(r.httpBody, Data(envelope.json.utf8))
        XCTAssertEqual(r.value(forHTTPHeaderField: "Content-Type"), "application/json")
        XCTAssertEqual(r.value(forHTTPHeaderField: "Idempotency-Key"), envelope.scanID)
        XCTAssertEqual(r.value(forHTTPHeaderField: "X-Mandrel-Attempt"), "2")
        XCTAssertEqual(r.value(forHTTPHeaderField: "User-Agent"), "Test/1")
        XCTAssertEqual(r.timeoutInterval, 20)
    }

    func testEnvelopeRequestRefusesPlainHttpAndBadAttempts() throws {
        let env = SealedEnvelope(scanID: "ab", json: "{}")
        XCTAssertThrowsError(try EnvelopeRequestBuilder(endpoint: URL(string: "http://retailer.example/x")!).request(for: env, attempt: 1)) {
            guard case .badRequest(let m)? = $0 as? UploadFailure else { return XCTFail("\($0)") }
            XCTAssertTrue(m.contains("https"))
        }
        XCTAssertNoThrow(try EnvelopeRequestBuilder(endpoint: URL(string: "http://127.0.0.1:8080/x")!).request(for: env, attempt: 1))
        XCTAssertThrowsError(try EnvelopeRequestBuilder(endpoint: URL(string: "https://r.example")!).request(for: env, attempt: 0))
    }
}

final class TextAndFormattingTests: XCTestCase {
    func testEveryLocalisationHasEveryKeyAndNoEmptyText() {
        let en = LocalizedText(localization: "en")
        XCTAssertGreaterThanOrEqual(LocalizedText.available.count, 2, "\(LocalizedText.available)")
        XCTAssertGreaterThan(en.keys.count, 50)
        for loc in ["en", "fr"] {
            let t = LocalizedText(localization: loc)
            XCTAssertEqual(t.localization, loc)
            XCTAssertEqual(t.keys, en.keys, "\(loc) keys differ: \(t.keys.symmetricDifference(en.keys).sorted())")
            for key in t.keys { XCTAssertFalse(t.string(key).trimmingCharacters(in: .whitespaces).isEmpty, "\(loc) \(key)") }
        }
        XCTAssertEqual(LocalizedText(localization: "xx").localization, "en", "unknown localisation falls back to English")
    }

    func testEveryHintRejectionReasonAndTrackingStateHasText() {
        let hints: [ScanHint] = [.holdStill, .moveCloser, .moveFarther, .slowDown, .showPalmSide, .keepMoving, .done]
        let rejections: [RejectionKind] = [.invalidFrame, .trackingLost, .noUsableDepth]
        let reasons: [RescanReason] = [.fingerNotFound, .insufficientCoverage, .tooNoisy, .trackingLost, .tooFewFrames, .noFrames, .handOutOfRange]
        let tracking: [TrackingState] = [.notStarted, .platform, .tracking, .lost]
        for loc in ["en", "fr"] {
            let t = LocalizedText(localization: loc)
            let texts = hints.map { t.text(for: $0) } + rejections.map { t.message(for: $0) } + reasons.map { t.message(for: $0) }
            for s in texts + tracking.map({ t.text(for: $0) }) {
                XCTAssertFalse(s.hasPrefix("hint.") || s.hasPrefix("rejection.") || s.hasPrefix("rescan.") || s.hasPrefix("tracking."), "\(loc): missing \(s)")
            }
            XCTAssertEqual(Set(texts).count, texts.count, "\(loc): two hints or reasons share a text")
        }
        XCTAssertEqual(LocalizedText(localization: "fr").text(for: .slowDown), "Plus lentement")
        let g = Fixture.guidance(frames: 12, coverage: 179.6, hint: .keepMoving)
        XCTAssertEqual(LocalizedText(localization: "en").progress(g), "180° of the finger seen · 12 frames")
    }

    func testEveryCoreErrorVariantMapsToItsOwnMessage() {
        let errors: [MandrelError] = [
            .InvalidFrame(message: "a"), .InvalidConfig(message: "b"), .NotEnoughData(message: "c"),
            .ConsentRequired(message: "d"), .Crypto(message: "e"), .Storage(message: "f"), .Internal(message: "g"),
        ]
        for loc in ["en", "fr"] {
            let t = LocalizedText(localization: loc)
            let messages = errors.map { t.message(for: $0) }
            XCTAssertEqual(Set(messages).count, errors.count, "\(loc): \(messages)")
            for m in messages { XCTAssertFalse(m.hasPrefix("error."), "\(loc): missing \(m)") }
            for e in errors { XCTAssertEqual(t.message(for: ScanFailure.core(e)), t.message(for: e)) }
            let failures: [ScanFailure] = [.cameraUnavailable(.denied), .cameraUnavailable(.restricted), .storage("x"),
                                           .upload(.network("x")), .upload(.http(status: 503, retryAfterSeconds: nil)),
                                           .upload(.http(status: 422, retryAfterSeconds: nil)), .upload(.badRequest("x"))]
            let fm = failures.map { t.message(for: $0) }
            XCTAssertEqual(Set(fm).count, failures.count, "\(loc): \(fm)")
            XCTAssertTrue(fm[5].contains("422"))
        }
    }

    func testSizingSystemFollowsTheLocaleRegion() {
        let cases: [(String, SizingSystem)] = [("en_US", .us), ("fr_CA", .us), ("en_GB", .uk), ("en_AU", .uk), ("de_DE", .eu),
                                               ("fr_FR", .eu), ("ja_JP", .jp), ("de_CH", .ch), ("hi_IN", .india),
                                               ("zh_CN", .cn), ("pt_BR", .iso)]
        for (id, system) in cases { XCTAssertEqual(SizingSystem.forLocale(Locale(identifier: id)), system, id) }
    }

    func testResultShowsTheLocaleSystemFirstEverySystemAndTheKnuckleAdvice() {
        let m = Fixture.measurement(ring: 54.25)
        let fr = ResultFormatter(locale: Locale(identifier: "fr_FR"), text: LocalizedText(localization: "fr"))
        XCTAssertEqual(fr.headline(m), "Votre taille : EU 54")
        let rows = fr.rows(Fixture.labels)
        XCTAssertEqual(rows.map(\.system).first, .eu)
        XCTAssertEqual(Set(rows.map(\.system)), Set(SizingSystem.allCases))
        XCTAssertEqual(rows.first { $0.system == .india }?.label, "—", "out-of-table label")
        let details = fr.details(m)
        XCTAssertTrue(details[0].contains("54,3 mm"), "\(details)")
        XCTAssertTrue(details[1].hasPrefix("Articulation"), "\(details)")
        XCTAssertTrue(details.last?.contains("knuckle") == true, "the core's knuckle advice is shown: \(details)")
        let us = ResultFormatter(locale: Locale(identifier: "en_US"), text: LocalizedText(localization: "en"))
        XCTAssertEqual(us.headline(m), "Your size: US 7")
        XCTAssertTrue(us.details(m)[0].contains("54.3 mm"))
        let rescan = us.headline(Fixture.measurement(status: .needsRescan, reasons: [.tooNoisy, .handOutOfRange]))
        XCTAssertTrue(rescan.hasPrefix("Please scan again."))
        XCTAssertTrue(rescan.contains(LocalizedText(localization: "en").message(for: .handOutOfRange)))
    }
}

final class ConsentAndStorageTests: XCTestCase {
    func testConsentRecordRoundTripsAndBecomesTheCoreConsent() throws {
        let record = ConsentRecord.grantedNow(purpose: "ring sizing", scope: .measurementAndMesh, policyVersion: "3",
                                              locale: Locale(identifier: "fr_FR"))
        XCTAssertTrue(record.grantedAt.hasSuffix("Z"), record.grantedAt)
        let json = try JSONEncoder().encode(record)
        XCTAssertEqual(try JSONDecoder().decode(ConsentRecord.self, from: json), record)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("measurement+mesh"))
        let core = record.coreConsent
        XCTAssertEqual(core.scope, .measurementAndMesh)
        XCTAssertEqual(core.purpose, "ring sizing")
        XCTAssertEqual(core.grantedAt, record.grantedAt)
    }

    func testPendingUploadsAreEncryptedAtRestAndBoundToTheirScan() throws {
        let dir = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = InMemoryKeyStore()
        let store = PendingUploadStore(directory: dir, keyStore: keys)
        let env = SealedEnvelope(scanID: "00112233445566778899aabbccddeeff", json: "{\"format\":\"mandrel-sealed\",\"secret\":\"ring\"}")
        try store.save(env)
        XCTAssertEqual(store.pendingScanIDs(), [env.scanID])
        let onDisk = try Data(contentsOf: dir.appendingPathComponent(env.scanID + ".sealed"))
        XCTAssertNil(String(decoding: onDisk, as: UTF8.self).range(of: "mandrel-sealed"), "stored in the clear")
        XCTAssertEqual(try store.load(scanID: env.scanID), env)
        // The same bytes under another scan's name do not open.
        let other = "ffeeddccbbaa99887766554433221100"
        try onDisk.write(to: dir.appendingPathComponent(other + ".sealed"))
        XCTAssertThrowsError(try store.load(scanID: other)) {
            guard case .Storage? = $0 as? MandrelError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try store.save(SealedEnvelope(scanID: "../x", json: "{}")))
        try store.remove(scanID: env.scanID)
        try store.remove(scanID: other)
        XCTAssertEqual(store.pendingScanIDs(), [])
        // Deleting the data key makes old records unreadable.
        try store.save(env)
        try keys.deleteDataKey()
        XCTAssertThrowsError(try store.load(scanID: env.scanID))
    }
}

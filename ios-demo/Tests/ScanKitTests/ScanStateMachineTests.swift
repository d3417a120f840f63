import Mandrel
@testable import ScanKit
import XCTest

final class ScanStateMachineTests: XCTestCase {
    private func capturing(_ m: inout ScanStateMachine) {
        XCTAssertEqual(m.handle(.start(.authorized)), [])
        XCTAssertEqual(m.handle(.consentGranted(Fixture.consent)), [.startCapture])
    }

    func testWholeFlowInOrder() {
        var m = ScanStateMachine()
        XCTAssertEqual(m.handle(.start(.notDetermined)), [.requestCameraPermission])
        XCTAssertEqual(m.phase, .requestingCameraPermission)
        XCTAssertEqual(m.handle(.cameraPermissionAnswered(granted: true)), [])
        XCTAssertEqual(m.phase, .awaitingConsent)
        XCTAssertEqual(m.handle(.consentGranted(Fixture.consent)), [.startCapture])
        XCTAssertTrue(m.phase.isCapturing)
        XCTAssertEqual(m.handle(.guidance(Fixture.guidance(frames: 3, coverage: 40, hint: .keepMoving))), [])
        XCTAssertEqual(m.handle(.guidance(Fixture.guidance(frames: 10, coverage: 150, hint: .showPalmSide,
                                                           provisional: Fixture.provisional(status: .needsRescan, missing: .insufficientCoverage)))), [])
        guard case .provisional(let progress, let shown) = m.phase else { return XCTFail("not provisional: \(m.phase)") }
        XCTAssertEqual(progress.guidance?.framesFused, 10)
        XCTAssertEqual(shown.ringCircumferenceMm, 54.2)
        XCTAssertEqual(m.handle(.guidance(Fixture.guidance(frames: 30, coverage: 300, hint: .done))), [.stopCapture, .finish])
        XCTAssertEqual(m.phase, .finishing)
        XCTAssertEqual(m.handle(.measured(Fixture.measurement())), [])
        XCTAssertEqual(m.phase, .result(Fixture.measurement()))
        XCTAssertEqual(m.handle(.sendRequested), [.seal(Fixture.consent)])
        XCTAssertEqual(m.phase, .sealing)
        let envelope = SealedEnvelope(scanID: "00ff", json: "{}")
        XCTAssertEqual(m.handle(.sealed(envelope)), [.upload(attempt: 1)])
        XCTAssertEqual(m.handle(.uploadFinished(.delivered)), [.clearPendingUpload(scanID: "00ff")])
        XCTAssertEqual(m.phase, .done(scanID: "00ff"))
        XCTAssertNil(m.envelope)
    }

    func testAnEnvelopeLeftByAnEarlierRunIsSentFromIdleOnly() {
        var m = ScanStateMachine()
        let e = SealedEnvelope(scanID: "abcd", json: "{}")
        XCTAssertEqual(m.handle(.resumeUpload(e)), [.upload(attempt: 1)])
        XCTAssertEqual(m.envelope, e)
        XCTAssertEqual(m.handle(.uploadFinished(.delivered)), [.clearPendingUpload(scanID: "abcd")])
        XCTAssertEqual(m.phase, .done(scanID: "abcd"))
        var busy = ScanStateMachine()
        _ = busy.handle(.start(.authorized))
        XCTAssertEqual(busy.handle(.resumeUpload(e)), [])
        XCTAssertNil(busy.envelope)
    }

    func testCameraDeniedOrRestrictedStopsBeforeConsent() {
        var m = ScanStateMachine()
        _ = m.handle(.start(.notDetermined))
        XCTAssertEqual(m.handle(.cameraPermissionAnswered(granted: false)), [])
        XCTAssertEqual(m.phase, .failed(.cameraUnavailable(.denied)))
        var r = ScanStateMachine()
        XCTAssertEqual(r.handle(.start(.restricted)), [])
        XCTAssertEqual(r.phase, .failed(.cameraUnavailable(.restricted)))
        // Coming back from Settings with access granted starts over.
        XCTAssertEqual(r.handle(.start(.authorized)), [])
        XCTAssertEqual(r.phase, .awaitingConsent)
    }

    func testConsentDeclinedDiscardsWithoutCapturing() {
        var m = ScanStateMachine()
        _ = m.handle(.start(.authorized))
        XCTAssertEqual(m.handle(.consentDeclined), [.discardScanData])
        XCTAssertEqual(m.phase, .discarded)
        XCTAssertNil(m.consent)
    }

    func testProvisionalComesFromGuidanceOnlyWithARingValueAndDoneEndsCapture() {
        var m = ScanStateMachine()
        capturing(&m)
        // No provisional yet, then one without a ring value: still plain capture, no effect.
        XCTAssertEqual(m.handle(.guidance(Fixture.guidance(frames: 5, coverage: 80, hint: .keepMoving))), [])
        XCTAssertEqual(m.handle(.guidance(Fixture.guidance(frames: 10, coverage: 95, hint: .keepMoving,
                                                           provisional: Fixture.provisional(ring: nil, status: .needsRescan, missing: .fingerNotFound)))), [])
        guard case .capturing = m.phase else { return XCTFail("a provisional without a value was shown: \(m.phase)") }
        // The first one with a value moves to provisional; capture goes on.
        XCTAssertEqual(m.handle(.guidance(Fixture.guidance(frames: 20, coverage: 200, hint: .showPalmSide,
                                                           provisional: Fixture.provisional(frames: 20, ring: 55, status: .needsRescan, missing: .tooNoisy)))), [])
        guard case .provisional(_, let first) = m.phase else { return XCTFail("\(m.phase)") }
        XCTAssertEqual(first.ringCircumferenceMm, 55)
        XCTAssertTrue(m.phase.isCapturing)
        // A later guidance without a value keeps the last value on screen, with the new guidance.
        XCTAssertEqual(m.handle(.guidance(Fixture.guidance(frames: 25, coverage: 230, hint: .keepMoving,
                                                           provisional: Fixture.provisional(frames: 25, ring: nil, status: .needsRescan)))), [])
        guard case .provisional(let p, let kept) = m.phase else { return XCTFail("a provisional without a value hid the size: \(m.phase)") }
        XCTAssertEqual(kept.ringCircumferenceMm, 55)
        XCTAssertEqual(p.guidance?.framesFused, 25)
        // A newer value replaces it.
        _ = m.handle(.guidance(Fixture.guidance(frames: 30, coverage: 260, hint: .keepMoving, provisional: Fixture.provisional(frames: 30, ring: 54.4))))
        guard case .provisional(_, let newer) = m.phase else { return XCTFail("\(m.phase)") }
        XCTAssertEqual(newer.ringCircumferenceMm, 54.4)
        // Guidance says done (the core's provisional measurement would be ok): stop and measure.
        XCTAssertEqual(m.handle(.guidance(Fixture.guidance(frames: 40, coverage: 300, hint: .done, provisional: Fixture.provisional(frames: 40)))),
                       [.stopCapture, .finish])
        XCTAssertEqual(m.phase, .finishing)
        XCTAssertEqual(m.handle(.guidance(Fixture.guidance(frames: 41, coverage: 300, hint: .done))), [], "a late guidance after done")
        XCTAssertEqual(m.phase, .finishing)
        // Done from plain capture (no value shown yet) finishes too.
        var d = ScanStateMachine()
        capturing(&d)
        XCTAssertEqual(d.handle(.guidance(Fixture.guidance(frames: 30, coverage: 300, hint: .done))), [.stopCapture, .finish])
        var n = ScanStateMachine()
        capturing(&n)
        XCTAssertEqual(n.handle(.frameRejected(FrameRejection(timestampS: 1, kind: .noUsableDepth, message: "x"))), [])
        guard case .capturing(let progress) = n.phase else { return XCTFail("\(n.phase)") }
        XCTAssertEqual(progress.rejectedFrames, 1)
        XCTAssertEqual(progress.lastRejection, .noUsableDepth)
        // The core follows a rejection with the same frame's guidance: the rejection stays on
        // screen until the next frame's guidance.
        _ = n.handle(.guidance(Fixture.guidance(frames: 1, coverage: 0, hint: .moveCloser)))
        guard case .capturing(let same) = n.phase else { return XCTFail("\(n.phase)") }
        XCTAssertEqual(same.lastRejection, .noUsableDepth)
        _ = n.handle(.guidance(Fixture.guidance(frames: 2, coverage: 20, hint: .keepMoving)))
        guard case .capturing(let next) = n.phase else { return XCTFail("\(n.phase)") }
        XCTAssertNil(next.lastRejection)
        XCTAssertEqual(next.rejectedFrames, 1)
    }

    func testDroppedFramesAreShownFromGuidance() {
        var m = ScanStateMachine()
        capturing(&m)
        guard case .capturing(let empty) = m.phase else { return XCTFail("\(m.phase)") }
        XCTAssertEqual(empty.framesDropped, 0)
        _ = m.handle(.guidance(Fixture.guidance(frames: 12, coverage: 90, hint: .keepMoving, dropped: 3)))
        guard case .capturing(let progress) = m.phase else { return XCTFail("\(m.phase)") }
        XCTAssertEqual(progress.framesDropped, 3)
        _ = m.handle(.guidance(Fixture.guidance(frames: 20, coverage: 200, hint: .keepMoving, provisional: Fixture.provisional(), dropped: 7)))
        guard case .provisional(let later, _) = m.phase else { return XCTFail("\(m.phase)") }
        XCTAssertEqual(later.framesDropped, 7)
        let en = LocalizedText(localization: "en"), fr = LocalizedText(localization: "fr")
        XCTAssertNil(en.dropped(Fixture.guidance(frames: 12, coverage: 90, hint: .keepMoving)), "nothing shown while none was dropped")
        XCTAssertEqual(en.dropped(later.guidance!), "7 frames skipped to keep up with the camera")
        XCTAssertEqual(fr.dropped(later.guidance!), "7 images sautées pour suivre la caméra")
    }

    func testSourceEndOrFinishTapEndsCapture() {
        var m = ScanStateMachine()
        capturing(&m)
        XCTAssertEqual(m.handle(.sourceEnded), [.stopCapture, .finish])
        var n = ScanStateMachine()
        capturing(&n)
        XCTAssertEqual(n.handle(.finishRequested), [.stopCapture, .finish])
        XCTAssertEqual(n.handle(.finishRequested), [], "a double tap finishes once")
    }

    func testRescanVerdictCannotBeSentAndScanAgainStartsAFreshCapture() {
        var m = ScanStateMachine()
        capturing(&m)
        _ = m.handle(.finishRequested)
        _ = m.handle(.measured(Fixture.measurement(status: .needsRescan, reasons: [.tooFewFrames])))
        XCTAssertEqual(m.handle(.sendRequested), [])
        XCTAssertEqual(m.handle(.retry), [.startCapture])
        XCTAssertNil(m.measurement)
        XCTAssertEqual(m.consent, Fixture.consent, "consent covers the rescan")
    }

    func testRetryableUploadFailuresBackOffThenDeliver() {
        var m = ScanStateMachine(settings: .init(retry: RetryPolicy(maxAttempts: 3, baseDelaySeconds: 1, maxDelaySeconds: 30)))
        capturing(&m)
        _ = m.handle(.finishRequested)
        _ = m.handle(.measured(Fixture.measurement()))
        _ = m.handle(.sendRequested)
        _ = m.handle(.sealed(SealedEnvelope(scanID: "ab", json: "{}")))
        XCTAssertEqual(m.handle(.uploadFinished(.failed(.network("offline")))), [.scheduleRetry(delaySeconds: 1)])
        XCTAssertEqual(m.phase, .waitingToRetry(nextAttempt: 2, delaySeconds: 1))
        XCTAssertEqual(m.handle(.retryTimerFired), [.upload(attempt: 2)])
        XCTAssertEqual(m.handle(.uploadFinished(.failed(.http(status: 503, retryAfterSeconds: nil)))), [.scheduleRetry(delaySeconds: 2)])
        XCTAssertEqual(m.handle(.retryTimerFired), [.upload(attempt: 3)])
        XCTAssertEqual(m.handle(.uploadFinished(.failed(.http(status: 503, retryAfterSeconds: nil)))), [], "attempts exhausted")
        XCTAssertEqual(m.phase, .failed(.upload(.http(status: 503, retryAfterSeconds: nil))))
        XCTAssertNotNil(m.envelope, "the envelope stays pending for a manual retry")
        XCTAssertEqual(m.handle(.retry), [.upload(attempt: 1)])
        XCTAssertEqual(m.handle(.uploadFinished(.delivered)), [.clearPendingUpload(scanID: "ab")])
    }

    func testRejectedUploadIsNotRetriedAutomatically() {
        var m = ScanStateMachine()
        capturing(&m)
        _ = m.handle(.finishRequested)
        _ = m.handle(.measured(Fixture.measurement()))
        _ = m.handle(.sendRequested)
        _ = m.handle(.sealed(SealedEnvelope(scanID: "ab", json: "{}")))
        XCTAssertEqual(m.handle(.uploadFinished(.failed(.http(status: 422, retryAfterSeconds: nil)))), [])
        XCTAssertEqual(m.phase, .failed(.upload(.http(status: 422, retryAfterSeconds: nil))))
        XCTAssertEqual(m.handle(.cancel), [.discardScanData])
        XCTAssertEqual(m.phase, .discarded)
        XCTAssertNil(m.envelope)
    }

    func testCancelFromEveryLivePhaseDiscardsAndStopsCaptureWhenCapturing() {
        let routes: [[ScanEvent]] = [
            [.start(.notDetermined)],
            [.start(.authorized)],
            [.start(.authorized), .consentGranted(Fixture.consent)],
            [.start(.authorized), .consentGranted(Fixture.consent),
             .guidance(Fixture.guidance(frames: 10, coverage: 200, hint: .keepMoving, provisional: Fixture.provisional()))],
            [.start(.authorized), .consentGranted(Fixture.consent), .finishRequested],
            [.start(.authorized), .consentGranted(Fixture.consent), .finishRequested, .measured(Fixture.measurement())],
            [.start(.authorized), .consentGranted(Fixture.consent), .finishRequested, .measured(Fixture.measurement()), .sendRequested],
            [.start(.authorized), .consentGranted(Fixture.consent), .finishRequested, .measured(Fixture.measurement()), .sendRequested,
             .sealed(SealedEnvelope(scanID: "ab", json: "{}"))],
        ]
        for route in routes {
            var m = ScanStateMachine()
            for e in route { _ = m.handle(e) }
            let wasCapturing = m.phase.isCapturing
            XCTAssertEqual(m.handle(.cancel), (wasCapturing ? [.stopCapture] : []) + [.discardScanData], "\(route)")
            XCTAssertEqual(m.phase, .discarded)
            XCTAssertNil(m.consent)
            XCTAssertNil(m.measurement)
            XCTAssertNil(m.envelope)
            // Late results of the cancelled scan change nothing.
            XCTAssertEqual(m.handle(.measured(Fixture.measurement())), [])
            XCTAssertEqual(m.handle(.sealed(SealedEnvelope(scanID: "cd", json: "{}"))), [])
            XCTAssertEqual(m.handle(.failed(.core(.Internal(message: "late")))), [])
            XCTAssertEqual(m.phase, .discarded)
        }
    }

    func testCoreFailureDuringCaptureStopsTheSourceButAProvisionalAskingForMoreDoesNot() {
        var m = ScanStateMachine()
        capturing(&m)
        XCTAssertEqual(m.handle(.guidance(Fixture.guidance(frames: 10, coverage: 95, hint: .showPalmSide,
                                                           provisional: Fixture.provisional(ring: nil, status: .needsRescan, missing: .insufficientCoverage)))), [])
        XCTAssertTrue(m.phase.isCapturing)
        XCTAssertEqual(m.handle(.failed(.core(.InvalidConfig(message: "voxel")))), [.stopCapture])
        XCTAssertEqual(m.phase, .failed(.core(.InvalidConfig(message: "voxel"))))
    }

    func testAFinishFailureFromTheListenerFailsTheFlowWithTheCoreError() {
        var m = ScanStateMachine()
        capturing(&m)
        XCTAssertEqual(m.handle(.finishRequested), [.stopCapture, .finish])
        let e = FinishRelay.error("not enough data: no frame was pushed")
        XCTAssertEqual(e, .NotEnoughData(message: "not enough data: no frame was pushed"))
        XCTAssertEqual(FinishRelay.error("internal error (please report): x"), .Internal(message: "internal error (please report): x"))
        XCTAssertEqual(m.handle(.failed(.core(e))), [], "capture already stopped")
        XCTAssertEqual(m.phase, .failed(.core(e)))
        XCTAssertEqual(m.handle(.measured(Fixture.measurement())), [], "a late measurement after the failure")
    }

    func testRetryPolicyClassifiesAndCapsDelays() {
        let p = RetryPolicy(maxAttempts: 6, baseDelaySeconds: 2, maxDelaySeconds: 10)
        XCTAssertTrue(p.isRetryable(.network("x")))
        for status in [408, 425, 429, 500, 502, 503, 599] { XCTAssertTrue(p.isRetryable(.http(status: status, retryAfterSeconds: nil)), "\(status)") }
        for status in [400, 401, 403, 404, 409, 413, 422] { XCTAssertFalse(p.isRetryable(.http(status: status, retryAfterSeconds: nil)), "\(status)") }
        XCTAssertFalse(p.isRetryable(.badRequest("x")))
        XCTAssertEqual((1...5).map { p.delayBeforeRetry(after: .network("x"), attempt: $0) }, [2, 4, 8, 10, 10])
        XCTAssertNil(p.delayBeforeRetry(after: .network("x"), attempt: 6))
        XCTAssertEqual(p.delayBeforeRetry(after: .http(status: 429, retryAfterSeconds: 7), attempt: 1), 7)
        XCTAssertEqual(p.delayBeforeRetry(after: .http(status: 429, retryAfterSeconds: 600), attempt: 1), 10)
        XCTAssertEqual(HTTPResponseSummary(status: 204).outcome, .delivered)
        XCTAssertEqual(HTTPResponseSummary(status: 503, retryAfterSeconds: 3).outcome, .failed(.http(status: 503, retryAfterSeconds: 3)))
    }
}

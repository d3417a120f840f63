import Foundation
import Mandrel

/// The shell's user-facing text, looked up in `Localizable.strings` of one localisation
/// (English fallback for a key a translation lacks). Every core hint, rejection, rescan
/// reason, tracking state and error variant has a key, so the UI never shows a raw enum or
/// an English core message to a shopper in another language.
public struct LocalizedText: Sendable {
    /// The localisation in use (an `.lproj` name, e.g. "en", "fr").
    public let localization: String
    private let table: [String: String]
    private let fallback: [String: String]

    /// The localisations shipped in this package.
    public static var available: [String] {
        Bundle.module.localizations.filter { $0 != "Base" }.sorted()
    }

    /// The text of `localization` (falls back to English when it is not shipped).
    public init(localization: String) {
        let english = Self.load("en")
        let table = Self.load(localization)
        self.localization = table.isEmpty ? "en" : localization
        self.table = table.isEmpty ? english : table
        self.fallback = english
    }

    /// The text for the best localisation for `locale` (its language code).
    public init(locale: Locale) {
        self.init(localization: locale.language.languageCode?.identifier ?? "en")
    }

    /// Every key of this localisation's table.
    public var keys: Set<String> { Set(table.keys) }

    static func load(_ localization: String) -> [String: String] {
        guard let url = Bundle.module.url(forResource: "Localizable", withExtension: "strings",
                                          subdirectory: nil, localization: localization),
              let data = try? Data(contentsOf: url),
              let plist = try? PropertyListSerialization.propertyList(from: data, format: nil),
              let dict = plist as? [String: String] else { return [:] }
        return dict
    }

    /// The string for `key`; the key itself when no table has it (tests check none is
    /// missing).
    public func string(_ key: String) -> String {
        table[key] ?? fallback[key] ?? key
    }

    /// The string for `key` with `%@` / `%1$@` placeholders replaced by `arguments`.
    public func format(_ key: String, _ arguments: String...) -> String {
        var out = string(key)
        for (i, arg) in arguments.enumerated() {
            out = out.replacingOccurrences(of: "%\(i + 1)$@", with: arg)
        }
        for arg in arguments {
            guard let range = out.range(of: "%@") else { break }
            out.replaceSubrange(range, with: arg)
        }
        return out
    }

    // MARK: core enums

    /// What the live overlay says for a hint.
    public func text(for hint: ScanHint) -> String {
        switch hint {
        case .holdStill: return string("hint.holdStill")
        case .moveCloser: return string("hint.moveCloser")
        case .moveFarther: return string("hint.moveFarther")
        case .slowDown: return string("hint.slowDown")
        case .showPalmSide: return string("hint.showPalmSide")
        case .keepMoving: return string("hint.keepMoving")
        case .done: return string("hint.done")
        }
    }

    /// The tracking badge.
    public func text(for tracking: TrackingState) -> String {
        switch tracking {
        case .notStarted: return string("tracking.notStarted")
        case .platform: return string("tracking.platform")
        case .tracking: return string("tracking.tracking")
        case .lost: return string("tracking.lost")
        }
    }

    /// Why a frame was not used, for the overlay.
    public func message(for rejection: RejectionKind) -> String {
        switch rejection {
        case .invalidFrame: return string("rejection.invalidFrame")
        case .trackingLost: return string("rejection.trackingLost")
        case .noUsableDepth: return string("rejection.noUsableDepth")
        }
    }

    /// Why a scan must be redone.
    public func message(for reason: RescanReason) -> String {
        switch reason {
        case .fingerNotFound: return string("rescan.fingerNotFound")
        case .insufficientCoverage: return string("rescan.insufficientCoverage")
        case .tooNoisy: return string("rescan.tooNoisy")
        case .trackingLost: return string("rescan.trackingLost")
        case .tooFewFrames: return string("rescan.tooFewFrames")
        case .noFrames: return string("rescan.noFrames")
        case .handOutOfRange: return string("rescan.handOutOfRange")
        }
    }

    /// The shopper's message for a core error (the core's own English detail is for logs).
    public func message(for error: MandrelError) -> String {
        switch error {
        case .InvalidFrame: return string("error.invalidFrame")
        case .InvalidConfig: return string("error.invalidConfig")
        case .NotEnoughData: return string("error.notEnoughData")
        case .ConsentRequired: return string("error.consentRequired")
        case .Crypto: return string("error.crypto")
        case .Storage: return string("error.storage")
        case .Internal: return string("error.internal")
        }
    }

    /// The shopper's message for a failed upload.
    public func message(for failure: UploadFailure) -> String {
        switch failure {
        case .network: return string("upload.network")
        case .http(let status, _) where (500..<600).contains(status) || status == 429 || status == 408:
            return string("upload.serverBusy")
        case .http(let status, _): return format("upload.rejected", String(status))
        case .badRequest: return string("upload.badRequest")
        }
    }

    /// The shopper's message for a flow failure.
    public func message(for failure: ScanFailure) -> String {
        switch failure {
        case .cameraUnavailable(.restricted): return string("camera.restricted")
        case .cameraUnavailable: return string("camera.denied")
        case .core(let error): return message(for: error)
        case .upload(let failure): return message(for: failure)
        case .storage: return string("storage.failed")
        }
    }

    /// The overlay's progress line, e.g. "180° of the finger seen · 12 frames".
    public func progress(_ g: Guidance) -> String {
        format("guidance.progress", String(Int(g.coverageDeg.rounded())), String(g.framesFused))
    }

    /// The overlay's dropped-frames line, e.g. "3 frames skipped to keep up with the camera";
    /// `nil` while none was dropped.
    public func dropped(_ g: Guidance) -> String? {
        g.framesDropped == 0 ? nil : format("guidance.dropped", String(g.framesDropped))
    }
}

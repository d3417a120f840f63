import Foundation
import Mandrel

/// The ring sizing systems the core labels every measurement in.
public enum SizingSystem: String, CaseIterable, Sendable {
    case us, uk, eu, jp, ch, india, cn, iso

    /// The system shoppers in `locale`'s region buy rings in: US/Canada, UK/Ireland/
    /// Australia/New Zealand, Japan, Switzerland, India, China, the EU's ISO-circumference
    /// countries; ISO 8653 (inner circumference in millimetres) elsewhere.
    public static func forLocale(_ locale: Locale) -> SizingSystem {
        switch locale.region?.identifier.uppercased() ?? "" {
        case "US", "CA", "MX", "PH": return .us
        case "GB", "IE", "AU", "NZ", "ZA": return .uk
        case "JP": return .jp
        case "CH": return .ch
        case "IN": return .india
        case "CN", "HK", "TW": return .cn
        case "DE", "FR", "IT", "ES", "PT", "NL", "BE", "AT", "LU", "DK", "SE", "FI", "NO",
             "PL", "CZ", "SK", "HU", "SI", "HR", "RO", "BG", "GR", "EE", "LV", "LT", "CY", "MT":
            return .eu
        default: return .iso
        }
    }

    /// This system's label in `labels`.
    public func label(in labels: SizeLabels) -> String {
        switch self {
        case .us: return labels.us
        case .uk: return labels.uk
        case .eu: return labels.eu
        case .jp: return labels.jp
        case .ch: return labels.ch
        case .india: return labels.india
        case .cn: return labels.cn
        case .iso: return labels.iso
        }
    }

    /// The localisation key of the system's name.
    var nameKey: String { "system.\(rawValue)" }
}

/// One row of the result screen's size table.
public struct SizeRow: Equatable, Sendable {
    /// The system.
    public let system: SizingSystem
    /// Its localised name.
    public let name: String
    /// The size label (localised "not available" outside the system's table).
    public let label: String
}

/// The result screen's text, formatted for the shopper's locale: the recommended size in the
/// locale's system first, the table of every system, circumferences with the locale's
/// decimal separator, and the core's knuckle advice.
public struct ResultFormatter: Sendable {
    /// The shopper's locale (number format, sizing system).
    public let locale: Locale
    /// The localised strings.
    public let text: LocalizedText

    /// A formatter for `locale` with strings in `text`.
    public init(locale: Locale, text: LocalizedText) {
        self.locale = locale
        self.text = text
    }

    /// The system shown first.
    public var primarySystem: SizingSystem { .forLocale(locale) }

    /// `mm` millimetres with one decimal in the locale's format, e.g. "54,3 mm".
    public func millimetres(_ mm: Double) -> String {
        let f = NumberFormatter()
        f.locale = locale
        f.numberStyle = .decimal
        f.minimumFractionDigits = 1
        f.maximumFractionDigits = 1
        // Rounded here too: Foundation on Linux does not apply maximumFractionDigits.
        let rounded = (mm * 10).rounded() / 10
        let number = f.string(from: NSNumber(value: rounded)) ?? String(format: "%.1f", rounded)
        return text.format("unit.mm", number)
    }

    /// The sizes to show: the recommendation's when there is one (it passes the knuckle),
    /// else the ring circumference's.
    public func labels(of m: RingMeasurement) -> SizeLabels? {
        m.recommended?.sizes ?? m.sizes
    }

    /// The provisional line shown while scanning, e.g. "So far: 54.3 mm ± 0.4 mm"; `nil` when
    /// the core's provisional measurement has no ring value yet.
    public func provisional(_ p: ProvisionalMeasurement) -> String? {
        guard let ring = p.ringCircumferenceMm else { return nil }
        guard let sigma = p.uncertaintyMm else { return text.format("result.provisional", millimetres(ring)) }
        return text.format("result.provisionalUncertainty", millimetres(ring), millimetres(sigma))
    }

    /// Every system, the locale's first.
    public func rows(_ labels: SizeLabels) -> [SizeRow] {
        let order = [primarySystem] + SizingSystem.allCases.filter { $0 != primarySystem }
        return order.map { system in
            let raw = system.label(in: labels)
            return SizeRow(system: system, name: text.string(system.nameKey),
                           label: raw == "n/a" ? text.string("size.outOfTable") : raw)
        }
    }

    /// The headline, e.g. "Your size: US 7", or the rescan message with every reason.
    public func headline(_ m: RingMeasurement) -> String {
        guard m.status == .ok, let labels = labels(of: m) else {
            let reasons = m.reasons.map { text.message(for: $0) }
            return ([text.string("result.rescan")] + reasons).joined(separator: "\n")
        }
        let system = primarySystem
        return text.format("result.headline", text.string(system.nameKey), system.label(in: labels))
    }

    /// The detail lines: ring and knuckle circumference, uncertainty, the knuckle advice.
    public func details(_ m: RingMeasurement) -> [String] {
        var lines: [String] = []
        if let ring = m.ringCircumferenceMm { lines.append(text.format("result.ring", millimetres(ring))) }
        if let knuckle = m.knuckleCircumferenceMm { lines.append(text.format("result.knuckle", millimetres(knuckle))) }
        if let sigma = m.uncertaintyMm { lines.append(text.format("result.uncertainty", millimetres(sigma))) }
        if let advice = m.recommended?.advice, !advice.isEmpty { lines.append(advice) }
        return lines
    }
}

import Foundation
import Mandrel

/// What the shopper agreed to on the consent screen, kept with the scan until it is sealed
/// (the core binds it into the envelope's authenticated header) or discarded.
public struct ConsentRecord: Codable, Equatable, Sendable {
    /// What may leave the device.
    public enum Scope: String, Codable, Sendable, CaseIterable {
        /// The measurement only.
        case measurement
        /// The measurement and the hand mesh.
        case measurementAndMesh = "measurement+mesh"
    }

    /// The purpose as shown to the shopper (e.g. "ring sizing for order 1234").
    public let purpose: String
    /// What may leave the device.
    public let scope: Scope
    /// The privacy policy version the shopper was shown.
    public let policyVersion: String
    /// When the shopper agreed, RFC 3339 UTC.
    public let grantedAt: String
    /// The locale the consent text was shown in (BCP 47), for the audit trail.
    public let shownInLocale: String

    /// A record with every field given (e.g. decoded from storage).
    public init(purpose: String, scope: Scope, policyVersion: String, grantedAt: String, shownInLocale: String) {
        self.purpose = purpose
        self.scope = scope
        self.policyVersion = policyVersion
        self.grantedAt = grantedAt
        self.shownInLocale = shownInLocale
    }

    /// The record for consent given now (the core's clock, RFC 3339 UTC).
    public static func grantedNow(purpose: String, scope: Scope, policyVersion: String, locale: Locale = .current) -> ConsentRecord {
        ConsentRecord(purpose: purpose, scope: scope, policyVersion: policyVersion,
                      grantedAt: nowRfc3339Utc(), shownInLocale: locale.identifier)
    }

    /// The core's consent record, as `sealMeasurement` takes it.
    public var coreConsent: Consent {
        Consent(purpose: purpose,
                scope: scope == .measurement ? .measurement : .measurementAndMesh,
                policyVersion: policyVersion, grantedAt: grantedAt)
    }
}

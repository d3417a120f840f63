/// A measurement sealed by the core for the retailer (HPKE envelope JSON, see
/// `shared/spec/sealed-envelope.md`): opaque to the shell, which only stores and sends it.
public struct SealedEnvelope: Equatable, Sendable {
    /// The scan id sealed into the envelope (32 hex characters); the upload's idempotency key.
    public let scanID: String
    /// The envelope JSON, uploaded as it is.
    public let json: String

    /// Wraps an envelope the core returned.
    public init(scanID: String, json: String) {
        self.scanID = scanID
        self.json = json
    }
}

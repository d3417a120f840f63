import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Builds the HTTPS request that delivers a sealed envelope to the retailer's endpoint.
/// The body is the envelope JSON exactly as the core produced it; the scan id is the
/// idempotency key, so a retried upload cannot store the scan twice.
public struct EnvelopeRequestBuilder: Sendable {
    /// The endpoint (must be `https`, or `http` to a loopback host for local testing).
    public let endpoint: URL
    /// Sent as `User-Agent`.
    public let userAgent: String
    /// Per-attempt timeout, seconds.
    public let timeoutSeconds: Double

    /// A builder for `endpoint`.
    public init(endpoint: URL, userAgent: String = "MandrelDemo/1", timeoutSeconds: Double = 20) {
        self.endpoint = endpoint
        self.userAgent = userAgent
        self.timeoutSeconds = timeoutSeconds
    }

    /// The request for attempt `attempt` (from 1) of `envelope`; throws
    /// `UploadFailure.badRequest` for an endpoint that is not HTTPS.
    public func request(for envelope: SealedEnvelope, attempt: Int) throws -> URLRequest {
        let scheme = endpoint.scheme?.lowercased()
        let host = endpoint.host?.lowercased() ?? ""
        let loopback = host == "localhost" || host == "127.0.0.1" || host == "::1"
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw UploadFailure.badRequest("the upload endpoint must use https, got \(endpoint.absoluteString)")
        }
        guard attempt >= 1 else {
            throw UploadFailure.badRequest("attempt numbers start at 1, got \(attempt)")
        }
        var request = URLRequest(url: endpoint, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeoutSeconds)
        request.httpMethod = "POST"
        request.httpBody = Data(envelope.json.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue(envelope.scanID, forHTTPHeaderField: "Idempotency-Key")
        request.setValue(String(attempt), forHTTPHeaderField: "X-Mandrel-Attempt")
        request.setValue(userAgent, forHTTPHeaderField: "User-Agent")
        return request
    }
}

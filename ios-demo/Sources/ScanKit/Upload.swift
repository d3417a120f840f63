import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Why one upload attempt failed.
public enum UploadFailure: Equatable, Sendable, Error {
    /// No connection, DNS, TLS or timeout: worth retrying.
    case network(String)
    /// The server answered with a non-2xx status (`retryAfterSeconds` from `Retry-After`).
    case http(status: Int, retryAfterSeconds: Double?)
    /// The request could not be built (bad endpoint); retrying cannot help.
    case badRequest(String)
}

/// How one upload attempt ended.
public enum UploadOutcome: Equatable, Sendable {
    /// The server stored the envelope (2xx).
    case delivered
    /// It did not.
    case failed(UploadFailure)
}

/// Sends requests: `URLSession` in the app, a script in tests. The shell does all the
/// networking; the core never opens a socket.
public protocol Uploader: Sendable {
    /// Sends `request` and returns the HTTP status and headers, or throws an
    /// `UploadFailure.network` for transport errors.
    func send(_ request: URLRequest) async throws -> HTTPResponseSummary
}

/// What the flow needs of a response.
public struct HTTPResponseSummary: Equatable, Sendable {
    /// The status code.
    public let status: Int
    /// `Retry-After` in seconds, when the server sent the delta-seconds form.
    public let retryAfterSeconds: Double?

    /// A response summary.
    public init(status: Int, retryAfterSeconds: Double? = nil) {
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The outcome this response means.
    public var outcome: UploadOutcome {
        (200..<300).contains(status)
            ? .delivered : .failed(.http(status: status, retryAfterSeconds: retryAfterSeconds))
    }
}

/// Exponential back-off for retryable failures (network errors, 408, 425, 429, 5xx); other
/// 4xx answers and bad requests fail at once.
public struct RetryPolicy: Equatable, Sendable {
    /// Attempts in one round, the first included.
    public var maxAttempts: Int
    /// Delay before the second attempt, seconds.
    public var baseDelaySeconds: Double
    /// Upper bound of any delay, seconds (also caps `Retry-After`).
    public var maxDelaySeconds: Double

    /// Four attempts, 1 s, 2 s, 4 s apart, at most 30 s.
    public init(maxAttempts: Int = 4, baseDelaySeconds: Double = 1, maxDelaySeconds: Double = 30) {
        self.maxAttempts = maxAttempts
        self.baseDelaySeconds = baseDelaySeconds
        self.maxDelaySeconds = maxDelaySeconds
    }

    /// Whether another attempt could succeed.
    public func isRetryable(_ failure: UploadFailure) -> Bool {
        switch failure {
        case .network: return true
        case .http(let status, _): return status == 408 || status == 425 || status == 429 || (500..<600).contains(status)
        case .badRequest: return false
        }
    }

    /// The delay before attempt `attempt + 1`, or `nil` when the flow should stop.
    public func delayBeforeRetry(after failure: UploadFailure, attempt: Int) -> Double? {
        guard isRetryable(failure), attempt < maxAttempts else { return nil }
        if case .http(_, let retryAfter?) = failure { return min(max(retryAfter, 0), maxDelaySeconds) }
        let exponent = Double(max(attempt - 1, 0))
        return min(baseDelaySeconds * pow(2, exponent), maxDelaySeconds)
    }
}

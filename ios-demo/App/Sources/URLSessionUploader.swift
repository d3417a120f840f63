// The shell's networking: one ephemeral URLSession (no cookies, no cache), TLS only.
import Foundation
import ScanKit

struct URLSessionUploader: Uploader {
    private let session: URLSession = {
        let config = URLSessionConfiguration.ephemeral
        config.waitsForConnectivity = false
        config.tlsMinimumSupportedProtocolVersion = .TLSv12
        return URLSession(configuration: config)
    }()

    func send(_ request: URLRequest) async throws -> HTTPResponseSummary {
        let response: URLResponse
        do {
            (_, response) = try await session.data(for: request)
        } catch {
            throw UploadFailure.network(error.localizedDescription)
        }
        guard let http = response as? HTTPURLResponse else {
            throw UploadFailure.network("not an HTTP response")
        }
        let retryAfter = (http.value(forHTTPHeaderField: "Retry-After")).flatMap(Double.init)
        return HTTPResponseSummary(status: http.statusCode, retryAfterSeconds: retryAfter)
    }
}

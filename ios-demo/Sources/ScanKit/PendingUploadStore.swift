import Foundation
import Mandrel

/// Sealed envelopes waiting for upload, encrypted at rest by the core (AES-256-GCM under the
/// key store's data key, each file bound to its scan id), so an upload survives the app
/// being closed and a copied file opens on no other device.
public final class PendingUploadStore: @unchecked Sendable {
    /// The folder holding one `<scan id>.sealed` file per pending envelope.
    public let directory: URL
    private let keyStore: KeyStore
    private let lock = NSLock()

    /// A store in `directory` (created when first written).
    public init(directory: URL, keyStore: KeyStore) {
        self.directory = directory
        self.keyStore = keyStore
    }

    private func store() throws -> EncryptedStore {
        try EncryptedStore(dataKey: keyStore.dataKey())
    }

    private func file(_ scanID: String) throws -> URL {
        guard !scanID.isEmpty, scanID.allSatisfy({ $0.isHexDigit }) else {
            throw ScanFailure.storage("scan id \(scanID.debugDescription) is not hexadecimal")
        }
        return directory.appendingPathComponent(scanID + ".sealed")
    }

    /// Encrypts and writes `envelope`.
    public func save(_ envelope: SealedEnvelope) throws {
        try lock.locked {
            let record = try store().seal(kind: .sealedEnvelope, id: envelope.scanID, plaintext: Data(envelope.json.utf8))
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            #if os(iOS)
            try record.write(to: file(envelope.scanID), options: [.atomic, .completeFileProtectionUntilFirstUserAuthentication])
            #else
            try record.write(to: file(envelope.scanID), options: [.atomic])
            #endif
        }
    }

    /// Reads and decrypts the envelope of `scanID`; throws `MandrelError.Storage` if the file
    /// was altered or belongs to another scan.
    public func load(scanID: String) throws -> SealedEnvelope {
        try lock.locked {
            let record = try Data(contentsOf: file(scanID))
            let plain = try store().open(kind: .sealedEnvelope, id: scanID, record: record)
            return SealedEnvelope(scanID: scanID, json: String(decoding: plain, as: UTF8.self))
        }
    }

    /// The scan ids with a pending envelope.
    public func pendingScanIDs() -> [String] {
        lock.locked {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.filter { $0.hasSuffix(".sealed") }.map { String($0.dropLast(".sealed".count)) }.sorted()
        }
    }

    /// Deletes the envelope of `scanID` (no error if there is none).
    public func remove(scanID: String) throws {
        try lock.locked {
            let url = try file(scanID)
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        }
    }
}

import Foundation

/// Keeps the 32-byte data key that encrypts pending uploads at rest. The app implements it
/// with the Keychain (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`, never synced);
/// tests and the demo mode use `InMemoryKeyStore`.
public protocol KeyStore: Sendable {
    /// The data key, created (32 random bytes) and stored on first use.
    func dataKey() throws -> Data
    /// Deletes the data key: every record encrypted under it becomes unreadable.
    func deleteDataKey() throws
}

/// Errors of key stores.
public enum KeyStoreError: Error, Equatable, Sendable {
    /// The platform store refused (`OSStatus` in the app).
    case platform(code: Int32, message: String)
    /// A stored key does not have 32 bytes.
    case badKeyLength(Int)
}

/// A key store that forgets its key with the process: for tests and demo mode.
public final class InMemoryKeyStore: KeyStore, @unchecked Sendable {
    private let lock = NSLock()
    private var key: Data?

    /// An empty store.
    public init() {}

    /// Whether a key exists now.
    public var hasKey: Bool { lock.locked { key != nil } }

    public func dataKey() throws -> Data {
        lock.locked {
            if let key { return key }
            var rng = SystemRandomNumberGenerator()
            let fresh = Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &rng) })
            key = fresh
            return fresh
        }
    }

    public func deleteDataKey() throws {
        lock.locked { key = nil }
    }
}

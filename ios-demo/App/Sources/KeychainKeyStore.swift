// The data key for pending uploads in the Keychain: this device only, readable after the
// first unlock (uploads may resume in the background), never synced to iCloud.
import Foundation
import ScanKit
import Security

struct KeychainKeyStore: KeyStore {
    let service: String
    private let account = "pending-uploads"

    private var query: [String: Any] {
        [kSecClass as String: kSecClassGenericPassword,
         kSecAttrService as String: service,
         kSecAttrAccount as String: account]
    }

    func dataKey() throws -> Data {
        var lookup = query
        lookup[kSecReturnData as String] = true
        lookup[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(lookup as CFDictionary, &item)
        if status == errSecSuccess, let data = item as? Data {
            guard data.count == 32 else { throw KeyStoreError.badKeyLength(data.count) }
            return data
        }
        guard status == errSecItemNotFound else { throw platform(status) }
        var key = Data(count: 32)
        let random = key.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, 32, $0.baseAddress!) }
        guard random == errSecSuccess else { throw platform(random) }
        var add = query
        add[kSecValueData as String] = key
        add[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        add[kSecAttrSynchronizable as String] = false
        let added = SecItemAdd(add as CFDictionary, nil)
        guard added == errSecSuccess else { throw platform(added) }
        return key
    }

    func deleteDataKey() throws {
        let status = SecItemDelete(query as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else { throw platform(status) }
    }

    private func platform(_ status: OSStatus) -> KeyStoreError {
        .platform(code: status, message: SecCopyErrorMessageString(status, nil) as String? ?? "OSStatus \(status)")
    }
}

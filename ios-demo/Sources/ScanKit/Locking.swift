import Foundation

extension NSLock {
    /// Runs `body` holding the lock (`NSLocking.withLock` needs iOS 17; this app runs on 16).
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

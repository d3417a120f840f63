// Minimal test harness for the Swift binding tests.
import Foundation
import Mandrel

struct TestFailure: Error, CustomStringConvertible {
    let description: String
}

func expect(_ cond: Bool, _ message: @autoclosure () -> String) throws {
    if !cond { throw TestFailure(description: message()) }
}

/// Runs `body`, which must throw a `MandrelError` accepted by `matches`.
func expectError(_ body: () throws -> Void, _ matches: (MandrelError) -> Bool) throws {
    do {
        try body()
    } catch let e as MandrelError {
        if !matches(e) { throw TestFailure(description: "unexpected MandrelError: \(e)") }
        return
    }
    throw TestFailure(description: "expected a MandrelError, nothing was thrown")
}

struct Harness {
    var passed = 0
    var failed = 0

    mutating func test(_ name: String, _ body: () throws -> Void) {
        do {
            try body()
            passed += 1
            print("ok   \(name)")
        } catch {
            failed += 1
            print("FAIL \(name): \(error)")
        }
    }

    func summary() -> Int32 {
        print("\(passed) passed, \(failed) failed")
        return failed == 0 ? 0 : 1
    }
}

#if MANDREL_SIM
import Foundation
import Mandrel

/// The core's virtual depth sensor as a depth source: demo mode on devices (and simulators)
/// without a depth camera, and the simulated scan of the tests. Its frames enter the session
/// the way camera frames do: offered from its own queue without waiting (`offerNext`), then
/// validated and reported to the listener by the core's frame worker. Available when the library is
/// built with the `sim` feature (the `MANDREL_SIM` compilation condition).
public final class VirtualDepthSource: DepthSource, @unchecked Sendable {
    /// The scan's seed (deterministic frames).
    public let seed: UInt64
    /// The scan's options.
    public let options: VirtualScanOptions
    /// Pause between frames, seconds (about 1/30 in the demo: a camera's pace; at 0 the core
    /// drops most frames, as it would for a camera much faster than it).
    public let frameIntervalSeconds: Double
    private let queue = DispatchQueue(label: "mandrel.virtual-sensor")
    private let lock = NSLock()
    private var running = false
    private var generation = 0
    private var unplayed: VirtualSensor?

    /// The scan's ground truth (hand, finger, circumferences): the demo shows it beside the
    /// result, the tests compare with it.
    public let truth: VirtualScanTruth

    /// A source that plays the scan `seed` with `options`; throws `InvalidConfig` for options
    /// out of range. Every `start` replays the same scan from its first frame.
    public init(seed: UInt64, options: VirtualScanOptions = virtualScanDefaults(), frameIntervalSeconds: Double = 0) throws {
        self.seed = seed
        self.options = options
        self.frameIntervalSeconds = frameIntervalSeconds
        let sensor = try VirtualSensor(seed: seed, options: options)
        self.truth = sensor.truth()
        self.unplayed = sensor
    }

    public func start(session: ScanSession, events: ScanEventSink) {
        let (mine, built): (Int, Result<VirtualSensor, MandrelError>) = lock.locked {
            generation += 1
            running = true
            if let sensor = unplayed {
                unplayed = nil
                return (generation, .success(sensor))
            }
            let result = Result { try VirtualSensor(seed: seed, options: options) }
                .mapError { $0 as? MandrelError ?? .Internal(message: "\($0)") }
            return (generation, result)
        }
        let sensor: VirtualSensor
        switch built {
        case .success(let s): sensor = s
        case .failure(let e):
            events.send(.failed(.core(e)))
            return
        }
        queue.async { [weak self, frameIntervalSeconds] in
            while let self, self.isRunning(mine) {
                do {
                    // Offered like a camera frame: returns at once; a frame still waiting when
                    // the next one comes is dropped by the core (keep the latest).
                    guard try sensor.offerNext(session: session) else {
                        events.send(.sourceEnded)
                        return
                    }
                } catch {
                    events.send(.failed(.core(error as? MandrelError ?? .Internal(message: "\(error)"))))
                    return
                }
                if frameIntervalSeconds > 0 { Thread.sleep(forTimeInterval: frameIntervalSeconds) }
            }
        }
    }

    public func stop() {
        lock.locked {
            running = false
            generation += 1
        }
    }

    private func isRunning(_ mine: Int) -> Bool {
        lock.locked { running && generation == mine }
    }
}
#endif

import Mandrel

/// Delivers events from any thread to the scan controller on the main actor.
public struct ScanEventSink: Sendable {
    private let deliver: @Sendable (ScanEvent) -> Void

    /// A sink calling `deliver` (which must hop to the controller's actor itself).
    public init(_ deliver: @escaping @Sendable (ScanEvent) -> Void) {
        self.deliver = deliver
    }

    /// Sends `event`; never blocks the caller.
    public func send(_ event: ScanEvent) {
        deliver(event)
    }
}

/// Something that hands depth frames to a session on its own queue: the TrueDepth and LiDAR
/// captures in the app, the virtual sensor in demo mode and tests. A source offers frames
/// with the non-blocking `offer_*` calls (the core works one frame at a time and drops a
/// waiting frame when a newer one comes), never waits on the UI, and must stop offering (and
/// release the session) after `stop`.
public protocol DepthSource: AnyObject, Sendable {
    /// Starts offering frames to `session`; `events` takes `sourceEnded` or `failed`.
    func start(session: ScanSession, events: ScanEventSink)
    /// Stops offering; safe to call when not started, and more than once.
    func stop()
}

/// Asks the platform for camera access (`AVCaptureDevice.requestAccess(for: .video)` in the
/// app).
public protocol CameraPermission: Sendable {
    /// The current authorisation.
    func status() -> CameraAuthorization
    /// Shows the system prompt; true when granted.
    func request() async -> Bool
}

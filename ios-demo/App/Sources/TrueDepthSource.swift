// The front TrueDepth camera as a depth source: AVCaptureDepthDataOutput with filtering off
// (the core wants raw depth, not hole-filled depth), synchronised with the video output so
// Vision's hand landmarks belong to the same instant as the depth map, Float32 depth, and
// intrinsics from the depth data's cameraCalibrationData scaled to the depth map.
// Threading: the synchroniser delivers on `captureQueue`, which runs Vision on the video frame
// and offers the depth map to the core with `offerTruedepth`: the call copies the buffer and
// returns at once; the core works one frame at a time on its own thread and drops a frame
// that is still waiting when a newer one arrives (keep the latest, counted in
// `Guidance.framesDropped`). The capture queue never waits on the core, and the outputs
// discard late frames, so the camera never backs up either.
import AVFoundation
import Mandrel
import ScanKit

final class TrueDepthSource: NSObject, DepthSource, AVCaptureDataOutputSynchronizerDelegate, @unchecked Sendable {
    private let captureSession = AVCaptureSession()
    private let videoOutput = AVCaptureVideoDataOutput()
    private let depthOutput = AVCaptureDepthDataOutput()
    private var synchronizer: AVCaptureDataOutputSynchronizer?
    private let captureQueue = DispatchQueue(label: "mandrel.truedepth.capture", qos: .userInitiated)
    private let handPose = HandPoseDetector()
    private let lock = NSLock()
    private var session: ScanSession?
    private var events: ScanEventSink?
    private var configured = false

    func start(session: ScanSession, events: ScanEventSink) {
        lock.lock()
        self.session = session
        self.events = events
        lock.unlock()
        captureQueue.async { [self] in
            do {
                if !configured { try configure(); configured = true }
                captureSession.startRunning()
            } catch {
                events.send(.failed(.core(.InvalidFrame(message: "TrueDepth camera: \(error.localizedDescription)"))))
            }
        }
    }

    func stop() {
        lock.lock()
        session = nil
        events = nil
        lock.unlock()
        captureQueue.async { [captureSession] in captureSession.stopRunning() }
    }

    private func configure() throws {
        guard let device = AVCaptureDevice.default(.builtInTrueDepthCamera, for: .video, position: .front) else {
            throw CaptureError.noTrueDepthCamera
        }
        captureSession.beginConfiguration()
        defer { captureSession.commitConfiguration() }
        captureSession.sessionPreset = .vga640x480
        let input = try AVCaptureDeviceInput(device: device)
        guard captureSession.canAddInput(input) else { throw CaptureError.cannotAdd("camera input") }
        captureSession.addInput(input)

        videoOutput.alwaysDiscardsLateVideoFrames = true
        videoOutput.videoSettings = [kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_420YpCbCr8BiPlanarFullRange]
        guard captureSession.canAddOutput(videoOutput) else { throw CaptureError.cannotAdd("video output") }
        captureSession.addOutput(videoOutput)

        // Raw depth: temporal filtering fills holes with guesses the fusion cannot tell
        // from measurements.
        depthOutput.isFilteringEnabled = false
        depthOutput.alwaysDiscardsLateDepthData = true
        guard captureSession.canAddOutput(depthOutput) else { throw CaptureError.cannotAdd("depth output") }
        captureSession.addOutput(depthOutput)
        depthOutput.connection(with: .depthData)?.isEnabled = true

        // The largest Float32 depth format of the active video format.
        let float32 = device.activeFormat.supportedDepthDataFormats.filter {
            CMFormatDescriptionGetMediaSubType($0.formatDescription) == kCVPixelFormatType_DepthFloat32
        }
        guard let depthFormat = float32.max(by: {
            CMVideoFormatDescriptionGetDimensions($0.formatDescription).width < CMVideoFormatDescriptionGetDimensions($1.formatDescription).width
        }) else { throw CaptureError.noFloat32Depth }
        try device.lockForConfiguration()
        device.activeDepthDataFormat = depthFormat
        device.unlockForConfiguration()

        let sync = AVCaptureDataOutputSynchronizer(dataOutputs: [videoOutput, depthOutput])
        sync.setDelegate(self, queue: captureQueue)
        synchronizer = sync
    }

    func dataOutputSynchronizer(_ synchronizer: AVCaptureDataOutputSynchronizer,
                                didOutput collection: AVCaptureSynchronizedDataCollection) {
        guard let synced = collection.synchronizedData(for: depthOutput) as? AVCaptureSynchronizedDepthData,
              !synced.depthDataWasDropped else { return }
        lock.lock()
        let session = self.session, events = self.events
        lock.unlock()
        guard let session, let events else { return }
        var image: CVPixelBuffer?
        if let video = collection.synchronizedData(for: videoOutput) as? AVCaptureSynchronizedSampleBufferData,
           !video.sampleBufferWasDropped {
            image = CMSampleBufferGetImageBuffer(video.sampleBuffer)
        }
        offer(session: session, events: events, depthData: synced.depthData, image: image, timestamp: synced.timestamp.seconds)
    }

    private func offer(session: ScanSession, events: ScanEventSink, depthData original: AVDepthData,
                      image: CVPixelBuffer?, timestamp: Double) {
        let depthData = original.depthDataType == kCVPixelFormatType_DepthFloat32
            ? original : original.converting(toDepthDataType: kCVPixelFormatType_DepthFloat32)
        let map = depthData.depthDataMap
        let size = PixelSize(width: CVPixelBufferGetWidth(map), height: CVPixelBufferGetHeight(map))
        guard let calibration = depthData.cameraCalibrationData else {
            events.send(.frameRejected(FrameRejection(timestampS: timestamp, kind: .invalidFrame,
                                                      message: "depth data without camera calibration")))
            return
        }
        let k = calibration.intrinsicMatrix
        let reference = calibration.intrinsicMatrixReferenceDimensions
        let intrinsics: CameraIntrinsics
        do {
            intrinsics = try scaleIntrinsics(
                fx: Double(k.columns.0.x), fy: Double(k.columns.1.y), cx: Double(k.columns.2.x), cy: Double(k.columns.2.y),
                video: PixelSize(width: Int(reference.width), height: Int(reference.height)), depth: size)
        } catch {
            events.send(.frameRejected(FrameRejection(timestampS: timestamp, kind: .invalidFrame, message: "\(error)")))
            return
        }

        // Landmarks of the video frame taken at the same instant; Vision's normalised
        // coordinates map onto the depth map because both cover the same field of view.
        let landmarks = image.flatMap { handPose.detect(in: $0, orientation: .up) }.flatMap { HandLandmarks.depthPixels($0, size: size) }

        CVPixelBufferLockBaseAddress(map, .readOnly)
        defer { CVPixelBufferUnlockBaseAddress(map, .readOnly) }
        guard let base = CVPixelBufferGetBaseAddress(map) else { return }
        let bytesPerRow = CVPixelBufferGetBytesPerRow(map)
        // Not copied here: the offer copies the bytes once, inside the call, while the buffer is locked.
        let bytes = Data(bytesNoCopy: base, count: bytesPerRow * size.height, deallocator: .none)
        let info = FrameInfo(intrinsics: intrinsics, pose: nil, timestampS: timestamp, landmarks: landmarks)
        // Returns at once. The frame's problems reach the UI through the session's listener
        // (onFrameRejected); the offer itself only fails once the session is closed.
        do {
            try session.offerTruedepth(depth: bytes, format: .depthFloat32,
                                       layout: BufferLayout(width: UInt32(size.width), height: UInt32(size.height),
                                                            bytesPerRow: UInt32(bytesPerRow)),
                                       info: info)
        } catch {
            events.send(.failed(.core(error as? MandrelError ?? .Internal(message: "\(error)"))))
        }
    }
}

enum CaptureError: Error, LocalizedError {
    case noTrueDepthCamera
    case noFloat32Depth
    case cannotAdd(String)

    var errorDescription: String? {
        switch self {
        case .noTrueDepthCamera: return "this device has no TrueDepth camera"
        case .noFloat32Depth: return "the camera offers no Float32 depth format"
        case .cannotAdd(let what): return "cannot add the \(what) to the capture session"
        }
    }
}

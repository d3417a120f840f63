// One screen per phase of ScanKit's flow.
import Mandrel
import ScanKit
import SwiftUI

struct RootView: View {
    @EnvironmentObject private var model: ScanModel

    var body: some View {
        NavigationStack {
            content
                .padding()
                .navigationTitle(model.text.string("consent.title"))
                .toolbar {
                    if !model.phase.isTerminal && model.phase != .idle {
                        Button(role: .cancel) { model.cancel() } label: { Text("Cancel") }
                    }
                }
        }
        .onAppear { if model.phase == .idle { model.start() } }
    }

    @ViewBuilder private var content: some View {
        switch model.phase {
        case .idle, .requestingCameraPermission:
            ProgressView()
        case .awaitingConsent:
            ConsentView()
        case .capturing(let progress):
            ScanView(progress: progress, provisional: nil)
        case .provisional(let progress, let m):
            ScanView(progress: progress, provisional: m)
        case .finishing:
            ProgressView(model.text.string("phase.finishing"))
        case .result(let m):
            ResultView(measurement: m)
        case .sealing:
            ProgressView(model.text.string("phase.sealing"))
        case .uploading(let attempt):
            ProgressView(model.text.format("phase.uploading", String(attempt)))
        case .waitingToRetry(_, let delay):
            ProgressView(model.text.format("phase.waitingToRetry", String(Int(delay.rounded(.up)))))
        case .done:
            StatusView(message: model.text.string("phase.done"), action: "Scan again") { model.start() }
        case .discarded:
            StatusView(message: model.text.string("phase.discarded"), action: "Start") { model.start() }
        case .failed(let failure):
            StatusView(message: model.text.message(for: failure), action: "Try again") {
                if case .cameraUnavailable = failure {
                    if let url = URL(string: UIApplication.openSettingsURLString) { UIApplication.shared.open(url) }
                } else {
                    model.retry()
                }
            }
        }
    }
}

struct StatusView: View {
    let message: String
    let action: String
    let perform: () -> Void

    var body: some View {
        VStack(spacing: 24) {
            Text(message).multilineTextAlignment(.center)
            Button(action, action: perform).buttonStyle(.borderedProminent)
        }
    }
}

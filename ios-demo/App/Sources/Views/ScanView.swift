// The live guidance overlay: the core's hint, coverage of the finger, tracking state, frames
// dropped to keep up, the last rejection, and the core's provisional size once it has one.
import Mandrel
import ScanKit
import SwiftUI

struct ScanView: View {
    @EnvironmentObject private var model: ScanModel
    let progress: CaptureProgress
    let provisional: ProvisionalMeasurement?

    private var coverageFraction: Double {
        min((progress.guidance?.coverageDeg ?? 0) / 360, 1)
    }

    var body: some View {
        ZStack {
            Circle()
                .trim(from: 0, to: coverageFraction)
                .stroke(.tint, style: StrokeStyle(lineWidth: 10, lineCap: .round))
                .rotationEffect(.degrees(-90))
                .frame(width: 220, height: 220)
                .animation(.easeOut, value: coverageFraction)
            VStack(spacing: 12) {
                if let g = progress.guidance {
                    Text(model.text.text(for: g.hint)).font(.title3).multilineTextAlignment(.center)
                    Text(model.text.progress(g)).font(.footnote).monospacedDigit()
                    Text(model.text.text(for: g.tracking)).font(.caption).foregroundStyle(.secondary)
                    if let dropped = model.text.dropped(g) {
                        Text(dropped).font(.caption2).monospacedDigit().foregroundStyle(.secondary)
                    }
                } else {
                    Text(model.text.text(for: .holdStill)).font(.title3)
                }
                if let rejection = progress.lastRejection {
                    Text(model.text.message(for: rejection)).font(.caption).foregroundStyle(.orange)
                }
                if let provisional, let line = model.formatter.provisional(provisional) {
                    Text(line).font(.headline).monospacedDigit()
                }
            }
            .frame(maxWidth: 260)
        }
        .safeAreaInset(edge: .bottom) {
            Button("Finish now") { model.finishNow() }.disabled(provisional == nil)
        }
    }
}

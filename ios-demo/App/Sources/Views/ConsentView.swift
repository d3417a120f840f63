// The consent screen: what is measured, what leaves the phone, agree or decline.
import ScanKit
import SwiftUI

struct ConsentView: View {
    @EnvironmentObject private var model: ScanModel

    var body: some View {
        VStack(alignment: .leading, spacing: 20) {
            Text(model.text.string("consent.body"))
            Text("Depth source: \(model.sourceName)").font(.footnote).foregroundStyle(.secondary)
            Spacer()
            Button(model.text.string("consent.accept")) { model.accept(purpose: "ring sizing for your order") }
                .buttonStyle(.borderedProminent)
                .frame(maxWidth: .infinity)
            Button(model.text.string("consent.decline"), role: .cancel) { model.decline() }
                .frame(maxWidth: .infinity)
        }
    }
}

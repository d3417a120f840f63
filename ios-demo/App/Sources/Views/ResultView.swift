// The result: the size in the shopper's system first, every system, the circumferences,
// the core's knuckle advice, and sending (sealed) to the retailer.
import Mandrel
import ScanKit
import SwiftUI

struct ResultView: View {
    @EnvironmentObject private var model: ScanModel
    let measurement: RingMeasurement

    var body: some View {
        List {
            Section {
                Text(model.formatter.headline(measurement)).font(.title2)
                ForEach(model.formatter.details(measurement), id: \.self) { Text($0) }
                if let truth = model.demoTruth {
                    Text("Demo: true ring circumference \(truth.ringCircumferenceMm, specifier: "%.1f") mm")
                        .font(.footnote).foregroundStyle(.secondary)
                }
            }
            if let labels = model.formatter.labels(of: measurement) {
                Section("Every sizing system") {
                    ForEach(model.formatter.rows(labels), id: \.system) { row in
                        LabeledContent(row.name, value: row.label)
                    }
                }
            }
            Section {
                if measurement.status == .ok {
                    Button("Send my size to the retailer") { model.send() }.buttonStyle(.borderedProminent)
                } else {
                    Button("Scan again") { model.retry() }
                }
            }
        }
    }
}

// The demo app: SwiftUI screens over ScanKit's flow. Compiles on a Mac with Xcode (see
// ../../README.md); CI only parses it.
import ScanKit
import SwiftUI

@main
struct MandrelDemoApp: App {
    @StateObject private var model = ScanModel.makeDefault()

    var body: some Scene {
        WindowGroup {
            RootView()
                .environmentObject(model)
        }
    }
}

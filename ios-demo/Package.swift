// swift-tools-version:6.0
// The mandrel iOS shell's platform-independent logic (ScanKit) over the Rust core's Swift
// bindings (Mandrel). The app itself (App/, XcodeGen) links ScanKit and adds the camera,
// Vision and SwiftUI parts that only exist on Apple platforms.
//
// Mandrel.swift (Sources/Mandrel) and the C header of MandrelFFI are generated from the
// built library by uniffi-bindgen and are not committed: ios-demo/test.sh generates them on
// Linux, bindings/scripts/build-ios.sh on a Mac (see README.md).
import PackageDescription

#if os(Linux)
// Linux (CI): the C side is a system library, the generated header + module map, linked to
// libmandrel_ffi.so (pass its folder with -Xlinker -L).
let ffi: Target = .systemLibrary(name: "MandrelFFI", path: "Sources/MandrelFFI")
#else
// Apple platforms: the static libraries and headers of bindings/scripts/build-ios.sh.
let ffi: Target = .binaryTarget(name: "MandrelFFI", path: "Mandrel.xcframework")
#endif

// MANDREL_SIM: the library is built with the core's `sim` feature (the virtual sensor for demo
// mode and the tests). Remove it for a production app built with MANDREL_FFI_FEATURES= .
let sim: [SwiftSetting] = [.define("MANDREL_SIM")]

let package = Package(
    name: "MandrelShell",
    defaultLocalization: "en",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "ScanKit", targets: ["ScanKit"]),
        .library(name: "Mandrel", targets: ["Mandrel"]),
    ],
    targets: [
        ffi,
        .target(name: "Mandrel", dependencies: ["MandrelFFI"], path: "Sources/Mandrel"),
        .target(
            name: "ScanKit",
            dependencies: ["Mandrel"],
            path: "Sources/ScanKit",
            resources: [.process("Resources")],
            swiftSettings: sim
        ),
        .testTarget(name: "ScanKitTests", dependencies: ["ScanKit", "Mandrel"], path: "Tests/ScanKitTests", swiftSettings: sim),
    ],
    swiftLanguageModes: [.v6]
)

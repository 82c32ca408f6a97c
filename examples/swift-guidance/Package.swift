// swift-tools-version: 6.1
// A GNC team's own package: its Swift guidance, and a `my-touchdown`
// executable that is the whole touchdown command line with that guidance
// registered beside the built-in ones. Build and try it:
//
//     swift build --package-path examples/swift-guidance
//     examples/swift-guidance/.build/debug/my-touchdown guidance list
//     examples/swift-guidance/.build/debug/my-touchdown replay traces/nominal.mcap \
//         --guidance cautious --fault altimeter.acquire-below=900m
import PackageDescription

let package = Package(
    name: "MyGuidance",
    platforms: [.macOS(.v15)],
    dependencies: [
        // In a real project: .package(url: "https://…/touchdown", from: "0.1.0").
        .package(name: "Touchdown", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "my-touchdown",
            dependencies: [.product(name: "TouchdownCLI", package: "Touchdown")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Touchdown",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "touchdown", targets: ["touchdown"]),
        .library(name: "TouchdownCLI", targets: ["TouchdownCLI"]),
        .executable(name: "touchdown-guidance-host", targets: ["touchdown-guidance-host"]),
        .library(name: "TouchdownTrace", targets: ["TouchdownTrace"]),
        .library(name: "TouchdownSim", targets: ["TouchdownSim"]),
        .library(name: "TouchdownReplay", targets: ["TouchdownReplay"]),
        .library(name: "TouchdownGuidanceServer", targets: ["TouchdownGuidanceServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    ],
    targets: [
        // libzstd and liblz4 from the system (Debian libzstd-dev, liblz4-dev).
        // Every call into them lives in one Swift file each: Zstd.swift, LZ4.swift.
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        // CRC-32 with carry-less multiplication paths chosen at run time, and a table path.
        .target(name: "CTouchdownCRC"),
        // System calls that need _GNU_SOURCE (block reservation for FileSink,
        // unlinked temporary files, close-on-exec pipes for guidance
        // processes, sincos for the simulator) and a spin-wait hint for the
        // compression thread.
        .target(name: "CTouchdownIO"),
        .target(
            name: "TouchdownTrace",
            dependencies: ["CZstd", "CLZ4", "CTouchdownCRC", "CTouchdownIO"]
        ),
        // The lunar descent simulator, the guidance interface and the
        // reference guidance; records through TouchdownTrace.
        .target(
            name: "TouchdownSim",
            dependencies: ["TouchdownTrace", "CTouchdownIO", .product(name: "Yams", package: "Yams")]
        ),
        // The guidance side of the line protocol: what a user's Swift
        // guidance executable links to be replayed with --guidance-cmd.
        .target(name: "TouchdownGuidanceServer", dependencies: ["TouchdownSim", "TouchdownTrace"]),
        // The replayer: open and closed loop, faults, metrics, assertions,
        // digests, and guidance in other processes.
        .target(
            name: "TouchdownReplay",
            dependencies: ["TouchdownSim", "TouchdownTrace", "TouchdownGuidanceServer", "CTouchdownIO",
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Fault-injection campaigns: the campaign file, its runs and their
        // seeds, workers, shards and results.
        .target(
            name: "TouchdownCampaign",
            dependencies: ["TouchdownReplay", "TouchdownSim", "TouchdownTrace", .product(name: "Yams", package: "Yams"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        // What people look at: plots of a run and the campaign report
        // (self-contained HTML with SVG charts drawn here).
        .target(
            name: "TouchdownReport",
            dependencies: ["TouchdownCampaign", "TouchdownReplay", "TouchdownSim", "TouchdownTrace"]
        ),
        // Telemetry from elsewhere: map files, CSV import and export.
        .target(
            name: "TouchdownCapture",
            dependencies: ["TouchdownSim", "TouchdownTrace", "CTouchdownIO", .product(name: "Yams", package: "Yams"),
                           .product(name: "CSV", package: "CSV.swift")]
        ),
        // The command line as a library: `touchdown` is one call into it, and
        // a user's package builds its own with its guidances registered.
        .target(
            name: "TouchdownCLI",
            dependencies: [
                "TouchdownTrace",
                "TouchdownSim",
                "TouchdownReplay",
                "TouchdownCampaign",
                "TouchdownReport",
                "TouchdownCapture",
                "TouchdownGuidanceServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "touchdown", dependencies: ["TouchdownCLI"]),
        // Loads a guidance library written in C (include/touchdown_guidance.h)
        // and speaks the guidance line protocol for it (docs/guidance-protocol.md).
        .executableTarget(name: "touchdown-guidance-host", path: "Sources/touchdown-guidance-host", linkerSettings: [.linkedLibrary("dl")]),
        .executableTarget(
            name: "touchdown-bench",
            dependencies: ["TouchdownTrace", "TouchdownSim", "TouchdownReplay", "TouchdownTestSupport", "CTouchdownIO", "CZstd"],
            path: "Benchmarks/touchdown-bench"
        ),
        .target(
            name: "TouchdownTestSupport",
            dependencies: ["TouchdownTrace", "CTouchdownIO"]
        ),
        // The fuzz target over the readers, the checker and the CDR
        // decoders (FuzzHarness): scripts/fuzz builds it with libFuzzer; a
        // plain build runs the files it is given through the same harness.
        .executableTarget(
            name: "touchdown-fuzz",
            dependencies: ["TouchdownTestSupport", "TouchdownTrace"],
            path: "Sources/touchdown-fuzz"
        ),
        .testTarget(
            name: "TouchdownTraceTests",
            dependencies: ["TouchdownTrace", "TouchdownTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "TouchdownSimTests",
            dependencies: ["TouchdownSim", "TouchdownTrace", "TouchdownTestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "TouchdownReplayTests",
            dependencies: ["TouchdownReplay", "TouchdownSim", "TouchdownTrace", "TouchdownTestSupport"]
        ),
        .testTarget(
            name: "TouchdownCampaignTests",
            dependencies: ["TouchdownCampaign", "TouchdownReplay", "TouchdownSim", "TouchdownTrace", "TouchdownTestSupport",
                           .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(
            name: "TouchdownReportTests",
            dependencies: ["TouchdownReport", "TouchdownCampaign", "TouchdownReplay", "TouchdownSim", "TouchdownTrace", "TouchdownTestSupport"]
        ),
        .testTarget(
            name: "TouchdownCaptureTests",
            dependencies: ["TouchdownCapture", "CTouchdownIO", "TouchdownReplay", "TouchdownSim", "TouchdownTrace", "TouchdownTestSupport"]
        ),
        .testTarget(
            name: "TouchdownCLITests",
            dependencies: ["TouchdownTrace", "TouchdownTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

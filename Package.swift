// swift-tools-version: 6.1
import PackageDescription

// The source revision for `slicestream_build_info{commit=...}`: the Makefile exports it; only hex digits are
// taken, so nothing from the environment can reach the compiler as anything but a short string literal.
let gitCommit = String((Context.environment["SLICESTREAM_GIT_COMMIT"] ?? "").filter(\.isHexDigit).prefix(40))

let package = Package(
    name: "SliceStream",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slicestream", targets: ["slicestream"]),
        .executable(name: "slicestreamd", targets: ["slicestreamd"]),
        .library(name: "SliceMedia", targets: ["SliceMedia"]),
        .library(name: "SlicePipeline", targets: ["SlicePipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // FFmpeg 5.1 (Debian 12) through pkg-config; `shim.h` wraps the macros Swift cannot import.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavdevice libavcodec libswscale libavutil",
            providers: [.apt(["libavformat-dev", "libavdevice-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev", "pkg-config"])]
        ),
        .target(
            name: "SliceMedia",
            dependencies: ["CFFmpeg"]
        ),
        // The build's source revision (see `gitCommit` above); its own target so a new commit recompiles one file.
        .target(
            name: "CBuildInfo",
            cSettings: gitCommit.isEmpty ? [] : [.define("SLICESTREAM_GIT_COMMIT", to: "\"\(gitCommit)\"")]
        ),
        // Portable reference kernels + AVX2/AVX-512 variants, bit-identical, dispatched at run time.
        .target(
            name: "CSliceKernels",
            cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]
        ),
        .target(
            name: "SliceEngine",
            dependencies: ["CSliceKernels"]
        ),
        .target(
            name: "SliceModels",
            dependencies: ["SliceEngine", "SliceMedia"],
            resources: [.copy("Resources")]
        ),
        // The in-band wire format shared by senders and receivers: stream tags, model updates, SEI envelope.
        .target(
            name: "SliceUpdate",
            dependencies: ["SliceModels", "SliceEngine", "SliceMedia"]
        ),
        .target(
            name: "SlicePipeline",
            dependencies: ["SliceMedia", "SliceEngine", "SliceModels", "SliceUpdate", .product(name: "Logging", package: "swift-log")]
        ),
        // The sender's content adaptation: a SenderExtension of the pipeline that trains with SliceTraining.
        .target(
            name: "SliceAdaptation",
            dependencies: ["SlicePipeline", "SliceTraining", "SliceUpdate", "SliceModels", "SliceEngine", "SliceMedia",
                           .product(name: "Logging", package: "swift-log")]
        ),
        // The node's YAML config and stream definitions; no NIO, so the CLI can check `add` files itself.
        .target(
            name: "SliceConfig",
            dependencies: ["SliceMedia", "SliceModels", "SlicePipeline", "SliceAdaptation", "SliceUpdate", .product(name: "Yams", package: "Yams")]
        ),
        // The control protocol's types and its blocking client: Foundation only, so any tool can talk to a node.
        .target(name: "SliceControl"),
        .target(
            name: "SliceDaemon",
            dependencies: [
                "SliceConfig", "SliceControl", "SlicePipeline", "SliceAdaptation", "SliceUpdate", "SliceModels", "SliceMedia", "SliceEngine",
                "CBuildInfo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SliceTraining",
            dependencies: ["SliceEngine", "SliceModels", "SliceMedia"]
        ),
        .target(
            name: "SliceQA",
            dependencies: ["SlicePipeline", "SliceAdaptation", "SliceUpdate", "SliceMedia", .product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(
            name: "slicestream",
            dependencies: [
                "SliceMedia", "SlicePipeline", "SliceAdaptation", "SliceUpdate", "SliceModels", "SliceEngine", "SliceConfig", "SliceControl", "SliceQA", "SliceTraining",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "slicestreamd",
            dependencies: [
                "SliceDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Generates test media with the real pipeline from lavfi sources; shared by the test targets.
        .target(name: "SliceTestSupport", dependencies: ["SlicePipeline", "SliceMedia"], path: "Tests/SliceTestSupport"),
        .testTarget(name: "SliceEngineTests", dependencies: ["SliceEngine"], exclude: ["Fixtures"]),
        .testTarget(name: "SliceTrainingTests", dependencies: ["SliceTraining", "SliceEngine", "SliceModels", "SliceMedia", "SliceTestSupport"]),
        .testTarget(name: "SliceModelsTests", dependencies: ["SliceModels", "SliceEngine"]),
        .testTarget(name: "SliceMediaTests", dependencies: ["SliceMedia", "SliceTestSupport"]),
        .testTarget(name: "SliceUpdateTests", dependencies: ["SliceUpdate", "SlicePipeline", "SliceMedia", "SliceModels", "SliceEngine", "SliceTestSupport"]),
        .testTarget(name: "SliceAdaptationTests", dependencies: ["SliceAdaptation", "SliceUpdate", "SlicePipeline", "SliceTraining", "SliceMedia", "SliceModels", "SliceEngine", "SliceTestSupport"]),
        .testTarget(name: "SlicePipelineTests", dependencies: ["SlicePipeline", "SliceMedia", "SliceModels", "SliceEngine", "SliceUpdate", "SliceTestSupport"]),
        .testTarget(
            name: "RobustnessTests",
            dependencies: ["SliceDaemon", "SliceConfig", "SliceControl", "SlicePipeline", "SliceAdaptation", "SliceUpdate", "SliceMedia", "SliceEngine", "SliceModels", "SliceTestSupport"],
            exclude: ["README.md"]
        ),
        .testTarget(name: "SliceConfigTests", dependencies: ["SliceConfig", "SliceAdaptation", "SlicePipeline", "SliceTestSupport"]),
        .testTarget(name: "SliceControlTests", dependencies: ["SliceControl"]),
        .testTarget(name: "SliceDaemonTests", dependencies: ["SliceDaemon", "SliceConfig", "SliceControl", "SliceAdaptation", "SlicePipeline", "SliceMedia", "SliceTestSupport"]),
        .testTarget(name: "SliceQATests", dependencies: ["SliceQA", "SliceAdaptation", "SlicePipeline"]),
        .testTarget(name: "slicestreamTests", dependencies: ["SliceMedia", "SlicePipeline", "SliceModels", "SliceEngine", "SliceConfig", "SliceTestSupport",
                                                    .product(name: "Yams", package: "Yams")]),
    ],
    swiftLanguageModes: [.v6]
)

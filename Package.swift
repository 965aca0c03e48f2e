// swift-tools-version:6.1
import PackageDescription

// Layers (see README and ../shared/design/architecture.md):
//   0  CCableOpenSSL, CCableQREncode        system libraries (pkg-config), one per C library
//      CableLocking, CableStorage           the package's one lock; bounded reads and atomic file writes
//   1  CableCBOR, CableCrypto, CableTerminalQR
//   2  CableProtocol (sans-I/O hybrid core), CableCTAP (CTAP2 model)
//   3  CableTunnel (NIO: tunnel client, advert bus), CableRelay (NIO: the tunnel service), CableRelyingParty
//   4  CableClient (desktop), CableAuthenticator (phone model)
//   5  cable (CLI), Examples
let nio: [Target.Dependency] = ["NIOCore", "NIOPosix", "NIOHTTP1", "NIOWebSocket"]
    .map { .product(name: $0, package: "swift-nio") }
// TLS for the tunnel client and service (wss://); used by CableTunnel only.
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "swift-cable",
    products: [
        .library(name: "CableCBOR", targets: ["CableCBOR"]),
        .library(name: "CableProtocol", targets: ["CableProtocol"]),
        .library(name: "CableCTAP", targets: ["CableCTAP"]),
        .library(name: "CableTerminalQR", targets: ["CableTerminalQR"]),
        .library(name: "CableTunnel", targets: ["CableTunnel"]),
        .library(name: "CableRelay", targets: ["CableRelay"]),
        .library(name: "CableRelyingParty", targets: ["CableRelyingParty"]),
        .library(name: "CableClient", targets: ["CableClient"]),
        .library(name: "CableAuthenticator", targets: ["CableAuthenticator"]),
        .executable(name: "cable", targets: ["CableCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // MARK: Layer 0: C libraries, each wrapped by exactly one Swift target.
        .systemLibrary(
            name: "CCableOpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        .systemLibrary(
            name: "CCableQREncode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"]), .brew(["qrencode"])]
        ),

        // The package's one lock (pthread-backed, so ThreadSanitizer sees it; see LockedValue).
        .target(name: "CableLocking"),
        // Bounded whole-file reads and crash-safe replacement, shared by the phone's and the RP's stores.
        .target(name: "CableStorage"),

        // MARK: Layer 1: foundations.
        .target(name: "CableCBOR"),
        .target(name: "CableCrypto", dependencies: ["CCableOpenSSL", "CableLocking"]),
        .target(name: "CableTerminalQR", dependencies: ["CCableQREncode"]),

        // MARK: Layer 2: sans-I/O protocol core and the CTAP2 model.
        .target(name: "CableProtocol", dependencies: ["CableCBOR", "CableCrypto", "CableLocking"]),
        .target(name: "CableCTAP", dependencies: ["CableCBOR", "CableCrypto"]),

        // MARK: Layer 3: transport (the only NIO importer) and the relying party.
        .target(name: "CableTunnel", dependencies: ["CableProtocol", "CableLocking", log] + nio),
        // The tunnel service (relay), split from the client: what an operator runs, not what an app embeds.
        .target(
            name: "CableRelay",
            dependencies: [
                "CableTunnel", "CableProtocol", "CableLocking", log, nioSSL,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ] + nio),
        .target(
            name: "CableRelyingParty",
            dependencies: ["CableCTAP", "CableCBOR", "CableCrypto", "CableProtocol", "CableLocking", "CableStorage"]
        ),

        // MARK: Layer 4: roles.
        // Roles reach the tunnel service through the `TunnelConnector` seam; the CLI wires CableTunnel in.
        .target(
            name: "CableClient",
            dependencies: ["CableProtocol", "CableCTAP", "CableRelyingParty", "CableCBOR", "CableCrypto", log]
        ),
        .target(
            name: "CableAuthenticator",
            dependencies: ["CableProtocol", "CableCTAP", "CableCBOR", "CableCrypto", "CableLocking", "CableStorage", log]
        ),

        // MARK: Layer 5: the `cable` command and examples.
        .executableTarget(
            name: "CableCLI",
            dependencies: [
                "CableProtocol", "CableClient", "CableAuthenticator", "CableRelyingParty", "CableTunnel", "CableRelay",
                "CableTerminalQR", "CableCTAP", "CableLocking", log, argumentParser,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "LoopbackPairing",
            dependencies: ["CableClient", "CableAuthenticator", "CableRelyingParty", "CableTunnel", "CableRelay"],
            path: "Examples/LoopbackPairing"
        ),

        // The relay load harness (package-level API, not a product) and its tool
        // (`swift run -c release RelayLoad --url ws://HOST:PORT …`; see BENCHMARKS.md).
        .target(
            name: "CableRelayLoad", dependencies: ["CableRelay", "CableTunnel", "CableProtocol", "CableLocking", log] + nio),
        .executableTarget(name: "RelayLoad", dependencies: ["CableRelayLoad", "CableTunnel"], path: "Sources/RelayLoad"),

        // Benchmarks: a release-mode executable with same-run baselines (`make bench`, BENCHMARKS.md).
        .executableTarget(
            name: "CableBenchmarks",
            dependencies: [
                "CableProtocol", "CableCrypto", "CableTerminalQR", "CableTunnel", "CableClient", "CableAuthenticator",
                "CableRelyingParty", "CableCTAP", "CableTestSupport", "CableLocking", log, argumentParser,
                "CableRelay", "CableRelayLoad",
            ],
            path: "Benchmarks/CableBenchmarks"
        ),

        // MARK: Tests.
        .target(
            name: "CableTestSupport",
            dependencies: ["CableProtocol", "CableCBOR", "CableLocking"],
            path: "Tests/CableTestSupport"
        ),
        // A relay on loopback for one test, captured logs, and the Python oracle runner (both tunnel test targets).
        .target(
            name: "CableTunnelTestSupport",
            dependencies: ["CableRelay", "CableTunnel", "CableProtocol", "CableTestSupport", "CableLocking", log],
            path: "Tests/CableTunnelTestSupport"
        ),
        .testTarget(name: "CableLockingTests", dependencies: ["CableLocking"]),
        .testTarget(name: "CableStorageTests", dependencies: ["CableStorage"]),
        .testTarget(name: "CableCBORTests", dependencies: ["CableCBOR", "CableTestSupport"]),
        .testTarget(name: "CableCryptoTests", dependencies: ["CableCrypto", "CableTestSupport"]),
        .testTarget(
            name: "CableProtocolTests",
            dependencies: ["CableProtocol", "CableCBOR", "CableCrypto", "CableTestSupport"]
        ),
        .testTarget(
            name: "CableConformanceTests",
            dependencies: ["CableProtocol", "CableCBOR", "CableCrypto", "CableTestSupport"]
        ),
        .testTarget(
            name: "CableTerminalQRTests", dependencies: ["CableTerminalQR", "CableTestSupport"], exclude: ["Tools"]),
        .testTarget(
            name: "CableCTAPTests",
            dependencies: ["CableCTAP", "CableRelyingParty", "CableCBOR", "CableCrypto", "CableProtocol", "CableTestSupport"]
        ),
        .testTarget(
            name: "CableTunnelTests",
            dependencies: ["CableTunnel", "CableProtocol", "CableTestSupport", "CableLocking", log, "CableTunnelTestSupport"],
            exclude: ["Python"]),
        .testTarget(
            name: "CableRelayTests",
            dependencies: [
                "CableRelay", "CableRelayLoad", "CableTunnel", "CableProtocol", "CableTestSupport", "CableLocking", log,
                "CableTunnelTestSupport", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ] + nio,
            exclude: ["Python"]),
        .testTarget(
            name: "CableAuthenticatorTests",
            dependencies: [
                "CableAuthenticator", "CableCTAP", "CableCBOR", "CableCrypto", "CableRelyingParty", "CableTestSupport",
                "CableLocking", log,
            ]
        ),
        .testTarget(name: "CableBenchmarksTests", dependencies: ["CableBenchmarks"]),
        // Replays every input that once crashed a fuzz target (Fuzz/regressions/) through the same harnesses.
        .testTarget(
            name: "CableFuzzRegressionTests",
            dependencies: [
                "CableAuthenticator", "CableCBOR", "CableCTAP", "CableProtocol", "CableRelyingParty", "CableTunnel", log,
            ]
        ),
        .testTarget(
            name: "CableEndToEndTests",
            dependencies: [
                "CableClient", "CableAuthenticator", "CableRelyingParty", "CableTunnel", "CableProtocol",
                "CableCTAP", "CableTestSupport", "CableRelay",
            ]
        ),
    ]
)

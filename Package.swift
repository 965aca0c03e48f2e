// swift-tools-version:6.1
import PackageDescription

// Layers (see README and docs/architecture.md):
//   0  CCableOpenSSL, CCableQREncode        system libraries (pkg-config), one per C library
//      CableLocking, CableStorage           the package's one lock; the SQLite stores' database (GRDB), bounded reads
//   1  CableCBOR, CableCrypto, CableTerminalQR
//   2  CableProtocol (sans-I/O hybrid core), CableCTAP (CTAP2 model)
//   3  CableTunnel (NIO: tunnel client, advert bus), CableRelay (NIO: the tunnel service), CableRelyingParty,
//      CableTrust (attestation, X.509 paths, MDS3), CableBlueZ (the BlueZ radio over D-Bus; the only CCableDBus importer)
//   4  CableDesktop (desktop), CableAuthenticator (phone model), CableCeremonies (browser part + RP glue)
//   5  cable (CLI), Examples
let nio: [Target.Dependency] = ["NIOCore", "NIOPosix", "NIOHTTP1", "NIOWebSocket"]
    .map { .product(name: $0, package: "swift-nio") }
// TLS for the tunnel client and service (wss://); used by CableTunnel only.
let nioSSL: [Target.Dependency] = [
    .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOTLS", package: "swift-nio"),
]
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "swift-cable",
    products: [
        .library(name: "CableCBOR", targets: ["CableCBOR"]),
        .library(name: "CableProtocol", targets: ["CableProtocol"]),
        .library(name: "CableCTAP", targets: ["CableCTAP"]),
        .library(name: "CableTerminalQR", targets: ["CableTerminalQR"]),
        .library(name: "CableTunnel", targets: ["CableTunnel"]),
        .library(name: "CableBlueZ", targets: ["CableBlueZ"]),
        .library(name: "CableRelay", targets: ["CableRelay"]),
        .library(name: "CableRelyingParty", targets: ["CableRelyingParty"]),
        .library(name: "CableTrust", targets: ["CableTrust"]),
        .library(name: "CableDesktop", targets: ["CableDesktop"]),
        .library(name: "CableAuthenticator", targets: ["CableAuthenticator"]),
        .library(name: "CableCeremonies", targets: ["CableCeremonies"]),
        .library(name: "CableConformance", targets: ["CableConformance"]),
        .executable(name: "cable", targets: ["CableCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // SQLite stores (phone credentials, relying-party records); on Linux GRDB links the system SQLite.
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // `make docs`: DocC catalogs of the library products (`swift package generate-documentation`).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The relay's metrics: recorded through swift-metrics (backend-agnostic); `cable relay --metrics` serves Prometheus.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
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
        .systemLibrary(
            name: "CCableDBus",
            pkgConfig: "dbus-1",
            providers: [.apt(["libdbus-1-dev"]), .brew(["dbus"])]
        ),

        // The package's one lock (pthread-backed, so ThreadSanitizer sees it; see LockedValue).
        .target(name: "CableLocking"),
        // The SQLite database of both credential stores (GRDB), and bounded whole-file reads.
        .target(name: "CableStorage", dependencies: [grdb]),

        // MARK: Layer 1: foundations.
        .target(name: "CableCBOR"),
        .target(name: "CableCrypto", dependencies: ["CCableOpenSSL", "CableLocking"]),
        .target(name: "CableTerminalQR", dependencies: ["CCableQREncode"]),

        // MARK: Layer 2: sans-I/O protocol core and the CTAP2 model.
        .target(name: "CableProtocol", dependencies: ["CableCBOR", "CableCrypto", "CableLocking"]),
        .target(name: "CableCTAP", dependencies: ["CableCBOR", "CableCrypto"]),

        // MARK: Layer 3: transport (the only NIO importer) and the relying party.
        .target(name: "CableTunnel", dependencies: ["CableProtocol", "CableLocking", log] + nio + nioSSL),
        // The real radio on Linux: BlueZ over the D-Bus system bus, behind the advert seams.
        .target(name: "CableBlueZ", dependencies: ["CCableDBus", "CableProtocol", "CableLocking"]),
        // The tunnel service (relay), split from the client: what an operator runs, not what an app embeds.
        .target(
            name: "CableRelay",
            dependencies: [
                "CableTunnel", "CableProtocol", "CableLocking", log,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ] + nio + nioSSL
        ),
        .target(
            name: "CableRelyingParty",
            dependencies: [
                "CableCTAP", "CableCBOR", "CableCrypto", "CableProtocol", "CableLocking", "CableStorage", "CableTrust",
                grdb,
            ]
        ),
        // Attestation statement formats, X.509 paths (OpenSSL through CableCrypto), the FIDO MDS3 BLOB, trust policy.
        .target(
            name: "CableTrust",
            dependencies: [
                "CableCTAP", "CableCBOR", "CableCrypto", .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            resources: [.copy("Resources/fido-mds-root-globalsign-r3.pem")]
        ),

        // MARK: Layer 4: roles.
        // Roles reach the tunnel service through the `TunnelConnector` seam; the CLI wires CableTunnel in.
        .target(
            name: "CableDesktop",
            dependencies: ["CableProtocol", "CableCTAP", "CableCBOR", "CableCrypto", log]
        ),
        .target(
            name: "CableAuthenticator",
            dependencies: [
                "CableProtocol", "CableCTAP", "CableCBOR", "CableCrypto", "CableLocking", "CableStorage", grdb, log,
            ]
        ),

        // Where the desktop role meets the relying party: the browser's part (WebAuthn JSON <-> CTAP2), which a
        // native desktop app signing in to its own server needs, and the in-process register / sign-in glue
        // that `cable`, the example, benchmarks and tests share.
        .target(
            name: "CableCeremonies",
            dependencies: ["CableDesktop", "CableRelyingParty", "CableTrust", "CableCTAP"]
        ),

        // MARK: Layer 5: the `cable` command and examples.
        .executableTarget(
            name: "CableCLI",
            dependencies: [
                "CableProtocol", "CableDesktop", "CableAuthenticator", "CableRelyingParty", "CableTunnel", "CableRelay",
                "CableTerminalQR", "CableCTAP", "CableLocking", "CableCeremonies", "CableTrust", "CableBlueZ", log,
                argumentParser,
                "CableConformance",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "LoopbackPairing",
            dependencies: [
                "CableDesktop", "CableAuthenticator", "CableRelyingParty", "CableTunnel", "CableRelay",
                "CableCeremonies",
            ],
            path: "Examples/LoopbackPairing"
        ),

        // The relay load harness (package-level API, not a product) and its tool
        // (`swift run -c release RelayLoad --url ws://HOST:PORT …`; see BENCHMARKS.md).
        .target(
            name: "CableRelayLoad",
            dependencies: ["CableRelay", "CableTunnel", "CableProtocol", "CableLocking", log] + nio
        ),
        .executableTarget(
            name: "RelayLoad",
            dependencies: ["CableRelayLoad", "CableTunnel"],
            path: "Sources/RelayLoad"
        ),

        // The conformance kit: scenarios that drive another implementation of a role and judge it
        // (`cable conformance relay|phone|desktop`); faults for its mutation tests come through package seams.
        .target(
            name: "CableConformance",
            dependencies: [
                "CableProtocol", "CableCTAP", "CableCBOR", "CableCrypto", "CableTunnel", "CableDesktop",
                "CableAuthenticator", "CableRelyingParty", "CableLocking", log,
            ]
        ),

        // The relay fleet's load and outage check behind nginx (`make fleet-test`, deploy/nginx, docs/deploy.md).
        .executableTarget(
            name: "FleetLoad",
            dependencies: [
                "CableProtocol", "CableDesktop", "CableAuthenticator", "CableRelyingParty", "CableTunnel",
                "CableCeremonies",
                "CableLocking", log,
            ],
            path: "Sources/FleetLoad"
        ),

        // Benchmarks: a release-mode executable with same-run baselines (`make bench`, BENCHMARKS.md).
        .executableTarget(
            name: "CableBenchmarks",
            dependencies: [
                "CableProtocol", "CableCrypto", "CableTerminalQR", "CableTunnel", "CableDesktop", "CableAuthenticator",
                "CableRelyingParty", "CableCTAP", "CableTestSupport", "CableLocking", "CableCeremonies", "CableTrust",
                log,
                argumentParser, "CableStorage", grdb,
                "CableRelay", "CableRelayLoad",
            ],
            path: "Benchmarks/CableBenchmarks"
        ),

        // MARK: Tests.
        .target(
            name: "CableTestSupport",
            dependencies: ["CableProtocol", "CableCBOR", "CableLocking", "CableTunnel"],
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
            name: "CableTerminalQRTests",
            dependencies: ["CableTerminalQR", "CableTestSupport"],
            exclude: ["Tools"]
        ),
        .testTarget(
            name: "CableCTAPTests",
            dependencies: [
                "CableCTAP", "CableRelyingParty", "CableCBOR", "CableCrypto", "CableProtocol", "CableTestSupport",
            ]
        ),
        .testTarget(
            name: "CableTunnelTests",
            dependencies: [
                "CableTunnel", "CableRelay", "CableProtocol", "CableTestSupport", "CableLocking", log,
                "CableTunnelTestSupport",
            ],
            exclude: ["Python"]
        ),
        .testTarget(
            name: "CableRelayTests",
            dependencies: [
                "CableRelay", "CableRelayLoad", "CableTunnel", "CableProtocol", "CableTestSupport", "CableLocking", log,
                "CableTunnelTestSupport", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // CallerGroupShutdownTests: the roles over the WebSocket tunnel on a group the test shuts down.
                "CableDesktop", "CableAuthenticator",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ] + nio,
            exclude: ["Python"]
        ),
        .testTarget(
            name: "CableAuthenticatorTests",
            dependencies: [
                "CableAuthenticator", "CableCTAP", "CableCBOR", "CableCrypto", "CableRelyingParty", "CableTestSupport",
                "CableLocking", log,
            ]
        ),
        .testTarget(name: "CableBenchmarksTests", dependencies: ["CableBenchmarks"]),
        .testTarget(
            name: "CableTrustTests",
            dependencies: [
                "CableTrust", "CableCTAP", "CableCBOR", "CableCrypto", "CableAuthenticator", "CableTestSupport", log,
            ],
            exclude: ["Python"]
        ),
        // Replays every input that once crashed a fuzz target (Fuzz/regressions/) through the same harnesses.
        .testTarget(
            name: "CableFuzzRegressionTests",
            dependencies: [
                "CableAuthenticator", "CableCBOR", "CableCTAP", "CableProtocol", "CableRelyingParty", "CableTunnel",
                "CableTrust",
                log,
            ]
        ),
        // The `cable` binary run as a user runs it (version, README commands, --json failures, help), and the docs' links.
        .testTarget(name: "CableCLITests", dependencies: ["CableTestSupport", "CableTunnel"]),
        .testTarget(
            name: "CableBlueZTests",
            dependencies: ["CableBlueZ", "CableProtocol", "CableTestSupport", "CableLocking"],
            exclude: ["Python"]
        ),
        .testTarget(
            name: "CableEndToEndTests",
            dependencies: [
                "CableDesktop", "CableAuthenticator", "CableRelyingParty", "CableTunnel", "CableProtocol",
                "CableCTAP", "CableTestSupport", "CableCeremonies", "CableTrust", "CableRelay",
                "CableTunnelTestSupport",
            ]
        ),
        // The conformance kit judged: every scenario PASSes against our roles and FAILs against a broken variant.
        .testTarget(
            name: "ConformanceKitTests",
            dependencies: [
                "CableConformance", "CableRelay", "CableTunnel", "CableDesktop", "CableAuthenticator", "CableProtocol",
                "CableCTAP", "CableCBOR", "CableCrypto", "CableRelyingParty", "CableTestSupport",
                "CableTunnelTestSupport",
                "CableLocking", log,
                "CableCeremonies",
            ],
            exclude: ["Python"]
        ),
        .testTarget(
            name: "CableCeremoniesTests",
            dependencies: [
                "CableCeremonies", "CableRelyingParty", "CableAuthenticator", "CableCTAP", "CableTestSupport", log,
            ],
            exclude: ["Python"]
        ),
    ]
)

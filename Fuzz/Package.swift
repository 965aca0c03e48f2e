// swift-tools-version:6.1
import PackageDescription

// Coverage-guided fuzzing of every parser of outside input, with libFuzzer. A separate package so fuzz
// executables never enter the main build; see README.md. Build only with the fuzzer sanitizer:
//   swift build -c release --sanitize=fuzzer --sanitize=address     (run.sh does this)
//
// The harnesses live in the main package's Tests/CableFuzzRegressionTests/Harnesses (Sources/FuzzHarnesses
// is a symlink to it), so the regression test replays kept crash inputs through exactly the same code.

/// One libFuzzer executable per harness; the names match `FuzzTarget` and the corpora directories.
let fuzzTargets = [
    "FuzzCBOR", "FuzzDigits", "FuzzQRPayload", "FuzzAdvert", "FuzzAdvertisingData", "FuzzHandshakeResponder",
    "FuzzHandshakeInitiator", "FuzzCrypterOpen", "FuzzTunnelFrame", "FuzzPostHandshake", "FuzzCTAPRequest",
    "FuzzCTAPResponse", "FuzzAttestation", "FuzzRelyingParty", "FuzzRelayPaths", "FuzzMetadataBLOB",
    "FuzzAttestationStatement",
]

let package = Package(
    name: "swift-cable-fuzz",
    dependencies: [
        // The main package, named explicitly: a path dependency's identity is otherwise its directory's name.
        .package(name: "swift-cable", path: ".."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(
            name: "FuzzHarnesses",
            dependencies: [
                "CableCBOR", "CableProtocol", "CableCTAP", "CableRelyingParty", "CableAuthenticator", "CableTunnel",
                "CableTrust",
            ].map { .product(name: $0, package: "swift-cable") } + [.product(name: "Logging", package: "swift-log")]
        )
    ] + fuzzTargets.map { .executableTarget(name: $0, dependencies: ["FuzzHarnesses"]) }
)

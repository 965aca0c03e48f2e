import Foundation
import Testing

/// SwiftPM lets any target import a system-library module or NIO transitively, so the layering rules
/// of the architecture are checked here: each C library is imported only by its one wrapper target,
/// NIO only by the transport target, and examples use public products only.
@Suite struct ImportBoundaryTests {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path),
                FileManager.default.fileExists(atPath: url.appendingPathComponent("Sources").path)
            {
                return url
            }
        }
        preconditionFailure("package root not found")
    }()

    /// (module prefix, directories allowed to import it)
    static let rules: [(module: String, allowed: [String])] = [
        ("CCableOpenSSL", ["Sources/CableCrypto/"]),
        ("CCableQREncode", ["Sources/CableTerminalQR/"]),
        ("CCableDBus", ["Sources/CableBlueZ/"]),
        ("NIO", ["Sources/CableTunnel/", "Sources/CableRelay/", "Sources/CableRelayLoad/", "Tests/CableRelayTests/"]),
        // SQLite (through GRDB) only in the stores and their benchmark.
        (
            "GRDB",
            [
                "Sources/CableStorage/", "Sources/CableRelyingParty/Store/SQLite",
                "Sources/CableAuthenticator/Model/SQLite",
                "Benchmarks/CableBenchmarks/Cases/StoreCases.swift",
            ]
        ),
        ("CableCrypto", ["Sources/Cable", "Tests/", "Benchmarks/", "Sources/RelayLoad/"]),
        // A metrics backend is the operator's choice: the libraries record through swift-metrics only.
        ("Prometheus", ["Sources/CableCLI/", "Tests/CableRelayTests/"]),
    ]

    static func swiftFiles(under directory: String) -> [String] {
        let base = Self.root.appendingPathComponent(directory)
        guard let e = FileManager.default.enumerator(atPath: base.path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.map { directory + "/" + $0 }
    }

    static func importedModules(in path: String) throws -> [String] {
        let text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let i = words.firstIndex(of: "import"), i + 1 < words.count,
                words[..<i].allSatisfy({
                    [
                        "@preconcurrency", "public", "package", "internal", "private", "fileprivate", "@testable",
                        "@_implementationOnly",
                    ].contains($0)
                })
            else { return nil }
            return words[i + 1]
        }
    }

    @Test func cModulesAndNIOStayInTheirTargets() throws {
        var violations: [String] = []
        for path in Self.swiftFiles(under: "Sources") + Self.swiftFiles(under: "Examples")
            + Self.swiftFiles(under: "Tests")
            + Self.swiftFiles(under: "Benchmarks")
        {
            for module in try Self.importedModules(in: path) {
                for rule in Self.rules where module.hasPrefix(rule.module) {
                    if !rule.allowed.contains(where: { path.hasPrefix($0) }) {
                        violations.append("\(path) imports \(module)")
                    }
                }
            }
        }
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func examplesUseOnlyPublicProducts() throws {
        let products: Set = [
            "CableProtocol", "CableCBOR", "CableCTAP", "CableTerminalQR", "CableTunnel", "CableRelay",
            "CableRelyingParty", "CableDesktop", "CableAuthenticator", "CableCeremonies", "Foundation",
        ]
        for path in Self.swiftFiles(under: "Examples") {
            for module in try Self.importedModules(in: path) {
                #expect(products.contains(module), "\(path) imports \(module), which is not a public product")
            }
        }
    }

    /// `Synchronization.Mutex` hides its critical sections from ThreadSanitizer on Linux (see
    /// `CableLocking.LockedValue`); one stray use would bring back dozens of false race reports and
    /// hide real ones among them. `Atomic` stays allowed: its operations are inlined and instrumented.
    @Test func everyLockIsALockedValue() throws {
        let mutexUse = /\bMutex\s*[<(]/
        var violations: [String] = []
        for path in Self.swiftFiles(under: "Sources") + Self.swiftFiles(under: "Examples")
            + Self.swiftFiles(under: "Tests")
            + Self.swiftFiles(under: "Benchmarks") + Self.swiftFiles(under: "Fuzz/Sources")
        // LockCases uses Mutex as the baseline it is measured against.
        where path != "Benchmarks/CableBenchmarks/Cases/LockCases.swift" {
            let text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
            for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                if line.contains(mutexUse) {
                    violations.append("\(path): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(violations.isEmpty, "use LockedValue instead: \(violations)")
    }

    @Test func theProtocolCoreStaysFreeOfFoundationAndNIO() throws {
        for target in ["Sources/CableCBOR", "Sources/CableCrypto", "Sources/CableProtocol", "Sources/CableCTAP"] {
            for path in Self.swiftFiles(under: target) {
                let modules = try Self.importedModules(in: path)
                #expect(!modules.contains("Foundation"), "\(path) imports Foundation")
                #expect(!modules.contains { $0.hasPrefix("NIO") }, "\(path) imports NIO")
            }
        }
    }
}

import Foundation
import Testing

/// One input kept under `Fuzz/`: a crash input libFuzzer found (`Fuzz/regressions/<target>/`) or a seed
/// (`Fuzz/corpora/<target>/`).
struct FuzzInput: Sendable, CustomTestStringConvertible {
    /// The harness the input belongs to.
    let target: FuzzTarget
    /// The file name inside the target's directory.
    let name: String
    /// The input bytes.
    let bytes: [UInt8]

    /// `<target>/<file>`, so a failure names the reproducer.
    var testDescription: String { "\(self.target.rawValue)/\(self.name)" }

    /// The repository's `Fuzz` directory, found by walking up from this file.
    static let fuzzDirectory: URL = {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("Fuzz/Package.swift")
            if FileManager.default.fileExists(atPath: candidate.path) {
                return url.appendingPathComponent("Fuzz")
            }
        }
        preconditionFailure("Fuzz/Package.swift not found above \(#filePath)")
    }()

    /// Every input under `Fuzz/<kind>/<target>/`, in a stable order. Dot files (`.gitkeep`) are skipped.
    static func all(in kind: String) -> [FuzzInput] {
        FuzzTarget.allCases.flatMap { target in
            let directory = Self.fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().compactMap { name -> FuzzInput? in
                guard let data = try? Data(contentsOf: directory.appendingPathComponent(name)) else { return nil }
                return FuzzInput(target: target, name: name, bytes: Array(data))
            }
        }
    }

    /// Subdirectories of `Fuzz/<kind>/` that name no fuzz target (a typo would silently skip inputs).
    /// Plain files there (a README) are not inputs and are ignored.
    static func unknownDirectories(in kind: String) -> [String] {
        let directory = Self.fuzzDirectory.appendingPathComponent(kind)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let known = Set(FuzzTarget.allCases.map(\.rawValue))
        return names.filter { name in
            var isDirectory: ObjCBool = false
            let path = directory.appendingPathComponent(name).path
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                && !known.contains(name)
        }.sorted()
    }
}

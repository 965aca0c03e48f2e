import Foundation

/// Files of this repository, found from this source file's path (tests run from a clone).
enum Repository {
    /// The package root: the directory holding Package.swift.
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        preconditionFailure("no Package.swift above \(#filePath)")
    }()

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: self.root.appendingPathComponent(relativePath), encoding: .utf8)
    }
}

import Foundation
import Testing

/// The project's Python tool venv (`.venv-tools`, made by `make venv`) and the scripts beside these tests.
enum PythonVenv {
    /// The interpreter, found by walking up from this file, or `nil` when the venv was not made.
    static let interpreter: URL? = {
        var url = URL(fileURLWithPath: #filePath)
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".venv-tools/bin/python")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }()

    /// A script in `Tests/CableCeremoniesTests/Python/`.
    static func script(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/\(name)")
    }

    /// Runs a script to its end (at most `timeout`) and returns stdout and stderr together.
    static func run(_ python: URL, script: URL, arguments: [String], timeout: TimeInterval = 120) throws -> String {
        let process = Process()
        process.executableURL = python
        process.arguments = [script.path] + arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("py-out-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("\(script.lastPathComponent) did not finish within \(Int(timeout)) s")
        }
        try handle.close()
        return String(decoding: try Data(contentsOf: output), as: UTF8.self)
    }
}

import CableTestSupport
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
    static func run(
        _ python: URL,
        script: URL,
        arguments: [String],
        timeout: Duration = .seconds(120)
    ) async throws
        -> String
    {
        let result = try await ChildProcess.run(python, [script.path] + arguments, timeout: timeout)
        return result.stdoutText + result.stderrText
    }
}

import CableLocking
import CableTestSupport
import Foundation
import Testing

/// The project's Python tool venv (`.venv-tools/bin/python`, made by `make venv`), found by walking
/// up from this file, and the scripts in `Tests/CableTunnelTests/Python/` and `Tests/CableRelayTests/Python/`.
package enum PythonTool {
    /// Where the interpreter is, or `nil` when the venv was not made.
    package static let interpreter: URL? = {
        var url = URL(fileURLWithPath: #filePath)
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".venv-tools/bin/python")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }()

    /// A script of the test targets that use this tool (`Tests/<target>/Python/<name>`).
    package static func script(_ name: String) -> URL {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let candidates = ["CableTunnelTests", "CableRelayTests"].map {
            tests.appendingPathComponent($0).appendingPathComponent("Python").appendingPathComponent(name)
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]
    }

    /// The interpreter; records a failure naming `make venv` when it is missing.
    package static func requireInterpreter(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        guard let interpreter else {
            Issue.record(
                "Python venv .venv-tools not found above \(#filePath): run `make venv`",
                sourceLocation: sourceLocation
            )
            throw PythonToolError.missingVenv
        }
        return interpreter
    }

    /// Runs a script to its end and decodes the JSON object on its last stdout line.
    package static func run(
        _ script: String,
        _ arguments: [String],
        timeout: Duration = .seconds(60)
    ) async throws -> JSONValue {
        let process = try PythonProcess(script: script, arguments: arguments)
        return try await process.result(timeout: timeout)
    }
}

package enum PythonToolError: Error, CustomStringConvertible {
    case missingVenv
    case timedOut(String)
    case noResult(status: Int32, output: String)

    package var description: String {
        switch self {
        case .missingVenv: return "run `make venv`"
        case .timedOut(let what): return "python timed out: \(what)"
        case .noResult(let status, let output): return "python exited \(status) without a JSON result:\n\(output)"
        }
    }
}

/// A running Python script whose stdout lines arrive as they are printed.
package final class PythonProcess: Sendable {
    private let process: ChildProcess
    private let lines: AsyncStream<String>
    private let collected: PipeLines
    private let description: String

    package init(script: String, arguments: [String]) throws {
        let process = ChildProcess()
        process.executableURL = try PythonTool.requireInterpreter()
        process.arguments = [PythonTool.script(script).path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        self.process = process
        self.description = "\(script) \(arguments.joined(separator: " "))"
        let (lines, continuation) = AsyncStream<String>.makeStream()
        self.lines = lines
        try process.run()
        self.collected = PipeLines(
            output.fileHandleForReading,
            onLine: { continuation.yield($0) },
            onEnd: {
                process.waitUntilExit()
                continuation.finish()
            }
        )
    }

    /// The first line starting with `prefix` (e.g. `PORT `), without the prefix.
    package func firstLine(withPrefix prefix: String, timeout: Duration = .seconds(60)) async throws -> String {
        let lines = self.lines
        let found: String? = try await withTimeout(timeout, self.description) { () async -> String? in
            for await line in lines where line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
            return nil
        }
        guard let found else { throw PythonToolError.noResult(status: -1, output: self.output) }
        return found
    }

    /// Waits for the script to end and decodes its last line as JSON.
    package func result(timeout: Duration = .seconds(120)) async throws -> JSONValue {
        let lines = self.lines
        do {
            try await withTimeout(timeout, self.description) {
                for await _ in lines {}
            }
        } catch {
            self.process.terminate()
            throw error
        }
        let all = self.collected.lines
        guard let last = all.last(where: { $0.hasPrefix("{") }),
            let value = try? JSONDecoder().decode(JSONValue.self, from: Data(last.utf8))
        else { throw PythonToolError.noResult(status: self.process.terminationStatus, output: self.output) }
        if let error = value["error"]?.string {
            Issue.record("python scenario failed: \(error)\n\(self.output)")
        }
        return value
    }

    /// Everything printed so far.
    package var output: String { self.collected.lines.joined(separator: "\n") }

    /// Stops the script if it still runs.
    package func terminate() { if self.process.isRunning { self.process.terminate() } }
}

/// Runs `body`, failing with ``PythonToolError/timedOut`` after `timeout`.
package func withTimeout<T: Sendable>(
    _ timeout: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw PythonToolError.timedOut(what) }
        return value
    }
}

import CableLocking
import Foundation

/// Runs the built `cable` executable as a separate process for end-to-end tests: collects stdout
/// and stderr lines, waits for a line, waits for exit — all bounded in time — and kills the process
/// if the test ends first.
public final class CableProcess: Sendable {
    private let process: ChildProcess
    private let output = OutputLines()
    public let arguments: [String]

    /// The `cable` binary next to the test bundle (`swift build --build-tests` builds it).
    public static var executable: URL {
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("cable")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        // Fall back to the package's debug build directory.
        var url = URL(fileURLWithPath: #filePath)
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".build/debug/cable")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        preconditionFailure("the cable executable is not built: run `swift build --build-tests` (make test does)")
    }

    /// Starts `cable <arguments>`, with `environment` set over the test's own.
    public init(_ arguments: [String], environment extra: [String: String] = [:]) throws {
        self.arguments = arguments
        let process = ChildProcess()
        process.executableURL = Self.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "200"
        environment["LINES"] = "100"
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        self.process = process
        let output = self.output
        try process.run()
        drain(out.fileHandleForReading) { output.append($0, toStdout: true) }
        drain(err.fileHandleForReading) { output.append($0, toStdout: false) }
    }

    deinit {
        if self.process.isRunning { self.process.terminate() }
    }

    /// Lines printed on stdout so far.
    public var stdout: [String] { self.output.lines(stdout: true) }
    /// Lines printed on stderr so far.
    public var stderr: [String] { self.output.lines(stdout: false) }

    /// Waits (bounded) for a stdout line starting with `prefix`.
    public func waitForLine(startingWith prefix: String, timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = self.stdout.first(where: { $0.hasPrefix(prefix) }) { return line }
            if !self.process.isRunning, self.stdout.first(where: { $0.hasPrefix(prefix) }) == nil {
                try await Task.sleep(for: .milliseconds(50))
                if let line = self.stdout.first(where: { $0.hasPrefix(prefix) }) { return line }
                throw ProcessFailure(
                    "cable \(self.arguments.first ?? "") exited before printing \(prefix)…; stderr: \(self.stderr.suffix(5))"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ProcessFailure("no line starting with \(prefix) within \(timeout); stderr: \(self.stderr.suffix(5))")
    }

    /// Waits (bounded) for the process to exit; kills it and throws on timeout.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            if ContinuousClock.now > deadline {
                self.process.terminate()
                throw ProcessFailure("cable \(self.arguments.first ?? "") did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Let the pipes drain.
        try await Task.sleep(for: .milliseconds(50))
        return self.process.terminationStatus
    }

    /// Sends SIGINT (a clean shutdown request).
    public func interrupt() { self.process.interrupt() }
    /// Sends SIGTERM.
    public func terminate() { self.process.terminate() }
    /// Whether it is still running.
    public var isRunning: Bool { self.process.isRunning }

    /// The last stdout line parsed as a JSON object.
    public func lastJSON() throws -> [String: Any] {
        guard let last = self.stdout.last(where: { $0.hasPrefix("{") }),
            let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        else { throw ProcessFailure("no JSON object on stdout: \(self.stdout.suffix(3))") }
        return object
    }
}

/// A failed expectation about a child process.
public struct ProcessFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Lines collected from a child's stdout and stderr.
private final class OutputLines: Sendable {
    private struct State {
        var lines: [[String]] = [[], []]
        var partial: [String] = ["", ""]
    }
    private let state = LockedValue(State())

    func append(_ data: Data, toStdout: Bool) {
        let i = toStdout ? 0 : 1
        self.state.withLock { s in
            s.partial[i] += String(decoding: data, as: UTF8.self)
            while let nl = s.partial[i].firstIndex(of: "\n") {
                s.lines[i].append(String(s.partial[i][..<nl]))
                s.partial[i] = String(s.partial[i][s.partial[i].index(after: nl)...])
            }
            if data.isEmpty, !s.partial[i].isEmpty {
                s.lines[i].append(s.partial[i])
                s.partial[i] = ""
            }
        }
    }

    func lines(stdout: Bool) -> [String] { self.state.withLock { $0.lines[stdout ? 0 : 1] } }
}

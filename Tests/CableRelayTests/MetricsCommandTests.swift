import CableLocking
import CableTestSupport
import Foundation
import Testing

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// `cable relay` run as an operator runs it: settings from flags and `CABLE_RELAY_*` variables,
/// `--metrics` and `/healthz` through SIGTERM.
final class RelayCommandProcess: Sendable {
    let process: ChildProcess
    private let output = LockedValue((stdout: "", stderr: ""))

    /// The `cable` built beside this test bundle.
    static let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("cable")

    init(_ arguments: [String], environment: [String: String]) throws {
        let process = ChildProcess()
        process.executableURL = Self.binary
        process.arguments = ["relay"] + arguments
        // The test's own environment without any CABLE_RELAY_* it may have, plus the case's.
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CABLE_RELAY_") }
        variables.merge(environment) { $1 }
        process.environment = variables
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        self.process = process
        let output = self.output
        try process.run()
        drain(out.fileHandleForReading) { data in
            let text = String(decoding: data, as: UTF8.self)
            output.withLock { $0.stdout += text }
        }
        drain(err.fileHandleForReading) { data in
            let text = String(decoding: data, as: UTF8.self)
            output.withLock { $0.stderr += text }
        }
    }

    var stdout: String { self.output.withLock { $0.stdout } }
    var stderr: String { self.output.withLock { $0.stderr } }

    /// Waits (up to 30 s) until `find` finds something in stdout + stderr.
    func waitFor<T>(_ what: String, _ find: (_ stdout: String, _ stderr: String) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let (out, err) = self.output.withLock { ($0.stdout, $0.stderr) }
            if let found = find(out, err) { return found }
            if !self.process.isRunning, let found = find(self.stdout, self.stderr) { return found }
            if !self.process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("cable relay: no \(what); stdout: \(self.stdout) stderr: \(self.stderr)")
        throw CancellationError()
    }

    /// Waits for the exit (up to 30 s) and returns the status.
    func exitStatus() async throws -> Int32 {
        let deadline = ContinuousClock.now + .seconds(30)
        while self.process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if self.process.isRunning {
            self.process.terminate()
            Issue.record("cable relay did not exit within 30 s")
        }
        self.process.waitUntilExit()
        try await Task.sleep(for: .milliseconds(50))  // the pipes' last bytes
        return self.process.terminationStatus
    }

    func signal(_ number: Int32) { kill(self.process.processIdentifier, number) }

    /// The port of `listening on ws://127.0.0.1:PORT`.
    func relayPort() async throws -> Int {
        try await self.waitFor("listening line") { out, _ in
            out.split(separator: "\n").first { $0.hasPrefix("listening on ws://127.0.0.1:") }
                .flatMap { Int($0.split(separator: ":").last ?? "") }
        }
    }

    /// The port the metrics endpoint logged (`metrics endpoint listening … http://127.0.0.1:PORT`).
    func metricsPort() async throws -> Int {
        try await self.waitFor("metrics endpoint line") { _, err in
            guard let line = err.split(separator: "\n").first(where: { $0.contains("metrics endpoint listening") }),
                let range = line.range(of: "http://127.0.0.1:")
            else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
    }
}

@Suite struct MetricsCommandTests {
    /// Each malformed variable is one `error:` line that names it; the flag's own error names the flag.
    @Test(arguments: [
        ("CABLE_RELAY_PORT", "x1", "error: CABLE_RELAY_PORT must be a whole number, not \"x1\""),
        ("CABLE_RELAY_PEER_WAIT_TIMEOUT", "soon", "error: CABLE_RELAY_PEER_WAIT_TIMEOUT must be a number of seconds"),
        (
            "CABLE_RELAY_IDLE_TIMEOUT", "-3",
            "error: CABLE_RELAY_IDLE_TIMEOUT must be a number of seconds between 0 and 86400"
        ),
        ("CABLE_RELAY_MAX_TUNNELS", "0", "error: CABLE_RELAY_MAX_TUNNELS must be at least 1"),
        ("CABLE_RELAY_ROUTING_ID", "xyz", "error: CABLE_RELAY_ROUTING_ID must be 3 bytes as 6 hex digits"),
        ("CABLE_RELAY_METRICS", "localhost", "error: CABLE_RELAY_METRICS must be HOST:PORT"),
        ("CABLE_RELAY_METRICS", "127.0.0.1:70000", "error: CABLE_RELAY_METRICS must be HOST:PORT"),
        ("CABLE_RELAY_TLS_CERT", "/nonexistent.pem", "error: CABLE_RELAY_TLS_CERT and --tls-key go together"),
        ("CABLE_RELAY_LOG_LEVEL", "loud", "error: CABLE_RELAY_LOG_LEVEL must be one of"),
    ])
    func aMalformedVariableIsNamed(variable: String, value: String, expected: String) async throws {
        var environment = ["CABLE_RELAY_PORT": "0", "CABLE_RELAY_HOST": "127.0.0.1"]
        environment[variable] = value
        let relay = try RelayCommandProcess([], environment: environment)
        let status = try await relay.exitStatus()
        #expect(status != 0)
        let errors = relay.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1, "\(relay.stderr)")
        #expect(errors.first?.hasPrefix(expected) == true, "\(relay.stderr)")
        #expect(!relay.stdout.contains("listening on"))
    }

    @Test func aFlagsErrorNamesTheFlag() async throws {
        let relay = try RelayCommandProcess(
            ["--port", "0", "--max-tunnels", "0"],
            environment: ["CABLE_RELAY_MAX_TUNNELS": "5"]
        )
        #expect(try await relay.exitStatus() != 0)
        #expect(relay.stderr.contains("error: --max-tunnels must be at least 1"), "\(relay.stderr)")
    }

    /// A flag wins over its variable (a malformed variable behind a flag is never read), a
    /// variable wins over the default, and a misspelt variable is warned about.
    @Test func flagsWinOverVariables() async throws {
        let relay = try RelayCommandProcess(
            ["--port", "0", "--max-connections", "55"],
            environment: [
                "CABLE_RELAY_PORT": "not-a-port", "CABLE_RELAY_MAX_CONNECTIONS": "77",
                "CABLE_RELAY_MAX_BUFFERED_BYTES": "3000000", "CABLE_RELAY_METRICS": "127.0.0.1:0",
                "CABLE_RELAY_PROT": "8080",
            ]
        )
        defer { relay.signal(SIGTERM) }
        _ = try await relay.relayPort()
        let metrics = try await relay.metricsPort()
        #expect(relay.stderr.contains("warning: CABLE_RELAY_PROT is not a setting of cable relay; ignored"))
        let scrape = try await MetricsScrape.of("http://127.0.0.1:\(metrics)/metrics")
        #expect(scrape["cable_relay_connection_limit"] == 55)
        #expect(scrape["cable_relay_buffered_bytes_limit"] == 3_000_000)
        #expect(scrape["cable_relay_accepting_tunnels"] == 1)
    }

    /// SIGTERM: `/healthz` turns 503 while the relay drains (a connection that never upgrades
    /// holds it for the close grace period), the process then exits 0.
    @Test func healthzSaysShuttingDownAfterSigterm() async throws {
        let relay = try RelayCommandProcess(["--port", "0", "--metrics", "127.0.0.1:0"], environment: [:])
        let port = try await relay.relayPort()
        let metrics = try await relay.metricsPort()
        let request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(RawHTTP.statusLine(try await RawHTTP.exchange(port: metrics, request).text) == "HTTP/1.1 200 OK")
        let idle = try await RawHTTP.connect(port: port)
        defer { close(idle) }
        try await Task.sleep(for: .milliseconds(200))
        relay.signal(SIGTERM)
        var answers: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, relay.process.isRunning {
            guard let answer = try? await RawHTTP.exchange(port: metrics, request) else { break }
            answers.append(RawHTTP.statusLine(answer.text))
            if answers.last == "HTTP/1.1 503 Service Unavailable" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(answers.last == "HTTP/1.1 503 Service Unavailable", "\(answers)")
        #expect(try await relay.exitStatus() == 0, "\(relay.stderr)")
    }
}

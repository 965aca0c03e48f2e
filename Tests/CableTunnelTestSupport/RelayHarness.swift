import CableLocking
import CableProtocol
import CableRelay
import CableTestSupport
import CableTunnel
import Logging
import Testing

/// How long a test's client waits for a WebSocket upgrade, and a test's relay for a request, unless
/// the test is about that deadline: a parallel run on two busy cores (three hundred tunnels being
/// opened by another suite) delays an upgrade by seconds, and the defaults (10 s) are production's.
package let generousUpgradeTimeout: Duration = .seconds(60)

/// A tunnel service on 127.0.0.1 with a system-chosen port, for one test.
package struct RelayHarness: Sendable {
    package let server: TunnelService
    package let address: TunnelServiceAddress
    package let url: TunnelServiceURL
    package let logs: CapturedLogs
    /// How this harness's clients connect (on the relay's own loops where a test gave it some).
    package let connect: @Sendable (TunnelEndpoint) async throws -> TunnelConnection

    /// A harness for `server`, started at `address`; `connect` opens one client connection to it.
    package init(
        server: TunnelService,
        address: TunnelServiceAddress,
        logs: CapturedLogs,
        connect: (@Sendable (TunnelServiceURL, TunnelEndpoint) async throws -> TunnelConnection)? = nil
    ) throws {
        self.server = server
        self.address = address
        let url = try address.url
        self.url = url
        self.logs = logs
        self.connect = { endpoint in
            if let connect { return try await connect(url, endpoint) }
            return try await TunnelClient.connect(to: url, endpoint: endpoint, timeout: generousUpgradeTimeout)
        }
    }

    /// The test relay's configuration: `configure` adjusts the defaults (host and port are fixed to
    /// loopback:0).
    package static func configuration(
        _ configure: (inout TunnelService.Configuration) -> Void
    ) -> TunnelService.Configuration {
        var configuration = TunnelService.Configuration()
        // Every test client comes from 127.0.0.1: the per-address limits apply only where a test sets them.
        configuration.maxConnectionsPerAddress = 1 << 20
        configuration.maxTunnelsPerAddress = 1 << 20
        configuration.upgradeTimeout = generousUpgradeTimeout
        // A client answers a close as soon as its loop reads it; one that a loaded machine has not
        // scheduled for 2 s (production's grace) would find the connection reset under the close frame.
        configuration.closeGracePeriod = .seconds(10)
        configure(&configuration)
        configuration.host = "127.0.0.1"
        configuration.port = 0
        return configuration
    }

    /// Starts a relay; `configure` adjusts the defaults (host and port are fixed to loopback:0).
    package static func start(
        _ configure: (inout TunnelService.Configuration) -> Void = { _ in }
    ) async throws -> RelayHarness {
        let logs = CapturedLogs()
        let server = TunnelService(configuration: Self.configuration(configure), logger: logs.logger())
        let address = try await server.start()
        return try RelayHarness(server: server, address: address, logs: logs)
    }

    /// Opens `/cable/new/` with our client; returns the connection and its tunnel ID.
    package func newTunnel(_ tunnel: TunnelID = .random()) async throws -> (TunnelConnection, TunnelID) {
        (try await self.connect(.new(tunnel)), tunnel)
    }

    /// A paired tunnel: phone on `/cable/new/`, desktop on `/cable/connect/`.
    package func pair() async throws -> (phone: TunnelConnection, desktop: TunnelConnection) {
        let (phone, tunnel) = try await self.newTunnel()
        let routing = try #require(phone.routingID)
        let desktop = try await self.connect(.connect(routing, tunnel))
        return (phone, desktop)
    }
}

/// Runs `body` against a fresh relay and always shuts the relay down.
@discardableResult
package func withRelay<R: Sendable>(
    _ configure: (inout TunnelService.Configuration) -> Void = { _ in },
    _ body: (RelayHarness) async throws -> R
) async throws -> R {
    let relay = try await RelayHarness.start(configure)
    do {
        let result = try await body(relay)
        await relay.server.shutdown()
        return result
    } catch {
        await relay.server.shutdown()
        throw error
    }
}

/// Waits until `condition` holds (polling), or fails after `timeout`: generous, since it returns as
/// soon as the condition holds and a loaded two-core machine can take seconds to get there.
package func eventually(
    _ what: String,
    timeout: Duration = .seconds(60),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

extension TunnelID {
    /// A fresh random tunnel ID.
    package static func random() -> TunnelID {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<TunnelID.byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        guard let id = try? TunnelID(bytes: bytes) else { preconditionFailure("16 bytes make a tunnel ID") }
        return id
    }
}

/// Random bytes for test messages (SplitMix64 seeded from the system, eight bytes per step: fast
/// enough for 1 MiB messages in a debug build).
package func randomBytes(_ count: Int) -> [UInt8] {
    var generator = DeterministicRNG(seed: UInt64.random(in: .min ... .max))
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 8)
    while bytes.count < count {
        withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) }
    }
    return Array(bytes.prefix(count))
}

/// Every log line a relay wrote, rendered as text with its metadata, for assertions about what
/// is (and is not) logged.
package final class CapturedLogs: Sendable {
    private let lines = LockedValue<[String]>([])

    package init() {}

    /// A logger writing here, at trace level so nothing is filtered out.
    package func logger() -> Logger {
        var logger = Logger(label: "test.relay", factory: { _ in CapturingLogHandler(sink: self) })
        logger.logLevel = .trace
        return logger
    }

    package func append(_ line: String) { self.lines.withLock { $0.append(line) } }

    /// All lines so far.
    package var all: [String] { self.lines.withLock { $0 } }
}

/// Renders each event as `level message key=value …`.
package struct CapturingLogHandler: LogHandler {
    package let sink: CapturedLogs
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    package var logLevel: Logger.Level = .trace

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        self.sink.append("\(event.level) \(event.message) \(rendered)")
    }
}

import CableProtocol
import CableRelay
import CableTunnel
import Logging

/// The tunnel service the in-process cases connect through.
enum LoopbackRelay {
    /// Runs `body` with a relay on an ephemeral loopback port that logs nothing, and shuts the relay
    /// down when `body` ends, whether it returns or throws.
    static func with<T>(_ body: (TunnelServiceURL) async throws -> T) async throws -> T {
        let quiet = Logger(label: "cable.bench.relay") { _ in SwiftLogNoOpLogHandler() }
        var configuration = TunnelService.Configuration()
        configuration.port = 0
        let relay = TunnelService(configuration: configuration, logger: quiet)
        let service = try await relay.start().url
        do {
            let result = try await body(service)
            await relay.shutdown()
            return result
        } catch {
            await relay.shutdown()
            throw error
        }
    }
}

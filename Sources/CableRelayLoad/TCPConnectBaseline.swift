import NIOCore
import NIOPosix

/// The baseline of the `tunnel.connect` benchmark: a bare NIO TCP connect from a task to a loopback
/// listener (no HTTP, no WebSocket, no relay logic) on the same shared event loops as the tunnel
/// client, so the difference is what the upgrade and both pipelines add to the socket's own connect.
package final class TCPConnectBaseline: Sendable {
    private let listener: any Channel
    private let address: SocketAddress

    private init(listener: any Channel, address: SocketAddress) {
        self.listener = listener
        self.address = address
    }

    /// Starts a listener on 127.0.0.1 (an ephemeral port) that accepts connections and does nothing.
    package static func start() async throws -> TCPConnectBaseline {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let address = listener.localAddress else {
            try? await listener.close()
            throw ChannelError.inappropriateOperationForState
        }
        return TCPConnectBaseline(listener: listener, address: address)
    }

    /// One connect, timed from the call until the task has the connected channel; the connection is
    /// closed after the clock stops.
    package func timedConnect() async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(to: self.address)
            .get()
        let elapsed = clock.now - start
        try await channel.close()
        return elapsed
    }

    /// Stops listening.
    package func stop() async {
        try? await self.listener.close()
    }
}

/// NIO's shared event loop group, as the benchmarks configure and report it.
package enum SharedEventLoops {
    /// How many loops the shared group has (or will have when first used).
    package static var count: Int { NIOSingletons.groupLoopCountSuggestion }

    /// Chooses the loop count. Call it first in `main`, before anything uses the shared group or
    /// reads ``count``: NIO allows it once, before first use, and traps otherwise.
    package static func choose(_ count: Int) {
        NIOSingletons.groupLoopCountSuggestion = count
    }
}

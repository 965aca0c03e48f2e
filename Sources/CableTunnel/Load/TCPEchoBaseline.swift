import NIOCore
import NIOPosix

/// The same round trips as the relay measurement over raw loopback TCP to an echo server built the
/// same way (NIO async channels): the difference is what WebSocket framing and routing cost.
enum TCPEchoBaseline {
    static func run(_ configuration: RelayLoadTest.Configuration) async throws -> Throughput {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        guard let port = server.channel.localAddress?.port else {
            throw TunnelError(.bindFailed, "echo server has no local port")
        }
        let serving = Task {
            try? await withThrowingDiscardingTaskGroup { tasks in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        tasks.addTask {
                            try? await connection.executeThenClose { input, output in
                                for try await bytes in input { try await output.write(bytes) }
                            }
                        }
                    }
                }
            }
        }
        defer { serving.cancel() }

        let clients = try await withThrowingTaskGroup(of: NIOAsyncChannel<ByteBuffer, ByteBuffer>.self) { tasks in
            for _ in 0..<configuration.tunnels {
                tasks.addTask {
                    try await ClientBootstrap(group: group)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .connect(host: "127.0.0.1", port: port) { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                            }
                        }
                }
            }
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
        let started = ContinuousClock.now
        let samples = try await withThrowingTaskGroup(of: [UInt64].self) { tasks in
            for client in clients {
                tasks.addTask {
                    try await client.executeThenClose { input, output in
                        try await Self.echoRoundTrips(
                            input: input, output: output, count: configuration.roundTripsPerTunnel,
                            size: configuration.messageSize)
                    }
                }
            }
            return try await tasks.reduce(into: [UInt64]()) { $0 += $1 }
        }
        let elapsed = ContinuousClock.now - started
        try? await server.channel.close()
        return Throughput(messages: samples.count, elapsed: elapsed, latencies: samples)
    }

    /// Sends `size` bytes and reads until as many came back, `count` times; returns each round
    /// trip's time in ns.
    private static func echoRoundTrips(
        input: NIOAsyncChannelInboundStream<ByteBuffer>, output: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        count: Int, size: Int
    ) async throws -> [UInt64] {
        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        var iterator = input.makeAsyncIterator()
        var message = [UInt8](repeating: 0x5A, count: size)
        for _ in 0..<count {
            stamp(&message)
            try await output.write(ByteBuffer(bytes: message))
            var received: [UInt8] = []
            received.reserveCapacity(size)
            while received.count < size {
                guard let chunk = try await iterator.next() else {
                    throw TunnelError(.connectionLost, "echo server closed during the baseline")
                }
                received.append(contentsOf: chunk.readableBytesView)
            }
            samples.append(elapsedSinceStamp(received))
        }
        return samples
    }
}

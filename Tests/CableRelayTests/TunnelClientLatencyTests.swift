import CableProtocol
import CableTestSupport
import CableTunnelTestSupport
import NIOCore
import NIOPosix
import Testing

@testable import CableRelay
@testable import CableTunnel

/// What keeps a tunnel's messages from waiting on timers and thread hand-overs (not how fast they
/// are: that is BENCHMARKS.md's `ceremony.registerAndSignIn`): Nagle off on every socket, and no
/// name resolution for an IP literal.
@Suite(.timeLimit(.minutes(2))) struct TunnelClientLatencyTests {
    @Test(arguments: [("127.0.0.1", 8080), ("::1", 443), ("10.1.2.3", 1), ("fe80::1", 65535)])
    func anIPLiteralIsConnectedToWithoutResolution(host: String, port: Int) throws {
        let service = try TunnelServiceURL(host: host, port: port)
        let address = try #require(TunnelClient.literalAddress(service))
        #expect(address.ipAddress == host)
        #expect(address.port == port)
    }

    @Test(arguments: ["localhost", "cable.ua5v.com", "cable.auth.com", "127.0.0.1.example", "1.2.3"])
    func aHostNameIsResolved(host: String) throws {
        #expect(TunnelClient.literalAddress(try TunnelServiceURL(host: host, port: 443)) == nil)
    }

    /// Nagle's algorithm would hold a small frame written right after another until the peer's
    /// delayed ACK (up to 40 ms on Linux): off on both clients and on the relay's accepted sockets.
    @Test func everySocketOfATunnelHasNagleOff() async throws {
        try await withRelay { relay in
            let (phone, desktop) = try await relay.pair()
            for connection in [phone, desktop] {
                let noDelay = try await connection.channel.getOption(.socketOption(.tcp_nodelay)).get()
                #expect(noDelay != 0, "\(connection)")
            }
            let accepted = relay.server.connections.withLock { Array($0.channels.values) }
            #expect(accepted.count == 2)
            for channel in accepted {
                #expect(try await channel.getOption(.socketOption(.tcp_nodelay)).get() != 0)
            }
            // The checker can fail: a socket made without the option reports it off.
            let plain = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.tcp_nodelay), value: 0)
                .connect(to: try #require(plain.localAddress)).get()
            #expect(try await client.getOption(.socketOption(.tcp_nodelay)).get() == 0)
            try await client.close()
            try await plain.close()
            await desktop.close()
            await phone.close()
        }
    }
}

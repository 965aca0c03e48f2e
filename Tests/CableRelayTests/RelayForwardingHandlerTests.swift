import CableProtocol
import CableTestSupport
import CableTunnel
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import CableRelay

/// The forwarding handlers of one paired tunnel on two `EmbeddedChannel`s, driven through
/// seeded random interleavings of reads, read bursts, socket writes completing and stalling:
/// every message arrives unchanged, whole and in order, and back-pressure holds.
@Suite struct RelayForwardingHandlerTests {
    /// Records the reads that reach the head of the pipeline (what the socket would be asked for).
    final class ReadGate: ChannelOutboundHandler {
        typealias OutboundIn = WebSocketFrame
        var outstandingReads = 0
        func read(context: ChannelHandlerContext) { self.outstandingReads += 1 }
    }

    /// Holds writes as a socket that the kernel has not drained yet, until the test lets them go.
    final class WriteGate: ChannelOutboundHandler {
        typealias OutboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        var held: [(WebSocketFrame, EventLoopPromise<Void>?)] = []
        var context: ChannelHandlerContext?
        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            self.held.append((Self.unwrapOutboundIn(data), promise))
        }
        func flush(context: ChannelHandlerContext) {}
        /// Lets up to `count` held writes through to the "socket" (the channel's outbound queue).
        func release(_ count: Int) {
            guard let context else { return }
            let n = min(count, self.held.count)
            for (frame, promise) in self.held.prefix(n) {
                context.write(Self.wrapOutboundOut(frame), promise: promise)
            }
            self.held.removeFirst(n)
            context.flush()
        }
    }

    /// One side of the tunnel.
    struct Side {
        let channel: EmbeddedChannel
        let peer: RelayPeer
        let reads: ReadGate
        let writes: WriteGate
    }

    static let pendingLimit = 4096

    static func makeServices() -> RelayServices {
        var configuration = TunnelService.Configuration()
        configuration.maxPendingWriteBytes = Self.pendingLimit
        configuration.maxMessagesPerTunnel = 1 << 20
        configuration.maxBytesPerTunnel = 1 << 30
        configuration.maxHeldMessages = 1 << 20
        configuration.maxHeldBytes = 1 << 30
        return RelayServices(
            configuration: configuration,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    static func makeSide(_ id: UInt64, loop: EmbeddedEventLoop, services: RelayServices) throws -> Side {
        let channel = EmbeddedChannel(loop: loop)
        let reads = ReadGate()
        let writes = WriteGate()
        try channel.pipeline.syncOperations.addHandler(reads)
        try channel.pipeline.syncOperations.addHandler(writes)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        let peer = RelayPeer(
            id: RelayConnectionID(rawValue: id),
            channel: channel,
            closeGracePeriod: .seconds(3600),
            pendingWriteLimit: Self.pendingLimit
        )
        try channel.pipeline.syncOperations.addHandler(
            RelayForwardingHandler(peer: peer, services: services, meter: nil)
        )
        return Side(channel: channel, peer: peer, reads: reads, writes: writes)
    }

    /// Masked client frames carrying `message`, split into 1–3 fragments.
    static func frames(for message: [UInt8], using random: inout DeterministicRNG) -> [WebSocketFrame] {
        let pieces = message.count < 3 ? 1 : Int.random(in: 1...3, using: &random)
        var cuts = (0..<(pieces - 1)).map { _ in Int.random(in: 0...message.count, using: &random) }.sorted()
        cuts = [0] + cuts + [message.count]
        return (0..<pieces).map { index in
            let key = WebSocketMaskingKey((0..<4).map { _ in UInt8.random(in: 0...255, using: &random) })!
            var data = ByteBuffer(bytes: message[cuts[index]..<cuts[index + 1]])
            data.webSocketMask(key)
            return WebSocketFrame(
                fin: index == pieces - 1,
                opcode: index == 0 ? .binary : .continuation,
                maskKey: key,
                data: data
            )
        }
    }

    /// Every binary message written towards the client so far.
    static func received(_ side: Side) throws -> [[UInt8]] {
        var messages: [[UInt8]] = []
        while let frame = try side.channel.readOutbound(as: WebSocketFrame.self) {
            #expect(frame.opcode == .binary && frame.fin && frame.maskKey == nil)
            messages.append(Array(frame.data.readableBytesView))
        }
        return messages
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func everyMessageArrivesUnchangedAndInOrderUnderRandomInterleavings(seed: UInt64) throws {
        var random = DeterministicRNG(seed: seed)
        let services = Self.makeServices()
        let loop = EmbeddedEventLoop()
        let tunnel = try TunnelID(bytes: (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
        try services.table.withLock { table throws(RelayRefusal) in
            try table.admitCreator(tunnel, connection: RelayConnectionID(rawValue: 1), now: .now)
            try table.admitJoiner(tunnel, connection: RelayConnectionID(rawValue: 2), now: .now)
        }
        let a = try Self.makeSide(1, loop: loop, services: services)
        let b = try Self.makeSide(2, loop: loop, services: services)
        let sides = [a, b]

        // What each side's client sends, as frames waiting on its socket.
        var outgoing: [[[UInt8]]] = [[], []]
        var wire: [[WebSocketFrame]] = [[], []]
        for index in 0..<2 {
            for _ in 0..<Int.random(in: 40...80, using: &random) {
                let size = Int.random(in: 0...3000, using: &random)
                let message = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
                outgoing[index].append(message)
                wire[index] += Self.frames(for: message, using: &random)
            }
        }
        var got: [[[UInt8]]] = [[], []]
        // Like autoRead: each side starts with one read outstanding.
        for side in sides { side.channel.read() }

        var steps = 0
        while !(wire[0].isEmpty && wire[1].isEmpty) || sides.contains(where: { !$0.writes.held.isEmpty }) {
            steps += 1
            #expect(steps < 100_000, "no progress")
            if steps >= 100_000 { break }
            let index = Int.random(in: 0...1, using: &random)
            let side = sides[index]
            let other = sides[1 - index]
            switch Int.random(in: 0..<3, using: &random) {
            case 0 where side.reads.outstandingReads > 0 && !wire[index].isEmpty:
                // A read burst of 1–4 frames, then readComplete and the next read, as NIO does.
                side.reads.outstandingReads -= 1
                for _ in 0..<min(wire[index].count, Int.random(in: 1...4, using: &random)) {
                    try side.channel.writeInbound(wire[index].removeFirst())
                }
                side.channel.pipeline.fireChannelReadComplete()
                side.channel.read()
            case 1:
                // The other side's socket takes some writes.
                other.writes.release(Int.random(in: 0...3, using: &random))
            default:
                side.writes.release(Int.random(in: 0...3, using: &random))
            }
            loop.run()
            got[0] += try Self.received(a)
            got[1] += try Self.received(b)
            // Back-pressure: a side whose peer is over its pending limit has no read outstanding.
            for i in 0..<2 where sides[1 - i].peer.pendingWriteBytes > Self.pendingLimit {
                #expect(sides[i].reads.outstandingReads == 0, "seed \(seed): read while the peer is full")
            }
            // The bound: the limit plus one burst (4 frames of at most 3000 bytes).
            for side in sides {
                #expect(side.peer.pendingWriteBytes <= Self.pendingLimit + 4 * 3000)
            }
        }
        loop.run()
        got[0] += try Self.received(a)
        got[1] += try Self.received(b)
        #expect(got[1] == outgoing[0], "seed \(seed): a → b")
        #expect(got[0] == outgoing[1], "seed \(seed): b → a")
        #expect(services.budget.inUse == 0, "every reserved byte was released")
        #expect(a.peer.pendingWriteBytes == 0 && b.peer.pendingWriteBytes == 0)
        _ = try a.channel.finish()
        _ = try b.channel.finish()
    }

    @Test func aStalledReaderStopsThePeersReadsUntilItsSocketDrains() throws {
        let services = Self.makeServices()
        let loop = EmbeddedEventLoop()
        let tunnel = try TunnelID(bytes: [UInt8](repeating: 7, count: 16))
        try services.table.withLock { table throws(RelayRefusal) in
            try table.admitCreator(tunnel, connection: RelayConnectionID(rawValue: 1), now: .now)
            try table.admitJoiner(tunnel, connection: RelayConnectionID(rawValue: 2), now: .now)
        }
        let a = try Self.makeSide(1, loop: loop, services: services)
        let b = try Self.makeSide(2, loop: loop, services: services)
        var random = DeterministicRNG(seed: 42)
        var burst = 0
        // b's client never reads: a's reads must stop once b holds more than the limit.
        while burst < 100 {
            a.channel.read()
            guard a.reads.outstandingReads > 0 else { break }
            a.reads.outstandingReads -= 1
            for frame in Self.frames(for: [UInt8](repeating: 1, count: 1000), using: &random) {
                try a.channel.writeInbound(frame)
            }
            a.channel.pipeline.fireChannelReadComplete()
            loop.run()
            burst += 1
        }
        #expect(burst < 100, "reads went on while the peer's socket took nothing")
        #expect(b.peer.pendingWriteBytes > Self.pendingLimit)
        #expect(b.peer.pendingWriteBytes <= Self.pendingLimit + 1000)
        #expect(services.budget.inUse == b.peer.pendingWriteBytes)
        // The socket drains: the read held back is issued.
        b.writes.release(Int.max)
        loop.run()
        #expect(a.reads.outstandingReads == 1)
        #expect(try Self.received(b).count == burst)
        _ = try a.channel.finish()
        _ = try b.channel.finish()
    }
}

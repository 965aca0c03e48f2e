public import CableProtocol
import NIOCore
import NIOPosix

/// The virtual BLE advert bus of the `cable` tool: each advert travels as one UDP datagram on
/// loopback holding exactly the BLE advertising data a phone would broadcast
/// (`../shared/design/cli.md`, "The virtual BLE advert bus"). A radio later replaces this behind
/// ``AdvertScanner`` / ``AdvertTransmitter``; nothing above changes.
public enum UDPAdvertBus {
    /// `65529` = `0xFFF9`, the FIDO service UUID.
    public static let defaultPort = 65529
    /// Datagrams larger than this are dropped unread: advertising data is at most 254 bytes.
    public static let maxDatagramSize = 255
}

/// Listens for advert datagrams (the desktop's scanner). Every datagram is delivered, as raw bytes,
/// to every current subscriber; callers must treat each as a stranger's.
public final class UDPAdvertListener: AdvertScanner {
    private let channel: any Channel
    private let fanOut: InProcessAdvertBus
    private let reader: Task<Void, Never>
    /// The bound port (useful when binding port 0).
    public let port: Int

    private init(channel: any Channel, fanOut: InProcessAdvertBus, reader: Task<Void, Never>, port: Int) {
        self.channel = channel
        self.fanOut = fanOut
        self.reader = reader
        self.port = port
    }

    /// Binds `host:port` (default `127.0.0.1:65529`).
    public static func bind(host: String = "127.0.0.1", port: Int = UDPAdvertBus.defaultPort) async throws -> UDPAdvertListener {
        let fanOut = InProcessAdvertBus()
        let asyncChannel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let boundPort = asyncChannel.channel.localAddress?.port ?? port
        let reader = Task {
            try? await asyncChannel.executeThenClose { inbound, _ in
                for try await envelope in inbound {
                    let size = envelope.data.readableBytes
                    guard size > 0, size <= UDPAdvertBus.maxDatagramSize else { continue }
                    try? await fanOut.transmit(Array(envelope.data.readableBytesView))
                }
            }
            fanOut.close()
        }
        return UDPAdvertListener(channel: asyncChannel.channel, fanOut: fanOut, reader: reader, port: boundPort)
    }

    public func adverts() -> AsyncStream<[UInt8]> { self.fanOut.adverts() }

    /// Stops listening; subscribers' streams end.
    public func close() async {
        try? await self.channel.close()
        await self.reader.value
    }
}

/// Sends advert datagrams to the bus (the phone's radio).
public final class UDPAdvertTransmitter: AdvertTransmitter {
    private let channel: any Channel
    private let destination: SocketAddress

    private init(channel: any Channel, destination: SocketAddress) {
        self.channel = channel
        self.destination = destination
    }

    /// Opens a socket that sends to `host:port` (default `127.0.0.1:65529`).
    public static func connect(host: String = "127.0.0.1", port: Int = UDPAdvertBus.defaultPort) async throws -> UDPAdvertTransmitter {
        let destination = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: destination.protocol == .inet6 ? "::1" : "127.0.0.1", port: 0).get()
        return UDPAdvertTransmitter(channel: channel, destination: destination)
    }

    public func transmit(_ advertisingData: [UInt8]) async throws {
        let buffer = self.channel.allocator.buffer(bytes: advertisingData)
        try await self.channel.writeAndFlush(AddressedEnvelope(remoteAddress: self.destination, data: buffer))
    }

    /// Closes the socket.
    public func close() async {
        try? await self.channel.close()
    }
}

public import CableProtocol
public import NIOCore
import NIOPosix

/// The virtual BLE advert bus of the `cable` tool: each advert travels as one UDP datagram on
/// loopback holding exactly the BLE advertising data a phone would broadcast
/// (`docs/cli.md`, "The virtual BLE advert bus"). A radio later replaces this behind
/// `AdvertScanner` / `AdvertTransmitter`; nothing above changes.
public enum UDPAdvertBus {
    /// `65529` = `0xFFF9`, the FIDO service UUID.
    public static let defaultPort = 65529
    /// The largest datagram carried: advertising data is at most 254 bytes (extended advertising),
    /// so anything larger is refused when sent and dropped unread when received.
    public static let maxDatagramSize = 255
    /// Adverts buffered per subscriber of a listener before the oldest are dropped, as a radio
    /// drops what nobody scans in time.
    public static let defaultQueueLimit = 64
}

/// Listens for advert datagrams on `host:port` for the duration of `body`: the desktop's scanner,
/// used through a scope so its socket and reader cannot outlive the caller.
///
/// The listener reads in a child task of this call; when `body` returns or throws, the socket is
/// closed, subscribers' streams end, and the reader has finished before this function returns.
/// Every datagram of 1…255 bytes reaches every current subscriber; larger or empty ones are dropped.
/// A port another listener holds is an error (``TunnelError/Code/bindFailed``), not a silent share:
/// two scanners on one port would each see only some adverts.
///
/// ```swift
/// try await withUDPAdvertListener(port: 0) { adverts in
///     let desktop = HybridDesktop(scanner: adverts, connector: connector)
///     _ = try await desktop.transact(request: request, requestType: .getAssertion, timestamp: now)
/// }
/// ```
///
/// - Parameters:
///   - host: the address to listen on.
///   - port: the UDP port (`0` picks a free one; ``UDPAdvertListener/port`` says which).
///   - queueLimit: adverts buffered per subscriber before the oldest are dropped.
///   - eventLoopGroup: the event loops the socket runs on (the process-wide singleton by default).
///   - body: what runs while the listener listens.
public func withUDPAdvertListener<Result: Sendable>(
    host: String = "127.0.0.1",
    port: Int = UDPAdvertBus.defaultPort,
    queueLimit: Int = UDPAdvertBus.defaultQueueLimit,
    eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    _ body: (UDPAdvertListener) async throws -> Result
) async throws -> Result {
    let opened = try await UDPAdvertListener.open(
        host: host,
        port: port,
        queueLimit: queueLimit,
        eventLoopGroup: eventLoopGroup
    )
    let listener = UDPAdvertListener(
        channel: opened.channel.channel,
        fanOut: opened.fanOut,
        reader: nil,
        port: opened.port
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await UDPAdvertListener.read(opened.channel, into: opened.fanOut) }
        do {
            let result = try await body(listener)
            await listener.close()
            try await group.waitForAll()
            return result
        } catch {
            await listener.close()
            try? await group.waitForAll()
            throw error
        }
    }
}

/// Listens for advert datagrams (the desktop's scanner). Every datagram of 1…255 bytes is
/// delivered, as raw bytes, to every current subscriber; larger or empty ones are dropped. Callers
/// must treat each payload as a stranger's (parse defensively, ignore what does not decrypt).
///
/// Made by ``withUDPAdvertListener(host:port:queueLimit:eventLoopGroup:_:)``, which closes it when
/// its scope ends.
public final class UDPAdvertListener: AdvertScanner {
    fileprivate typealias DatagramChannel = NIOAsyncChannel<
        AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>
    >

    private let channel: any Channel
    private let fanOut: InProcessAdvertBus
    /// The reader of a listener made by ``bind(host:port:queueLimit:eventLoopGroup:)``; a scoped
    /// listener's reader is a child task of its scope.
    private let reader: Task<Void, Never>?
    /// The bound port (useful when binding port 0).
    public let port: Int

    fileprivate init(channel: any Channel, fanOut: InProcessAdvertBus, reader: Task<Void, Never>?, port: Int) {
        self.channel = channel
        self.fanOut = fanOut
        self.reader = reader
        self.port = port
    }

    /// Binds `host:port` and reads in an unstructured task until ``close()``: for owners whose
    /// lifetime is not one scope (the `cable` command's radio choice). Outside this package, use
    /// ``withUDPAdvertListener(host:port:queueLimit:eventLoopGroup:_:)``.
    package static func bind(
        host: String = "127.0.0.1",
        port: Int = UDPAdvertBus.defaultPort,
        queueLimit: Int = UDPAdvertBus.defaultQueueLimit,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(TunnelError) -> UDPAdvertListener {
        let opened = try await Self.open(host: host, port: port, queueLimit: queueLimit, eventLoopGroup: eventLoopGroup)
        let reader = Task { await Self.read(opened.channel, into: opened.fanOut) }
        return UDPAdvertListener(
            channel: opened.channel.channel,
            fanOut: opened.fanOut,
            reader: reader,
            port: opened.port
        )
    }

    fileprivate static func open(
        host: String,
        port: Int,
        queueLimit: Int,
        eventLoopGroup: any EventLoopGroup
    ) async throws(TunnelError) -> (channel: DatagramChannel, fanOut: InProcessAdvertBus, port: Int) {
        guard (0...65535).contains(port), queueLimit >= 1 else {
            throw TunnelError(.invalidConfiguration, "advert listener needs a port 0–65535 and a queue of at least 1")
        }
        let fanOut = InProcessAdvertBus(bufferLimit: queueLimit)
        let asyncChannel: DatagramChannel
        do {
            asyncChannel = try await DatagramBootstrap(group: eventLoopGroup)
                // One byte over the limit, so an oversized datagram shows as oversized (the kernel
                // truncates it to the buffer) without reading kilobytes of a stranger's data.
                .channelOption(
                    .recvAllocator,
                    value: FixedSizeRecvByteBufferAllocator(capacity: UDPAdvertBus.maxDatagramSize + 1)
                )
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try DatagramChannel(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw TunnelError(
                .bindFailed,
                TunnelError.reason("cannot listen for adverts on \(host):\(port)", systemError: error),
                underlying: error
            )
        }
        return (asyncChannel, fanOut, asyncChannel.channel.localAddress?.port ?? port)
    }

    /// Delivers datagrams until the channel closes, then ends the subscribers' streams.
    fileprivate static func read(_ asyncChannel: DatagramChannel, into fanOut: InProcessAdvertBus) async {
        try? await asyncChannel.executeThenClose { inbound, _ in
            for try await envelope in inbound {
                let size = envelope.data.readableBytes
                guard size > 0, size <= UDPAdvertBus.maxDatagramSize else { continue }
                try? await fanOut.transmit(Array(envelope.data.readableBytesView))
            }
        }
        fanOut.close()
    }

    /// Adverts from now on; the stream ends when the listener is closed.
    public func adverts() -> AsyncStream<[UInt8]> { self.fanOut.adverts() }

    /// Stops listening; subscribers' streams end. Idempotent.
    public func close() async {
        try? await self.channel.close()
        await self.reader?.value
    }
}

/// Sends advert datagrams to the bus (the phone's radio). Nobody listening is not an error: a
/// radio does not know who hears it either.
public final class UDPAdvertTransmitter: AdvertTransmitter {
    private let channel: any Channel
    private let destination: SocketAddress

    private init(channel: any Channel, destination: SocketAddress) {
        self.channel = channel
        self.destination = destination
    }

    /// Opens a socket that sends to `host:port` (default `127.0.0.1:65529`). The socket is bound to
    /// loopback for a loopback destination (the bus), to any address otherwise.
    ///
    /// - Parameters:
    ///   - host: where adverts go.
    ///   - port: the destination UDP port.
    ///   - eventLoopGroup: the event loops the socket runs on (the process-wide singleton by default).
    public static func connect(
        host: String = "127.0.0.1",
        port: Int = UDPAdvertBus.defaultPort,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(TunnelError) -> UDPAdvertTransmitter {
        guard (1...65535).contains(port) else {
            throw TunnelError(.invalidConfiguration, "advert destination port \(port) is outside 1–65535")
        }
        let destination: SocketAddress
        do {
            destination = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw TunnelError(.invalidURL, "cannot resolve advert destination \(host)", underlying: error)
        }
        let isIPv6 = destination.protocol == .inet6
        let loopback = isIPv6 ? destination.ipAddress == "::1" : destination.ipAddress?.hasPrefix("127.") == true
        let local = loopback ? (isIPv6 ? "::1" : "127.0.0.1") : (isIPv6 ? "::" : "0.0.0.0")
        do {
            let channel = try await DatagramBootstrap(group: eventLoopGroup)
                .bind(host: local, port: 0).get()
            return UDPAdvertTransmitter(channel: channel, destination: destination)
        } catch {
            throw TunnelError(
                .bindFailed,
                TunnelError.reason("cannot open a socket for adverts", systemError: error),
                underlying: error
            )
        }
    }

    /// Sends one advert (at most ``UDPAdvertBus/maxDatagramSize`` bytes) as one datagram.
    public func transmit(_ advertisingData: [UInt8]) async throws {
        guard advertisingData.count <= UDPAdvertBus.maxDatagramSize else {
            throw TunnelError(
                .advertTooLarge,
                "advert of \(advertisingData.count) bytes exceeds \(UDPAdvertBus.maxDatagramSize)"
            )
        }
        let buffer = self.channel.allocator.buffer(bytes: advertisingData)
        do {
            try await self.channel.writeAndFlush(AddressedEnvelope(remoteAddress: self.destination, data: buffer))
        } catch {
            throw TunnelError(
                .channelClosed,
                TunnelError.reason("advert not sent", systemError: error),
                underlying: error
            )
        }
    }

    /// Closes the socket. Idempotent.
    public func close() async {
        try? await self.channel.close()
    }
}

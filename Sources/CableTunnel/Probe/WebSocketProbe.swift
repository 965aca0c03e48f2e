import CableLocking
import CableProtocol
import NIOCore
import NIOPosix
import NIOSSL

/// A raw WebSocket client for judging a tunnel service (the conformance kit's relay suite): it
/// writes the upgrade request and frames byte by byte and reads back exactly what the service
/// sent — the response status and headers, every frame with its opcode, close codes — so it can
/// do what a well-behaved client never does (send a text frame, offer no subprotocol, join a
/// tunnel a third time).
///
/// Everything is bounded: the response head (16 KiB), a frame (16 MiB), the bytes buffered
/// unread (32 MiB; more ends the connection), and every wait (a deadline per call).
package final class WebSocketProbe: Sendable {
    /// The service's answer to the upgrade request.
    package let response: WebSocketProbeResponse
    private let channel: any Channel
    private let inbox: ProbeInbox
    /// Reassembly state of the data message being read (only `next` touches it, one call at a time).
    private let assembly = LockedValue<(opcode: UInt8, payload: [UInt8])?>(nil)

    /// Longest response head read.
    package static let maxResponseHeadSize = 16_384
    /// Largest frame payload accepted from the service.
    package static let maxFramePayload = 16 << 20
    /// Most bytes buffered unread before the probe gives up on the connection.
    package static let maxBufferedBytes = 32 << 20

    private init(response: WebSocketProbeResponse, channel: any Channel, inbox: ProbeInbox) {
        self.response = response
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects, sends a WebSocket upgrade request for `path` and reads the response head.
    ///
    /// A response other than 101 is returned too (the connection is then closed): judges read
    /// its status. - Parameters:
    ///   - subprotocols: offered in one `Sec-WebSocket-Protocol` header; none when empty.
    ///   - extraHeaders: further request headers, sent as given.
    ///   - timeout: bound on connect, TLS and the response head together.
    package static func open(
        service: TunnelServiceURL,
        path: String,
        subprotocols: [String] = [TunnelServiceProtocol.webSocketSubprotocol],
        extraHeaders: [(name: String, value: String)] = [],
        trust: TunnelTLSTrust = .systemTrustStore,
        timeout: Duration = .seconds(5)
    ) async throws(WebSocketProbeError) -> WebSocketProbe {
        let deadline = ContinuousClock.now + timeout
        let inbox = ProbeInbox(limit: Self.maxBufferedBytes)
        let sslContext: NIOSSLContext?
        do {
            sslContext = service.scheme == .wss ? try trust.makeContext() : nil
        } catch {
            throw WebSocketProbeError("TLS setup failed: \(error.reason)")
        }
        let serverName = TunnelClient.serverName(for: service.host)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(TimeAmount(timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                            )
                        }
                        try channel.pipeline.syncOperations.addHandler(ProbeReader(inbox: inbox))
                    }
                }
                .connect(host: service.host, port: service.port).get()
        } catch ChannelError.connectTimeout {
            throw WebSocketProbeError("could not connect to \(service.authority) within \(timeout)")
        } catch {
            throw WebSocketProbeError(TunnelClient.connectFailure(error, service: service).reason)
        }
        var key = [UInt8](repeating: 0, count: 16)
        for index in key.indices { key[index] = .random(in: .min ... .max) }
        var request = "GET \(path) HTTP/1.1\r\nHost: \(service.hostHeader)\r\nUpgrade: websocket\r\n"
        request += "Connection: Upgrade\r\nSec-WebSocket-Key: \(ProbeBase64.encode(key))\r\n"
        request += "Sec-WebSocket-Version: 13\r\nOrigin: \(service.origin)\r\n"
        if !subprotocols.isEmpty { request += "Sec-WebSocket-Protocol: \(subprotocols.joined(separator: ", "))\r\n" }
        for header in extraHeaders { request += "\(header.name): \(header.value)\r\n" }
        request += "\r\n"
        do {
            try await channel.writeAndFlush(channel.allocator.buffer(string: request)).get()
        } catch {
            channel.close(promise: nil)
            throw WebSocketProbeError("could not send the upgrade request: \(error)\(inbox.errorSuffix)")
        }
        let head: [UInt8]
        while true {
            let seen = inbox.generation
            if let found = inbox.takeHead(limit: Self.maxResponseHeadSize) {
                switch found {
                case .success(let bytes): head = bytes
                case .failure(let error):
                    channel.close(promise: nil)
                    throw error
                }
                break
            }
            guard await inbox.waitForMore(since: seen, until: deadline, eventLoop: channel.eventLoop) else {
                // Judged before closing: the close itself ends the connection.
                let failure = WebSocketProbeError(
                    inbox.hasEnded
                        ? "the connection ended before a complete HTTP response head arrived\(inbox.errorSuffix)"
                        : "no complete HTTP response head within \(timeout)"
                )
                channel.close(promise: nil)
                throw failure
            }
        }
        let response: WebSocketProbeResponse
        do throws(WebSocketProbeError) {
            response = try WebSocketProbeResponse(head: head)
        } catch {
            channel.close(promise: nil)
            throw error
        }
        if response.status != 101 { channel.close(promise: nil) }
        return WebSocketProbe(response: response, channel: channel, inbox: inbox)
    }

    /// Whether the service switched to WebSocket (status 101).
    package var isUpgraded: Bool { self.response.status == 101 }

    /// Sends one frame (masked, as a client must; RFC 6455 §5.3).
    /// - Parameters:
    ///   - opcode: 1 text, 2 binary, 0 continuation, 8 close, 9 ping, 10 pong.
    ///   - fin: whether it ends its message.
    package func send(opcode: UInt8 = 2, _ payload: [UInt8], fin: Bool = true) async throws(WebSocketProbeError) {
        var buffer = self.channel.allocator.buffer(capacity: payload.count + 14)
        buffer.writeInteger((fin ? 0x80 : 0) | (opcode & 0x0F), as: UInt8.self)
        switch payload.count {
        case ..<126:
            buffer.writeInteger(0x80 | UInt8(payload.count))
        case ...0xFFFF:
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(payload.count))
        default:
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(payload.count))
        }
        let mask = (0..<4).map { _ in UInt8.random(in: .min ... .max) }
        buffer.writeBytes(mask)
        let offset = buffer.writerIndex - buffer.readerIndex
        buffer.writeBytes(payload)
        let (m0, m1, m2, m3) = (mask[0], mask[1], mask[2], mask[3])
        buffer.withUnsafeMutableReadableBytes { bytes in
            for index in 0..<payload.count {
                let key = index & 3 == 0 ? m0 : index & 3 == 1 ? m1 : index & 3 == 2 ? m2 : m3
                bytes[offset + index] ^= key
            }
        }
        do {
            try await self.channel.writeAndFlush(buffer).get()
        } catch {
            throw WebSocketProbeError("could not send a frame: \(error)\(self.inbox.errorSuffix)")
        }
    }

    /// Sends a close frame with `code` and `reason`.
    package func sendClose(code: UInt16 = 1000, reason: String = "") async throws(WebSocketProbeError) {
        var payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
        payload.append(contentsOf: reason.utf8.prefix(120))
        try await self.send(opcode: 8, payload)
    }

    /// The next thing the service did: a whole data message (fragments joined), a close frame,
    /// the end of the connection, or nothing until `timeout`. Pings are answered and skipped.
    package func next(timeout: Duration) async -> WebSocketProbeEvent {
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = self.inbox.generation
            switch self.inbox.takeFrame(maxPayload: Self.maxFramePayload) {
            case .failure(let error):
                self.channel.close(promise: nil)
                return .violation(error.description)
            case .success(nil):
                if self.inbox.hasEnded {
                    return self.inbox.overflowed
                        ? .violation("the service sent more than \(Self.maxBufferedBytes) bytes unread") : .ended
                }
                guard await self.inbox.waitForMore(since: seen, until: deadline, eventLoop: self.channel.eventLoop)
                else {
                    return self.inbox.hasEnded ? .ended : .timedOut
                }
            case .success(let frame?):
                if frame.masked { return .violation("the service sent a masked frame (RFC 6455 §5.1)") }
                switch frame.opcode {
                case 0x9:
                    try? await self.send(opcode: 0xA, frame.payload)
                case 0xA:
                    continue
                case 0x8:
                    let code = frame.payload.count >= 2 ? UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]) : nil
                    let reason = String(decoding: frame.payload.dropFirst(2), as: UTF8.self)
                    return .close(code: code, reason: reason)
                case 0x0:
                    let message: (UInt8, [UInt8])? = self.assembly.withLock { assembly in
                        guard assembly != nil else { return nil }
                        assembly!.payload.append(contentsOf: frame.payload)
                        guard frame.fin else { return (0, []) }
                        defer { assembly = nil }
                        return (assembly!.opcode, assembly!.payload)
                    }
                    guard let message else { return .violation("a continuation frame with no message to continue") }
                    if message.0 != 0 { return .message(opcode: message.0, payload: message.1) }
                case 0x1, 0x2:
                    if frame.fin { return .message(opcode: frame.opcode, payload: frame.payload) }
                    self.assembly.withLock { $0 = (frame.opcode, frame.payload) }
                default:
                    return .violation("a frame with unknown opcode \(frame.opcode)")
                }
            }
        }
    }

    /// Sends a ping and waits for its pong: once it arrives, the service has read everything
    /// sent before the ping (frames are handled in order). Returns false when something else
    /// arrives first (it is consumed) or nothing does within `timeout`.
    package func ping(timeout: Duration) async -> Bool {
        let token = (0..<8).map { _ in UInt8.random(in: .min ... .max) }
        do { try await self.send(opcode: 0x9, token) } catch { return false }
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = self.inbox.generation
            switch self.inbox.takeFrame(maxPayload: Self.maxFramePayload) {
            case .success(let frame?):
                if frame.opcode == 0xA, frame.payload == token { return true }
                if frame.opcode == 0x9 {
                    try? await self.send(opcode: 0xA, frame.payload)
                    continue
                }
                if frame.opcode == 0xA { continue }
                return false
            case .success(nil):
                guard !self.inbox.hasEnded,
                    await self.inbox.waitForMore(since: seen, until: deadline, eventLoop: self.channel.eventLoop)
                else { return false }
            case .failure:
                return false
            }
        }
    }

    /// Waits for the next data message, skipping nothing: anything else is returned as the failure
    /// detail, `nil` on success.
    package func nextMessage(timeout: Duration) async -> Result<(opcode: UInt8, payload: [UInt8]), WebSocketProbeError>
    {
        switch await self.next(timeout: timeout) {
        case .message(let opcode, let payload): return .success((opcode, payload))
        case let other: return .failure(WebSocketProbeError(other.description))
        }
    }

    /// Closes the TCP connection (no close frame).
    package func disconnect() {
        self.channel.close(promise: nil)
    }
}

/// What the service did next (``WebSocketProbe/next(timeout:)``).
package enum WebSocketProbeEvent: Sendable, Equatable, CustomStringConvertible {
    /// A whole data message: its opcode (1 text, 2 binary) and payload.
    case message(opcode: UInt8, payload: [UInt8])
    /// A close frame, with its status code when it carried one.
    case close(code: UInt16?, reason: String)
    /// The connection ended without a close frame.
    case ended
    /// Nothing within the time allowed.
    case timedOut
    /// The service broke the WebSocket framing itself.
    case violation(String)

    package var description: String {
        switch self {
        case .message(let opcode, let payload):
            return
                "a \(opcode == 1 ? "text" : opcode == 2 ? "binary" : "opcode-\(opcode)") message of \(payload.count) bytes"
        case .close(let code, let reason):
            return
                "a close frame (\(code.map(String.init) ?? "no status code")\(reason.isEmpty ? "" : " \"\(reason.prefix(80))\""))"
        case .ended: return "the connection ended without a close frame"
        case .timedOut: return "nothing"
        case .violation(let why): return "a WebSocket violation: \(why)"
        }
    }
}

/// A probe that could not do what was asked (connect, send, read a response head).
package struct WebSocketProbeError: Error, Sendable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// The HTTP response to the upgrade request.
package struct WebSocketProbeResponse: Sendable {
    /// The status code.
    package let status: Int
    /// The reason phrase.
    package let reason: String
    /// Every header, in order, names as sent.
    package let headers: [ProbeHeader]

    /// One response header.
    package struct ProbeHeader: Sendable, Equatable {
        package let name: String
        package let value: String
    }

    /// The values of every header named `name` (compared case-insensitively).
    package func values(_ name: String) -> [String] {
        self.headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    init(head: [UInt8]) throws(WebSocketProbeError) {
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last == "" { lines.removeLast() }
        guard let statusLine = lines.first else { throw WebSocketProbeError("an empty HTTP response") }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
            throw WebSocketProbeError("not an HTTP/1.1 status line: \(statusLine.prefix(80))")
        }
        self.status = status
        self.reason = parts.count > 2 ? String(parts[2]) : ""
        var headers: [ProbeHeader] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else {
                throw WebSocketProbeError("a malformed response header line: \(line.prefix(80))")
            }
            headers.append(
                ProbeHeader(
                    name: String(line[..<colon]),
                    value: line[line.index(after: colon)...].trimmingCharacters(in: " \t")
                )
            )
        }
        self.headers = headers
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}

/// Bytes read from the connection, waiting to be parsed; and whoever waits for more.
final class ProbeInbox: Sendable {
    struct Frame {
        var fin: Bool
        var opcode: UInt8
        var masked: Bool
        var payload: [UInt8]
    }

    private struct State {
        var bytes: [UInt8] = []
        var start = 0
        var generation = 0
        var ended = false
        var overflowed = false
        var firstError: String?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        var unread: Int { self.bytes.count - self.start }
    }

    private let state = LockedValue(State())
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    var hasEnded: Bool { self.state.withLock { $0.ended } }
    /// Changes whenever bytes arrive or the connection ends; read it before parsing, wait since it.
    var generation: Int { self.state.withLock { $0.generation } }
    var overflowed: Bool { self.state.withLock { $0.overflowed } }
    /// The first error the connection's pipeline reported (a TLS failure, for one), as text.
    var firstError: String? { self.state.withLock { $0.firstError } }

    func record(_ error: any Error) {
        self.state.withLock { state in
            if state.firstError == nil { state.firstError = String(describing: error) }
        }
    }

    /// `: <first pipeline error>` when there was one, for failure texts.
    var errorSuffix: String { self.firstError.map { " (\($0.prefix(300)))" } ?? "" }

    /// Appends bytes read; returns false when the limit is crossed (the reader then closes).
    func append(_ bytes: ByteBuffer) -> Bool {
        let (accepted, waiters) = self.state.withLock { state in
            if state.unread + bytes.readableBytes > self.limit {
                state.overflowed = true
                state.ended = true
            } else {
                if state.start > 65_536 {
                    state.bytes.removeFirst(state.start)
                    state.start = 0
                }
                state.bytes.append(contentsOf: bytes.readableBytesView)
            }
            state.generation += 1
            defer { state.waiters = [:] }
            return (!state.overflowed, Array(state.waiters.values))
        }
        for waiter in waiters { waiter.resume() }
        return accepted
    }

    /// The connection ended.
    func end() {
        let waiters = self.state.withLock { state in
            state.ended = true
            state.generation += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until more bytes arrive or the connection ends (true), or `deadline` passes or the
    /// task is cancelled (false).
    func waitForMore(since seen: Int, until deadline: ContinuousClock.Instant, eventLoop: any EventLoop) async -> Bool {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero, !Task.isCancelled else { return false }
        let id = self.state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        let timer = eventLoop.scheduleTask(in: TimeAmount(remaining)) { self.wake(id) }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = self.state.withLock { state -> Bool in
                    if state.generation != seen || state.ended || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.wake(id)
        }
        timer.cancel()
        return self.state.withLock { $0.generation != seen } && !Task.isCancelled
    }

    private func wake(_ id: Int) {
        let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.resume()
    }

    /// The response head (through the blank line), removed from the buffer, once it is complete.
    func takeHead(limit: Int) -> Result<[UInt8], WebSocketProbeError>? {
        self.state.withLock { state in
            let unread = state.bytes[state.start...]
            let terminator: [UInt8] = [13, 10, 13, 10]
            var index = unread.startIndex
            while index + 4 <= unread.endIndex {
                if unread[index..<index + 4].elementsEqual(terminator) {
                    let head = Array(unread[unread.startIndex..<index + 4])
                    state.start = index + 4
                    return .success(head)
                }
                index += 1
            }
            if unread.count > limit { return .failure(WebSocketProbeError("the response head exceeds \(limit) bytes")) }
            return nil
        }
    }

    /// The next whole frame, removed from the buffer; `nil` while it is incomplete.
    func takeFrame(maxPayload: Int) -> Result<Frame?, WebSocketProbeError> {
        self.state.withLock { state in
            let bytes = state.bytes
            var index = state.start
            func available(_ count: Int) -> Bool { bytes.count - index >= count }
            guard available(2) else { return .success(nil) }
            let first = bytes[index]
            let second = bytes[index + 1]
            index += 2
            guard first & 0x70 == 0 else { return .failure(WebSocketProbeError("a frame with reserved bits set")) }
            var length = Int(second & 0x7F)
            if length == 126 {
                guard available(2) else { return .success(nil) }
                length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
                index += 2
            } else if length == 127 {
                guard available(8) else { return .success(nil) }
                var value: UInt64 = 0
                for offset in 0..<8 { value = value << 8 | UInt64(bytes[index + offset]) }
                guard value <= UInt64(maxPayload) else {
                    return .failure(WebSocketProbeError("a frame announcing \(value) bytes"))
                }
                length = Int(value)
                index += 8
            }
            guard length <= maxPayload else {
                return .failure(WebSocketProbeError("a frame announcing \(length) bytes"))
            }
            let masked = second & 0x80 != 0
            var mask: [UInt8] = []
            if masked {
                guard available(4) else { return .success(nil) }
                mask = Array(bytes[index..<index + 4])
                index += 4
            }
            guard available(length) else { return .success(nil) }
            var payload = Array(bytes[index..<index + length])
            if masked { for offset in payload.indices { payload[offset] ^= mask[offset & 3] } }
            state.start = index + length
            return .success(Frame(fin: first & 0x80 != 0, opcode: first & 0x0F, masked: masked, payload: payload))
        }
    }
}

/// Feeds what the connection reads into the probe's inbox.
final class ProbeReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: ProbeInbox

    init(inbox: ProbeInbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !self.inbox.append(Self.unwrapInboundIn(data)) { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.inbox.end()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.inbox.record(error)
        context.close(promise: nil)
    }
}

/// RFC 4648 §4 base64, for the `Sec-WebSocket-Key`.
enum ProbeBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for position in 0..<4 {
                out.append(
                    position <= chunk.count ? Self.alphabet[(value >> (18 - 6 * position)) & 0x3F] : UInt8(ascii: "=")
                )
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

import NIOCore
import NIOWebSocket

/// A WebSocket close status code (RFC 6455 §7.4). The relay and the client use only the codes
/// below; any other value a peer sends is carried through as its raw number.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit code as sent in the close frame.
    public let rawValue: UInt16

    /// Wraps a raw code.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection was fulfilled (a peer closed cleanly).
    public static let normalClosure = Self(rawValue: 1000)
    /// 1001: an endpoint is going away (the other peer vanished, or the server shuts down).
    public static let goingAway = Self(rawValue: 1001)
    /// 1002: a WebSocket protocol error (unmasked client frame, broken fragmentation).
    public static let protocolError = Self(rawValue: 1002)
    /// 1003: a data type the endpoint cannot accept (caBLE carries binary messages only).
    public static let unsupportedData = Self(rawValue: 1003)
    /// 1005: no status code was present in the close frame (never sent on the wire).
    public static let noStatusReceived = Self(rawValue: 1005)
    /// 1008: a policy was violated (a relay limit or timeout).
    public static let policyViolation = Self(rawValue: 1008)
    /// 1009: a message was too big to process.
    public static let messageTooBig = Self(rawValue: 1009)
    /// 1011: the server hit an unexpected condition.
    public static let internalError = Self(rawValue: 1011)

    /// The number, as logs print it.
    public var description: String { String(self.rawValue) }
}

/// Why a WebSocket was closed: the code plus a short, fixed explanation. The text is written by
/// the relay itself and never contains message bytes.
package struct WebSocketCloseReason: Hashable, Sendable, CustomStringConvertible {
    /// The status code sent in the close frame.
    package let code: WebSocketCloseCode
    /// A short fixed text (RFC 6455 allows at most 123 bytes; these are far shorter).
    package let text: String

    /// A close reason with its code and fixed text.
    package init(code: WebSocketCloseCode, text: String) {
        self.code = code
        self.text = text
    }

    package var description: String { "\(self.code.rawValue) \(self.text)" }

    /// The peer closed its side cleanly: forwarded as 1000 (webauthn-rs' wording).
    package static let peerClosed = Self(code: .normalClosure, text: "remote peer cleanly disconnected")
    /// The peer's connection ended without a close frame.
    package static let peerVanished = Self(code: .goingAway, text: "remote peer vanished")
    /// The relay is shutting down.
    package static let serverShutdown = Self(code: .goingAway, text: "tunnel service shutting down")
    /// Echo of a close the client started.
    package static let closeAcknowledged = Self(code: .normalClosure, text: "")
}

extension WebSocketCloseCode {
    /// The longest close reason RFC 6455 §5.5 allows (a control frame carries at most 125 bytes,
    /// two of them the code).
    static let maxCloseReasonBytes = 123

    /// `reason` cut to ``maxCloseReasonBytes`` bytes of UTF-8 at a character boundary.
    static func fittingCloseReason(_ reason: String) -> String {
        var text = Substring(reason)
        while text.utf8.count > Self.maxCloseReasonBytes { text = text.dropLast() }
        return String(text)
    }
}

extension WebSocketFrame {
    /// A close frame: the code, then `reason` (cut to fit). Client frames are `masked`; a server's
    /// are not. The one place close frames are made (the client's and the relay's).
    package static func close(
        _ code: WebSocketCloseCode,
        reason: String = "",
        masked: Bool,
        allocator: ByteBufferAllocator
    ) -> WebSocketFrame {
        let text = WebSocketCloseCode.fittingCloseReason(reason)
        var data = allocator.buffer(capacity: 2 + text.utf8.count)
        data.writeInteger(code.rawValue)
        data.writeString(text)
        return WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: masked ? .random() : nil, data: data)
    }
}

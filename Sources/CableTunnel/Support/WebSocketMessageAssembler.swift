import NIOCore

/// Bytes a WebSocket message is made of, abstracted so the sans-I/O rules below run on `[UInt8]`
/// in tests and on NIO's `ByteBuffer` in the server without copying.
package protocol WebSocketPayload: Sendable {
    /// Number of payload bytes.
    var payloadByteCount: Int { get }
    /// Appends a continuation fragment.
    mutating func appendFragment(_ fragment: Self)
}

extension Array: WebSocketPayload where Element == UInt8 {
    package var payloadByteCount: Int { self.count }
    package mutating func appendFragment(_ fragment: [UInt8]) { self.append(contentsOf: fragment) }
}

extension ByteBuffer: WebSocketPayload {
    package var payloadByteCount: Int { self.readableBytes }
    package mutating func appendFragment(_ fragment: ByteBuffer) {
        var fragment = fragment
        self.writeBuffer(&fragment)
    }
}

/// The data-frame opcodes (control frames are handled by the connection, between fragments).
package enum WebSocketDataOpcode: Sendable, Hashable {
    case binary
    case text
    case continuation
}

/// Reassembles fragmented WebSocket data frames into whole binary messages (RFC 6455 §5.4).
///
/// Decision, documented in the relay's DocC: continuation frames **are reassembled** up to the
/// message size limit (Chromium's client accepts 1 MiB) and a bounded fragment count, then
/// forwarded as one unfragmented message; a message crossing either bound is refused. caBLE
/// carries only binary messages, so any text frame is refused at once.
package struct WebSocketMessageAssembler<Payload: WebSocketPayload> {
    /// What one data frame produced.
    package enum Outcome {
        /// A fragment was stored; the message is not complete yet.
        case needMore
        /// A whole binary message.
        case message(Payload)
        /// The frame broke a rule; close the connection with this reason.
        case refuse(WebSocketCloseReason)
    }

    /// Largest whole message, in bytes.
    package let maxMessageSize: Int
    /// Largest number of frames one message may be split into.
    package let maxFragments: Int

    private var partial: Payload?
    private var fragmentCount = 0

    /// Creates an assembler with the given bounds.
    package init(maxMessageSize: Int, maxFragments: Int) {
        self.maxMessageSize = maxMessageSize
        self.maxFragments = maxFragments
    }

    /// Whether a fragmented message is in progress (so buffered bytes exist).
    package var isAssembling: Bool { self.partial != nil }

    /// Feeds one data frame.
    package mutating func consume(opcode: WebSocketDataOpcode, fin: Bool, payload: Payload) -> Outcome {
        switch opcode {
        case .text:
            self.reset()
            return .refuse(.init(code: .unsupportedData, text: "text messages are not accepted"))
        case .binary:
            guard self.partial == nil else {
                self.reset()
                return .refuse(.init(code: .protocolError, text: "new message inside a fragmented message"))
            }
            guard payload.payloadByteCount <= self.maxMessageSize else {
                return .refuse(Self.tooBig(self.maxMessageSize))
            }
            if fin { return .message(payload) }
            self.partial = payload
            self.fragmentCount = 1
            return .needMore
        case .continuation:
            guard var partial = self.partial else {
                return .refuse(.init(code: .protocolError, text: "continuation frame without a message"))
            }
            self.fragmentCount += 1
            guard partial.payloadByteCount + payload.payloadByteCount <= self.maxMessageSize else {
                self.reset()
                return .refuse(Self.tooBig(self.maxMessageSize))
            }
            guard self.fragmentCount <= self.maxFragments else {
                self.reset()
                return .refuse(.init(code: .policyViolation, text: "message split into too many fragments"))
            }
            // Release the stored copy before appending, so a ByteBuffer is appended in place.
            self.partial = nil
            partial.appendFragment(payload)
            if fin {
                self.fragmentCount = 0
                return .message(partial)
            }
            self.partial = partial
            return .needMore
        }
    }

    private mutating func reset() {
        self.partial = nil
        self.fragmentCount = 0
    }

    private static func tooBig(_ limit: Int) -> WebSocketCloseReason {
        .init(code: .messageTooBig, text: "message larger than \(limit) bytes")
    }
}

/// Bounds how many pings a peer may send: at most `limit` per `window` (a fixed window, which is
/// enough to stop a flood while answering any keep-alive schedule a real client uses).
package struct PingBudget: Sendable {
    /// Pings allowed per window.
    package let limit: Int
    /// Window length.
    package let window: Duration
    private var windowStart: ContinuousClock.Instant?
    private var count = 0

    /// Creates a budget.
    package init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
    }

    /// Records one ping at `now`; `false` when the peer exceeded its budget.
    package mutating func admit(now: ContinuousClock.Instant) -> Bool {
        if let start = self.windowStart, now - start < self.window {
            self.count += 1
        } else {
            self.windowStart = now
            self.count = 1
        }
        return self.count <= self.limit
    }
}

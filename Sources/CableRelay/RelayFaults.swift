import NIOCore

/// Deliberate faults for the conformance kit's mutation tests: each makes our relay break one
/// rule of the tunnel service protocol, so the project's tests can show that the relay scenario
/// checking that rule fails. Package-level only: `cable relay` has no way to set them.
package struct RelayFaults: Sendable, Hashable {
    /// What `Sec-WebSocket-Protocol` the 101 response carries.
    package enum SubprotocolAnswer: Sendable, Hashable {
        /// `fido.cable`, as required.
        case correct
        /// No `Sec-WebSocket-Protocol` header at all.
        case none
        /// Another value.
        case other(String)
    }

    /// What `X-caBLE-Routing-ID` the `/cable/new/` response carries.
    package enum RoutingIDAnswer: Sendable, Hashable {
        /// One header with the routing ID's 6 hex digits.
        case correct
        /// No header.
        case missing
        /// One header with this value instead.
        case malformed(String)
        /// The header twice.
        case duplicated
    }

    /// What happens to messages held for a party that has not connected yet when it connects.
    package enum HeldMessages: Sendable, Hashable {
        /// Delivered in order.
        case correct
        /// Delivered in reverse order.
        case reversed
        /// The first one is lost.
        case firstDropped
    }

    package var subprotocol = SubprotocolAnswer.correct
    package var routingID = RoutingIDAnswer.correct
    /// `/cable/connect/` refuses this relay's own routing ID (and accepts any other).
    package var rejectsOwnRoutingID = false
    /// The status answered for a tunnel that does not exist, instead of 404.
    package var unknownTunnelStatus: Int?
    /// A third client joining a paired tunnel is upgraded (then closed at once) instead of refused.
    package var upgradesThirdClient = false
    /// A second `/cable/new/` for a registered tunnel ID is upgraded (then closed at once) instead
    /// of answered 409.
    package var upgradesDuplicateCreator = false
    /// Text frames are forwarded as binary messages instead of closing the sender.
    package var forwardsTextFrames = false
    package var heldMessages = HeldMessages.correct
    /// Messages longer than this lose their last byte on the way.
    package var truncatesMessagesLongerThan: Int?
    /// When one party leaves, the other is not told.
    package var swallowsClose = false

    /// A correct relay.
    package static let none = RelayFaults()

    package init() {}

    /// The `Sec-WebSocket-Protocol` values to answer.
    func subprotocolValues(_ correct: String) -> [String] {
        switch self.subprotocol {
        case .correct: return [correct]
        case .none: return []
        case .other(let value): return [value]
        }
    }

    /// The `X-caBLE-Routing-ID` values to answer on `/cable/new/`.
    func routingIDValues(_ correct: String) -> [String] {
        switch self.routingID {
        case .correct: return [correct]
        case .missing: return []
        case .malformed(let value): return [value]
        case .duplicated: return [correct, correct]
        }
    }

    /// Held messages as delivered.
    func deliveredHeld(_ messages: [ByteBuffer]) -> [ByteBuffer] {
        switch self.heldMessages {
        case .correct: return messages
        case .reversed: return messages.reversed()
        case .firstDropped: return Array(messages.dropFirst())
        }
    }

    /// A forwarded message as written.
    func forwarded(_ message: ByteBuffer) -> ByteBuffer {
        guard let limit = self.truncatesMessagesLongerThan, message.readableBytes > limit else { return message }
        return message.getSlice(at: message.readerIndex, length: message.readableBytes - 1) ?? message
    }
}

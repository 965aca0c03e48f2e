extension CableProtocolError.Code {
    /// A decrypted tunnel frame (revision ≥ 1) was empty, so it has no message-type byte.
    public static let tunnelMessageEmpty = Self(rawValue: "tunnelMessageEmpty")
    /// A tunnel frame's message-type byte was above 3 (Chromium `MessageType::kMaxValue`).
    public static let tunnelMessageUnknownType = Self(rawValue: "tunnelMessageUnknownType")
}

/// The protocol revision a session speaks, as the desktop detects it from the first encrypted frame
/// (hybrid-protocol.md §7.4, §10.1).
public enum ProtocolRevision: Int, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// "caBLE v2.0": the post-handshake message is a padded CBOR map, frames carry no type byte, and
    /// there is no shutdown or update message.
    case zero = 0
    /// "caBLE v2.1": the post-handshake message is plain CBOR and every later frame starts with a
    /// ``TunnelMessage/MessageType`` byte. All current implementations.
    case one = 1

    /// Revisions are ordered by number.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `v2.0` or `v2.1`, as Chromium logs "established v2.N".
    public var description: String { "v2.\(self.rawValue)" }
}

/// One decrypted frame after the post-handshake message (hybrid-protocol.md §8.1, Chromium `MessageType`).
///
/// In revision 1 the crypter plaintext is a type byte followed by the payload; the crypter pads *after*
/// the type byte is prepended (Chromium's order; libwebauthn pads first, which decodes the same). In
/// revision 0 there is no type byte and every frame is CTAP.
public enum TunnelMessage: Sendable, Hashable, CustomStringConvertible {
    /// Desktop → phone: the desktop is done. Frame `[0x00]`.
    case shutdown
    /// Both ways: a CTAP2 request `[command][CBOR]` or response `[status][CBOR]`, carried opaquely.
    case ctap([UInt8])
    /// Phone → desktop (and, ignored, desktop → phone): a CBOR map, see ``UpdateMessage``. The payload is
    /// kept undecoded here so framing and content are checked separately, as Chromium does.
    case update([UInt8])
    /// Both ways, digital-credential flows only: UTF-8 JSON, carried opaquely.
    case json([UInt8])

    /// The wire values of the type byte. Protocol constants: never renumber.
    public enum MessageType: UInt8, Sendable, Hashable, CaseIterable {
        /// `kShutdown`.
        case shutdown = 0
        /// `kCTAP`.
        case ctap = 1
        /// `kUpdate`.
        case update = 2
        /// `kJSON`.
        case json = 3
    }

    /// This message's type byte.
    public var messageType: MessageType {
        switch self {
        case .shutdown: return .shutdown
        case .ctap: return .ctap
        case .update: return .update
        case .json: return .json
        }
    }

    /// Decodes a decrypted frame.
    ///
    /// Revision 1: the first byte is the type and the rest the payload. As in Chromium, a shutdown
    /// frame's payload is ignored (the peer only looks at the type byte). Revision 0: the whole
    /// plaintext is a CTAP message.
    ///
    /// - Throws: ``CableProtocolError/Code/tunnelMessageEmpty``, ``CableProtocolError/Code/tunnelMessageUnknownType``.
    public init(decoding plaintext: [UInt8], revision: ProtocolRevision = .one) throws(CableProtocolError) {
        switch revision {
        case .zero:
            self = .ctap(plaintext)
        case .one:
            guard let typeByte = plaintext.first else {
                throw CableProtocolError(.tunnelMessageEmpty, "frame has no message-type byte")
            }
            guard let type = MessageType(rawValue: typeByte) else {
                // The type byte is plaintext, so it is not echoed into the reason.
                throw CableProtocolError(.tunnelMessageUnknownType, "message type is not 0...3")
            }
            let payload = Array(plaintext.dropFirst())
            switch type {
            case .shutdown: self = .shutdown
            case .ctap: self = .ctap(payload)
            case .update: self = .update(payload)
            case .json: self = .json(payload)
            }
        }
    }

    /// The crypter plaintext for this message (before padding).
    ///
    /// - Precondition: revision 0 carries only CTAP (its sessions end by closing the socket).
    public func encoded(revision: ProtocolRevision = .one) -> [UInt8] {
        switch (revision, self) {
        case (.zero, .ctap(let payload)):
            return payload
        case (.zero, .shutdown), (.zero, .update), (.zero, .json):
            preconditionFailure("revision 0 frames carry only CTAP")
        case (.one, .shutdown):
            return [MessageType.shutdown.rawValue]
        case (.one, .ctap(let payload)), (.one, .update(let payload)), (.one, .json(let payload)):
            return [self.messageType.rawValue] + payload
        }
    }

    /// The type and payload size only: payloads are plaintext and never printed.
    public var description: String {
        switch self {
        case .shutdown: return "TunnelMessage.shutdown"
        case .ctap(let payload): return "TunnelMessage.ctap(\(payload.count) bytes)"
        case .update(let payload): return "TunnelMessage.update(\(payload.count) bytes)"
        case .json(let payload): return "TunnelMessage.json(\(payload.count) bytes)"
        }
    }
}

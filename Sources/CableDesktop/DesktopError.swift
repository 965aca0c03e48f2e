public import CableProtocol

/// Why a desktop transaction failed, naming the step: which wait timed out, which peer step broke
/// the protocol, or where the tunnel failed.
///
/// Shaped like `TunnelError` (and swift-nio-ssh's errors): a ``Code`` whose cases live in a private
/// enum (new codes never break the API; callers cannot mint codes), a ``reason``, and the cause kept
/// as a value in ``underlying``: the `TunnelError` of a refused or broken tunnel (with its HTTP status,
/// close code or TLS failure), the `CableProtocolError` of a broken rule of the core. The desktop's own
/// rules (``Code/unexpectedFrame``, ``Code/receivedShutdown``, ``Code/unsolicitedReply``) are codes
/// of this type, with no underlying error. Equality compares ``code`` and ``step``.
public struct DesktopError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case timeout, protocolViolation, tunnelFailed, closedByPeer
            case unexpectedFrame, receivedShutdown, unsolicitedReply
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The stable name (`tunnelFailed`), for logs, metrics and scripts; not meant for people.
        public var rawValue: String { self.base.rawValue }
        /// The stable name.
        public var description: String { self.base.rawValue }

        /// A wait exceeded its timeout.
        public static let timeout = Self(.timeout)
        /// The phone broke the protocol (the broken rule is ``DesktopError/protocolError``).
        public static let protocolViolation = Self(.protocolViolation)
        /// The tunnel service could not be reached, refused the connection, or the connection failed
        /// (the transport's error is ``DesktopError/underlying``).
        public static let tunnelFailed = Self(.tunnelFailed)
        /// The phone (or the tunnel) closed the connection before the step finished.
        public static let closedByPeer = Self(.closedByPeer)
        /// A message arrived that the desktop does not expect in its current state (before its
        /// handshake message was made, or after the session failed).
        public static let unexpectedFrame = Self(.unexpectedFrame)
        /// The phone sent a shutdown frame; only desktops send those (Chromium treats it as an error).
        public static let receivedShutdown = Self(.receivedShutdown)
        /// A CTAP reply arrived with no request outstanding.
        public static let unsolicitedReply = Self(.unsolicitedReply)
    }

    /// The kind of failure.
    public let code: Code
    /// The step that failed.
    public let step: DesktopStep
    /// What the driver was doing when it failed, without secrets; empty when the cause says it all.
    public let reason: String
    /// The lower-level cause, kept as a value: the connector's error for ``Code/tunnelFailed`` (a
    /// `TunnelError` with its HTTP status, close code or TLS failure when the connector is CableTunnel's),
    /// the `CableProtocolError` for ``Code/protocolViolation``; `nil` when this error is the cause.
    public let underlying: (any Error)?

    /// The protocol rule that was broken, for ``Code/protocolViolation``.
    public var protocolError: CableProtocolError? { self.underlying as? CableProtocolError }

    /// The former name of ``reason``.
    @available(*, deprecated, renamed: "reason")
    public var detail: String { self.reason }

    package init(_ code: Code, step: DesktopStep, _ reason: String, underlying: (any Error)? = nil) {
        self.code = code
        self.step = step
        self.reason = reason
        self.underlying = underlying
    }

    /// One line: the step, the reason and the cause's own description.
    public var description: String {
        var text: String
        switch self.code {
        case .timeout: text = "timed out \(self.step.waitingDescription)"
        case .protocolViolation: text = "protocol error while \(self.step.waitingDescription)"
        case .unexpectedFrame: text = "unexpected frame while \(self.step.waitingDescription)"
        case .receivedShutdown: text = "shutdown frame from the phone while \(self.step.waitingDescription)"
        case .unsolicitedReply: text = "unsolicited reply while \(self.step.waitingDescription)"
        case .closedByPeer: text = "the phone closed the tunnel while \(self.step.waitingDescription)"
        default: text = "tunnel failed while \(self.step.waitingDescription)"
        }
        if !self.reason.isEmpty { text += ": \(self.reason)" }
        if let underlying = self.underlying { text += ": \(underlying)" }
        return text
    }

    /// Compares ``code`` and ``step`` (reasons and causes are diagnostics).
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code && lhs.step == rhs.step }
    /// Hashes ``code`` and ``step``, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.step)
    }
}

/// The steps of a desktop transaction, in order.
public enum DesktopStep: String, Hashable, Sendable, CaseIterable {
    /// Waiting for the phone's BLE advert.
    case advert
    /// Connecting to the tunnel service.
    case connect
    /// Waiting for the phone's handshake response.
    case handshake
    /// Waiting for the phone's post-handshake message.
    case postHandshake
    /// Waiting for the reply to the CTAP request (the user is deciding on the phone).
    case response

    /// "waiting for the phone's advert", … for messages and status lines.
    public var waitingDescription: String {
        switch self {
        case .advert: return "waiting for the phone's BLE advert"
        case .connect: return "connecting to the tunnel service"
        case .handshake: return "waiting for the phone's handshake response"
        case .postHandshake: return "waiting for the phone's post-handshake message"
        case .response: return "waiting for the phone's reply (the user decides on the phone)"
        }
    }
}

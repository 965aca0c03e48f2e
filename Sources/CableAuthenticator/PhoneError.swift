public import CableProtocol

/// Why a phone transaction failed, naming the step.
///
/// Shaped like `TunnelError`: a ``Code`` whose cases live in a private enum (new codes never break
/// the API; callers cannot mint codes), a ``reason``, and the cause kept as a value in ``underlying``
/// (the connector's `TunnelError`, the `CableProtocolError` of a broken rule of the core, the
/// transmitter's error). The phone's own rule (``Code/unexpectedFrame``) is a code of this type, with
/// no underlying error. Equality compares ``code`` and ``step``.
public struct PhoneError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidQRCode, timeout, protocolViolation, tunnelFailed, closedByPeer, advertFailed, unexpectedFrame
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The stable name (`tunnelFailed`), for logs, metrics and scripts; not meant for people.
        public var rawValue: String { self.base.rawValue }
        /// The stable name.
        public var description: String { self.base.rawValue }

        /// The scanned URL is not a valid caBLE QR code (the rule is ``PhoneError/protocolError``).
        // swift-format-ignore: DontRepeatTypeInStaticProperties
        // "QR code" is the thing scanned, not this type's name.
        public static let invalidQRCode = Self(.invalidQRCode)
        /// A wait exceeded its timeout.
        public static let timeout = Self(.timeout)
        /// The desktop broke the protocol (the rule is ``PhoneError/protocolError``).
        public static let protocolViolation = Self(.protocolViolation)
        /// The tunnel service could not be reached, refused, or returned no routing ID; or the
        /// connection failed (the transport's error is ``PhoneError/underlying``).
        public static let tunnelFailed = Self(.tunnelFailed)
        /// The desktop (or the tunnel) closed the connection early.
        public static let closedByPeer = Self(.closedByPeer)
        /// Sending the BLE advert failed.
        public static let advertFailed = Self(.advertFailed)
        /// The desktop sent a frame the phone does not expect now (e.g. a second request while one is
        /// being answered, a JSON frame, or data after the transaction ended).
        public static let unexpectedFrame = Self(.unexpectedFrame)
    }

    /// The steps of a phone transaction.
    public enum Step: String, Hashable, Sendable {
        /// Reading the QR code.
        case scan
        /// Opening the tunnel at the tunnel service (`/cable/new/`).
        case registerTunnel
        /// Advertising until the desktop's handshake arrives.
        case awaitHandshake
        /// Answering the desktop's requests until it shuts the transaction down.
        case serveRequests
    }

    /// The kind of failure.
    public let code: Code
    /// The step that failed.
    public let step: Step
    /// What the driver was doing when it failed, without secrets; empty when the cause says it all.
    public let reason: String
    /// The lower-level cause, kept as a value: the connector's error for ``Code/tunnelFailed`` (a
    /// `TunnelError` with its HTTP status, close code or TLS failure when the connector is CableTunnel's),
    /// the `CableProtocolError` for ``Code/invalidQRCode`` and ``Code/protocolViolation``; `nil` when
    /// this error is the cause.
    public let underlying: (any Error)?

    /// The protocol rule that was broken, for ``Code/invalidQRCode`` and ``Code/protocolViolation``.
    public var protocolError: CableProtocolError? { self.underlying as? CableProtocolError }

    /// The former name of ``reason``.
    @available(*, deprecated, renamed: "reason")
    public var detail: String { self.reason }

    package init(_ code: Code, step: Step, _ reason: String, underlying: (any Error)? = nil) {
        self.code = code
        self.step = step
        self.reason = reason
        self.underlying = underlying
    }

    /// `code at step: reason: cause`, for logs.
    public var description: String {
        var text = "\(self.code.rawValue) at \(self.step.rawValue)"
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

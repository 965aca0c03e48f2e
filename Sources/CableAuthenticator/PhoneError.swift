public import CableProtocol

/// Why a phone transaction failed, naming the step. Equality compares ``code`` and ``step``.
public struct PhoneError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// The scanned URL is not a valid caBLE QR code (the rule is in ``protocolError``).
        case invalidQRCode
        /// A wait exceeded its timeout.
        case timeout
        /// The desktop broke the protocol.
        case protocolViolation
        /// The tunnel service could not be reached, refused, or returned no routing ID.
        case tunnelFailed
        /// The desktop (or the tunnel) closed the connection early.
        case closedByPeer
        /// Sending the BLE advert failed.
        case advertFailed
    }

    /// The steps of a phone transaction.
    public enum Step: String, Hashable, Sendable {
        case scan, registerTunnel, awaitHandshake, serveRequests
    }

    public let code: Code
    public let step: Step
    public let detail: String
    public let protocolError: CableProtocolError?

    package init(_ code: Code, step: Step, _ detail: String, protocolError: CableProtocolError? = nil) {
        self.code = code
        self.step = step
        self.detail = detail
        self.protocolError = protocolError
    }

    public var description: String { "\(self.code.rawValue) at \(self.step.rawValue): \(self.detail)" }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code && lhs.step == rhs.step }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.step)
    }
}

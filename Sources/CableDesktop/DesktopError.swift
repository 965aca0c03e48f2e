public import CableProtocol

/// Why a desktop transaction failed, naming the step: which wait timed out, which peer step broke
/// the protocol, or where the tunnel failed. Equality compares ``code`` and ``step``.
public struct DesktopError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// A wait exceeded its timeout.
        case timeout
        /// The phone broke the protocol (the underlying `CableProtocolError` is in ``DesktopError/protocolError``).
        case protocolViolation
        /// The tunnel service could not be reached or refused the connection.
        case tunnelFailed
        /// The phone (or the tunnel) closed the connection before the step finished.
        case closedByPeer
    }

    /// The kind of failure.
    public let code: Code
    /// The step that failed.
    public let step: DesktopStep
    /// A one-line explanation without secrets.
    public let detail: String
    /// The protocol rule that was broken, for ``Code/protocolViolation``.
    public let protocolError: CableProtocolError?

    package init(_ code: Code, step: DesktopStep, _ detail: String, protocolError: CableProtocolError? = nil) {
        self.code = code
        self.step = step
        self.detail = detail
        self.protocolError = protocolError
    }

    public var description: String {
        switch self.code {
        case .timeout: return "timed out \(self.step.waitingDescription): \(self.detail)"
        case .protocolViolation: return "protocol error while \(self.step.waitingDescription): \(self.detail)"
        case .tunnelFailed: return "tunnel failed while \(self.step.waitingDescription): \(self.detail)"
        case .closedByPeer: return "the phone closed the tunnel while \(self.step.waitingDescription)"
        }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code && lhs.step == rhs.step }
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

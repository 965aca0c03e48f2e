public import CableCTAP
public import CableRelyingParty

/// Why a registration or sign-in failed after the tunnel did its job: the phone refused, answered
/// with malformed CTAP, or what it returned did not verify. Tunnel and protocol failures surface as
/// `DesktopError`.
public struct CeremonyError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// The phone answered with a CTAP error status (see ``status``).
        case authenticatorError
        /// The phone's reply is not a valid CTAP2 response.
        case malformedResponse
        /// The relying party rejected what the phone returned (see ``relyingPartyError``).
        case verificationFailed
        /// The relying party's credential records could not be read or written.
        case recordStoreFailed
    }

    public let code: Code
    /// The CTAP status the phone returned, for ``Code/authenticatorError``.
    public let status: CTAPStatus?
    /// The relying party's reason, for ``Code/verificationFailed`` and ``Code/recordStoreFailed``.
    public let relyingPartyError: RelyingPartyError?
    /// One line for people.
    public let detail: String

    package init(_ code: Code, _ detail: String, status: CTAPStatus? = nil, relyingPartyError: RelyingPartyError? = nil) {
        self.code = code
        self.detail = detail
        self.status = status
        self.relyingPartyError = relyingPartyError
    }

    public var description: String { self.detail }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.status == rhs.status && lhs.relyingPartyError == rhs.relyingPartyError
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.status)
    }

    /// A sentence for a CTAP status a phone returns at the end of a ceremony.
    static func explain(_ status: CTAPStatus) -> String {
        switch status {
        case .operationDenied: return "the user declined on the phone (CTAP2_ERR_OPERATION_DENIED)"
        case .noCredentials: return "the phone has no passkey for this site (CTAP2_ERR_NO_CREDENTIALS)"
        case .credentialExcluded: return "the phone already holds a passkey for this account (CTAP2_ERR_CREDENTIAL_EXCLUDED)"
        case .unsupportedAlgorithm: return "the phone supports none of the requested algorithms (CTAP2_ERR_UNSUPPORTED_ALGORITHM)"
        case .userActionTimeout: return "the user did not respond on the phone in time (CTAP2_ERR_USER_ACTION_TIMEOUT)"
        default: return "the phone answered with CTAP status \(status)"
        }
    }
}

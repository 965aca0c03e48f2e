public import CableCTAP
public import CableRelyingParty

/// Why a registration or sign-in failed after the tunnel did its job: the phone refused, answered
/// with malformed CTAP, or what it returned did not verify. Tunnel and protocol failures surface as
/// `DesktopError`.
///
/// Shaped like `DesktopError`: a ``Code`` whose cases live in a private enum (new codes never break
/// the API; callers cannot mint codes), a ``reason``, and the cause kept as a value in ``underlying``
/// (the `RelyingPartyError` of a refusal, the `CTAPError` of a malformed reply).
public struct CeremonyError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case authenticatorError, malformedResponse, verificationFailed, recordStoreFailed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The stable name (`verificationFailed`), for logs, metrics and scripts; not meant for people.
        public var rawValue: String { self.base.rawValue }
        /// The stable name.
        public var description: String { self.base.rawValue }

        /// The phone answered with a CTAP error status (see ``CeremonyError/status``).
        public static let authenticatorError = Self(.authenticatorError)
        /// The phone's reply is not a valid CTAP2 response (the decoder's `CTAPError`, if any, is
        /// ``CeremonyError/underlying``).
        public static let malformedResponse = Self(.malformedResponse)
        /// The relying party rejected what the phone returned (see ``CeremonyError/relyingPartyError``).
        public static let verificationFailed = Self(.verificationFailed)
        /// The relying party's credential records could not be read or written.
        public static let recordStoreFailed = Self(.recordStoreFailed)
    }

    /// The kind of failure.
    public let code: Code
    /// The CTAP status the phone returned, for ``Code/authenticatorError``.
    public let status: CTAPStatus?
    /// One line for people, without the cause (``description`` adds it).
    public let reason: String
    /// The lower-level cause, kept as a value: the `RelyingPartyError` for ``Code/verificationFailed``
    /// and ``Code/recordStoreFailed``, the `CTAPError` of a reply that did not decode.
    public let underlying: (any Error)?

    /// The relying party's reason, for ``Code/verificationFailed`` and ``Code/recordStoreFailed``.
    public var relyingPartyError: RelyingPartyError? { self.underlying as? RelyingPartyError }

    /// The former name of ``description``.
    @available(*, deprecated, renamed: "description")
    public var detail: String { self.description }

    package init(_ code: Code, _ reason: String, status: CTAPStatus? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.reason = reason
        self.status = status
        self.underlying = underlying
    }

    /// The reason and the cause's own description.
    public var description: String {
        guard let underlying = self.underlying else { return self.reason }
        return "\(self.reason): \(underlying)"
    }

    /// Compares ``code``, ``status`` and the relying party's code.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.status == rhs.status && lhs.relyingPartyError == rhs.relyingPartyError
    }
    /// Hashes ``code`` and ``status``, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.status)
    }

    /// A sentence for a CTAP status a phone returns at the end of a ceremony.
    static func explain(_ status: CTAPStatus) -> String {
        switch status {
        case .operationDenied: return "the user declined on the phone (CTAP2_ERR_OPERATION_DENIED)"
        case .noCredentials: return "the phone has no passkey for this site (CTAP2_ERR_NO_CREDENTIALS)"
        case .credentialExcluded:
            return "the phone already holds a passkey for this account (CTAP2_ERR_CREDENTIAL_EXCLUDED)"
        case .unsupportedAlgorithm:
            return "the phone supports none of the requested algorithms (CTAP2_ERR_UNSUPPORTED_ALGORITHM)"
        case .userActionTimeout: return "the user did not respond on the phone in time (CTAP2_ERR_USER_ACTION_TIMEOUT)"
        default: return "the phone answered with CTAP status \(status)"
        }
    }
}

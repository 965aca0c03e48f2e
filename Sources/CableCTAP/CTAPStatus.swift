/// The status byte that starts every CTAP2 response frame (CTAP 2.1 §8.2, "Status codes").
///
/// A struct rather than an enum because a phone may answer with a code this model does not name; it
/// must still be carried and shown, not turned into a decoding failure. Raw values are wire constants.
public struct CTAPStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The status byte.
    public let rawValue: UInt8

    /// Wraps a status byte (every value is representable).
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Whether this is `CTAP2_OK`.
    public var isSuccess: Bool { self == .ok }

    /// `CTAP2_OK` / `CTAP1_ERR_SUCCESS` (0x00).
    public static let ok = Self(rawValue: 0x00)
    /// `CTAP1_ERR_INVALID_COMMAND` (0x01): the command is not supported.
    public static let invalidCommand = Self(rawValue: 0x01)
    /// `CTAP1_ERR_INVALID_PARAMETER` (0x02): a parameter has an invalid value.
    public static let invalidParameter = Self(rawValue: 0x02)
    /// `CTAP1_ERR_INVALID_LENGTH` (0x03): a message or field has an invalid length.
    public static let invalidLength = Self(rawValue: 0x03)
    /// `CTAP1_ERR_INVALID_SEQ` (0x04).
    public static let invalidSequence = Self(rawValue: 0x04)
    /// `CTAP1_ERR_TIMEOUT` (0x05).
    public static let timeout = Self(rawValue: 0x05)
    /// `CTAP1_ERR_CHANNEL_BUSY` (0x06).
    public static let channelBusy = Self(rawValue: 0x06)
    /// `CTAP1_ERR_LOCK_REQUIRED` (0x0A).
    public static let lockRequired = Self(rawValue: 0x0A)
    /// `CTAP1_ERR_INVALID_CHANNEL` (0x0B).
    public static let invalidChannel = Self(rawValue: 0x0B)
    /// `CTAP2_ERR_CBOR_UNEXPECTED_TYPE` (0x11): a CBOR item had the wrong major type.
    public static let cborUnexpectedType = Self(rawValue: 0x11)
    /// `CTAP2_ERR_INVALID_CBOR` (0x12): the CBOR could not be decoded.
    public static let invalidCBOR = Self(rawValue: 0x12)
    /// `CTAP2_ERR_MISSING_PARAMETER` (0x14): a required parameter is absent.
    public static let missingParameter = Self(rawValue: 0x14)
    /// `CTAP2_ERR_LIMIT_EXCEEDED` (0x15).
    public static let limitExceeded = Self(rawValue: 0x15)
    /// `CTAP2_ERR_FP_DATABASE_FULL` (0x17).
    public static let fingerprintDatabaseFull = Self(rawValue: 0x17)
    /// `CTAP2_ERR_LARGE_BLOB_STORAGE_FULL` (0x18).
    public static let largeBlobStorageFull = Self(rawValue: 0x18)
    /// `CTAP2_ERR_CREDENTIAL_EXCLUDED` (0x19): a credential in the exclude list is already on the authenticator.
    public static let credentialExcluded = Self(rawValue: 0x19)
    /// `CTAP2_ERR_PROCESSING` (0x21).
    public static let processing = Self(rawValue: 0x21)
    /// `CTAP2_ERR_INVALID_CREDENTIAL` (0x22).
    public static let invalidCredential = Self(rawValue: 0x22)
    /// `CTAP2_ERR_USER_ACTION_PENDING` (0x23).
    public static let userActionPending = Self(rawValue: 0x23)
    /// `CTAP2_ERR_OPERATION_PENDING` (0x24).
    public static let operationPending = Self(rawValue: 0x24)
    /// `CTAP2_ERR_NO_OPERATIONS` (0x25).
    public static let noOperations = Self(rawValue: 0x25)
    /// `CTAP2_ERR_UNSUPPORTED_ALGORITHM` (0x26): none of the requested algorithms is supported.
    public static let unsupportedAlgorithm = Self(rawValue: 0x26)
    /// `CTAP2_ERR_OPERATION_DENIED` (0x27): the user declined.
    public static let operationDenied = Self(rawValue: 0x27)
    /// `CTAP2_ERR_KEY_STORE_FULL` (0x28).
    public static let keyStoreFull = Self(rawValue: 0x28)
    /// `CTAP2_ERR_UNSUPPORTED_OPTION` (0x2B): an option is not supported.
    public static let unsupportedOption = Self(rawValue: 0x2B)
    /// `CTAP2_ERR_INVALID_OPTION` (0x2C): an option has a value the authenticator cannot honour.
    public static let invalidOption = Self(rawValue: 0x2C)
    /// `CTAP2_ERR_KEEPALIVE_CANCEL` (0x2D).
    public static let keepaliveCancel = Self(rawValue: 0x2D)
    /// `CTAP2_ERR_NO_CREDENTIALS` (0x2E): no credential matched.
    public static let noCredentials = Self(rawValue: 0x2E)
    /// `CTAP2_ERR_USER_ACTION_TIMEOUT` (0x2F): the user did not act in time.
    public static let userActionTimeout = Self(rawValue: 0x2F)
    /// `CTAP2_ERR_NOT_ALLOWED` (0x30).
    public static let notAllowed = Self(rawValue: 0x30)
    /// `CTAP2_ERR_PIN_INVALID` (0x31).
    public static let pinInvalid = Self(rawValue: 0x31)
    /// `CTAP2_ERR_PIN_BLOCKED` (0x32).
    public static let pinBlocked = Self(rawValue: 0x32)
    /// `CTAP2_ERR_PIN_AUTH_INVALID` (0x33).
    public static let pinAuthInvalid = Self(rawValue: 0x33)
    /// `CTAP2_ERR_PIN_AUTH_BLOCKED` (0x34).
    public static let pinAuthBlocked = Self(rawValue: 0x34)
    /// `CTAP2_ERR_PIN_NOT_SET` (0x35).
    public static let pinNotSet = Self(rawValue: 0x35)
    /// `CTAP2_ERR_PUAT_REQUIRED` (0x36).
    public static let pinUvAuthTokenRequired = Self(rawValue: 0x36)
    /// `CTAP2_ERR_PIN_POLICY_VIOLATION` (0x37).
    public static let pinPolicyViolation = Self(rawValue: 0x37)
    /// `CTAP2_ERR_REQUEST_TOO_LARGE` (0x39).
    public static let requestTooLarge = Self(rawValue: 0x39)
    /// `CTAP2_ERR_ACTION_TIMEOUT` (0x3A).
    public static let actionTimeout = Self(rawValue: 0x3A)
    /// `CTAP2_ERR_UP_REQUIRED` (0x3B).
    public static let userPresenceRequired = Self(rawValue: 0x3B)
    /// `CTAP2_ERR_UV_BLOCKED` (0x3C).
    public static let userVerificationBlocked = Self(rawValue: 0x3C)
    /// `CTAP2_ERR_INTEGRITY_FAILURE` (0x3D).
    public static let integrityFailure = Self(rawValue: 0x3D)
    /// `CTAP2_ERR_INVALID_SUBCOMMAND` (0x3E).
    public static let invalidSubcommand = Self(rawValue: 0x3E)
    /// `CTAP2_ERR_UV_INVALID` (0x3F).
    public static let userVerificationInvalid = Self(rawValue: 0x3F)
    /// `CTAP2_ERR_UNAUTHORIZED_PERMISSION` (0x40).
    public static let unauthorizedPermission = Self(rawValue: 0x40)
    /// `CTAP1_ERR_OTHER` (0x7F).
    public static let other = Self(rawValue: 0x7F)

    /// The specification name, if known.
    public var name: String? {
        switch self.rawValue {
        case 0x00: return "CTAP2_OK"
        case 0x01: return "CTAP1_ERR_INVALID_COMMAND"
        case 0x02: return "CTAP1_ERR_INVALID_PARAMETER"
        case 0x03: return "CTAP1_ERR_INVALID_LENGTH"
        case 0x04: return "CTAP1_ERR_INVALID_SEQ"
        case 0x05: return "CTAP1_ERR_TIMEOUT"
        case 0x06: return "CTAP1_ERR_CHANNEL_BUSY"
        case 0x0A: return "CTAP1_ERR_LOCK_REQUIRED"
        case 0x0B: return "CTAP1_ERR_INVALID_CHANNEL"
        case 0x11: return "CTAP2_ERR_CBOR_UNEXPECTED_TYPE"
        case 0x12: return "CTAP2_ERR_INVALID_CBOR"
        case 0x14: return "CTAP2_ERR_MISSING_PARAMETER"
        case 0x15: return "CTAP2_ERR_LIMIT_EXCEEDED"
        case 0x17: return "CTAP2_ERR_FP_DATABASE_FULL"
        case 0x18: return "CTAP2_ERR_LARGE_BLOB_STORAGE_FULL"
        case 0x19: return "CTAP2_ERR_CREDENTIAL_EXCLUDED"
        case 0x21: return "CTAP2_ERR_PROCESSING"
        case 0x22: return "CTAP2_ERR_INVALID_CREDENTIAL"
        case 0x23: return "CTAP2_ERR_USER_ACTION_PENDING"
        case 0x24: return "CTAP2_ERR_OPERATION_PENDING"
        case 0x25: return "CTAP2_ERR_NO_OPERATIONS"
        case 0x26: return "CTAP2_ERR_UNSUPPORTED_ALGORITHM"
        case 0x27: return "CTAP2_ERR_OPERATION_DENIED"
        case 0x28: return "CTAP2_ERR_KEY_STORE_FULL"
        case 0x2B: return "CTAP2_ERR_UNSUPPORTED_OPTION"
        case 0x2C: return "CTAP2_ERR_INVALID_OPTION"
        case 0x2D: return "CTAP2_ERR_KEEPALIVE_CANCEL"
        case 0x2E: return "CTAP2_ERR_NO_CREDENTIALS"
        case 0x2F: return "CTAP2_ERR_USER_ACTION_TIMEOUT"
        case 0x30: return "CTAP2_ERR_NOT_ALLOWED"
        case 0x31: return "CTAP2_ERR_PIN_INVALID"
        case 0x32: return "CTAP2_ERR_PIN_BLOCKED"
        case 0x33: return "CTAP2_ERR_PIN_AUTH_INVALID"
        case 0x34: return "CTAP2_ERR_PIN_AUTH_BLOCKED"
        case 0x35: return "CTAP2_ERR_PIN_NOT_SET"
        case 0x36: return "CTAP2_ERR_PUAT_REQUIRED"
        case 0x37: return "CTAP2_ERR_PIN_POLICY_VIOLATION"
        case 0x39: return "CTAP2_ERR_REQUEST_TOO_LARGE"
        case 0x3A: return "CTAP2_ERR_ACTION_TIMEOUT"
        case 0x3B: return "CTAP2_ERR_UP_REQUIRED"
        case 0x3C: return "CTAP2_ERR_UV_BLOCKED"
        case 0x3D: return "CTAP2_ERR_INTEGRITY_FAILURE"
        case 0x3E: return "CTAP2_ERR_INVALID_SUBCOMMAND"
        case 0x3F: return "CTAP2_ERR_UV_INVALID"
        case 0x40: return "CTAP2_ERR_UNAUTHORIZED_PERMISSION"
        case 0x7F: return "CTAP1_ERR_OTHER"
        default: return nil
        }
    }

    /// For example `CTAP2_ERR_NO_CREDENTIALS (0x2E)`; unknown codes print as `CTAP status 0x..`.
    public var description: String {
        let hex = String(self.rawValue, radix: 16, uppercase: true)
        let byte = "0x" + (hex.count == 1 ? "0" + hex : hex)
        guard let name = self.name else { return "CTAP status \(byte)" }
        return "\(name) (\(byte))"
    }
}

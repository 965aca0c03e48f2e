import CableCBOR

/// A CTAP2 request as it travels over the hybrid tunnel: `[command byte][CBOR parameters]`
/// (hybrid-protocol.md §8.2; the tunnel's own message-type byte is not part of it).
///
/// Only the commands a hybrid phone serves are modelled; any other command byte is
/// `CTAP1_ERR_INVALID_COMMAND`, the answer a CTAP2 authenticator gives for a command it does not support.
public enum CTAPRequest: Hashable, Sendable {
    /// `authenticatorMakeCredential`.
    case makeCredential(MakeCredentialRequest)
    /// `authenticatorGetAssertion`.
    case getAssertion(GetAssertionRequest)
    /// `authenticatorGetInfo` (no parameters).
    case getInfo
    /// `authenticatorSelection` (no parameters).
    case selection

    /// The command byte.
    public var command: CTAPCommand {
        switch self {
        case .makeCredential: return .makeCredential
        case .getAssertion: return .getAssertion
        case .getInfo: return .getInfo
        case .selection: return .selection
        }
    }

    /// Decodes a request frame.
    /// - Throws: ``CTAPError/Code/emptyMessage`` for an empty frame, ``CTAPError/Code/unsupportedCommand``
    ///   for a command byte not served here, ``CTAPError/Code/unexpectedPayload`` for parameters after
    ///   getInfo or selection, and the parameter errors of each request type.
    public init(frame: some Collection<UInt8>) throws(CTAPError) {
        let bytes = Array(frame)
        guard let first = bytes.first else {
            throw CTAPError(.emptyMessage, field: "request", "a CTAP request needs at least the command byte")
        }
        guard bytes.count <= CTAPLimits.maxMessageSize + 1 else {
            throw CTAPError(
                .tooLong,
                field: "request",
                "\(bytes.count) bytes, at most \(CTAPLimits.maxMessageSize + 1) allowed"
            )
        }
        let parameters = bytes[1...]
        guard let command = CTAPCommand(rawValue: first) else {
            throw CTAPError(.unsupportedCommand, field: "request.command", "unknown command byte \(first)")
        }
        switch command {
        case .makeCredential:
            self = .makeCredential(try MakeCredentialRequest(encoded: parameters))
        case .getAssertion:
            self = .getAssertion(try GetAssertionRequest(encoded: parameters))
        case .getInfo:
            try Self.requireNoParameters(parameters, command: .getInfo)
            self = .getInfo
        case .selection:
            try Self.requireNoParameters(parameters, command: .selection)
            self = .selection
        case .clientPIN, .reset, .getNextAssertion, .bioEnrollment, .credentialManagement, .largeBlobs, .config:
            throw CTAPError(.unsupportedCommand, field: "request.command", "\(command) is not served over hybrid")
        }
    }

    /// The request frame.
    public var frame: [UInt8] {
        switch self {
        case .makeCredential(let request): return [CTAPCommand.makeCredential.rawValue] + request.encoded
        case .getAssertion(let request): return [CTAPCommand.getAssertion.rawValue] + request.encoded
        case .getInfo: return [CTAPCommand.getInfo.rawValue]
        case .selection: return [CTAPCommand.selection.rawValue]
        }
    }

    private static func requireNoParameters(_ parameters: ArraySlice<UInt8>, command: CTAPCommand) throws(CTAPError) {
        guard parameters.isEmpty else {
            throw CTAPError(
                .unexpectedPayload,
                field: "request",
                "\(command) takes no parameters, found \(parameters.count) bytes"
            )
        }
    }
}

/// A CTAP2 response as it travels over the hybrid tunnel: `[status byte][CBOR]` (the CBOR is empty for
/// errors and for commands without a result).
public struct CTAPResponse: Hashable, Sendable, CustomStringConvertible {
    /// The status.
    public var status: CTAPStatus
    /// The CBOR bytes after the status byte (not yet decoded: the request decides their type).
    public var payload: [UInt8]

    /// Creates a response.
    public init(status: CTAPStatus, payload: [UInt8] = []) {
        self.status = status
        self.payload = payload
    }

    /// A `CTAP2_OK` response carrying `value`.
    public static func success(_ value: CBORValue) -> Self { Self(status: .ok, payload: value.encoded) }

    /// An error response (no payload).
    public static func failure(_ status: CTAPStatus) -> Self { Self(status: status) }

    /// Splits a response frame.
    /// - Throws: ``CTAPError/Code/emptyMessage`` when the frame is empty, ``CTAPError/Code/unexpectedPayload``
    ///   when an error status carries bytes.
    public init(frame: some Collection<UInt8>) throws(CTAPError) {
        let bytes = Array(frame)
        guard let first = bytes.first else {
            throw CTAPError(.emptyMessage, field: "response", "a CTAP response needs at least the status byte")
        }
        guard bytes.count <= CTAPLimits.maxMessageSize + 1 else {
            throw CTAPError(
                .tooLong,
                field: "response",
                "\(bytes.count) bytes, at most \(CTAPLimits.maxMessageSize + 1) allowed"
            )
        }
        let status = CTAPStatus(rawValue: first)
        guard status.isSuccess || bytes.count == 1 else {
            throw CTAPError(.unexpectedPayload, field: "response", "status \(status) carries \(bytes.count - 1) bytes")
        }
        self.status = status
        self.payload = Array(bytes[1...])
    }

    /// The response frame.
    public var frame: [UInt8] { [self.status.rawValue] + self.payload }

    /// The status and payload size (never the payload).
    public var description: String { "CTAPResponse(\(self.status), \(self.payload.count) bytes)" }
}

extension CTAPError.Code {
    /// An empty request or response frame.
    public static let emptyMessage = Self("emptyMessage", status: .invalidLength)
    /// A command byte this model does not serve (unknown, or not used over hybrid).
    public static let unsupportedCommand = Self("unsupportedCommand", status: .invalidCommand)
    /// Bytes where none are allowed (after getInfo / selection, or after an error status).
    public static let unexpectedPayload = Self("unexpectedPayload", status: .invalidLength)
}

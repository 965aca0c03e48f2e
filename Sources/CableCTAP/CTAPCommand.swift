/// The CTAP2 command byte that starts every request frame (CTAP 2.1 §6, "Authenticator API").
///
/// Over the hybrid tunnel a request is `[command][CBOR parameters]` (hybrid-protocol.md §8.2).
/// Raw values are wire constants: never renumber.
public enum CTAPCommand: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `authenticatorMakeCredential`: create a credential (register a passkey).
    case makeCredential = 0x01
    /// `authenticatorGetAssertion`: sign in with a credential.
    case getAssertion = 0x02
    /// `authenticatorGetInfo`: report versions, options and the AAGUID.
    case getInfo = 0x04
    /// `authenticatorClientPIN`: PIN / UV auth token protocol (not used over hybrid).
    case clientPIN = 0x06
    /// `authenticatorReset`: wipe the authenticator.
    case reset = 0x07
    /// `authenticatorGetNextAssertion`: the next of several matching credentials.
    case getNextAssertion = 0x08
    /// `authenticatorBioEnrollment`.
    case bioEnrollment = 0x09
    /// `authenticatorCredentialManagement`.
    case credentialManagement = 0x0A
    /// `authenticatorSelection`: "touch me" to pick among authenticators; a hybrid phone treats it as the end.
    case selection = 0x0B
    /// `authenticatorLargeBlobs`.
    case largeBlobs = 0x0C
    /// `authenticatorConfig`.
    case config = 0x0D

    /// The specification name, e.g. `authenticatorMakeCredential`.
    public var description: String {
        switch self {
        case .makeCredential: return "authenticatorMakeCredential"
        case .getAssertion: return "authenticatorGetAssertion"
        case .getInfo: return "authenticatorGetInfo"
        case .clientPIN: return "authenticatorClientPIN"
        case .reset: return "authenticatorReset"
        case .getNextAssertion: return "authenticatorGetNextAssertion"
        case .bioEnrollment: return "authenticatorBioEnrollment"
        case .credentialManagement: return "authenticatorCredentialManagement"
        case .selection: return "authenticatorSelection"
        case .largeBlobs: return "authenticatorLargeBlobs"
        case .config: return "authenticatorConfig"
        }
    }
}

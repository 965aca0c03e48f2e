/// The request-type hint in QR key 5 (Chromium `RequestTypeToString` / `RequestTypeFromString`).
/// Written as a short string only at the wire.
public enum RequestTypeHint: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `"ga"`: authenticatorGetAssertion (sign in).
    case getAssertion
    /// `"mc"`: authenticatorMakeCredential (register).
    case makeCredential
    /// `"dcp"`: a digital-credential presentation (Chromium only).
    case digitalCredentialPresentation

    /// The wire string.
    public var wireValue: String {
        switch self {
        case .getAssertion: return "ga"
        case .makeCredential: return "mc"
        case .digitalCredentialPresentation: return "dcp"
        }
    }

    /// Reads a wire string as Chromium does: anything unknown, including `""`, is `getAssertion`.
    public init(wireValue: String) {
        switch wireValue {
        case "mc": self = .makeCredential
        case "dcp": self = .digitalCredentialPresentation
        default: self = .getAssertion
        }
    }

    public var description: String { self.wireValue }
}

/// The one error type of the hybrid protocol core.
///
/// Each rejection has its own ``Code``. Codes are string-backed statics declared next to the rule they
/// enforce (`extension CableProtocolError.Code { public static let … }`), so new ones never break API;
/// only this package mints them (the initializer is `package`), as `TunnelError`'s private base enum
/// ensures for its codes. Equality compares the code only. Diagnostics are for people and never carry secrets
/// (no keys, secrets, PSKs, handshake hashes or plaintext): only sizes, field names and offsets.
public struct CableProtocolError: Error, Hashable, CustomStringConvertible, Sendable {
    /// An extensible, stable error code (its raw value is what `cable` prints and JSON carries).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name (`crypterAuthenticationFailed`), for logs, metrics, scripts and vectors.
        public let rawValue: String
        package init(rawValue: String) { self.rawValue = rawValue }
        /// The stable name.
        public var description: String { self.rawValue }
    }

    /// Which rule was broken.
    public let code: Code
    /// A short human explanation (never secret material).
    public let reason: String
    /// `#fileID:#line` of the check that failed.
    public let location: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String, file: String = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    public var description: String { "\(self.code.rawValue): \(self.reason)" }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

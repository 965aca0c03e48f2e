/// Why a QR code could not be made or rendered.
///
/// Each rule has its own ``Code``. Codes are string-backed statics declared next to the rule they
/// enforce (`extension QRCodeError.Code { public static let … }`), so adding one never breaks API.
/// Equality and hashing compare the code only, so tests can assert *why* something failed.
///
/// The text being encoded is usually a `FIDO:/…` URL, which carries a QR secret and a public key, so
/// ``reason`` only ever mentions sizes, limits and error numbers, never the text itself.
public struct QRCodeError: Error, Hashable, CustomStringConvertible, Sendable {
    /// An extensible, stable error code; its raw value is what `cable` prints.
    public struct Code: Hashable, Sendable, CustomStringConvertible, RawRepresentable {
        /// The stable spelling of the code.
        public let rawValue: String

        /// Creates a code from its stable spelling.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// The raw value.
        public var description: String { self.rawValue }
    }

    /// Which rule was broken.
    public let code: Code
    /// A short human explanation (sizes and limits only; never the encoded text).
    public let reason: String
    /// `#fileID:#line` of the check that failed.
    public let location: String

    init(_ code: Code, _ reason: String, file: String = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(file):\(line)"
    }

    /// `code: reason`.
    public var description: String { "\(self.code.rawValue): \(self.reason)" }

    /// Compares codes only.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }

    /// Hashes the code only, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

/// Something a caller should tell the user about a rendering that was nevertheless produced, such as a
/// quiet zone narrower than the standard asks for.
///
/// Notes are stable codes plus a human message; like errors, equality compares the code only.
public struct QRRenderNote: Hashable, Sendable, CustomStringConvertible {
    /// An extensible, stable note code.
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

    /// What the note is about.
    public let code: Code
    /// One sentence for the user.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { self.message }

    /// Compares codes only.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }

    /// Hashes the code only, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

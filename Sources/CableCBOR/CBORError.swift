/// Why CBOR could not be decoded. One distinct code per rule, mirroring Chromium's
/// `cbor::Reader::DecoderError` so a rejection can be compared with Chromium's.
///
/// Equality and hashing consider only ``code``, so tests can assert *why* decoding failed.
public struct CBORError: Error, Hashable, CustomStringConvertible, Sendable {
    /// An extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unsupportedMajorType, unknownAdditionalInfo, incompleteData, incorrectMapKeyType
            case tooMuchNesting, invalidUTF8, extraneousData, outOfOrderKey, nonMinimalEncoding
            case unsupportedSimpleValue, unsupportedFloatingPointValue, outOfRangeInteger, duplicateKey
            case indefiniteLength, tooLarge, tooManyItems
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Major type 6 (tags) or another type CTAP does not use.
        public static let unsupportedMajorType = Code(.unsupportedMajorType)
        /// Additional information 28–30 (reserved).
        public static let unknownAdditionalInfo = Code(.unknownAdditionalInfo)
        /// The input ended inside an item.
        public static let incompleteData = Code(.incompleteData)
        /// A map key that is not an integer, byte string or text string.
        public static let incorrectMapKeyType = Code(.incorrectMapKeyType)
        /// Nesting deeper than the limit (16, as in Chromium).
        public static let tooMuchNesting = Code(.tooMuchNesting)
        /// A text string that is not valid UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// Bytes after the top-level item.
        public static let extraneousData = Code(.extraneousData)
        /// Map keys not in CTAP2 canonical order.
        public static let outOfOrderKey = Code(.outOfOrderKey)
        /// An integer, length or count not in its shortest form.
        public static let nonMinimalEncoding = Code(.nonMinimalEncoding)
        /// A simple value other than false, true, null and undefined.
        public static let unsupportedSimpleValue = Code(.unsupportedSimpleValue)
        /// A half, single or double precision float.
        public static let unsupportedFloatingPointValue = Code(.unsupportedFloatingPointValue)
        /// An integer outside `Int64`.
        public static let outOfRangeInteger = Code(.outOfRangeInteger)
        /// The same key twice in one map.
        public static let duplicateKey = Code(.duplicateKey)
        /// An indefinite-length string, array or map (additional information 31).
        public static let indefiniteLength = Code(.indefiniteLength)
        /// The input is larger than the configured maximum.
        public static let tooLarge = Code(.tooLarge)
        /// More data items than the configured maximum.
        public static let tooManyItems = Code(.tooManyItems)

        /// The code's name, e.g. `nonMinimalEncoding` (the spelling used by `Spec/vectors/cbor-*.json`).
        public var description: String { self.base.rawValue }

        /// The broken rule in words for people, e.g. "a number or length not in its shortest form"
        /// (no code names: this is what an error line shows).
        public var explanation: String {
            switch self.base {
            case .unsupportedMajorType: return "a tag or another kind of item CTAP does not use"
            case .unknownAdditionalInfo: return "a reserved length encoding"
            case .incompleteData: return "the data ends in the middle of an item"
            case .incorrectMapKeyType: return "a map key that is not an integer or a string"
            case .tooMuchNesting: return "arrays or maps nested too deeply"
            case .invalidUTF8: return "a text string that is not valid UTF-8"
            case .extraneousData: return "more bytes after the end of the item"
            case .outOfOrderKey: return "map keys not in canonical order"
            case .nonMinimalEncoding: return "a number or length not in its shortest form"
            case .unsupportedSimpleValue: return "a simple value other than false, true, null and undefined"
            case .unsupportedFloatingPointValue: return "a floating-point number"
            case .outOfRangeInteger: return "an integer outside the 64-bit signed range"
            case .duplicateKey: return "the same map key twice"
            case .indefiniteLength: return "an indefinite-length item"
            case .tooLarge: return "more bytes than the limit"
            case .tooManyItems: return "more items than the limit"
            }
        }
    }

    /// What rule was broken.
    public let code: Code
    /// Byte offset in the input where the problem was found.
    public let offset: Int
    /// Where the error was raised, for diagnostics.
    public let location: String

    /// Creates an error.
    public init(_ code: Code, offset: Int, file: String = #fileID, line: UInt = #line) {
        self.code = code
        self.offset = offset
        self.location = "\(file):\(line)"
    }

    /// The code and offset only: never any of the input's bytes, which may be secret.
    public var description: String { "CBORError.\(self.code) at offset \(self.offset)" }

    /// The broken rule and where, in words for people (``Code/explanation``), e.g. "the data ends in
    /// the middle of an item at offset 1". Never any of the input's bytes.
    public var reason: String { "\(self.code.explanation) at offset \(self.offset)" }

    /// Compares codes only, so tests can match on *why* decoding failed.
    public static func == (lhs: CBORError, rhs: CBORError) -> Bool { lhs.code == rhs.code }
    /// Hashes the code only, consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

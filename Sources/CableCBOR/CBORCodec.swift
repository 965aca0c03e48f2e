/// Limits that bound decoding of input from a stranger.
public struct CBORDecodingLimits: Sendable, Hashable {
    /// Maximum nesting depth of arrays and maps (Chromium: 16).
    ///
    /// The top-level item is at depth 0 and the members (keys, values, elements) of a container at depth
    /// *d* are at depth *d* + 1; an item deeper than this is rejected with
    /// ``CBORError/Code/tooMuchNesting``, exactly as Chromium's `max_nesting_level` counts. With 16, an
    /// integer inside 16 nested arrays decodes, and so does an empty array inside 16 others; one level
    /// more does not. Chromium refuses limits above 16; this decoder is iterative, so a caller may raise it.
    public var maxDepth: Int
    /// Maximum input size in bytes.
    public var maxInputSize: Int
    /// Maximum number of data items in total (every key, value and element counts, containers included).
    public var maxItems: Int

    /// Creates limits; the defaults are ``default``.
    public init(maxDepth: Int = 16, maxInputSize: Int = 1 << 20, maxItems: Int = 1 << 16) {
        self.maxDepth = maxDepth
        self.maxInputSize = maxInputSize
        self.maxItems = maxItems
    }

    /// Defaults: Chromium's depth of 16, 1 MiB (the largest tunnel message), 65 536 items.
    public static let `default` = CBORDecodingLimits()
}

extension CBORValue {
    /// Decodes exactly one CTAP2-canonical data item occupying all of `bytes`.
    ///
    /// See ``CBORDecoder`` for the rules that are enforced.
    public init(decoding bytes: some Collection<UInt8>, limits: CBORDecodingLimits = .default) throws(CBORError) {
        self = try CBORDecoder.decode(Array(bytes), limits: limits)
    }

    /// The canonical encoding of this value.
    public var encoded: [UInt8] { CBOREncoder.encode(self) }
}

/// Canonical encoder.
///
/// Every integer, length and count uses the shortest head (RFC 8949 §4.2.1, "preferred serialization"),
/// and map entries are written in the order ``CBORMap`` keeps them, which is CTAP2's canonical key order.
/// The output is therefore exactly the one encoding ``CBORDecoder`` accepts for the value.
public enum CBOREncoder {
    /// Encodes `value` in CTAP2 canonical form (shortest heads, maps in canonical key order).
    public static func encode(_ value: CBORValue) -> [UInt8] {
        var writer = CBORWriter()
        writer.write(value)
        return writer.bytes
    }
}

/// Strict decoder for CTAP2 canonical CBOR with the rules of Chromium's `cbor::Reader`
/// (`components/cbor/reader.cc`).
///
/// Supported: major types 0 and 1 (as `Int64`), 2, 3, definite-length 4 and 5, and the simple values
/// false, true, null and undefined (major type 7, values 20–23).
///
/// ## Known limitations and interpretations of RFC 8949 (and the reasons)
///
/// Each rule names the ``CBORError/Code`` it produces. Where several rules are broken, the first one met
/// while reading front to back wins, as in Chromium.
///
/// - Integers, lengths and counts must use the shortest head: an argument encoded in 1 byte must be ≥ 24,
///   in 2 bytes > 0xff, in 4 bytes > 0xffff, in 8 bytes > 0xffff_ffff. Otherwise
///   ``CBORError/Code/nonMinimalEncoding``. (Canonical form; one encoding per value.)
/// - Integers must fit `Int64`: an unsigned value above `Int64.max` or a negative value below `Int64.min`
///   is ``CBORError/Code/outOfRangeInteger``. (Chromium models every integer as `int64_t`.)
/// - Text must be well-formed UTF-8 (no overlong forms, surrogates or values above U+10FFFF) and must not
///   contain Unicode non-characters (U+FDD0–U+FDEF and every code point ending in FFFE or FFFF), which
///   Chromium's `base::IsStringUTF8` also refuses: ``CBORError/Code/invalidUTF8``. NUL (U+0000) *is*
///   accepted anywhere in a string, as in Chromium (`TestReadStringWithNUL`). (Security.)
/// - Map keys must be integers, byte strings or text strings (``CBORError/Code/incorrectMapKeyType``),
///   strictly increasing in CTAP2 canonical order (``CBORMap/canonicalOrder(_:_:)``:
///   major type, then encoded length, then bytes) (``CBORError/Code/outOfOrderKey``), and unique
///   (``CBORError/Code/duplicateKey``, also when the repeated key is not the previous one). As in
///   Chromium, a key is checked only after its value has been read, so an error inside the value wins.
/// - Indefinite-length strings, arrays and maps (additional information 31 on major types 2–5) are
///   ``CBORError/Code/indefiniteLength``. Chromium reports them as `UNKNOWN_ADDITIONAL_INFO`; they get
///   their own code here because they are a common non-canonical encoding worth naming. Additional
///   information 31 on major types 0, 1, 6 and 7 (including the lone "break" byte 0xff) stays
///   ``CBORError/Code/unknownAdditionalInfo``, as do the reserved values 28–30 on every major type.
///   (Simplicity; security.)
/// - Tags (major type 6) are ``CBORError/Code/unsupportedMajorType``, after their head has been read and
///   checked, as Chromium does (so a truncated or non-minimal tag head reports that instead).
/// - Floats (0xf9, 0xfa, 0xfb) are ``CBORError/Code/unsupportedFloatingPointValue`` once their 2, 4 or 8
///   bytes have been read (fewer bytes: ``CBORError/Code/incompleteData``).
/// - Simple values other than 20–23 are ``CBORError/Code/unsupportedSimpleValue``. The two-byte form
///   0xf8 xx follows Chromium exactly: xx < 24 is ``CBORError/Code/nonMinimalEncoding`` (that value had a
///   one-byte form), xx ≥ 24 is ``CBORError/Code/unsupportedSimpleValue``.
/// - Input that ends inside an item is ``CBORError/Code/incompleteData``, with the offset at the end of
///   the input; bytes after the top-level item are ``CBORError/Code/extraneousData``. (Security.)
/// - Nesting deeper than ``CBORDecodingLimits/maxDepth`` (default 16, counted as Chromium counts it) is
///   ``CBORError/Code/tooMuchNesting``. The decoder is iterative, so no input can exhaust the stack
///   whatever the limit.
///
/// ## Resource bounds (additions to Chromium)
///
/// - Input longer than ``CBORDecodingLimits/maxInputSize`` is ``CBORError/Code/tooLarge`` before any byte
///   is read.
/// - More than ``CBORDecodingLimits/maxItems`` data items is ``CBORError/Code/tooManyItems``.
/// - Nothing is allocated from a declared length before it is checked against the bytes that remain. A
///   string longer than the rest of the input, an array declaring more elements than there are bytes left,
///   or a map declaring more than half as many entries, fails at once with
///   ``CBORError/Code/incompleteData``. (Chromium would walk the elements first and could report another
///   error found on the way; both reject the input.)
///
/// ``CBORError/offset`` is the index of the byte where the problem was found: the head of the offending
/// item (or of the offending map key), the first trailing byte, or the end of the input when data is
/// missing.
public enum CBORDecoder {
    /// Decodes exactly one item that spans all of `bytes`, enforcing every canonical rule.
    public static func decode(_ bytes: [UInt8], limits: CBORDecodingLimits = .default) throws(CBORError) -> CBORValue {
        var reader = CBORReader(bytes: bytes, limits: limits)
        return try reader.decodeSingleItem()
    }
}

// CONTRACT (filled in by the CBOR implementation): keep these signatures.

/// Limits that bound decoding of input from a stranger.
public struct CBORDecodingLimits: Sendable, Hashable {
    /// Maximum nesting depth of arrays and maps (Chromium: 16).
    public var maxDepth: Int
    /// Maximum input size in bytes.
    public var maxInputSize: Int
    /// Maximum number of data items in total.
    public var maxItems: Int

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
    public init(decoding bytes: some Collection<UInt8>, limits: CBORDecodingLimits = .default) throws(CBORError) {
        self = try CBORDecoder.decode(Array(bytes), limits: limits)
    }

    /// The canonical encoding of this value.
    public var encoded: [UInt8] { CBOREncoder.encode(self) }
}

/// Canonical encoder.
public enum CBOREncoder {
    /// Encodes `value` in CTAP2 canonical form (shortest heads, maps in canonical key order).
    public static func encode(_ value: CBORValue) -> [UInt8] {
        fatalError("unimplemented")
    }
}

/// Strict decoder.
public enum CBORDecoder {
    /// Decodes exactly one item that spans all of `bytes`, enforcing every canonical rule.
    public static func decode(_ bytes: [UInt8], limits: CBORDecodingLimits = .default) throws(CBORError) -> CBORValue {
        fatalError("unimplemented")
    }
}

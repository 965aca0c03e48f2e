public import CableCBOR

extension CableProtocolError.Code {
    /// A revision-0 post-handshake message was neither a valid 16-bit nor 8-bit padded CBOR map.
    public static let paddedMapInvalid = Self(rawValue: "paddedMapInvalid")
}

/// The padded CBOR maps of protocol revision 0 (hybrid-protocol.md §7.4, Chromium `EncodePaddedCBORMap` /
/// `DecodePaddedCBORMap`).
///
/// Revision-0 phones padded the post-handshake message so its length hides its content. Two formats
/// exist, and a decoder tries ``Format/current`` first, then ``Format/legacy``; the input is accepted
/// if either yields a CTAP2-canonical CBOR map. The padding bytes themselves are not checked.
@_spi(Fuzzing) public enum PaddedCBORMap {
    /// A padding layout.
    public enum Format: Sendable, Hashable, CaseIterable {
        /// Chromium since M99: CBOR ‖ N zeros ‖ N as a little-endian `UInt16`; the total is a multiple of
        /// 512 (`kPostHandshakeMsgPaddingGranularity`).
        case current
        /// Before M99: CBOR ‖ N zeros ‖ N as one byte; the total is a multiple of 256.
        case legacy

        /// Total lengths are multiples of this.
        public var granularity: Int {
            switch self {
            case .current: return CableConstants.postHandshakePaddingGranularity
            case .legacy: return 256
            }
        }

        /// Bytes that hold the padding count.
        var countByteCount: Int {
            switch self {
            case .current: return 2
            case .legacy: return 1
            }
        }
    }

    /// Encodes `map` canonically and pads it.
    ///
    /// - Precondition: for ``Format/legacy`` the padding must fit in one byte, which holds for any map
    ///   (the granularity is 256).
    public static func encode(_ map: CBORMap, format: Format = .current) -> [UInt8] {
        var bytes = CBORValue.map(map).encoded
        let unpadded = bytes.count + format.countByteCount
        let total = (unpadded + format.granularity - 1) / format.granularity * format.granularity
        let zeroCount = total - unpadded
        bytes += [UInt8](repeating: 0, count: zeroCount)
        switch format {
        case .current:
            bytes += [UInt8(zeroCount & 0xFF), UInt8(zeroCount >> 8)]
        case .legacy:
            bytes.append(UInt8(zeroCount))
        }
        return bytes
    }

    /// Removes the padding and decodes the map, trying the current format first, then the legacy one.
    ///
    /// - Throws: ``CableProtocolError/Code/paddedMapInvalid`` if neither format yields a canonical map.
    public static func decode(_ bytes: [UInt8]) throws(CableProtocolError) -> CBORMap {
        for format in Format.allCases {
            if let map = Self.decode(bytes, format: format) { return map }
        }
        throw CableProtocolError(.paddedMapInvalid, "not a padded CBOR map in either format (\(bytes.count) bytes)")
    }

    /// One format's decoding; `nil` on any failure (Chromium `DecodePaddedCBORMap16` / `…8`).
    static func decode(_ bytes: [UInt8], format: Format) -> CBORMap? {
        guard bytes.count >= format.countByteCount else { return nil }
        let zeroCount: Int
        switch format {
        case .current: zeroCount = Int(bytes[bytes.count - 2]) | Int(bytes[bytes.count - 1]) << 8
        case .legacy: zeroCount = Int(bytes[bytes.count - 1])
        }
        guard zeroCount + format.countByteCount <= bytes.count else { return nil }
        let content = bytes[0..<(bytes.count - zeroCount - format.countByteCount)]
        return (try? CBORValue(decoding: content))?.mapValue
    }
}

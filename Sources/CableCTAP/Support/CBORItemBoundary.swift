/// Finds where one CBOR data item ends inside a longer buffer.
///
/// Authenticator data concatenates the credential's COSE key and the extensions map with no length
/// prefix (WebAuthn §6.1), while the codec decodes only a buffer holding exactly one item. This scanner
/// walks the item heads just far enough to find the boundary; both halves are then decoded by the strict
/// codec, which does all the validation. It never reads past `bytes`, bounds nesting, and refuses an
/// element count larger than the bytes left (every item takes at least one byte).
enum CBORItemBoundary {
    /// Why no boundary could be found.
    enum Failure: Error, Hashable {
        /// The input ended inside the item.
        case truncated
        /// A head this scanner does not accept (reserved additional information, indefinite length,
        /// nesting deeper than the limit, or a count larger than the input).
        case malformed
    }

    /// Returns the index just past the item starting at `start`.
    static func end(
        of bytes: [UInt8],
        from start: Int,
        maxDepth: Int = 16
    ) throws(Failure) -> Int {
        var index = start
        try Self.skipItem(bytes, &index, depth: 0, maxDepth: maxDepth)
        return index
    }

    private static func skipItem(_ bytes: [UInt8], _ index: inout Int, depth: Int, maxDepth: Int) throws(Failure) {
        guard depth <= maxDepth else { throw .malformed }
        guard index < bytes.count else { throw .truncated }
        let initial = bytes[index]
        index += 1
        let majorType = initial >> 5
        let argument = try Self.readArgument(bytes, &index, additionalInfo: initial & 0x1F, majorType: majorType)
        let remaining = UInt64(bytes.count - index)
        switch majorType {
        case 0, 1, 7:
            return
        case 2, 3:
            guard argument <= remaining else { throw .truncated }
            index += Int(argument)
        case 4, 5:
            let perEntry: UInt64 = majorType == 5 ? 2 : 1
            guard argument <= remaining / perEntry else { throw .truncated }
            for _ in 0..<(argument * perEntry) {
                try Self.skipItem(bytes, &index, depth: depth + 1, maxDepth: maxDepth)
            }
        default:
            // Major type 6 (tags) never appears in CTAP2 canonical CBOR.
            throw .malformed
        }
    }

    private static func readArgument(
        _ bytes: [UInt8],
        _ index: inout Int,
        additionalInfo: UInt8,
        majorType: UInt8
    ) throws(Failure) -> UInt64 {
        let width: Int
        switch additionalInfo {
        case 0..<24: return UInt64(additionalInfo)
        case 24: width = 1
        case 25: width = 2
        case 26: width = 4
        case 27: width = 8
        default: throw .malformed
        }
        // For major type 7 the following bytes are a simple value or a float; the codec rejects floats later.
        guard bytes.count - index >= width else { throw .truncated }
        var value: UInt64 = 0
        for offset in 0..<width {
            value = value << 8 | UInt64(bytes[index + offset])
        }
        index += width
        return majorType == 7 ? 0 : value
    }
}

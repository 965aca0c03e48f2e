extension CableProtocolError.Code {
    /// The digit string contains something other than ASCII `0`–`9` (or the one `+` a chunk may start with).
    public static let nonDigit = Self(rawValue: "nonDigit")
    /// The trailing group has a length no chunk encodes to (1, 2, 4, 6, 7, 9, 11, 12, 14 or 16 digits).
    public static let invalidDigitLength = Self(rawValue: "invalidDigitLength")
    /// A group's value does not fit in the bytes it stands for.
    public static let digitGroupOutOfRange = Self(rawValue: "digitGroupOutOfRange")
}

/// The QR code's decimal encoding of bytes (Chromium `qr::BytesToDigits` / `DigitsToBytes`).
///
/// Bytes are taken in 7-byte chunks, each read as a **little-endian** integer and written in decimal,
/// zero-padded to 17 digits; a final shorter chunk of n bytes gets the width given by
/// ``digitCount(forChunkLength:)`` (3, 5, 8, 10, 13, 15 for n = 1…6). Decimal digits keep the whole
/// payload in the QR code's numeric mode.
///
/// Arithmetic is explicit, so the result does not depend on the host's byte order (Chromium's
/// `memcpy` into a `uint64_t` assumes a little-endian host).
///
/// ### Leading `+`
/// Chromium parses each chunk with `base::StringToUint64` (`v2_handshake.cc` `DigitsToBytes`), which
/// skips one leading `+` and then requires ASCII digits only; it refuses a leading `-` (unsigned), any
/// leading whitespace, and a `+` with nothing after it. So a chunk may start with one `+`, which takes
/// one of the chunk's digit positions: `"+12"` is a valid one-byte chunk. ``decode(_:)`` accepts
/// exactly that, on purpose, so every URL Chromium reads is read the same here; ``encode(_:)`` never
/// writes a `+`.
public enum DigitEncoding {
    /// Bytes per full chunk.
    public static let chunkSize = 7
    /// Digits per full chunk.
    public static let chunkDigits = 17

    /// Digits used for a chunk of `length` bytes (1…7): 17 for a full chunk, else the nibbles of
    /// Chromium's `0x0fda8530` (3, 5, 8, 10, 13, 15).
    public static func digitCount(forChunkLength length: Int) -> Int {
        precondition((1...7).contains(length))
        return length == chunkSize ? chunkDigits : (0x0fda_8530 >> (4 * length)) & 0xF
    }

    /// Encodes bytes as digits. Empty input gives an empty string.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(input.count / chunkSize * chunkDigits + chunkDigits)
        var start = 0
        while start < input.count {
            let length = min(chunkSize, input.count - start)
            var value: UInt64 = 0
            for i in stride(from: start + length - 1, through: start, by: -1) {
                value = value << 8 | UInt64(input[i])
            }
            let width = digitCount(forChunkLength: length)
            var digits = [UInt8](repeating: UInt8(ascii: "0"), count: width)
            var i = width - 1
            while value > 0 {
                digits[i] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
                i -= 1
            }
            out += digits
            start += length
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes digits back to bytes, accepting exactly what Chromium's `DigitsToBytes` accepts.
    ///
    /// - Throws: ``CableProtocolError`` with code ``CableProtocolError/Code/nonDigit`` for any character
    ///   outside ASCII `0`–`9` (Unicode digits included) other than one `+` at the start of a chunk
    ///   with at least one character after it, ``CableProtocolError/Code/invalidDigitLength``
    ///   for a trailing group no chunk length produces, ``CableProtocolError/Code/digitGroupOutOfRange``
    ///   for a group whose value needs more bytes than its width allows (e.g. `"999"` > 0xFF).
    public static func decode(_ digits: some StringProtocol) throws(CableProtocolError) -> [UInt8] {
        let utf8 = Array(digits.utf8)
        for (offset, c) in utf8.enumerated() where !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) {
            // base::StringToUint64 skips one leading '+' of each chunk; the chunk must not end there.
            let startsAChunk = offset % chunkDigits == 0
            guard c == UInt8(ascii: "+"), startsAChunk, offset + 1 < utf8.count else {
                throw CableProtocolError(.nonDigit, "character at offset \(offset) is not an ASCII digit")
            }
        }
        let remainder = utf8.count % chunkDigits
        var trailingBytes = 0
        if remainder != 0 {
            guard let n = (1...6).first(where: { digitCount(forChunkLength: $0) == remainder }) else {
                throw CableProtocolError(
                    .invalidDigitLength,
                    "a trailing group of \(remainder) digits encodes no chunk"
                )
            }
            trailingBytes = n
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / chunkDigits * chunkSize + trailingBytes)
        var start = 0
        while start < utf8.count {
            let width = min(chunkDigits, utf8.count - start)
            let byteCount = width == chunkDigits ? chunkSize : trailingBytes
            // At most 17 decimal digits: < 10^17 < 2^64, so this cannot overflow.
            var value: UInt64 = 0
            for c in utf8[start..<start + width] where c != UInt8(ascii: "+") {
                value = value * 10 + UInt64(c - UInt8(ascii: "0"))
            }
            guard value >> (8 * UInt64(byteCount)) == 0 else {
                throw CableProtocolError(
                    .digitGroupOutOfRange,
                    "group at offset \(start) does not fit in \(byteCount) bytes"
                )
            }
            for _ in 0..<byteCount {
                out.append(UInt8(truncatingIfNeeded: value))
                value >>= 8
            }
            start += width
        }
        return out
    }
}

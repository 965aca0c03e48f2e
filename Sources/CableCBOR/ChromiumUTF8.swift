/// UTF-8 validation with the rules of Chromium's `base::IsStringUTF8`, which `cbor::Reader` applies to
/// every text string.
///
/// That is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) that
/// also contains no Unicode non-characters: U+FDD0–U+FDEF and every code point whose low 16 bits are
/// FFFE or FFFF (`base::IsValidCharacter`). NUL is a valid character.
enum ChromiumUTF8 {
    /// The string in `bytes[range]`, or `nil` if it is not valid by the rules above.
    static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        guard self.isValid(bytes, range) else { return nil }
        // Already validated, so decoding cannot substitute replacement characters.
        return String(decoding: bytes[range], as: UTF8.self)
    }

    /// Whether `bytes[range]` is valid by the rules above.
    static func isValid(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        var index = range.lowerBound
        let end = range.upperBound
        while index < end {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            // Unicode Table 3-7: the lead byte fixes the length and the range of the second byte.
            let continuationCount: Int
            var secondLow: UInt8 = 0x80
            var secondHigh: UInt8 = 0xbf
            switch lead {
            case 0xc2...0xdf:
                continuationCount = 1
            case 0xe0:
                continuationCount = 2
                secondLow = 0xa0
            case 0xe1...0xec, 0xee...0xef:
                continuationCount = 2
            case 0xed:
                continuationCount = 2
                secondHigh = 0x9f
            case 0xf0:
                continuationCount = 3
                secondLow = 0x90
            case 0xf1...0xf3:
                continuationCount = 3
            case 0xf4:
                continuationCount = 3
                secondHigh = 0x8f
            default:
                return false
            }
            guard end - index > continuationCount else { return false }
            let second = bytes[index + 1]
            guard second >= secondLow, second <= secondHigh else { return false }

            let leadBits: UInt8 = continuationCount == 1 ? 0x1f : (continuationCount == 2 ? 0x0f : 0x07)
            var scalar = UInt32(lead & leadBits) << 6 | UInt32(second & 0x3f)
            var offset = 2
            while offset <= continuationCount {
                let continuation = bytes[index + offset]
                guard continuation & 0xc0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(continuation & 0x3f)
                offset += 1
            }
            if self.isNoncharacter(scalar) { return false }
            index += continuationCount + 1
        }
        return true
    }

    /// U+FDD0–U+FDEF, and U+xFFFE / U+xFFFF in every plane.
    static func isNoncharacter(_ scalar: UInt32) -> Bool {
        (0xfdd0...0xfdef).contains(scalar) || scalar & 0xfffe == 0xfffe
    }
}

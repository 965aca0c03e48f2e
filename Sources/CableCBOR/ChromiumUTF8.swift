/// UTF-8 validation with the rules of Chromium's `base::IsStringUTF8`, which `cbor::Reader` applies to
/// every text string.
///
/// That is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) that
/// also contains no Unicode non-characters: U+FDD0–U+FDEF and every code point whose low 16 bits are
/// FFFE or FFFF (`base::IsValidCharacter`). NUL is a valid character.
enum ChromiumUTF8 {
    /// The string in `bytes[range]`, or `nil` if it is not valid by the rules above.
    static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        let slice = bytes[range]
        // The standard library checks well-formedness (Unicode Table 3-7, as Chromium's CBU8_NEXT does).
        guard let string = String(validating: slice, as: UTF8.self) else { return nil }
        return Self.containsNoncharacter(slice) ? nil : string
    }

    /// Whether well-formed UTF-8 contains a non-character: U+FDD0–U+FDEF, or U+xFFFE / U+xFFFF in any plane.
    ///
    /// Every non-character's encoding starts with a lead byte of 0xEF or more, so text without such a byte
    /// (ASCII, Latin, most scripts below U+F000) is cleared by one vectorizable pass.
    static func containsNoncharacter(_ utf8: ArraySlice<UInt8>) -> Bool {
        var largestByte: UInt8 = 0
        for byte in utf8 {
            largestByte = max(largestByte, byte)
        }
        guard largestByte >= 0xef else { return false }

        var index = utf8.startIndex
        let end = utf8.endIndex
        while index < end {
            let lead = utf8[index]
            switch lead {
            case 0xef:
                // U+FDD0–U+FDEF is EF B7 90–AF; U+FFFE and U+FFFF are EF BF BE and EF BF BF.
                let second = utf8[index + 1]
                let third = utf8[index + 2]
                if (second == 0xb7 && (0x90...0xaf).contains(third)) || (second == 0xbf && third >= 0xbe) {
                    return true
                }
                index += 3
            case 0xf0...0xf4:
                // 11110uvv 10vvwwww 10xxxxyy 10yyzzzz: the low 16 bits are FFFE or FFFF exactly when
                // wwww = 1111, the third byte is BF and the fourth is BE or BF.
                if utf8[index + 1] & 0x0f == 0x0f, utf8[index + 2] == 0xbf, utf8[index + 3] >= 0xbe {
                    return true
                }
                index += 4
            default:
                // ASCII, a continuation byte, or a lead byte of a sequence that cannot be a non-character.
                index += 1
            }
        }
        return false
    }
}

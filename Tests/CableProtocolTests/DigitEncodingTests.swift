import CableProtocol
import CableTestSupport
import Testing

@Suite struct DigitEncodingTests {
    @Test func everyLengthRoundTripsAndHasTheChunkedWidth() throws {
        var rng = DeterministicRNG(seed: 1)
        for length in 0...100 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let digits = DigitEncoding.encode(bytes)
            let tail = length % 7
            #expect(
                digits.utf8.count == length / 7 * 17 + (tail == 0 ? 0 : DigitEncoding.digitCount(forChunkLength: tail))
            )
            #expect(try DigitEncoding.decode(digits) == bytes)
        }
    }

    @Test func maximalChunksRoundTrip() throws {
        for n in 1...7 {
            let bytes = [UInt8](repeating: 0xFF, count: n)
            #expect(try DigitEncoding.decode(DigitEncoding.encode(bytes)) == bytes)
        }
    }

    @Test func rejectsAGroupOneAboveItsByteRange() throws {
        // 2^56 needs 8 bytes: the smallest 17-digit value a 7-byte chunk cannot hold.
        let error = try #require(throws: CableProtocolError.self) { try DigitEncoding.decode("72057594037927936") }
        #expect(error.code == .digitGroupOutOfRange)
        #expect(try DigitEncoding.decode("72057594037927935") == [UInt8](repeating: 0xFF, count: 7))
        for (n, width) in [(1, 3), (2, 5), (3, 8), (4, 10), (5, 13), (6, 15)] {
            let tooBig = String(UInt64(1) << (8 * UInt64(n)))
            let padded = String(repeating: "0", count: width - tooBig.count) + tooBig
            let e = try #require(throws: CableProtocolError.self) { try DigitEncoding.decode(padded) }
            #expect(e.code == .digitGroupOutOfRange, "width \(width)")
        }
    }

    @Test func rejectsEveryInvalidRemainder() throws {
        for remainder in [1, 2, 4, 6, 7, 9, 11, 12, 14, 16] {
            let digits = String(repeating: "1", count: 17 + remainder)
            let e = try #require(throws: CableProtocolError.self) { try DigitEncoding.decode(digits) }
            #expect(e.code == .invalidDigitLength, "remainder \(remainder)")
        }
    }

    /// Chromium `device/fido/cable/v2_handshake.cc` `qr::DigitsToBytes` parses each chunk with
    /// `base::StringToUint64`, whose parser (`base/strings/string_number_conversions_internal.h`,
    /// `StringToNumber`) refuses leading whitespace, refuses `-` for an unsigned type, and skips one
    /// leading `+`. So `-`, spaces, Unicode digits, `0x`, `.` and NUL are refused here as there.
    @Test func rejectsNonASCIIDigitsMinusAndWhitespaceAsChromiumDoes() throws {
        for s in ["-12", " 12", "12 ", "\t12", "1 2", "١٢٣", "0x1", "1.0", "\u{0}00", "++1", "1+2", "12+"] {
            let e = try #require(throws: CableProtocolError.self) { try DigitEncoding.decode(s) }
            #expect(e.code == .nonDigit, "\(s)")
        }
    }

    /// `base::StringToUint64("+12")` is 12: a chunk may start with one `+`, which takes one of its digit
    /// positions (v2_handshake.cc `DigitsToBytes` + string_number_conversions_internal.h).
    @Test func oneLeadingPlusPerChunkIsAcceptedAsChromiumDoes() throws {
        #expect(try DigitEncoding.decode("+12") == [12])
        #expect(try DigitEncoding.decode("+" + String(repeating: "0", count: 15) + "1") == [1, 0, 0, 0, 0, 0, 0])
        // Every chunk may have its own '+', the trailing one too.
        let bytes: [UInt8] = Array(1...16)
        let digits = Array(DigitEncoding.encode(bytes))
        var signed = digits
        signed[0] = "+"
        signed[17] = "+"
        signed[34] = "+"
        let zeroed = String(signed)
        #expect(digits[0] == "0" && digits[17] == "0" && digits[34] == "0", "the encoder's leading zeros are replaced")
        #expect(try DigitEncoding.decode(zeroed) == bytes)
        // The '+' still counts towards the width (so one digit fewer is left, and every value then fits).
        #expect(try DigitEncoding.decode("+99") == [99])
        #expect(throws: CableProtocolError(.invalidDigitLength, "")) { try DigitEncoding.decode("+1") }
        #expect(throws: CableProtocolError(.invalidDigitLength, "")) { try DigitEncoding.decode("+123") }
    }

    /// A '+' with nothing after it is refused (`StringToNumber` on an empty rest is invalid), as is a
    /// '+' anywhere but the first position of a 17-digit chunk.
    @Test func aPlusAnywhereElseIsRefused() throws {
        #expect(throws: CableProtocolError(.nonDigit, "")) { try DigitEncoding.decode("+") }
        let valid = DigitEncoding.encode([UInt8](repeating: 0, count: 14))
        for position in [1, 16, 18, 33] {
            var chars = Array(valid)
            chars[position] = "+"
            #expect(throws: CableProtocolError(.nonDigit, ""), "position \(position)") {
                try DigitEncoding.decode(String(chars))
            }
        }
        // The encoder never writes one.
        #expect(!DigitEncoding.encode([UInt8](repeating: 0xFF, count: 40)).contains("+"))
    }

    @Test func randomStringsNeverCrash() {
        var rng = DeterministicRNG(seed: 7)
        let alphabet = Array("0123456789a ")
        for _ in 0..<2000 {
            let n = Int.random(in: 0...60, using: &rng)
            let s = String((0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
            _ = try? DigitEncoding.decode(s)
        }
    }
}

@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// `MessagePadding`: Chromium's 32-byte padding with a trailing zero count.
@Suite struct CrypterPaddingTests {
    @Test func thePaddedLengthIsTheSmallestMultipleOf32AboveTheLength() {
        for length in 0...300 {
            let padded = MessagePadding.pad([UInt8](repeating: 0xFF, count: length))
            #expect(padded.count % 32 == 0)
            #expect(padded.count > length)
            #expect(padded.count - 32 <= length, "length \(length)")
            #expect(padded.count == MessagePadding.paddedCount(for: length))
        }
    }

    @Test func theLastByteCountsTheZerosBeforeIt() {
        for length in 0...64 {
            let padded = MessagePadding.pad([UInt8](repeating: 0xFF, count: length))
            let zeros = Int(padded.last!)
            #expect(zeros == padded.count - length - 1)
            #expect(padded[length..<(padded.count - 1)].allSatisfy { $0 == 0 })
        }
    }

    @Test func padThenUnpadRoundTrips() throws {
        var rng = DeterministicRNG(seed: 32)
        for length in 0...200 {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(try MessagePadding.unpad(MessagePadding.pad(message)) == message)
        }
    }

    /// Chromium never looks at the padding bytes, only at the count.
    @Test func nonZeroPaddingBytesAreAccepted() throws {
        #expect(try MessagePadding.unpad([0x01, 0xAA, 0xBB, 0x02]) == [0x01])
    }

    /// Nor does it cap the count at 31 (libwebauthn does); any count that fits is stripped.
    @Test func countsOf32AndMoreAreAcceptedWhenTheyFit() throws {
        let padded = [0x07] + [UInt8](repeating: 0, count: 200) + [200]
        #expect(try MessagePadding.unpad(padded) == [0x07])
        #expect(try MessagePadding.unpad([UInt8](repeating: 0, count: 255) + [255]) == [])
    }

    @Test func aCountThatDoesNotFitIsRejected() {
        for length in 1...64 {
            var padded = [UInt8](repeating: 0, count: length)
            padded[length - 1] = UInt8(length)  // count + 1 = length + 1
            #expect(throws: CableProtocolError(.crypterInvalidPadding, ""), "length \(length)") {
                try MessagePadding.unpad(padded)
            }
        }
    }

    @Test func anEmptyPlaintextIsRejected() {
        #expect(throws: CableProtocolError(.crypterEmptyPlaintext, "")) { try MessagePadding.unpad([]) }
    }
}

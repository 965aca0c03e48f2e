import CableCrypto
import Testing

@Suite("constantTimeEquals")
struct ConstantTimeTests {
    @Test func equalContentsCompareEqual() {
        #expect(constantTimeEquals([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        #expect(constantTimeEquals([UInt8](), [UInt8]()))
    }

    @Test func aDifferenceInAnyPositionIsFound() {
        let reference: [UInt8] = Array(0..<64)
        for index in reference.indices {
            var changed = reference
            changed[index] ^= 0x80
            #expect(!constantTimeEquals(reference, changed), "byte \(index)")
        }
    }

    @Test func differentLengthsAreNeverEqual() {
        #expect(!constantTimeEquals([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
        #expect(!constantTimeEquals([UInt8](), [0] as [UInt8]))
    }

    @Test func anyByteCollectionsCanBeCompared() {
        let bytes: [UInt8] = [9, 8, 7, 6]
        #expect(constantTimeEquals(bytes[1...], [8, 7, 6] as [UInt8]))
        #expect(constantTimeEquals(bytes.reversed(), [6, 7, 8, 9] as [UInt8]))
        #expect(constantTimeEquals(UInt8(0)..<UInt8(4), [0, 1, 2, 3] as [UInt8]))
    }
}

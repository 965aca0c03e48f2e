import CableCBOR
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// `PaddedCBORMap`: revision 0's two padding formats.
@Suite struct PostHandshakePaddedMapTests {
    static func map(bytes: Int) -> CBORMap {
        var map = CBORMap()
        map[.integer(1)] = .byteString([UInt8](repeating: 0xAB, count: bytes))
        return map
    }

    @Test(arguments: PaddedCBORMap.Format.allCases)
    func everySizeRoundTripsToAMultipleOfTheGranularity(_ format: PaddedCBORMap.Format) throws {
        for size in stride(from: 0, through: 1100, by: 13) {
            let map = Self.map(bytes: size)
            let padded = PaddedCBORMap.encode(map, format: format)
            #expect(padded.count % format.granularity == 0)
            #expect(padded.count - format.granularity < CBORValue.map(map).encoded.count + (format == .current ? 2 : 1))
            #expect(try PaddedCBORMap.decode(padded) == map)
        }
    }

    @Test func theCurrentFormatEndsWithALittleEndianCount() {
        let padded = PaddedCBORMap.encode(CBORMap())
        #expect(padded.count == 512)
        #expect(padded.suffix(2) == [0xFD, 0x01])  // 509 zeros
    }

    @Test func theLegacyFormatEndsWithAOneByteCount() {
        let padded = PaddedCBORMap.encode(CBORMap(), format: .legacy)
        #expect(padded.count == 256)
        #expect(padded.last == 0xFE)  // 254 zeros
    }

    @Test func paddingBytesAreNotChecked() throws {
        var padded = PaddedCBORMap.encode(CBORMap())
        padded[100] = 0x77
        #expect(try PaddedCBORMap.decode(padded) == CBORMap())
    }

    @Test func countsLargerThanTheInputAreRejected() {
        for input: [UInt8] in [[], [0x00], [0xA0, 0xFF, 0xFF], [0xA0, 0x05]] {
            #expect(throws: CableProtocolError(.paddedMapInvalid, "")) { try PaddedCBORMap.decode(input) }
        }
    }

    @Test func theContentMustBeACanonicalMap() {
        // An array, a non-canonical map and a map followed by junk before the zeros.
        for content: [UInt8] in [[0x80], [0xB8, 0x00], [0xA0, 0x01]] {
            let padded =
                content + [UInt8](repeating: 0, count: 510 - content.count) + [
                    UInt8((510 - content.count) & 0xFF), UInt8((510 - content.count) >> 8),
                ]
            #expect(throws: CableProtocolError(.paddedMapInvalid, "")) { try PaddedCBORMap.decode(padded) }
        }
    }
}

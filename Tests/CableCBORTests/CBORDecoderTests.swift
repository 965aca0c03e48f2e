import CableCBOR
import Testing

@Suite("CBORDecoder")
struct CBORDecoderTests {
    @Test("smoke")
    func smoke() throws {
        let map: CBORValue = [1: "a", -1: [true, .null, .undefined], "k": .byteString([1, 2]), 1000: 0x1_0000_0000]
        let bytes = CBOREncoder.encode(map)
        #expect(try CBORDecoder.decode(bytes) == map)
        #expect(throws: CBORError(.extraneousData, offset: 0)) { try CBORDecoder.decode(bytes + [0]) }
        #expect(throws: CBORError(.nonMinimalEncoding, offset: 0)) { try CBORDecoder.decode([0x18, 0x17]) }
        #expect(throws: CBORError(.outOfOrderKey, offset: 0)) { try CBORDecoder.decode([0xa2, 0x20, 0x00, 0x18, 0x18, 0x00]) }
        #expect(throws: CBORError(.incompleteData, offset: 0)) { try CBORDecoder.decode([0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) }
        #expect(throws: CBORError(.duplicateKey, offset: 0)) { try CBORDecoder.decode([0xa3, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00]) }
    }
}

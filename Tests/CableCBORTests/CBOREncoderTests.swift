import CableCBOR
import Testing

@Suite("CBOREncoder")
struct CBOREncoderTests {
    @Test("an integer uses its shortest head")
    func integerUsesShortestHead() {
        #expect(CBOREncoder.encode(.integer(24)) == [0x18, 0x18])
    }
}

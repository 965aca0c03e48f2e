import CableCrypto
import CableTestSupport
import Testing

@Suite("SecretBytes")
struct SecretBytesTests {
    /// Distinctive bytes whose hex, decimal and array spellings are easy to search for.
    private let secret: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF, 0x13, 0x37, 0xC0, 0xDE]

    @Test func descriptionsShowTheLengthButNotTheBytes() {
        let value = SecretBytes(self.secret)
        var dumped = ""
        dump(value, to: &dumped)
        let renderings = [
            value.description, value.debugDescription, "\(value)", String(describing: value),
            String(reflecting: value), dumped, "\([value])",
        ]
        let forbidden = [
            hexString(self.secret), hexString(self.secret).uppercased(), "\(self.secret)", "222", "173", "190", "239",
        ]
        for rendering in renderings {
            #expect(rendering.contains("8"), "length is shown: \(rendering)")
            for needle in forbidden {
                #expect(!rendering.contains(needle), "\(rendering) leaks \(needle)")
            }
        }
    }

    @Test func bytesAndUnsafeBytesReturnTheSecret() {
        let value = SecretBytes(self.secret)
        #expect(value.count == self.secret.count)
        #expect(value.bytes == self.secret)
        #expect(value.withUnsafeBytes { Array($0) } == self.secret)
    }

    @Test func inPlaceInitialiserStoresWhatTheBodyWrote() {
        let value = SecretBytes(count: 4) { buffer in
            for index in buffer.indices { buffer[index] = UInt8(index * 3) }
        }
        #expect(value.bytes == [0, 3, 6, 9])
    }

    @Test func inPlaceInitialiserPropagatesTheBodysError() {
        struct Refused: Error, Equatable {}
        #expect(throws: Refused()) {
            try SecretBytes(count: 4) { (_: UnsafeMutableBufferPointer<UInt8>) throws(Refused) in throw Refused() }
        }
    }

    @Test func equalityComparesContentsAndLength() {
        let value = SecretBytes(self.secret)
        var lastByteChanged = self.secret
        lastByteChanged[lastByteChanged.count - 1] ^= 1
        #expect(value == SecretBytes(self.secret))
        #expect(value != SecretBytes(lastByteChanged))
        #expect(value != SecretBytes(Array(self.secret.dropLast())))
        #expect(SecretBytes([]) == SecretBytes([]))
        #expect(SecretBytes([]).bytes.isEmpty)
    }

    @Test func equalSecretsHashEqually() {
        var set: Set<SecretBytes> = [SecretBytes(self.secret)]
        set.insert(SecretBytes(self.secret))
        #expect(set.count == 1)
    }

    @Test func copiesOutliveTheOriginal() {
        var copy: SecretBytes?
        do {
            let original = SecretBytes(self.secret)
            copy = original
        }
        #expect(copy?.bytes == self.secret)
    }
}

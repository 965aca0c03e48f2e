import CableCrypto
import CableTestSupport
import Testing

@Suite("SHA256")
struct SHA256Tests {
    struct Input: Decodable {
        let messageHex: String
        let repeatCount: Int
    }

    struct Expected: Decodable {
        let digest: String
    }

    @Test func digestsMatchFIPS180Vectors() throws {
        let file = try CryptoVectorFile<Input, Expected>.load("crypto-sha256")
        for vector in file.vectors {
            let unit = hex(vector.input.messageHex)
            let message = Array([[UInt8]](repeating: unit, count: vector.input.repeatCount).joined())
            let digest = SHA256.hash(message)
            #expect(hexString(digest) == vector.expected?.digest, "\(vector.id)")
            #expect(digest.count == SHA256.byteCount)
        }
    }

    @Test func digestOfSliceEqualsDigestOfSameBytesInAnArray() {
        let bytes: [UInt8] = Array(0...255)
        let slice = bytes[100..<200]
        #expect(SHA256.hash(slice) == SHA256.hash(Array(slice)))
    }

    @Test func digestOfNonContiguousCollectionEqualsDigestOfItsBytes() {
        let bytes: [UInt8] = Array(0...200)
        #expect(SHA256.hash(bytes.reversed()) == SHA256.hash(Array(bytes.reversed())))
        #expect(SHA256.hash(UInt8(0)..<UInt8(50)) == SHA256.hash(Array(0..<50)))
    }

    @Test func everyBitOfTheInputChangesTheDigest() {
        let message = Array("abc".utf8)
        let reference = SHA256.hash(message)
        for index in message.indices {
            for bit in 0..<8 {
                var flipped = message
                flipped[index] ^= 1 << bit
                #expect(SHA256.hash(flipped) != reference)
            }
        }
    }
}

import CableCrypto
import CableTestSupport
import Testing

@Suite("HMACSHA256")
struct HMACSHA256Tests {
    struct Input: Decodable {
        let key: String
        let data: String
    }

    struct Expected: Decodable {
        let mac: String
    }

    private static func vectors() throws -> [CryptoVectorFile<Input, Expected>.Vector] {
        try CryptoVectorFile<Input, Expected>.load("crypto-hmac-sha256").vectors
    }

    @Test func fullTagsMatchRFC4231() throws {
        for vector in try Self.vectors() {
            guard let expected = vector.expected?.mac, expected.count == 64 else { continue }
            let mac = HMACSHA256.authenticationCode(key: hex(vector.input.key), data: hex(vector.input.data))
            #expect(hexString(mac) == expected, "\(vector.id)")
        }
    }

    @Test func everyRFC4231TagIncludingTheTruncatedOneIsAccepted() throws {
        let vectors = try Self.vectors()
        #expect(vectors.contains { ($0.expected?.mac.count ?? 0) < 64 }, "the truncated test case 5 is present")
        for vector in vectors {
            let tag = hex(vector.expected?.mac ?? "")
            #expect(
                HMACSHA256.isValidAuthenticationCode(tag, key: hex(vector.input.key), data: hex(vector.input.data)),
                "\(vector.id)"
            )
        }
    }

    @Test func tagWithAnyBitFlippedIsRejected() throws {
        for vector in try Self.vectors() {
            let key = hex(vector.input.key)
            let data = hex(vector.input.data)
            let tag = hex(vector.expected?.mac ?? "")
            for index in tag.indices {
                var flipped = tag
                flipped[index] ^= 0x01 << UInt8(index % 8)
                #expect(!HMACSHA256.isValidAuthenticationCode(flipped, key: key, data: data), "\(vector.id)[\(index)]")
            }
        }
    }

    @Test func tagUnderADifferentKeyOrMessageIsRejected() {
        let key = Array(repeating: UInt8(0x0b), count: 20)
        let tag = HMACSHA256.authenticationCode(key: key, data: Array("Hi There".utf8))
        #expect(!HMACSHA256.isValidAuthenticationCode(tag, key: key.dropLast(), data: Array("Hi There".utf8)))
        #expect(!HMACSHA256.isValidAuthenticationCode(tag, key: key, data: Array("Hi There!".utf8)))
    }

    @Test func tagsShorterThanFourBytesAreRejectedEvenWhenTheyMatch() {
        let key: [UInt8] = [1, 2, 3]
        let data: [UInt8] = [4, 5, 6]
        let tag = HMACSHA256.authenticationCode(key: key, data: data)
        #expect(HMACSHA256.isValidAuthenticationCode(tag.prefix(4), key: key, data: data))
        for count in 0..<HMACSHA256.minimumTruncatedByteCount {
            #expect(!HMACSHA256.isValidAuthenticationCode(tag.prefix(count), key: key, data: data), "\(count) bytes")
        }
    }

    @Test func tagsLongerThanThirtyTwoBytesAreRejected() {
        let key: [UInt8] = [1, 2, 3]
        let data: [UInt8] = [4, 5, 6]
        let tag = HMACSHA256.authenticationCode(key: key, data: data)
        #expect(!HMACSHA256.isValidAuthenticationCode(tag + [0], key: key, data: data))
    }

    @Test func emptyKeyEqualsAllZeroBlockKey() {
        // RFC 2104 §2: a key shorter than the block is zero-padded, so "" and 64 zero bytes are the same key.
        let data = Array("message".utf8)
        let empty = HMACSHA256.authenticationCode(key: [UInt8](), data: data)
        #expect(empty == HMACSHA256.authenticationCode(key: [UInt8](repeating: 0, count: 64), data: data))
    }

    @Test func slicesAndArraysGiveTheSameTag() {
        let bytes: [UInt8] = Array(0...99)
        #expect(
            HMACSHA256.authenticationCode(key: bytes[10..<30], data: bytes[40...])
                == HMACSHA256.authenticationCode(key: Array(bytes[10..<30]), data: Array(bytes[40...]))
        )
    }
}

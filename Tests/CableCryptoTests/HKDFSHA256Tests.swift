import CableCrypto
import CableTestSupport
import Testing

@Suite("HKDFSHA256")
struct HKDFSHA256Tests {
    struct Input: Decodable {
        let ikm: String
        let salt: String
        let info: String
        let length: Int
    }

    struct Expected: Decodable {
        let prk: String
        let okm: String
    }

    private static func vectors() throws -> [CryptoVectorFile<Input, Expected>.Vector] {
        try CryptoVectorFile<Input, Expected>.load("crypto-hkdf-sha256").vectors
    }

    @Test func outputMatchesRFC5869() throws {
        for vector in try Self.vectors() {
            let okm = HKDFSHA256.deriveKey(
                inputKeyMaterial: hex(vector.input.ikm),
                salt: hex(vector.input.salt),
                info: hex(vector.input.info),
                outputByteCount: vector.input.length
            )
            #expect(hexString(okm) == vector.expected?.okm, "\(vector.id)")
        }
    }

    @Test func extractStepIsHMACOfTheInputKeyedWithTheSalt() throws {
        for vector in try Self.vectors() {
            let prk = HMACSHA256.authenticationCode(key: hex(vector.input.salt), data: hex(vector.input.ikm))
            #expect(hexString(prk) == vector.expected?.prk, "\(vector.id)")
        }
    }

    @Test func emptySaltEqualsThirtyTwoZeroBytes() {
        let ikm: [UInt8] = Array(repeating: 7, count: 32)
        let info = Array("info".utf8)
        let empty = HKDFSHA256.deriveKey(inputKeyMaterial: ikm, salt: [UInt8](), info: info, outputByteCount: 64)
        let zeros = HKDFSHA256.deriveKey(
            inputKeyMaterial: ikm,
            salt: [UInt8](repeating: 0, count: 32),
            info: info,
            outputByteCount: 64
        )
        #expect(empty == zeros)
    }

    @Test func shorterOutputIsAPrefixOfLongerOutput() {
        let ikm: [UInt8] = [1, 2, 3]
        let long = HKDFSHA256.deriveKey(inputKeyMaterial: ikm, salt: [UInt8](), info: [UInt8](), outputByteCount: 100)
        for count in [1, 31, 32, 33, 64, 99] {
            let short = HKDFSHA256.deriveKey(
                inputKeyMaterial: ikm,
                salt: [UInt8](),
                info: [UInt8](),
                outputByteCount: count
            )
            #expect(short == Array(long.prefix(count)), "\(count) bytes")
        }
    }

    @Test func zeroLengthOutputIsEmpty() {
        #expect(HKDFSHA256.deriveKey(inputKeyMaterial: [1], salt: [2], info: [3], outputByteCount: 0).isEmpty)
    }

    @Test func emptyInputKeyMaterialIsAccepted() {
        let okm = HKDFSHA256.deriveKey(
            inputKeyMaterial: [UInt8](),
            salt: [UInt8](),
            info: [UInt8](),
            outputByteCount: 32
        )
        #expect(okm.count == 32)
    }

    @Test func maximumOutputLengthIsProduced() {
        let okm = HKDFSHA256.deriveKey(
            inputKeyMaterial: [1],
            salt: [UInt8](),
            info: [UInt8](),
            outputByteCount: HKDFSHA256.maximumOutputByteCount
        )
        #expect(okm.count == 255 * 32)
    }
}

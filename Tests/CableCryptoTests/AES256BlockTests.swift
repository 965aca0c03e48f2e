import CableCrypto
import CableTestSupport
import Testing

@Suite("AES256Block")
struct AES256BlockTests {
    struct Input: Decodable {
        let key: String
        let plaintext: String
    }

    struct Expected: Decodable {
        let ciphertext: String
    }

    private static func vectors() throws -> [CryptoVectorFile<Input, Expected>.Vector] {
        try CryptoVectorFile<Input, Expected>.load("crypto-aes256-block").vectors
    }

    @Test func encryptionMatchesFIPS197() throws {
        for vector in try Self.vectors() {
            let ciphertext = try AES256Block.encrypt(block: hex(vector.input.plaintext), key: hex(vector.input.key))
            #expect(hexString(ciphertext) == vector.expected?.ciphertext, "\(vector.id)")
        }
    }

    @Test func decryptionInvertsFIPS197() throws {
        for vector in try Self.vectors() {
            let plaintext = try AES256Block.decrypt(
                block: hex(vector.expected?.ciphertext ?? ""),
                key: hex(vector.input.key)
            )
            #expect(hexString(plaintext) == vector.input.plaintext, "\(vector.id)")
        }
    }

    @Test(arguments: [0, 16, 24, 31, 33, 64])
    func keysOtherThanThirtyTwoBytesAreRejected(keyLength: Int) {
        let key = [UInt8](repeating: 1, count: keyLength)
        let block = [UInt8](repeating: 2, count: 16)
        #expect(throws: CryptoError(.invalidLength)) { try AES256Block.encrypt(block: block, key: key) }
        #expect(throws: CryptoError(.invalidLength)) { try AES256Block.decrypt(block: block, key: key) }
    }

    @Test(arguments: [0, 1, 15, 17, 32])
    func blocksOtherThanSixteenBytesAreRejected(blockLength: Int) {
        let key = [UInt8](repeating: 1, count: 32)
        let block = [UInt8](repeating: 2, count: blockLength)
        #expect(throws: CryptoError(.invalidLength)) { try AES256Block.encrypt(block: block, key: key) }
        #expect(throws: CryptoError(.invalidLength)) { try AES256Block.decrypt(block: block, key: key) }
    }

    @Test func randomBlocksRoundTripUnderRandomKeys() throws {
        var generator = DeterministicRNG(seed: 197)
        for _ in 0..<64 {
            let key = generator.bytes(count: 32)
            let block = generator.bytes(count: 16)
            let encrypted = try AES256Block.encrypt(block: block, key: key)
            #expect(encrypted != block)
            #expect(try AES256Block.decrypt(block: encrypted, key: key) == block)
        }
    }
}

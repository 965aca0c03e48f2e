import CableCrypto
import CableTestSupport
import Testing

@Suite("AES256GCM")
struct AES256GCMTests {
    struct Input: Decodable {
        let key: String
        let nonce: String
        let plaintext: String
        let aad: String
    }

    struct Expected: Decodable {
        let ciphertext: String
        let tag: String
    }

    typealias Vector = CryptoVectorFile<Input, Expected>.Vector

    /// The GCM specification's vectors (`Spec/vectors/crypto-aes256-gcm.json`), shared with `AES256GCMKeyTests`.
    static func vectors() throws -> [Vector] {
        try CryptoVectorFile<Input, Expected>.load("crypto-aes256-gcm").vectors
    }

    /// Test case 16: the one with both a partial final block and AAD.
    private static func caseWithAAD() throws -> Vector {
        let vector = try #require(try Self.vectors().first { !$0.input.aad.isEmpty })
        return vector
    }

    private static func sealed(_ vector: Vector) -> [UInt8] {
        hex((vector.expected?.ciphertext ?? "") + (vector.expected?.tag ?? ""))
    }

    // MARK: - Known answers

    @Test func sealMatchesGCMSpecificationTestCases() throws {
        for vector in try Self.vectors() {
            let output = try AES256GCM.seal(
                hex(vector.input.plaintext),
                key: hex(vector.input.key),
                nonce: hex(vector.input.nonce),
                additionalData: hex(vector.input.aad)
            )
            #expect(hexString(output) == hexString(Self.sealed(vector)), "\(vector.id)")
        }
    }

    @Test func openRecoversGCMSpecificationPlaintexts() throws {
        for vector in try Self.vectors() {
            let plaintext = try AES256GCM.open(
                Self.sealed(vector),
                key: hex(vector.input.key),
                nonce: hex(vector.input.nonce),
                additionalData: hex(vector.input.aad)
            )
            #expect(hexString(plaintext) == vector.input.plaintext, "\(vector.id)")
        }
    }

    @Test func slicesWithNonZeroStartIndexAreReadFromTheirStart() throws {
        let vector = try Self.caseWithAAD()
        let padding: [UInt8] = [0xEE, 0xEE, 0xEE]
        let sealed = padding + Self.sealed(vector) + padding
        let key = padding + hex(vector.input.key)
        let plaintext = try AES256GCM.open(
            sealed[3..<(sealed.count - 3)],
            key: key[3...],
            nonce: hex(vector.input.nonce),
            additionalData: hex(vector.input.aad)[...]
        )
        #expect(hexString(plaintext) == vector.input.plaintext)
    }

    // MARK: - Authentication failures

    @Test func flippingAnyBitOfCiphertextOrTagFailsAuthenticationAndLeavesNoOpenSSLError() throws {
        let vector = try Self.caseWithAAD()
        let sealed = Self.sealed(vector)
        for index in sealed.indices {
            for bit in [0, 7] {
                var tampered = sealed
                tampered[index] ^= 1 << bit
                #expect(throws: CryptoError(.authenticationFailure), "byte \(index) bit \(bit)") {
                    try AES256GCM.open(
                        tampered,
                        key: hex(vector.input.key),
                        nonce: hex(vector.input.nonce),
                        additionalData: hex(vector.input.aad)
                    )
                }
                #expect(OpenSSLErrorQueue.isEmpty)
            }
        }
    }

    @Test func alteredOrMissingAdditionalDataFailsAuthentication() throws {
        let vector = try Self.caseWithAAD()
        let aad = hex(vector.input.aad)
        var flipped = aad
        flipped[0] ^= 0x80
        for wrong in [flipped, Array(aad.dropLast()), aad + [0], []] {
            #expect(throws: CryptoError(.authenticationFailure)) {
                try AES256GCM.open(
                    Self.sealed(vector),
                    key: hex(vector.input.key),
                    nonce: hex(vector.input.nonce),
                    additionalData: wrong
                )
            }
        }
    }

    @Test func wrongKeyOrNonceFailsAuthentication() throws {
        let vector = try Self.caseWithAAD()
        var key = hex(vector.input.key)
        key[31] ^= 1
        var nonce = hex(vector.input.nonce)
        nonce[0] ^= 1
        #expect(throws: CryptoError(.authenticationFailure)) {
            try AES256GCM.open(
                Self.sealed(vector),
                key: key,
                nonce: hex(vector.input.nonce),
                additionalData: hex(vector.input.aad)
            )
        }
        #expect(throws: CryptoError(.authenticationFailure)) {
            try AES256GCM.open(
                Self.sealed(vector),
                key: hex(vector.input.key),
                nonce: nonce,
                additionalData: hex(vector.input.aad)
            )
        }
    }

    @Test func truncatedOrExtendedMessageFailsAuthentication() throws {
        let vector = try Self.caseWithAAD()
        let sealed = Self.sealed(vector)
        for wrong in [Array(sealed.dropLast()), Array(sealed.dropFirst()), sealed + [0], Array(sealed.suffix(16))] {
            #expect(throws: CryptoError(.authenticationFailure)) {
                try AES256GCM.open(
                    wrong,
                    key: hex(vector.input.key),
                    nonce: hex(vector.input.nonce),
                    additionalData: hex(vector.input.aad)
                )
            }
        }
    }

    @Test func randomInputFailsAuthentication() throws {
        var generator = DeterministicRNG(seed: 0x6C6D)
        let key = generator.bytes(count: 32)
        let nonce = generator.bytes(count: 12)
        for length in [16, 17, 32, 100, 1000] {
            let garbage = generator.bytes(count: length)
            #expect(throws: CryptoError(.authenticationFailure), "\(length) bytes") {
                try AES256GCM.open(garbage, key: key, nonce: nonce, additionalData: [UInt8]())
            }
        }
    }

    // MARK: - Length rules

    @Test(arguments: [0, 1, 15])
    func inputShorterThanTheTagIsRejectedAsInvalidLength(length: Int) {
        #expect(throws: CryptoError(.invalidLength)) {
            try AES256GCM.open(
                [UInt8](repeating: 0, count: length),
                key: [UInt8](repeating: 0, count: 32),
                nonce: [UInt8](repeating: 0, count: 12),
                additionalData: [UInt8]()
            )
        }
    }

    @Test(arguments: [0, 16, 24, 31, 33])
    func keysOtherThanThirtyTwoBytesAreRejected(keyLength: Int) {
        let key = [UInt8](repeating: 0, count: keyLength)
        let nonce = [UInt8](repeating: 0, count: 12)
        #expect(throws: CryptoError(.invalidLength)) {
            try AES256GCM.seal([UInt8](), key: key, nonce: nonce, additionalData: [UInt8]())
        }
        #expect(throws: CryptoError(.invalidLength)) {
            try AES256GCM.open([UInt8](repeating: 0, count: 16), key: key, nonce: nonce, additionalData: [UInt8]())
        }
    }

    @Test(arguments: [0, 8, 11, 13, 16])
    func noncesOtherThanTwelveBytesAreRejected(nonceLength: Int) {
        let key = [UInt8](repeating: 0, count: 32)
        let nonce = [UInt8](repeating: 0, count: nonceLength)
        #expect(throws: CryptoError(.invalidLength)) {
            try AES256GCM.seal([UInt8](), key: key, nonce: nonce, additionalData: [UInt8]())
        }
        #expect(throws: CryptoError(.invalidLength)) {
            try AES256GCM.open([UInt8](repeating: 0, count: 16), key: key, nonce: nonce, additionalData: [UInt8]())
        }
    }

    // MARK: - Round trips (in addition to the known answers above)

    @Test func randomMessagesRoundTripAtBlockBoundaries() throws {
        var generator = DeterministicRNG(seed: 96)
        for length in [0, 1, 15, 16, 17, 31, 32, 33, 255, 4096] {
            let key = generator.bytes(count: 32)
            let nonce = generator.bytes(count: 12)
            let aad = generator.bytes(count: length % 40)
            let plaintext = generator.bytes(count: length)
            let sealed = try AES256GCM.seal(plaintext, key: key, nonce: nonce, additionalData: aad)
            #expect(sealed.count == length + AES256GCM.tagByteCount)
            #expect(try AES256GCM.open(sealed, key: key, nonce: nonce, additionalData: aad) == plaintext)
        }
    }
}

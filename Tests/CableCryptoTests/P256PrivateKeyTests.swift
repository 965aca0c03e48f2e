import CableCrypto
import CableTestSupport
import Testing

@Suite("P256.PrivateKey")
struct P256PrivateKeyTests {
    struct Input: Decodable {
        let seed: String?
        let scalar: String?
    }

    struct Expected: Decodable {
        let scalar: String?
        let publicUncompressed: String
        let publicCompressed: String?
    }

    typealias Vector = CryptoVectorFile<Input, Expected>.Vector

    private static func vectors() throws -> [Vector] {
        try CryptoVectorFile<Input, Expected>.load("crypto-p256-keys").vectors
    }

    private static func key(for vector: Vector) throws -> P256.PrivateKey {
        if let seed = vector.input.seed {
            return try P256.PrivateKey(derivedFromSeed: hex(seed))
        }
        return try P256.PrivateKey(rawScalar: hex(try #require(vector.input.scalar)))
    }

    @Test func keysFromSeedsAndScalarsMatchTheirPublishedPublicKeys() throws {
        let valid = try Self.vectors().filter { $0.result == "valid" }
        #expect(valid.contains { $0.input.seed != nil } && valid.contains { $0.input.scalar != nil })
        for vector in valid {
            let expected = try #require(vector.expected)
            let key = try Self.key(for: vector)
            #expect(hexString(key.publicKey.uncompressedRepresentation) == expected.publicUncompressed, "\(vector.id)")
            if let compressed = expected.publicCompressed {
                #expect(hexString(key.publicKey.compressedRepresentation) == compressed, "\(vector.id)")
            }
            if let scalar = expected.scalar ?? vector.input.scalar {
                #expect(hexString(key.rawScalar.bytes) == scalar, "\(vector.id)")
            }
        }
    }

    @Test func invalidScalarsAreRejectedWithTheirErrorCode() throws {
        let invalid = try Self.vectors().filter { $0.result == "invalid" }
        #expect(invalid.contains { $0.errorCode == "invalidPrivateKey" })
        #expect(invalid.contains { $0.errorCode == "invalidLength" })
        for vector in invalid {
            let code = try #require(vector.errorCode.flatMap(CryptoError.Code.init(rawValue:)), "\(vector.id)")
            #expect(throws: CryptoError(code), "\(vector.id)") {
                try P256.PrivateKey(rawScalar: hex(try #require(vector.input.scalar)))
            }
        }
    }

    @Test func randomKeysAreDistinctValidAndReimportable() throws {
        let first = try P256.PrivateKey()
        let second = try P256.PrivateKey()
        #expect(first.rawScalar != second.rawScalar)
        #expect(first.publicKey != second.publicKey)
        let reimported = try P256.PrivateKey(rawScalar: first.rawScalar.bytes)
        #expect(reimported.publicKey == first.publicKey)
    }

    /// Fresh keys come from OpenSSL's key generation, imported keys from our point computation and
    /// `EVP_PKEY_fromdata`: the two paths must agree on the point, on ECDH and on signatures.
    @Test func generatedKeysAgreeWithTheImportPathInEveryOperation() throws {
        let peer = try P256.PrivateKey(rawScalar: [UInt8](repeating: 0, count: 31) + [7])
        var scalars = Set<[UInt8]>()
        for _ in 0..<64 {
            let generated = try P256.PrivateKey()
            let scalar = generated.rawScalar.bytes
            #expect(scalar.count == 32 && scalar != [UInt8](repeating: 0, count: 32))
            scalars.insert(scalar)
            // Reimporting checks the scalar is in [1, n-1] and recomputes the point independently.
            let imported = try P256.PrivateKey(rawScalar: scalar)
            #expect(imported.publicKey.uncompressedRepresentation == generated.publicKey.uncompressedRepresentation)
            #expect(try generated.sharedSecret(with: peer.publicKey) == imported.sharedSecret(with: peer.publicKey))
            #expect(try generated.sharedSecret(with: peer.publicKey) == peer.sharedSecret(with: generated.publicKey))
            let message = Array("generated".utf8)
            #expect(imported.publicKey.isValidSignature(try generated.signature(for: message), for: message))
            #expect(generated.publicKey.isValidSignature(try imported.signature(for: message), for: message))
        }
        #expect(scalars.count == 64)
    }

    @Test func seedDerivationIsDeterministicAndSeedSensitive() throws {
        let seed = [UInt8](repeating: 0x42, count: 32)
        var other = seed
        other[31] ^= 1
        let first = try P256.PrivateKey(derivedFromSeed: seed)
        #expect(try P256.PrivateKey(derivedFromSeed: seed).publicKey == first.publicKey)
        #expect(try P256.PrivateKey(derivedFromSeed: other).publicKey != first.publicKey)
    }

    @Test func descriptionAndDumpNeverShowTheScalar() throws {
        let vector = try #require(try Self.vectors().first { $0.id == "p256_derive_from_seed_02" })
        let key = try Self.key(for: vector)
        let scalar = try #require(vector.expected?.scalar)
        var dumped = ""
        dump(key, to: &dumped)
        for rendering in [key.description, "\(key)", String(reflecting: key), dumped, "\(key.rawScalar)"] {
            #expect(!rendering.lowercased().contains(scalar.prefix(16)), "\(rendering)")
            #expect(!rendering.contains("\(key.rawScalar.bytes)"), "\(rendering)")
        }
        #expect(key.description == "P256.PrivateKey(redacted)")
    }
}

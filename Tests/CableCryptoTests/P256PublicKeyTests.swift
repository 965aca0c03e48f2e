import CableCrypto
import CableTestSupport
import Testing

@Suite("P256.PublicKey")
struct P256PublicKeyTests {
    struct Input: Decodable {
        let encoded: String
    }

    struct Expected: Decodable {
        let uncompressed: String
        let compressed: String
    }

    typealias Vector = CryptoVectorFile<Input, Expected>.Vector

    private static func vectors() throws -> [Vector] {
        try CryptoVectorFile<Input, Expected>.load("crypto-p256-public-keys").vectors
    }

    @Test func validEncodingsParseAndReEncodeBothWays() throws {
        let valid = try Self.vectors().filter { $0.result == "valid" }
        #expect(valid.count >= 3)
        for vector in valid {
            let expected = try #require(vector.expected)
            let key = try P256.PublicKey(x962Representation: hex(vector.input.encoded))
            #expect(hexString(key.uncompressedRepresentation) == expected.uncompressed, "\(vector.id)")
            #expect(hexString(key.compressedRepresentation) == expected.compressed, "\(vector.id)")
            #expect(hexString(key.x) == String(expected.uncompressed.dropFirst(2).prefix(64)), "\(vector.id)")
            #expect(hexString(key.y) == String(expected.uncompressed.suffix(64)), "\(vector.id)")
        }
    }

    @Test func invalidEncodingsAreRejectedWithTheirErrorCode() throws {
        let invalid = try Self.vectors().filter { $0.result == "invalid" }
        #expect(invalid.count >= 10)
        for vector in invalid {
            let code = try #require(vector.errorCode.flatMap(CryptoError.Code.init(rawValue:)), "\(vector.id)")
            #expect(throws: CryptoError(code), "\(vector.id)") {
                try P256.PublicKey(x962Representation: hex(vector.input.encoded))
            }
            #expect(OpenSSLErrorQueue.isEmpty, "\(vector.id)")
        }
    }

    @Test func compressedAndUncompressedFormsOfOnePointAreEqualKeys() throws {
        let valid = try Self.vectors().filter { $0.result == "valid" }
        for vector in valid {
            let expected = try #require(vector.expected)
            let fromCompressed = try P256.PublicKey(x962Representation: hex(expected.compressed))
            let fromUncompressed = try P256.PublicKey(x962Representation: hex(expected.uncompressed))
            #expect(fromCompressed == fromUncompressed)
            #expect(Set([fromCompressed, fromUncompressed]).count == 1)
        }
    }

    @Test func everySingleBitFlipOfAnUncompressedKeyIsRejected() throws {
        // Flipping one bit of X or Y moves (X, Y) off the curve: no two points of P-256 differ in one bit of
        // one coordinate while keeping the other (checked here for every bit, not assumed).
        let vector = try #require(try Self.vectors().first { $0.id == "p256_point_uncompressed_even_y" })
        let encoded = hex(vector.input.encoded)
        for index in 1..<encoded.count {
            for bit in 0..<8 {
                var flipped = encoded
                flipped[index] ^= 1 << bit
                #expect(throws: CryptoError(.invalidPublicKey), "byte \(index) bit \(bit)") {
                    try P256.PublicKey(x962Representation: flipped)
                }
            }
        }
    }

    /// OpenSSL decodes an uncompressed key as it sets the point: a coordinate that is not below p is
    /// refused even where it would match a curve point mod p, as are (0, 0) and all-ones.
    @Test func uncompressedCoordinatesNotBelowThePrimeAreRejected() throws {
        let p = hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff")
        let vector = try #require(try Self.vectors().first { $0.id == "p256_point_uncompressed_even_y" })
        let encoded = hex(vector.input.encoded)
        let x = Array(encoded[1...32])
        let y = Array(encoded[33...64])
        // y' = p - y is the other point with this X; y + p (when it fits in 32 bytes) is y mod p again.
        var yPlusP = [UInt8](repeating: 0, count: 33)
        var carry = 0
        for index in stride(from: 31, through: 0, by: -1) {
            let sum = Int(y[index]) + Int(p[index]) + carry
            yPlusP[index + 1] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        yPlusP[0] = UInt8(carry)
        var candidates: [[UInt8]] = [
            [0x04] + p + y,
            [0x04] + x + p,
            [0x04] + [UInt8](repeating: 0, count: 64),
            [0x04] + [UInt8](repeating: 0xFF, count: 64),
        ]
        if yPlusP[0] == 0 { candidates.append([0x04] + x + Array(yPlusP[1...])) }
        for candidate in candidates {
            #expect(throws: CryptoError(.invalidPublicKey), "\(hexString(candidate))") {
                try P256.PublicKey(x962Representation: candidate)
            }
        }
        #expect(try P256.PublicKey(x962Representation: encoded).uncompressedRepresentation == encoded)
    }

    @Test func randomBytesWithAValidPrefixAreRejectedOrParsedConsistently() {
        // About half of all X have a square root; whichever is the case, a parsed key must re-encode to the
        // same X and nothing may crash.
        var generator = DeterministicRNG(seed: 256)
        var accepted = 0
        for _ in 0..<200 {
            let encoded = [UInt8(0x02 | (generator.next() & 1))] + generator.bytes(count: 32)
            do {
                let key = try P256.PublicKey(x962Representation: encoded)
                #expect(key.compressedRepresentation == encoded)
                accepted += 1
            } catch {
                #expect(error.code == .invalidPublicKey)
            }
        }
        #expect(accepted > 50 && accepted < 150)
    }

    @Test func slicesAreParsedFromTheirStart() throws {
        let vector = try #require(try Self.vectors().first { $0.id == "p256_point_compressed_even_y" })
        let padded = [0xFF] + hex(vector.input.encoded) + [0xFF]
        let key = try P256.PublicKey(x962Representation: padded[1..<(padded.count - 1)])
        #expect(hexString(key.compressedRepresentation) == vector.input.encoded)
    }
}

import CableCBOR
import CableCTAP
import CableCrypto
import CableTestSupport
import Testing

@Suite struct COSEKeyTests {
    static let vectors = COSEKeyVectors.load("webauthn-cose-keys")
    static let valid = vectors.filter { $0.result == "valid" }
    static let invalid = vectors.filter { $0.result == "invalid" }

    /// A canonical ES256 key map from the first valid vector, for mutation.
    static func sampleMap() throws -> CBORMap {
        try #require(CBORValue(decoding: hex(valid[0].input.coseKey)).mapValue)
    }

    @Test(arguments: valid)
    func parsesRealKeysAndReencodesThemByteForByte(_ vector: COSEKeyVectors.Vector) throws {
        let bytes = hex(vector.input.coseKey)
        let key = try COSEKey(encoded: bytes)
        #expect(hexString(key.x) == vector.expected.x)
        #expect(hexString(key.y) == vector.expected.y)
        #expect(key.encoded == bytes)
        #expect(key.x962Representation == [0x04] + key.x + key.y)
        #expect(key.algorithm == .es256)
    }

    @Test(arguments: invalid)
    func refusesKeysOfOtherTypes(_ vector: COSEKeyVectors.Vector) {
        let error = expectCTAPError(.unsupportedKey) { () throws(CTAPError) in
            try COSEKey(encoded: hex(vector.input.coseKey))
        }
        #expect(error?.code.name == vector.errorCode)
        #expect(error?.status == .unsupportedAlgorithm)
    }

    @Test func convertsToAndFromAP256PublicKey() throws {
        let privateKey = try P256.PrivateKey(rawScalar: [UInt8](repeating: 0, count: 31) + [7])
        let key = COSEKey(publicKey: privateKey.publicKey)
        #expect(key.publicKey == privateKey.publicKey)
        #expect(key.x962Representation == privateKey.publicKey.uncompressedRepresentation)
        #expect(try COSEKey(encoded: key.encoded) == key)
        #expect(key.encoded.count == 77)
    }

    @Test(arguments: [
        (Int64(1), "kty (1)"), (Int64(3), "alg (3)"), (Int64(-1), "crv (-1)"), (Int64(-2), "x (-2)"),
        (Int64(-3), "y (-3)"),
    ])
    func missingLabelIsMissingParameter(_ label: Int64, _ name: String) throws {
        var map = try Self.sampleMap()
        map[.integer(label)] = nil
        expectCTAPError(.missingParameter, field: "coseKey.\(name)") { () throws(CTAPError) in
            try COSEKey(cbor: .map(map))
        }
    }

    @Test(arguments: [Int64(1), 3, -1, -2, -3])
    func wrongTypeIsUnexpectedType(_ label: Int64) throws {
        var map = try Self.sampleMap()
        map[.integer(label)] = .textString("2")
        expectCTAPError(.unexpectedType) { () throws(CTAPError) in try COSEKey(cbor: .map(map)) }
    }

    @Test(arguments: [(Int64(1), Int64(3)), (1, 1), (3, -8), (3, -35), (-1, 2), (-1, 6)])
    func otherKeyTypeAlgorithmOrCurveIsUnsupported(_ label: Int64, _ value: Int64) throws {
        var map = try Self.sampleMap()
        map[.integer(label)] = .integer(value)
        expectCTAPError(.unsupportedKey) { () throws(CTAPError) in try COSEKey(cbor: .map(map)) }
    }

    @Test(arguments: [Int64(-2), -3], [0, 31, 33, 64])
    func coordinateOfWrongLengthIsInvalidLength(_ label: Int64, _ length: Int) throws {
        var map = try Self.sampleMap()
        map[.integer(label)] = .byteString([UInt8](repeating: 1, count: length))
        expectCTAPError(.invalidLength) { () throws(CTAPError) in try COSEKey(cbor: .map(map)) }
    }

    @Test func pointOffTheCurveIsInvalidPublicKey() throws {
        var map = try Self.sampleMap()
        map[-3] = .byteString([UInt8](repeating: 0, count: 32))
        let error = expectCTAPError(.invalidPublicKey) { () throws(CTAPError) in try COSEKey(cbor: .map(map)) }
        #expect(error?.status == .invalidParameter)
    }

    @Test(arguments: [CBORValue.integer(2), .integer(-4), .textString("kid"), .byteString([1])])
    func extraLabelIsRejected(_ label: CBORValue) throws {
        var map = try Self.sampleMap()
        map[label] = .byteString([1, 2, 3])
        expectCTAPError(.unexpectedParameter) { () throws(CTAPError) in try COSEKey(cbor: .map(map)) }
    }

    @Test func nonMapIsUnexpectedType() {
        expectCTAPError(.unexpectedType) { () throws(CTAPError) in try COSEKey(cbor: .array([])) }
    }

    @Test func everyTruncationIsRejectedAsInvalidCBOR() {
        let bytes = hex(Self.valid[0].input.coseKey)
        for length in 0..<bytes.count {
            expectCTAPError(.invalidCBOR) { () throws(CTAPError) in try COSEKey(encoded: bytes.prefix(length)) }
        }
    }

    @Test func nonCanonicalKeyOrderIsInvalidCBOR() {
        // {3: -7, 1: 2, …}: kty and alg swapped.
        var bytes = hex(Self.valid[0].input.coseKey)
        bytes.replaceSubrange(1..<5, with: [0x03, 0x26, 0x01, 0x02])
        expectCTAPError(.invalidCBOR) { () throws(CTAPError) in try COSEKey(encoded: bytes) }
    }

    @Test func everySingleBitFlipIsRejectedOrYieldsADifferentValidKey() {
        let bytes = hex(Self.valid[0].input.coseKey)
        for index in bytes.indices {
            for bit in 0..<8 {
                var mutated = bytes
                mutated[index] ^= 1 << bit
                if let key = try? COSEKey(encoded: mutated) {
                    // Only a coordinate bit can flip into another valid point, and then it is a different key.
                    #expect(key.encoded == mutated)
                    #expect(key.encoded != bytes)
                }
            }
        }
    }
}

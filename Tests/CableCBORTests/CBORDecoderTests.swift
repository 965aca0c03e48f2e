import CableCBOR
import CableTestSupport
import Testing

@Suite("CBORDecoder")
struct CBORDecoderTests {
    // MARK: - Known answers

    @Test(
        "RFC 8949 Appendix A: examples in the model decode, the others are rejected with the right code",
        arguments: try CBORVectorFile.load("cbor-rfc8949").vectors
    )
    func rfc8949AppendixA(vector: CBORVector) throws {
        try Self.check(vector)
    }

    @Test(
        "Inputs Chromium's reader accepts decode to the listed value",
        arguments: try CBORVectorFile.load("cbor-accept").vectors
    )
    func chromiumAcceptedInputs(vector: CBORVector) throws {
        try Self.check(vector)
    }

    @Test(
        "Hostile and non-canonical inputs fail with Chromium's error at the documented offset",
        arguments: try CBORVectorFile.load("cbor-reject").vectors
    )
    func hostileInputs(vector: CBORVector) throws {
        try Self.check(vector)
    }

    private static func check(_ vector: CBORVector) throws {
        if vector.isValid {
            let expected = try #require(vector.expected.value).cbor
            #expect(try CBORDecoder.decode(vector.bytes, limits: vector.limits) == expected)
        } else {
            let code = try #require(vector.errorCode)
            expectDecodingError(vector.bytes, code: code, offset: vector.expected.offset, limits: vector.limits)
        }
    }

    // MARK: - Truncation

    @Test("Every proper prefix of every valid vector is incomplete, reported at the end of the input")
    func everyPrefixOfAValidVectorIsIncomplete() throws {
        for vector in try CBORVectorFile.all() where vector.isValid {
            let bytes = vector.bytes
            for length in 0..<bytes.count {
                expectDecodingError(
                    Array(bytes[..<length]),
                    code: "incompleteData",
                    offset: length,
                    limits: vector.limits,
                    "\(vector.id) cut to \(length) bytes"
                )
            }
        }
    }

    @Test("Every proper prefix of a large CTAP-like map throws, never crashes")
    func everyPrefixOfALargeCTAPMapThrows() throws {
        let bytes = CBOREncoder.encode(Self.largeCTAPLikeMap())
        #expect(bytes.count > 3000)
        #expect(try CBORDecoder.decode(bytes) == Self.largeCTAPLikeMap())
        for length in 0..<bytes.count {
            #expect(throws: CBORError(.incompleteData, offset: length)) {
                try CBORDecoder.decode(Array(bytes[..<length]))
            }
        }
    }

    // MARK: - Mutation and noise

    @Test("Flipped bits either throw CBORError or decode to a value that re-encodes to the same bytes")
    func bitFlipsAreRejectedOrCanonical() throws {
        var rng = DeterministicRNG(seed: 0xC0DE_CB01)
        let vectorSeeds = try CBORVectorFile.all().filter(\.isValid).map(\.bytes)
        let seeds = vectorSeeds + [CBOREncoder.encode(Self.largeCTAPLikeMap())]
        var decodedCount = 0
        for _ in 0..<4000 {
            var bytes = try #require(seeds.randomElement(using: &rng))
            guard !bytes.isEmpty else { continue }
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            }
            decodedCount += Self.expectRejectedOrCanonical(bytes) ? 1 : 0
        }
        // Both outcomes must actually be exercised for the property to mean anything.
        #expect(decodedCount > 100)
        #expect(decodedCount < 3900)
    }

    @Test("Random bytes either throw CBORError or decode to a value that re-encodes to the same bytes")
    func randomBytesAreRejectedOrCanonical() {
        var rng = DeterministicRNG(seed: 0x5EED_0001)
        var decodedCount = 0
        for _ in 0..<5000 {
            let length = Int.random(in: 0...48, using: &rng)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            decodedCount += Self.expectRejectedOrCanonical(bytes) ? 1 : 0
        }
        #expect(decodedCount > 0)
    }

    /// Returns whether `bytes` decoded; checks the error's offset or the re-encoding.
    private static func expectRejectedOrCanonical(_ bytes: [UInt8]) -> Bool {
        do {
            let value = try CBORDecoder.decode(bytes)
            // Strictness means one encoding per value: the decoder accepted exactly the canonical one.
            #expect(CBOREncoder.encode(value) == bytes, "\(hexString(bytes))")
            return true
        } catch {
            #expect((0...bytes.count).contains(error.offset), "\(error) for \(hexString(bytes))")
            return false
        }
    }

    // MARK: - Resource bounds

    @Test("Input longer than maxInputSize is tooLarge before anything is read")
    func inputLargerThanTheLimitIsTooLarge() throws {
        let limits = CBORDecodingLimits(maxInputSize: 8)
        let sevenZeros = [UInt8](repeating: 0, count: 7)
        #expect(try CBORDecoder.decode([0x47] + sevenZeros, limits: limits) == .byteString(sevenZeros))
        #expect(throws: CBORError(.tooLarge, offset: 8)) {
            try CBORDecoder.decode([0x48] + sevenZeros + [0], limits: limits)
        }
    }

    @Test("More items than maxItems is tooManyItems at the first item over the limit")
    func moreItemsThanTheLimitIsTooManyItems() throws {
        // An array of 65 535 zeros is 65 536 items, exactly the default limit.
        let atLimit: [UInt8] = [0x99, 0xff, 0xff] + Array(repeating: 0, count: 65_535)
        #expect(try CBORDecoder.decode(atLimit).arrayValue?.count == 65_535)
        let overLimit: [UInt8] = [0x9a, 0x00, 0x01, 0x00, 0x00] + Array(repeating: 0, count: 65_536)
        #expect(throws: CBORError(.tooManyItems, offset: overLimit.count - 1)) {
            try CBORDecoder.decode(overLimit)
        }
        // Keys and values each count.
        let map: [UInt8] = [0xa2, 0x01, 0x02, 0x03, 0x04]
        #expect(throws: CBORError(.tooManyItems, offset: 4)) {
            try CBORDecoder.decode(map, limits: CBORDecodingLimits(maxItems: 4))
        }
    }

    @Test("A megabyte of nested array heads fails at depth 17 without deep recursion")
    func deepNestingFailsFastWithoutRecursion() {
        let bytes = Array(repeating: UInt8(0x81), count: 1 << 20)
        #expect(throws: CBORError(.tooMuchNesting, offset: 17)) { try CBORDecoder.decode(bytes) }
    }

    @Test("A raised depth limit is honoured by the iterative decoder")
    func raisedDepthLimitIsHonoured() throws {
        let depth = 1000
        let bytes = Array(repeating: UInt8(0x81), count: depth) + [0xf6]
        let limits = CBORDecodingLimits(maxDepth: depth)
        var value = try CBORDecoder.decode(bytes, limits: limits)
        for _ in 0..<depth {
            value = try #require(value.arrayValue?.first)
        }
        #expect(value == .null)
        #expect(throws: CBORError(.tooMuchNesting, offset: depth)) {
            try CBORDecoder.decode(bytes, limits: CBORDecodingLimits(maxDepth: depth - 1))
        }
    }

    @Test("A negative depth limit rejects even a scalar, as Chromium's max_nesting_level < 0 does")
    func negativeDepthLimitRejectsEverything() {
        #expect(throws: CBORError(.tooMuchNesting, offset: 0)) {
            try CBORDecoder.decode([0x00], limits: CBORDecodingLimits(maxDepth: -1))
        }
    }

    @Test("A declared length is checked against the remaining bytes before anything is allocated")
    func declaredLengthsAreCheckedBeforeAllocating() {
        // 2^63 - 1 bytes, 2^32 elements, 2^64 - 1 entries: each must fail at once.
        let heads: [[UInt8]] = [
            [0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            [0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
            [0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ]
        for head in heads {
            let bytes = head + Array(repeating: 0, count: 1000)
            #expect(throws: CBORError(.incompleteData, offset: bytes.count)) { try CBORDecoder.decode(bytes) }
        }
    }

    // MARK: - Model details

    @Test("Text is kept byte for byte: precomposed and decomposed forms stay distinct")
    func textIsKeptByteForByte() throws {
        let precomposed = try CBORDecoder.decode([0x62, 0xc3, 0xa9])
        let decomposed = try CBORDecoder.decode([0x63, 0x65, 0xcc, 0x81])
        #expect(precomposed != decomposed)
        #expect(CBOREncoder.encode(decomposed) == [0x63, 0x65, 0xcc, 0x81])
        // As map keys they are different keys, in canonical (shorter first) order.
        let map = try CBORDecoder.decode([0xa2, 0x62, 0xc3, 0xa9, 0x00, 0x63, 0x65, 0xcc, 0x81, 0x01])
        #expect(map.mapValue?.count == 2)
    }

    @Test("Decoding through CBORValue(decoding:) accepts any byte collection")
    func valueInitializerAcceptsSlices() throws {
        let bytes: [UInt8] = [0xff, 0x82, 0x01, 0x20, 0xff]
        #expect(try CBORValue(decoding: bytes[1..<4]) == [1, -1])
    }

    // MARK: - Fixtures

    /// A makeCredential-shaped request with enough bulk to make truncation thorough.
    static func largeCTAPLikeMap() -> CBORValue {
        let challenge = CBORValue.byteString((0..<32).map { UInt8($0) })
        let excludeList = CBORValue.array(
            (0..<40).map { index in
                ["type": "public-key", "id": .byteString(Array(repeating: UInt8(index), count: 64))]
            }
        )
        return [
            1: challenge,
            2: ["id": "example.com", "name": "Example ✓"],
            3: ["id": .byteString([1, 2, 3, 4]), "name": "user@example.com", "displayName": "Ünïcödé Üser"],
            4: [
                ["alg": -7, "type": "public-key"], ["alg": -257, "type": "public-key"],
                ["alg": -8, "type": "public-key"],
            ],
            5: excludeList,
            6: ["credProtect": 2, "hmac-secret": true],
            7: ["rk": true, "uv": false],
            8: .byteString(Array(repeating: 0xab, count: 16)),
            9: 2,
            0x1234: .null,
            -1: .undefined,
            -70_000: 0x7fff_ffff_ffff_ffff,
            .integer(.min): .integer(.min),
        ]
    }
}

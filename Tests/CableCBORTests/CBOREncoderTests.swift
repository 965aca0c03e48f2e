import CableCBOR
import CableTestSupport
import Testing

@Suite("CBOREncoder")
struct CBOREncoderTests {
    @Test(
        "Every valid vector's value encodes to exactly the vector's bytes",
        arguments: try CBORVectorFile.all().filter(\.isValid)
    )
    func encodesValidVectorsByteForByte(vector: CBORVector) throws {
        let value = try #require(vector.expected.value).cbor
        #expect(hexString(CBOREncoder.encode(value)) == vector.input.cbor)
        #expect(hexString(value.encoded) == vector.input.cbor)
    }

    /// Size of an item head for `argument`, from the table in RFC 8949 §3 (additional information 0–27).
    private static func headSize(forArgument argument: UInt64) -> Int {
        switch argument {
        case 0..<24: return 1
        case 24...0xff: return 2
        case 0x100...0xffff: return 3
        case 0x1_0000...0xffff_ffff: return 5
        default: return 9
        }
    }

    @Test(
        "Integers use the shortest head on both sides of every width boundary",
        arguments: [
            0, 23, 24, 255, 256, 65_535, 65_536, 4_294_967_295, 4_294_967_296, Int64.max,
            -1, -24, -25, -256, -257, -65_536, -65_537, -4_294_967_296, -4_294_967_297, Int64.min,
        ] as [Int64]
    )
    func integersUseShortestHeads(integer: Int64) throws {
        let bytes = CBOREncoder.encode(.integer(integer))
        let majorType: UInt8 = integer >= 0 ? 0 : 1
        let argument = integer >= 0 ? UInt64(integer) : UInt64(-1 - integer)
        #expect(bytes.first.map { $0 >> 5 } == majorType)
        #expect(bytes.count == Self.headSize(forArgument: argument))
        #expect(try CBORDecoder.decode(bytes) == .integer(integer))
    }

    @Test(
        "String lengths and container counts use the shortest head",
        arguments: [0, 23, 24, 255, 256, 65_535, 65_536]
    )
    func lengthsAndCountsUseShortestHeads(count: Int) throws {
        let headSize = Self.headSize(forArgument: UInt64(count))
        let cases: [(value: CBORValue, majorType: UInt8, bodySize: Int)] = [
            (.byteString(Array(repeating: 0x5a, count: count)), 2, count),
            (.textString(String(repeating: "z", count: count)), 3, count),
            (.array(Array(repeating: .integer(0), count: count)), 4, count),
            (.map(CBORMap(uniqueKeysWithValues: (0..<count).map { (.integer(Int64($0)), CBORValue.null) })), 5, -1),
        ]
        for (value, majorType, bodySize) in cases {
            let bytes = CBOREncoder.encode(value)
            #expect(bytes.first.map { $0 >> 5 } == majorType)
            if bodySize >= 0 {
                #expect(bytes.count == headSize + bodySize)
            }
            // The largest map here holds 131 073 items, beyond the default item limit.
            #expect(try CBORDecoder.decode(bytes, limits: CBORDecodingLimits(maxItems: 1 << 18)) == value)
        }
    }

    @Test("Text is written as its exact UTF-8, without normalization")
    func textIsWrittenAsItsExactUTF8() {
        let decomposed = "e\u{301}"
        #expect(CBOREncoder.encode(.textString(decomposed)) == [0x63, 0x65, 0xcc, 0x81])
        #expect(CBOREncoder.encode(.textString("\u{e9}")) == [0x62, 0xc3, 0xa9])
    }

    @Test("Random values encode to bytes the strict decoder accepts and decodes back to the same value")
    func randomValuesRoundTripThroughTheStrictDecoder() throws {
        var rng = DeterministicRNG(seed: 0xE4C0_DE00)
        for _ in 0..<500 {
            let value = Self.randomValue(depth: 0, using: &rng)
            let bytes = CBOREncoder.encode(value)
            let decoded = try CBORDecoder.decode(bytes)
            #expect(decoded == value)
            #expect(CBOREncoder.encode(decoded) == bytes)
        }
    }

    // MARK: - Random values

    static func randomInteger(using rng: inout DeterministicRNG) -> Int64 {
        // Spread over every head width rather than almost always 8 bytes.
        let bits = Int64(Int.random(in: 0...63, using: &rng))
        let magnitude = Int64.random(in: 0...Int64.max, using: &rng) >> (63 - bits)
        return Bool.random(using: &rng) ? magnitude : -1 - magnitude
    }

    static func randomText(using rng: inout DeterministicRNG) -> String {
        let alphabet: [Character] = ["a", "z", "0", " ", "é", "e\u{301}", "水", "😀", "\u{0}", "\u{fdcf}"]
        return String((0..<Int.random(in: 0...6, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? "a" })
    }

    static func randomBytes(maxCount: Int, using rng: inout DeterministicRNG) -> [UInt8] {
        (0..<Int.random(in: 0...maxCount, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    static func randomKey(using rng: inout DeterministicRNG) -> CBORValue {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return .integer(Self.randomInteger(using: &rng))
        case 1: return .byteString(Self.randomBytes(maxCount: 4, using: &rng))
        default: return .textString(Self.randomText(using: &rng))
        }
    }

    static func randomValue(depth: Int, using rng: inout DeterministicRNG) -> CBORValue {
        let choice = Int.random(in: 0..<(depth < 4 ? 8 : 6), using: &rng)
        switch choice {
        case 0: return .integer(Self.randomInteger(using: &rng))
        case 1: return .byteString(Self.randomBytes(maxCount: 40, using: &rng))
        case 2: return .textString(Self.randomText(using: &rng))
        case 3: return .bool(Bool.random(using: &rng))
        case 4: return Bool.random(using: &rng) ? .null : .undefined
        case 5: return Self.randomKey(using: &rng)
        case 6:
            let count = Int.random(in: 0...5, using: &rng)
            return .array((0..<count).map { _ in Self.randomValue(depth: depth + 1, using: &rng) })
        default:
            var map = CBORMap()
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                map[Self.randomKey(using: &rng)] = Self.randomValue(depth: depth + 1, using: &rng)
            }
            return .map(map)
        }
    }
}

import CableCBOR
import CableTestSupport
import Testing

@Suite("CBORMap canonical order")
struct CBORMapTests {
    @Test("Keys of every map in the vectors, inserted in any order, come out in the order the source lists them")
    func vectorMapsKeepTheirListedOrder() throws {
        var rng = DeterministicRNG(seed: 0x0DE7_0001)
        var checkedMaps = 0
        for vector in try CBORVectorFile.all() where vector.isValid {
            let value = try #require(vector.expected.value)
            for listedKeys in value.listedMapKeyOrders where listedKeys.count > 1 {
                for (earlier, later) in zip(listedKeys, listedKeys.dropFirst()) {
                    #expect(CBORMap.canonicalOrder(earlier, later) < 0, "\(vector.id)")
                    #expect(CBORMap.canonicalOrder(later, earlier) > 0, "\(vector.id)")
                }
                for _ in 0..<5 {
                    var map = CBORMap()
                    for key in listedKeys.shuffled(using: &rng) {
                        map[key] = .null
                    }
                    #expect(map.entries.map(\.key) == listedKeys, "\(vector.id)")
                }
                checkedMaps += 1
            }
        }
        #expect(checkedMaps >= 15)
    }

    @Test("Canonical order is major type, then encoded length, then encoded bytes, for mixed random keys")
    func canonicalOrderMatchesTheEncodings() {
        var rng = DeterministicRNG(seed: 0x0DE7_0002)
        let keys = (0..<300).map { _ in CBOREncoderTests.randomKey(using: &rng) }
        for _ in 0..<5000 {
            guard let a = keys.randomElement(using: &rng), let b = keys.randomElement(using: &rng) else { continue }
            let encodedA = CBOREncoder.encode(a)
            let encodedB = CBOREncoder.encode(b)
            #expect(CBORMap.canonicalOrder(a, b).signum() == Self.compareEncodings(encodedA, encodedB))
            #expect(CBORMap.canonicalOrder(a, b) == -CBORMap.canonicalOrder(b, a))
        }
    }

    /// The CTAP2 rule stated on encodings (CTAP2 §8, RFC 7049 errata 4409).
    private static func compareEncodings(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let majorA = a[0] >> 5
        let majorB = b[0] >> 5
        if majorA != majorB { return majorA < majorB ? -1 : 1 }
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        if a == b { return 0 }
        return a.lexicographicallyPrecedes(b) ? -1 : 1
    }

    @Test("An unsigned key sorts before a negative one even when its encoding is longer")
    func majorTypeSortsBeforeLength() throws {
        var map = CBORMap()
        map[-1] = 0
        map[24] = 0
        #expect(map.entries.map(\.key) == [.integer(24), .integer(-1)])
        // The same order is the only one the decoder accepts (see the key_order_ctap2_* vectors).
        #expect(try CBORDecoder.decode(CBOREncoder.encode(.map(map))) == .map(map))
    }

    @Test("Writing an existing key replaces its value; writing nil removes it; order is kept")
    func subscriptReplacesAndRemoves() {
        var map = CBORMap()
        map["b"] = 1
        map[3] = 2
        map["a"] = 3
        map[3] = 4
        #expect(map.count == 3)
        #expect(map[3] == 4)
        map["b"] = nil
        #expect(map.entries.map(\.key) == [.integer(3), .textString("a")])
        map["missing"] = nil
        #expect(map.count == 2)
        #expect(map[.byteString([])] == nil)
    }

    @Test("Keys that differ only in Unicode normalization are different keys")
    func normalizationVariantsAreDistinctKeys() {
        var map = CBORMap()
        map["\u{e9}"] = 1
        map["e\u{301}"] = 2
        #expect(map.count == 2)
        #expect(map["\u{e9}"] == 1)
        #expect(map["e\u{301}"] == 2)
    }

    @Test("Maps built in different orders are equal and hash equally")
    func insertionOrderDoesNotAffectEquality() {
        let pairs: [(CBORValue, CBORValue)] = [(1, "x"), ("k", .null), (.byteString([9]), [1, 2])]
        let forward = CBORMap(uniqueKeysWithValues: pairs)
        let backward = CBORMap(uniqueKeysWithValues: pairs.reversed())
        #expect(forward == backward)
        #expect(forward.hashValue == backward.hashValue)
        #expect(Set([CBORValue.map(forward), .map(backward)]).count == 1)
    }
}

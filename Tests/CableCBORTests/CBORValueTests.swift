import CableCBOR
import Testing

@Suite("CBORValue")
struct CBORValueTests {
    @Test("Text equality is byte-wise, unlike String's canonical equivalence")
    func textEqualityIsByteWise() {
        #expect("\u{e9}" == "e\u{301}" as String)
        #expect(CBORValue.textString("\u{e9}") != .textString("e\u{301}"))
        #expect(Set<CBORValue>([.textString("\u{e9}"), .textString("e\u{301}")]).count == 2)
    }

    @Test("Values of different kinds are never equal, even when their contents look alike")
    func differentKindsAreUnequal() {
        let values: [CBORValue] = [
            .integer(0), .byteString([]), .textString(""), .array([]), .map(CBORMap()), .bool(false), .null, .undefined,
        ]
        for (i, a) in values.enumerated() {
            for (j, b) in values.enumerated() {
                #expect((a == b) == (i == j))
            }
        }
        #expect(Set(values).count == values.count)
    }

    @Test("Accessors return the payload of their own case only")
    func accessorsMatchTheirCase() {
        let value: CBORValue = [1: "a"]
        #expect(value.mapValue?[1]?.textValue == "a")
        #expect(value.arrayValue == nil)
        #expect(CBORValue.integer(-5).integerValue == -5)
        #expect(CBORValue.byteString([7]).bytesValue == [7])
        #expect(CBORValue.bool(true).boolValue == true)
        #expect(CBORValue.null.integerValue == nil)
    }

    @Test("The description is diagnostic notation that never shows a byte string's contents")
    func descriptionRedactsByteStrings() {
        let secret: [UInt8] = [0xde, 0xad, 0xbe, 0xef]
        let value: CBORValue = [1: .byteString(secret), "k": [-2, "t", true, .null, .undefined]]
        let description = value.description
        #expect(!description.lowercased().contains("dead"))
        #expect(!description.contains("222"))  // 0xde in decimal
        #expect(description.contains("<4 bytes>"))
        #expect(description.contains("-2"))
        #expect(String(reflecting: value) == description)
        #expect(
            !CBORMap(uniqueKeysWithValues: [(CBORValue.integer(1), CBORValue.byteString(secret))]).description
                .contains("222")
        )
    }
}

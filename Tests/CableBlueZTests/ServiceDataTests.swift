import CableProtocol
import Testing

@testable import CableBlueZ

/// Reading `Device1` properties as a stranger wrote them: only a 20-byte caBLE service data passes.
@Suite struct ServiceDataTests {
    static let advert = [UInt8](0..<20)
    static let fff9 = BlueZ.fidoServiceUUID
    static let fde2 = BlueZ.legacyServiceUUID

    static func serviceData(_ pairs: [(String, DBusValue)]) -> DBusValue { .properties(pairs) }

    @Test func aTwentyByteFFF9EntryBecomesOneServiceDataStructure() throws {
        let bytes = try #require(
            BlueZ.advertisingData(fromServiceData: Self.serviceData([(Self.fff9, .bytes(Self.advert))]))
        )
        #expect(bytes == [0x17, 0x16, 0xF9, 0xFF] + Self.advert)
        // What the desktop's session then reads from it.
        #expect(try AdvertisingData(bytes: bytes).cableAdvert == Self.advert)
    }

    @Test func fde2ComesFirstAsChromiumReadsIt() throws {
        let other = [UInt8](repeating: 9, count: 20)
        let bytes = try #require(
            BlueZ.advertisingData(
                fromServiceData: Self.serviceData([(Self.fff9, .bytes(other)), (Self.fde2, .bytes(Self.advert))])
            )
        )
        #expect(bytes == [0x17, 0x16, 0xE2, 0xFD] + Self.advert)
        // An FDE2 entry of the wrong length hides FFF9, as in Chromium (it does not fall back).
        #expect(
            BlueZ.advertisingData(
                fromServiceData: Self.serviceData([(Self.fde2, .bytes([1, 2, 3])), (Self.fff9, .bytes(Self.advert))])
            ) == nil
        )
    }

    @Test func upperCaseUUIDsAndAVariantWrappedDictionaryAreRead() {
        let value = DBusValue.variant(Self.serviceData([(Self.fff9.uppercased(), .bytes(Self.advert))]))
        #expect(BlueZ.advertisingData(fromServiceData: value) != nil)
    }

    @Test(arguments: [0, 1, 19, 21, 31, 255])
    func otherLengthsAreIgnored(length: Int) {
        let data = [UInt8](repeating: 0xAB, count: length)
        #expect(BlueZ.advertisingData(fromServiceData: Self.serviceData([(Self.fff9, .bytes(data))])) == nil)
    }

    @Test func wrongTypesAreIgnored() {
        let wrong: [DBusValue] = [
            .string("not a dictionary"),
            .bytes(Self.advert),
            Self.serviceData([(Self.fff9, .string(String(repeating: "x", count: 20)))]),
            Self.serviceData([(Self.fff9, .array(elementSignature: "q", (0..<20).map { .uint16($0) }))]),
            // A variant in a variant: read.
            Self.serviceData([(Self.fff9, .variant(.bytes(Self.advert)))]).unwrappedForTest,
            .dictionary(
                keySignature: "u",
                valueSignature: "v",
                [DBusDictEntry(key: .uint32(0xFFF9), value: .variant(.bytes(Self.advert)))]
            ),
            Self.serviceData([("0000180f-0000-1000-8000-00805f9b34fb", .bytes(Self.advert))]),
        ]
        let results = wrong.map { BlueZ.advertisingData(fromServiceData: $0) }
        // Only the doubly wrapped variant holds the right bytes; every other shape is refused.
        #expect(results.map { $0 != nil } == [false, false, false, false, true, false, false])
    }

    @Test func aRepeatedKeyKeepsItsFirstValue() {
        let value = DBusValue.dictionary(
            keySignature: "s",
            valueSignature: "v",
            [
                DBusDictEntry(key: .string(Self.fff9), value: .variant(.bytes([1]))),
                DBusDictEntry(key: .string(Self.fff9), value: .variant(.bytes(Self.advert))),
            ]
        )
        #expect(BlueZ.advertisingData(fromServiceData: value) == nil)
    }

    @Test func signalsAreReadOnlyForDevicesUnderTheAdapter() {
        let props = DBusValue.properties([("ServiceData", Self.serviceData([(Self.fff9, .bytes(Self.advert))]))])
        let added = DBusSignal(
            sender: ":1.1",
            path: "/",
            interface: BlueZ.objectManagerInterface,
            member: "InterfacesAdded",
            arguments: [
                .objectPath("/org/bluez/hci0/dev_00"),
                .dictionary(
                    keySignature: "s",
                    valueSignature: "a{sv}",
                    [DBusDictEntry(key: .string(BlueZ.deviceInterface), value: props)]
                ),
            ]
        )
        #expect(BlueZScanner.advertisingData(from: added, under: "/org/bluez/hci0/") != nil)
        #expect(BlueZScanner.advertisingData(from: added, under: "/org/bluez/hci1/") == nil)
        let changed = DBusSignal(
            sender: ":1.1",
            path: "/org/bluez/hci0/dev_00",
            interface: BlueZ.propertiesInterface,
            member: "PropertiesChanged",
            arguments: [.string(BlueZ.deviceInterface), props, .array(elementSignature: "s", [])]
        )
        #expect(BlueZScanner.advertisingData(from: changed, under: "/org/bluez/hci0/") != nil)
        // Another interface's change, or arguments of the wrong types, are nothing.
        let otherInterface = DBusSignal(
            sender: ":1.1",
            path: "/org/bluez/hci0/dev_00",
            interface: BlueZ.propertiesInterface,
            member: "PropertiesChanged",
            arguments: [.string("org.bluez.Battery1"), props]
        )
        #expect(BlueZScanner.advertisingData(from: otherInterface, under: "/org/bluez/hci0/") == nil)
        let wrongTypes = DBusSignal(
            sender: ":1.1",
            path: "/",
            interface: BlueZ.objectManagerInterface,
            member: "InterfacesAdded",
            arguments: [.string("/org/bluez/hci0/dev_00"), props]
        )
        #expect(BlueZScanner.advertisingData(from: wrongTypes, under: "/org/bluez/hci0/") == nil)
        #expect(
            BlueZScanner.advertisingData(
                from: DBusSignal(
                    sender: "",
                    path: "/",
                    interface: BlueZ.objectManagerInterface,
                    member: "InterfacesAdded",
                    arguments: []
                ),
                under: "/"
            ) == nil
        )
    }

    @Test func valuesThatLibdbusWouldAbortOnAreRefusedBeforeWriting() {
        #expect(throws: DBusMessageCoding.Unwritable.self) { try DBusMessageCoding.validate(.objectPath("not/a/path")) }
        #expect(throws: DBusMessageCoding.Unwritable.self) { try DBusMessageCoding.validate(.string("nul\u{0}inside")) }
        #expect(throws: DBusMessageCoding.Unwritable.self) {
            try DBusMessageCoding.validate(.array(elementSignature: "y", [.string("x")]))
        }
        #expect(throws: DBusMessageCoding.Unwritable.self) {
            try DBusMessageCoding.validate(.dictionary(keySignature: "v", valueSignature: "v", []))
        }
        #expect(throws: DBusMessageCoding.Unwritable.self) { try DBusMessageCoding.validate(.structure([])) }
        #expect(throws: Never.self) { try DBusMessageCoding.validate(.properties([("Type", .string("broadcast"))])) }
    }
}

extension DBusValue {
    /// Wraps every dictionary value in one more variant, as a confused peer might.
    fileprivate var unwrappedForTest: DBusValue {
        guard case .dictionary(let k, let v, let entries) = self else { return self }
        return .dictionary(
            keySignature: k,
            valueSignature: v,
            entries.map { DBusDictEntry(key: $0.key, value: .variant($0.value)) }
        )
    }
}

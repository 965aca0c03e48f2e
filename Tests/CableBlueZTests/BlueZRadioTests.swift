import CableLocking
import CableProtocol
import Foundation
import Testing

@testable import CableBlueZ

/// The scanner and the advertiser against a private `dbus-daemon` with a stand-in BlueZ
/// (dbus-next, so the wire format is checked by a D-Bus implementation of other authors).
@Suite(.serialized, .timeLimit(.minutes(3))) struct BlueZRadioTests {
    static let fff9 = BlueZ.fidoServiceUUID

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    static func advert(_ seed: UInt8) -> [UInt8] { (0..<20).map { seed &+ UInt8($0) } }
    static func quoted(_ s: String) -> String { "\"" + s + "\"" }
    static func command(_ op: String, _ path: String, _ props: String) -> String {
        #"{"op": "\#(op)", "path": "\#(path)", "props": \#(props)}"#
    }
    static func serviceDataJSON(_ entries: [(String, String, String)]) -> String {
        // (uuid, sig, value) → {"ServiceData": {"sig": "a{sv}", "value": {uuid: {"sig":…, "value":…}}}}
        let inner = entries.map { #""\#($0.0)": {"sig": "\#($0.1)", "value": \#($0.2)}"# }.joined(separator: ", ")
        return #"{"ServiceData": {"sig": "a{sv}", "value": {\#(inner)}}}"#
    }

    /// Collects adverts from a scanner in the background.
    final class Collector: Sendable {
        private let got = LockedBox()
        private let task: Task<Void, Never>
        init(_ scanner: BlueZScanner) {
            let stream = scanner.adverts()
            let got = self.got
            self.task = Task {
                for await a in stream { got.append(a) }
                got.finish()
            }
        }
        var adverts: [[UInt8]] { self.got.values }
        var ended: Bool { self.got.isFinished }
        func waitFor(count: Int, timeout: Duration = .seconds(20)) async throws {
            let deadline = ContinuousClock.now + timeout
            while self.adverts.count < count {
                guard ContinuousClock.now < deadline else { throw RigFailure("only \(self.adverts.count) adverts") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        func waitForEnd(timeout: Duration = .seconds(20)) async throws {
            let deadline = ContinuousClock.now + timeout
            while !self.ended {
                guard ContinuousClock.now < deadline else { throw RigFailure("the advert stream did not end") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func scannerReadsPresentAndLaterAdvertsAndIgnoresMalformedOnes() async throws {
        let present = Self.advert(0x10)
        let devices = """
            [{"path": "dev_01", "props": \(Self.serviceDataJSON([(Self.fff9, "ay", Self.quoted(Self.hex(present)))]))},
             {"path": "dev_02", "props": \(Self.serviceDataJSON([(Self.fff9, "ay", Self.quoted(Self.hex([1, 2, 3])))]))},
             {"path": "dev_03", "props": {"ServiceData": {"sig": "s", "value": "junk"}}}]
            """
        let rig = try await BusRig(devices: devices)
        defer { rig.stop() }
        let scanner = try await BlueZScanner.start(address: rig.address)
        #expect(scanner.adapter == "hci0")
        // A subscriber that comes late still gets the devices present when discovery started.
        try await Task.sleep(for: .milliseconds(200))
        let collector = Collector(scanner)
        try await collector.waitFor(count: 1)

        // Strangers first: wrong variant types, wrong lengths, other UUIDs, nonsense property types.
        let other = "0000180f-0000-1000-8000-00805f9b34fb"
        let malformed = [
            Self.command(
                "add",
                "dev_10",
                Self.serviceDataJSON([(Self.fff9, "s", Self.quoted("aaaaaaaaaaaaaaaaaaaa"))])
            ),
            Self.command(
                "add",
                "dev_11",
                Self.serviceDataJSON([(Self.fff9, "ay", Self.quoted(Self.hex(Array(repeating: 7, count: 21))))])
            ),
            Self.command(
                "change",
                "dev_11",
                Self.serviceDataJSON([(Self.fff9, "ay", Self.quoted(Self.hex(Array(repeating: 7, count: 19))))])
            ),
            Self.command(
                "change",
                "dev_11",
                Self.serviceDataJSON([(other, "ay", Self.quoted(Self.hex(Self.advert(0x70))))])
            ),
            Self.command("change", "dev_12", #"{"ServiceData": {"sig": "u", "value": 65529}}"#),
            Self.command("change", "dev_12", Self.serviceDataJSON([(Self.fff9, "aq", "[1, 2, 3]")])),
            // A device outside the adapter's path is not this adapter's.
            Self.command(
                "add",
                "/org/bluez/hci9/dev_13",
                Self.serviceDataJSON([(Self.fff9, "ay", Self.quoted(Self.hex(Self.advert(0x90))))])
            ),
        ]
        for m in malformed { try await rig.inject(m) }
        // Then good adverts: one through PropertiesChanged, one through InterfacesAdded.
        let later = Self.advert(0x30)
        let added = Self.advert(0x50)
        try await rig.inject(
            Self.command("change", "dev_01", Self.serviceDataJSON([(Self.fff9, "ay", Self.quoted(Self.hex(later)))]))
        )
        try await rig.inject(
            Self.command("add", "dev_20", Self.serviceDataJSON([(Self.fff9, "ay", Self.quoted(Self.hex(added)))]))
        )
        try await collector.waitFor(count: 3)
        await scanner.close()
        try await collector.waitForEnd()

        let cable = collector.adverts.map { try? AdvertisingData(bytes: $0).cableAdvert }
        #expect(cable == [present, later, added], "only the three 20-byte FFF9 adverts, in order")

        let members = rig.members()
        let filter = try #require(
            rig.calls().first { $0["member"] as? String == "SetDiscoveryFilter" }?["filter"] as? [String: Any]
        )
        #expect(filter["Transport"] as? String == "le")
        #expect(filter["DuplicateData"] as? Bool == true)
        #expect(filter["UUIDs"] == nil, "a UUID filter makes BlueZ deliver nothing")
        let start = try #require(members.firstIndex(of: "StartDiscovery"))
        let stop = try #require(members.lastIndex(of: "StopDiscovery"))
        #expect((members.firstIndex(of: "SetDiscoveryFilter") ?? Int.max) < start)
        #expect(start < stop)
    }

    @Test func theScannerStopsDiscoveryOnceAndClosingTwiceIsHarmless() async throws {
        let rig = try await BusRig()
        defer { rig.stop() }
        let scanner = try await BlueZScanner.start(address: rig.address)
        await scanner.close()
        await scanner.close()
        #expect(rig.members().filter { $0 == "StopDiscovery" }.count == 1)
    }

    @Test func aScopedScanStopsDiscoveryWhenItsScopeEndsOrThrows() async throws {
        struct Stop: Error {}
        let rig = try await BusRig()
        defer { rig.stop() }
        let stream = try await withBlueZScanner(address: rig.address) { scanner in scanner.adverts() }
        #expect(rig.members().filter { $0 == "StopDiscovery" }.count == 1)
        for await _ in stream {}  // ended with the scope
        await #expect(throws: Stop.self) {
            try await withBlueZScanner(address: rig.address) { _ in throw Stop() }
        }
        #expect(rig.members().filter { $0 == "StopDiscovery" }.count == 2)
    }

    @Test func theAdvertStreamEndsWhenTheBusGoesAway() async throws {
        let rig = try await BusRig()
        defer { rig.stop() }
        let scanner = try await BlueZScanner.start(address: rig.address)
        let collector = Collector(scanner)
        rig.killBus()
        try await collector.waitForEnd()
        await scanner.close()  // bounded: the connection is already gone
    }

    @Test func aDeviceThatVanishesMidScanChangesNothing() async throws {
        let rig = try await BusRig()
        defer { rig.stop() }
        let scanner = try await BlueZScanner.start(address: rig.address)
        let collector = Collector(scanner)
        rig.killBlueZ()  // bluetoothd gone: its devices with it; the scanner just hears nothing more
        try await Task.sleep(for: .milliseconds(200))
        #expect(collector.adverts.isEmpty)
        #expect(!collector.ended)
        await scanner.close()  // StopDiscovery fails (nobody owns org.bluez) but close still returns
        try await collector.waitForEnd()
    }

    // MARK: Failures, each naming what to do

    @Test func noSystemBus() async throws {
        let error = await #expect(throws: BlueZError.self) {
            _ = try await BlueZScanner.start(address: "unix:path=/nonexistent/cable-test-bus")
        }
        #expect(error?.code == .noSystemBus)
        #expect(error?.reason.contains("systemctl start dbus") == true)
    }

    @Test func noBlueZOnTheBus() async throws {
        let rig = try await BusRig(scenario: nil)
        defer { rig.stop() }
        let error = await #expect(throws: BlueZError.self) { _ = try await BlueZScanner.start(address: rig.address) }
        #expect(error?.code == .bluezNotRunning)
        #expect(error?.reason.contains("systemctl start bluetooth") == true)
        let advertiserError = await #expect(throws: BlueZError.self) {
            _ = try await BlueZAdvertiser.open(address: rig.address)
        }
        #expect(advertiserError?.code == .bluezNotRunning)
    }

    @Test func noAdapter() async throws {
        let rig = try await BusRig(scenario: "no-adapter")
        defer { rig.stop() }
        let error = await #expect(throws: BlueZError.self) { _ = try await BlueZScanner.start(address: rig.address) }
        #expect(error?.code == .noAdapter)
        #expect(error?.reason.contains("bluetoothctl list") == true)
        #expect(try await BlueZ.adapters(address: rig.address).isEmpty)
    }

    @Test func adapterPoweredOff() async throws {
        let rig = try await BusRig(scenario: "powered-off")
        defer { rig.stop() }
        let error = await #expect(throws: BlueZError.self) { _ = try await BlueZScanner.start(address: rig.address) }
        #expect(error?.code == .adapterPoweredOff)
        #expect(error?.reason.contains("rfkill unblock bluetooth") == true)
        #expect(error?.reason.contains("bluetoothctl power on") == true)
        #expect(!rig.members().contains("StartDiscovery"), "nothing is started on an adapter that is off")
        let advertiserError = await #expect(throws: BlueZError.self) {
            _ = try await BlueZAdvertiser.open(address: rig.address)
        }
        #expect(advertiserError?.code == .adapterPoweredOff)
    }

    @Test func permissionDenied() async throws {
        let rig = try await BusRig(policy: .denyBlueZ)
        defer { rig.stop() }
        let error = await #expect(throws: BlueZError.self) { _ = try await BlueZScanner.start(address: rig.address) }
        #expect(error?.code == .permissionDenied)
        #expect(error?.dbusErrorName == "org.freedesktop.DBus.Error.AccessDenied")
        #expect(error?.reason.contains("`bluetooth` group") == true)
    }

    // MARK: The advertiser

    @Test func theAdvertiserRegistersOnceReadsBackAsBlueZDoesAndUnregisters() async throws {
        let rig = try await BusRig()
        defer { rig.stop() }
        let advertiser = try await BlueZAdvertiser.open(address: rig.address)
        #expect(advertiser.adapter == "hci0")
        let advert = Self.advert(0xA0)
        let data = AdvertisingData.phoneAdvert(advert).bytes
        for _ in 0..<4 { try await advertiser.transmit(data) }
        #expect(
            rig.members().filter { $0 == "RegisterAdvertisement" }.count == 1,
            "BlueZ repeats a registered advert by itself"
        )
        let read = try #require(rig.calls().first { $0["member"] as? String == "advert-read" })
        #expect(read["type"] as? String == "broadcast")
        #expect(read["serviceData"] as? [String: String] == [Self.fff9: Self.hex(advert)])
        #expect(read["properties"] as? [String] == ["ServiceData", "Type"])
        // bluetoothd read it with GetAll before answering RegisterAdvertisement.
        let members = rig.members()
        #expect(
            (members.firstIndex(of: "RegisterAdvertisement") ?? Int.max) < (members.firstIndex(of: "advert-read") ?? -1)
        )

        // A new advert replaces the old one: never two at once.
        let next = Self.advert(0xB0)
        try await advertiser.transmit(AdvertisingData.phoneAdvert(next).bytes)
        #expect(rig.members().filter { $0 == "UnregisterAdvertisement" }.count == 1)
        #expect(rig.members().filter { $0 == "RegisterAdvertisement" }.count == 2)

        await advertiser.close()
        await advertiser.close()
        #expect(rig.members().filter { $0 == "UnregisterAdvertisement" }.count == 2)
        #expect(await advertiser.permanentFailure() == nil)
    }

    @Test func advertisingDataWithoutACableAdvertIsRefused() async throws {
        let rig = try await BusRig()
        defer { rig.stop() }
        let advertiser = try await BlueZAdvertiser.open(address: rig.address)
        for bad in [[], [0x02, 0x01, 0x1A], [0x17, 0x16, 0xF9], AdvertisingData.phoneAdvert([1, 2, 3]).bytes]
            as [[UInt8]]
        {
            await #expect(throws: BlueZError(.invalidAdvert, "")) { try await advertiser.transmit(bad) }
        }
        #expect(!rig.members().contains("RegisterAdvertisement"))
        await advertiser.close()
    }

    @Test func aRefusedAdvertisementIsAPermanentFailure() async throws {
        let rig = try await BusRig(scenario: "advert-refused")
        defer { rig.stop() }
        let advertiser = try await BlueZAdvertiser.open(address: rig.address)
        let data = AdvertisingData.phoneAdvert(Self.advert(1)).bytes
        await #expect(throws: BlueZError(.advertisingUnavailable, "")) { try await advertiser.transmit(data) }
        await #expect(throws: BlueZError(.advertisingUnavailable, "")) { try await advertiser.transmit(data) }
        #expect(rig.members().filter { $0 == "RegisterAdvertisement" }.count == 1, "no retry after a refusal")
        #expect(await advertiser.permanentFailure()?.code == .advertisingUnavailable)
        await advertiser.close()
    }

    @Test func anAdapterWithoutLEAdvertisingIsNamed() async throws {
        let rig = try await BusRig(scenario: "no-advertising")
        defer { rig.stop() }
        let error = await #expect(throws: BlueZError.self) { _ = try await BlueZAdvertiser.open(address: rig.address) }
        #expect(error?.code == .advertisingUnavailable)
        #expect(error?.reason.contains("hci0") == true)
    }

    @Test func callsOnOtherPathsAndMethodsOfTheAdvertisementAreAnsweredWithErrors() async throws {
        let rig = try await BusRig()
        defer { rig.stop() }
        let advertiser = try await BlueZAdvertiser.open(address: rig.address)
        // Another client pokes at the advertiser's connection: every call gets a D-Bus error
        // reply, none crashes it or goes unanswered.
        let prober = try await DBusConnection.open(address: rig.address)
        let target = try #require(await Self.uniqueNameOwningNothing(prober, excluding: prober.uniqueName, rig: rig))
        for (path, interface, member, args) in [
            ("/org/swiftcable/advertisement0", "org.freedesktop.DBus.Properties", "Get", [DBusValue.string("x")]),
            (
                "/org/swiftcable/advertisement0", "org.freedesktop.DBus.Properties", "Get",
                [.string(BlueZ.advertisementInterface), .string("Nope")]
            ),
            ("/org/swiftcable/advertisement0", "org.example.Nothing", "Explode", []),
            ("/elsewhere", "org.freedesktop.DBus.Properties", "GetAll", [.string(BlueZ.advertisementInterface)]),
        ] as [(String, String, String, [DBusValue])] {
            await #expect(throws: DBusCallFailure.self) {
                _ = try await prober.call(
                    DBusCall(destination: target, path: path, interface: interface, member: member, arguments: args)
                )
            }
        }
        let all = try await prober.call(
            DBusCall(
                destination: target,
                path: "/org/swiftcable/advertisement0",
                interface: "org.freedesktop.DBus.Properties",
                member: "GetAll",
                arguments: [.string(BlueZ.advertisementInterface)]
            )
        )
        #expect(all.first?["Type"]?.unwrapped == .string("broadcast"))
        await prober.close()
        await advertiser.close()
    }

    /// The advertiser's unique name: the one connection on the bus that is neither the bus, the
    /// stand-in BlueZ nor the prober.
    static func uniqueNameOwningNothing(_ prober: DBusConnection, excluding: String, rig: BusRig) async -> String? {
        guard
            let names = try? await prober.call(
                DBusCall(
                    destination: "org.freedesktop.DBus",
                    path: "/org/freedesktop/DBus",
                    interface: "org.freedesktop.DBus",
                    member: "ListNames"
                )
            ),
            case .array(_, let values)? = names.first
        else { return nil }
        let bluez = try? await prober.call(
            DBusCall(
                destination: "org.freedesktop.DBus",
                path: "/org/freedesktop/DBus",
                interface: "org.freedesktop.DBus",
                member: "GetNameOwner",
                arguments: [.string("org.bluez")]
            )
        )
        let owner = bluez?.first?.stringValue
        return values.compactMap(\.stringValue).first { $0.hasPrefix(":") && $0 != excluding && $0 != owner }
    }
}

/// Adverts collected by a background task.
final class LockedBox: Sendable {
    private let state = LockedValue<(values: [[UInt8]], finished: Bool)>(([], false))
    func append(_ a: [UInt8]) { self.state.withLock { $0.values.append(a) } }
    func finish() { self.state.withLock { $0.finished = true } }
    var values: [[UInt8]] { self.state.withLock { $0.values } }
    var isFinished: Bool { self.state.withLock { $0.finished } }
}

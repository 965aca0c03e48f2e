import CableProtocol
import Foundation

/// The BlueZ D-Bus API as the radio uses it: names, the adapter lookup, the reading of `Device1`
/// service data and the mapping of D-Bus errors to ``BlueZError``s that say what to do.
public enum BlueZ {
    /// The D-Bus system bus address: `DBUS_SYSTEM_BUS_ADDRESS` when set, as every D-Bus client
    /// does, else the standard socket.
    public static var systemBusAddress: String {
        if let a = ProcessInfo.processInfo.environment["DBUS_SYSTEM_BUS_ADDRESS"], !a.isEmpty { return a }
        return "unix:path=/var/run/dbus/system_bus_socket"
    }

    /// The FIDO service UUID (`0xFFF9`) in BlueZ's 128-bit string form.
    public static let fidoServiceUUID = "0000fff9-0000-1000-8000-00805f9b34fb"
    /// Google's legacy caBLE UUID (`0xFDE2`) in BlueZ's 128-bit string form.
    public static let legacyServiceUUID = "0000fde2-0000-1000-8000-00805f9b34fb"

    static let service = "org.bluez"
    static let adapterInterface = "org.bluez.Adapter1"
    static let deviceInterface = "org.bluez.Device1"
    static let advertisingManagerInterface = "org.bluez.LEAdvertisingManager1"
    static let advertisementInterface = "org.bluez.LEAdvertisement1"
    static let objectManagerInterface = "org.freedesktop.DBus.ObjectManager"
    static let propertiesInterface = "org.freedesktop.DBus.Properties"

    /// How long one call to BlueZ may take before it is a ``BlueZError/Code/timedOut`` error.
    static let callTimeout: Duration = .seconds(10)

    /// An adapter BlueZ offers.
    public struct Adapter: Sendable, Hashable {
        /// Its object path, e.g. `/org/bluez/hci0`.
        public let path: String
        /// Whether its `Powered` property is true.
        public let powered: Bool
        /// Whether it offers `org.bluez.LEAdvertisingManager1` (it can advertise).
        public let canAdvertise: Bool
        /// The last path component, e.g. `hci0`.
        public var name: String { String(self.path.split(separator: "/").last ?? Substring(self.path)) }
    }

    /// Finds BlueZ's adapters on the bus at `address` (for `--radio auto`), without starting anything.
    public static func adapters(address: String = BlueZ.systemBusAddress) async throws(BlueZError) -> [Adapter] {
        let connection = try await DBusConnection.open(address: address)
        do {
            let adapters = try await self.adapters(on: connection)
            await connection.close()
            return adapters
        } catch {
            await connection.close()
            throw error
        }
    }

    static func adapters(on connection: DBusConnection) async throws(BlueZError) -> [Adapter] {
        let reply: [DBusValue]
        do {
            reply = try await connection.call(
                DBusCall(
                    destination: self.service,
                    path: "/",
                    interface: self.objectManagerInterface,
                    member: "GetManagedObjects"
                ),
                timeout: self.callTimeout
            )
        } catch {
            throw self.error(error, doing: "GetManagedObjects")
        }
        guard let objects = reply.first?.stringKeyedEntries else {
            throw BlueZError(.malformedReply, "BlueZ's GetManagedObjects reply is not a{oa{sa{sv}}}")
        }
        var adapters: [Adapter] = []
        for (path, interfaces) in objects {
            guard let adapter = interfaces[self.adapterInterface] else { continue }
            adapters.append(
                Adapter(
                    path: path,
                    powered: adapter["Powered"]?.unwrapped.boolValue == true,
                    canAdvertise: interfaces[self.advertisingManagerInterface] != nil
                )
            )
        }
        return adapters.sorted { $0.path < $1.path }
    }

    /// The adapter to use: `name` (e.g. `hci1`) or the first by path; it must be powered.
    static func chooseAdapter(_ adapters: [Adapter], named name: String?) throws(BlueZError) -> Adapter {
        let candidates = name.map { n in adapters.filter { $0.name == n } } ?? adapters
        guard let adapter = candidates.first(where: \.powered) ?? candidates.first else {
            if let name {
                throw BlueZError(
                    .noAdapter,
                    "BlueZ has no Bluetooth adapter \(name) (it has: \(adapters.map(\.name).joined(separator: ", "))); check `bluetoothctl list`"
                )
            }
            throw BlueZError(
                .noAdapter,
                "BlueZ offers no Bluetooth adapter: plug one in or check `bluetoothctl list` and `rfkill list`; or use --radio udp"
            )
        }
        guard adapter.powered else { throw .poweredOff(adapter.name) }
        return adapter
    }

    // MARK: Service data

    /// The advertising data a scanner hands on for one `Device1`'s `ServiceData` property
    /// (`a{sv}`, UUID → `ay`): the `0xFDE2` entry if present, else `0xFFF9`, and only if it holds
    /// exactly 20 bytes — the rule of Chromium's scanner. Returned as one AD structure (service
    /// data, 16-bit UUID), the shape every advert scanner behind the seam delivers. Anything else —
    /// other UUIDs, wrong variant types, other lengths — is `nil`.
    package static func advertisingData(fromServiceData value: DBusValue) -> [UInt8]? {
        guard let entries = value.unwrapped.stringKeyedEntries else { return nil }
        func bytes(for uuid: String) -> [UInt8]? {
            entries.first { $0.key.lowercased() == uuid }.flatMap { $0.value.unwrapped.byteArray }
        }
        let chosen: (uuid: UInt16, data: [UInt8])
        if let legacy = bytes(for: self.legacyServiceUUID) {
            chosen = (AdvertisingData.legacyGoogleServiceUUID, legacy)
        } else if let fido = bytes(for: self.fidoServiceUUID) {
            chosen = (AdvertisingData.fidoServiceUUID, fido)
        } else {
            return nil
        }
        guard chosen.data.count == CableConstants.advertSize else { return nil }
        let uuid: [UInt8] = [UInt8(chosen.uuid & 0xFF), UInt8(chosen.uuid >> 8)]
        return AdvertisingData(structures: [.init(type: AdvertisingData.serviceData16Type, data: uuid + chosen.data)])
            .bytes
    }

    // MARK: Errors

    /// Maps a failed call to BlueZ to an error that says what to do.
    static func error(_ failure: DBusCallFailure, doing what: String) -> BlueZError {
        switch failure {
        case .timedOut:
            return BlueZError(
                .timedOut,
                "BlueZ did not answer \(what) within \(self.callTimeout): is bluetoothd stuck? (`systemctl restart bluetooth`)"
            )
        case .disconnected:
            return BlueZError(.disconnected, "the D-Bus system bus connection closed during \(what)")
        case .unwritable(let reason):
            return BlueZError(.callFailed, "\(what) could not be sent: \(reason)")
        case .replyTooLarge:
            return BlueZError(.malformedReply, "BlueZ's reply to \(what) exceeds the size this client reads")
        case .errorReply(let reply):
            switch reply.name {
            case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
                return .bluezNotRunning
            case "org.freedesktop.DBus.Error.AccessDenied", "org.bluez.Error.NotAuthorized":
                return .permissionDenied(
                    what,
                    reply.message.isEmpty ? reply.name : reply.message,
                    dbusErrorName: reply.name
                )
            case "org.bluez.Error.NotPermitted" where !reply.message.contains("Maximum advertisements"):
                return .permissionDenied(
                    what,
                    reply.message.isEmpty ? reply.name : reply.message,
                    dbusErrorName: reply.name
                )
            case "org.bluez.Error.NotPermitted":
                return BlueZError(
                    .advertisingUnavailable,
                    "the adapter has no free advertising slot (\(reply.message)): stop other advertisers and try again",
                    dbusErrorName: reply.name
                )
            case "org.bluez.Error.NotReady":
                return BlueZError(
                    .adapterPoweredOff,
                    "BlueZ says the adapter is not ready for \(what): run `rfkill unblock bluetooth` and `bluetoothctl power on`",
                    dbusErrorName: reply.name
                )
            case "org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.UnknownInterface",
                "org.freedesktop.DBus.Error.UnknownObject":
                return BlueZError(
                    .callFailed,
                    "BlueZ does not offer \(what) (\(reply.name)): a newer BlueZ 5 is needed",
                    dbusErrorName: reply.name
                )
            default:
                return BlueZError(
                    .callFailed,
                    "BlueZ refused \(what): \(reply.name): \(reply.message)",
                    dbusErrorName: reply.name
                )
            }
        }
    }
}

import CableLocking
public import CableProtocol

/// The desktop's radio: scans for caBLE adverts through BlueZ on the D-Bus system bus.
///
/// ``start(address:adapter:)`` finds a powered adapter (`GetManagedObjects`), asks for LE discovery
/// with duplicates and no UUID filter (`SetDiscoveryFilter`; a UUID filter makes BlueZ deliver
/// nothing for service-data-only adverts), starts it, and then reads `ServiceData` of
/// `org.bluez.Device1` objects: those already present, those added (`InterfacesAdded`) and those
/// that change (`PropertiesChanged`). Each 20-byte caBLE service data is handed on as one AD
/// structure; everything else a stranger's device says is ignored. ``close()`` stops discovery —
/// every way out of a ceremony must call it (BlueZ also stops it when our connection drops).
public final class BlueZScanner: AdvertScanner {
    /// The adapter scanning, e.g. `hci0`.
    public let adapter: String
    private let adapterPath: String
    private let connection: DBusConnection
    private let fanOut: InProcessAdvertBus
    private let reader: Task<Void, Never>
    /// Adverts of the devices present when discovery started, given first to every subscriber
    /// (they were read before anyone could subscribe).
    private let present: [[UInt8]]
    private let closed = LockedValue(false)
    private let discoveryStopped = LockedValue(false)

    /// Adverts buffered per subscriber before the oldest are dropped.
    public static let queueLimit = 64

    private init(
        adapter: BlueZ.Adapter,
        connection: DBusConnection,
        fanOut: InProcessAdvertBus,
        reader: Task<Void, Never>,
        present: [[UInt8]]
    ) {
        self.present = present
        self.adapter = adapter.name
        self.adapterPath = adapter.path
        self.connection = connection
        self.fanOut = fanOut
        self.reader = reader
    }

    /// Connects, finds the adapter and starts LE discovery.
    ///
    /// - Parameters:
    ///   - address: the system bus address (default: `DBUS_SYSTEM_BUS_ADDRESS` or the standard socket).
    ///   - name: the adapter's name, such as `hci1`; default the first powered one.
    /// - Throws: ``BlueZError`` naming what is missing and what to do.
    public static func start(
        address: String = BlueZ.systemBusAddress,
        adapter name: String? = nil
    ) async throws(BlueZError)
        -> BlueZScanner
    {
        let connection = try await DBusConnection.open(address: address)
        var discoveryStarted: String?
        do {
            let adapter = try BlueZ.chooseAdapter(try await BlueZ.adapters(on: connection), named: name)
            let owner = try await self.bluezOwner(on: connection)
            // Listen before starting, and read the present devices after, so no advert falls between.
            let signals = connection.signals()
            for rule in [
                "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesAdded'",
                "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',arg0='org.bluez.Device1'",
            ] {
                try await self.bus(connection, "AddMatch", [.string(rule)])
            }
            try await self.adapterCall(
                connection,
                adapter,
                "SetDiscoveryFilter",
                [.properties([("Transport", .string("le")), ("DuplicateData", .boolean(true))])]
            )
            try await self.adapterCall(connection, adapter, "StartDiscovery", [])
            discoveryStarted = adapter.path

            let fanOut = InProcessAdvertBus(bufferLimit: self.queueLimit)
            let prefix = adapter.path + "/"
            let present = try await self.presentDevices(on: connection, under: prefix)
            let reader = Task {
                for await signal in signals {
                    guard signal.sender == owner, let data = Self.advertisingData(from: signal, under: prefix) else {
                        continue
                    }
                    try? await fanOut.transmit(data)
                }
                fanOut.close()
            }
            return BlueZScanner(
                adapter: adapter,
                connection: connection,
                fanOut: fanOut,
                reader: reader,
                present: present
            )
        } catch {
            if let path = discoveryStarted { await self.stopDiscovery(connection, path) }
            await connection.close()
            throw error
        }
    }

    /// The adverts of devices present when discovery started, then adverts as they arrive; the
    /// stream ends when the scanner is closed or the bus goes away.
    public func adverts() -> AsyncStream<[UInt8]> {
        let upstream = self.fanOut.adverts()
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(Self.queueLimit))
        for data in self.present { continuation.yield(data) }
        let forward = Task {
            for await data in upstream { continuation.yield(data) }
            continuation.finish()
        }
        continuation.onTermination = { _ in forward.cancel() }
        return stream
    }

    /// Stops discovery (`StopDiscovery`, bounded in time), closes the bus connection and ends every
    /// subscriber's stream. Idempotent.
    public func close() async {
        let first = self.closed.withLock { c -> Bool in
            defer { c = true }
            return !c
        }
        guard first else { return }
        await self.stopDiscovery()
        await self.connection.close()
        self.reader.cancel()
        self.fanOut.close()
    }

    /// Stops discovery at once but leaves the stream open: for a process about to exit on a signal,
    /// which must not first see its scanner end. ``close()`` does not send it again.
    public func stopDiscovery() async {
        let first = self.discoveryStopped.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        guard first else { return }
        await Self.stopDiscovery(self.connection, self.adapterPath)
    }

    // MARK: Steps

    static func stopDiscovery(_ connection: DBusConnection, _ adapterPath: String) async {
        _ = try? await connection.call(
            DBusCall(
                destination: BlueZ.service,
                path: adapterPath,
                interface: BlueZ.adapterInterface,
                member: "StopDiscovery"
            ),
            timeout: .seconds(5)
        )
    }

    private static func adapterCall(
        _ connection: DBusConnection,
        _ adapter: BlueZ.Adapter,
        _ member: String,
        _ arguments: [DBusValue]
    )
        async throws(BlueZError)
    {
        do {
            _ = try await connection.call(
                DBusCall(
                    destination: BlueZ.service,
                    path: adapter.path,
                    interface: BlueZ.adapterInterface,
                    member: member,
                    arguments: arguments
                ),
                timeout: BlueZ.callTimeout
            )
        } catch {
            if case .errorReply(let r) = error, r.name == "org.bluez.Error.NotReady" { throw .poweredOff(adapter.name) }
            // InProgress: this connection's discovery is already running, which is what was asked.
            if case .errorReply(let r) = error, r.name == "org.bluez.Error.InProgress", member == "StartDiscovery" {
                return
            }
            throw BlueZ.error(error, doing: "\(member) on \(adapter.name)")
        }
    }

    private static func bus(
        _ connection: DBusConnection,
        _ member: String,
        _ arguments: [DBusValue]
    ) async throws(BlueZError) {
        do {
            _ = try await connection.call(
                DBusCall(
                    destination: "org.freedesktop.DBus",
                    path: "/org/freedesktop/DBus",
                    interface: "org.freedesktop.DBus",
                    member: member,
                    arguments: arguments
                ),
                timeout: BlueZ.callTimeout
            )
        } catch {
            throw BlueZError(.callFailed, "the system bus refused \(member): \(error)")
        }
    }

    /// The unique name that owns `org.bluez`: signals from anyone else are not BlueZ's.
    static func bluezOwner(on connection: DBusConnection) async throws(BlueZError) -> String {
        let reply: [DBusValue]
        do {
            reply = try await connection.call(
                DBusCall(
                    destination: "org.freedesktop.DBus",
                    path: "/org/freedesktop/DBus",
                    interface: "org.freedesktop.DBus",
                    member: "GetNameOwner",
                    arguments: [.string(BlueZ.service)]
                ),
                timeout: BlueZ.callTimeout
            )
        } catch {
            throw BlueZ.error(error, doing: "GetNameOwner")
        }
        guard let owner = reply.first?.stringValue else {
            throw BlueZError(.malformedReply, "GetNameOwner returned no name")
        }
        return owner
    }

    private static func presentDevices(
        on connection: DBusConnection,
        under prefix: String
    ) async throws(BlueZError) -> [[UInt8]] {
        let reply: [DBusValue]
        do {
            reply = try await connection.call(
                DBusCall(
                    destination: BlueZ.service,
                    path: "/",
                    interface: BlueZ.objectManagerInterface,
                    member: "GetManagedObjects"
                ),
                timeout: BlueZ.callTimeout
            )
        } catch {
            throw BlueZ.error(error, doing: "GetManagedObjects")
        }
        guard let objects = reply.first?.stringKeyedEntries else { return [] }
        return objects.compactMap { path, interfaces -> [UInt8]? in
            guard path.hasPrefix(prefix), let device = interfaces[BlueZ.deviceInterface],
                let serviceData = device["ServiceData"]
            else {
                return nil
            }
            return BlueZ.advertisingData(fromServiceData: serviceData)
        }
    }

    /// The advert in an `InterfacesAdded` or `PropertiesChanged` signal of a device under the adapter.
    package static func advertisingData(from signal: DBusSignal, under prefix: String) -> [UInt8]? {
        switch (signal.interface, signal.member) {
        case (BlueZ.objectManagerInterface, "InterfacesAdded"):
            // (o path, a{sa{sv}} interfaces)
            guard signal.arguments.count >= 2, let path = signal.arguments[0].objectPathValue, path.hasPrefix(prefix),
                let device = signal.arguments[1][BlueZ.deviceInterface], let serviceData = device["ServiceData"]
            else { return nil }
            return BlueZ.advertisingData(fromServiceData: serviceData)
        case (BlueZ.propertiesInterface, "PropertiesChanged"):
            // (s interface, a{sv} changed, as invalidated)
            guard signal.path.hasPrefix(prefix), signal.arguments.count >= 2,
                signal.arguments[0].stringValue == BlueZ.deviceInterface,
                let serviceData = signal.arguments[1]["ServiceData"]
            else { return nil }
            return BlueZ.advertisingData(fromServiceData: serviceData)
        default:
            return nil
        }
    }
}

/// Scans for adverts with the BlueZ radio for the duration of `body`: discovery starts before `body`
/// runs and stops (with the bus connection closed and every subscriber's stream ended) when it
/// returns or throws, so a scan cannot outlive its caller.
///
/// - Parameters:
///   - address: the system bus address (default: `DBUS_SYSTEM_BUS_ADDRESS` or the standard socket).
///   - adapter: the adapter's name, such as `hci1`; default the first powered one.
///   - body: what runs while the radio scans.
/// - Throws: ``BlueZError`` when the scan cannot start, or what `body` throws.
public func withBlueZScanner<Result: Sendable>(
    address: String = BlueZ.systemBusAddress,
    adapter: String? = nil,
    _ body: (BlueZScanner) async throws -> Result
) async throws -> Result {
    let scanner = try await BlueZScanner.start(address: address, adapter: adapter)
    do {
        let result = try await body(scanner)
        await scanner.close()
        return result
    } catch {
        await scanner.close()
        throw error
    }
}

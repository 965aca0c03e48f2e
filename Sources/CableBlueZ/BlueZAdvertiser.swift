import CableLocking
public import CableProtocol

/// The phone's radio: broadcasts the caBLE advert through BlueZ's `LEAdvertisingManager1`.
///
/// It exports an `org.bluez.LEAdvertisement1` object on its own bus connection (type `broadcast`,
/// `ServiceData` `{"0000fff9-…": <20 bytes>}`, and `Release`), which bluetoothd reads with
/// `org.freedesktop.DBus.Properties.GetAll` when ``transmit(_:)`` registers it. BlueZ then
/// repeats the advert by itself, so later calls with the same advert do nothing. ``close()``
/// unregisters it; BlueZ also drops it when our connection goes away.
public final class BlueZAdvertiser: AdvertTransmitter {
    /// The adapter advertising, e.g. `hci0`.
    public let adapter: String
    private let adapterPath: String
    private let connection: DBusConnection
    private let objectPath: String
    private let state: LockedValue<State>
    private let registration = RegistrationGate()

    private struct State {
        /// The service data currently exported (what `GetAll` answers).
        var serviceData: [UInt8]?
        var registered = false
        /// A failure that retrying cannot fix (refused, no advertising support).
        var permanentFailure: BlueZError?
        var failureWaiters: [CheckedContinuation<BlueZError?, Never>] = []
        var closed = false
    }

    private init(adapter: BlueZ.Adapter, connection: DBusConnection, objectPath: String) {
        self.adapter = adapter.name
        self.adapterPath = adapter.path
        self.connection = connection
        self.objectPath = objectPath
        self.state = LockedValue(State())
    }

    /// Connects and finds a powered adapter that can advertise. Nothing is broadcast yet.
    ///
    /// - Throws: ``BlueZError`` naming what is missing and what to do.
    public static func open(
        address: String = BlueZ.systemBusAddress,
        adapter name: String? = nil
    ) async throws(BlueZError)
        -> BlueZAdvertiser
    {
        let connection = try await DBusConnection.open(address: address)
        do throws(BlueZError) {
            let adapter = try BlueZ.chooseAdapter(try await BlueZ.adapters(on: connection), named: name)
            guard adapter.canAdvertise else {
                throw BlueZError(
                    .advertisingUnavailable,
                    "Bluetooth adapter \(adapter.name) cannot advertise (BlueZ offers no LEAdvertisingManager1 for it): "
                        + "it needs a Bluetooth LE adapter and a BlueZ 5 with LE advertising"
                )
            }
            let advertiser = BlueZAdvertiser(
                adapter: adapter,
                connection: connection,
                objectPath: "/org/swiftcable/advertisement0"
            )
            connection.export(path: advertiser.objectPath) { [state = advertiser.state] call in
                Self.answer(call, state: state)
            }
            return advertiser
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Registers the advert carried in `advertisingData` (the 20-byte service data for `0xFFF9` or
    /// `0xFDE2`) with BlueZ, unless that advert is already registered.
    ///
    /// - Throws: ``BlueZError``; after a refusal that retrying cannot fix, the same error at once.
    public func transmit(_ advertisingData: [UInt8]) async throws {
        guard let parsed = try? AdvertisingData(bytes: advertisingData), let advert = parsed.cableAdvert else {
            throw BlueZError(.invalidAdvert, "the advertising data holds no 20-byte caBLE service data")
        }
        try await self.registration.run { () async throws(BlueZError) in
            let action = self.state.withLock { s -> Result<Bool, BlueZError> in
                if s.closed { return .failure(BlueZError(.disconnected, "the advertiser is closed")) }
                if let e = s.permanentFailure { return .failure(e) }
                if s.registered, s.serviceData == advert { return .success(false) }
                return .success(true)
            }
            guard try action.get() else { return }
            // A different advert: take the old one down first, so the phone never broadcasts two.
            if self.state.withLock({ $0.registered }) { await self.unregister() }
            self.state.withLock { $0.serviceData = advert }
            do throws(DBusCallFailure) {
                _ = try await self.connection.call(
                    DBusCall(
                        destination: BlueZ.service,
                        path: self.adapterPath,
                        interface: BlueZ.advertisingManagerInterface,
                        member: "RegisterAdvertisement",
                        arguments: [.objectPath(self.objectPath), .properties([])]
                    ),
                    timeout: BlueZ.callTimeout
                )
                self.state.withLock { $0.registered = true }
            } catch {
                let mapped = BlueZ.error(error, doing: "RegisterAdvertisement on \(self.adapter)")
                let permanent = [
                    BlueZError.Code.permissionDenied, .advertisingUnavailable, .adapterPoweredOff, .bluezNotRunning,
                    .callFailed,
                ]
                .contains(mapped.code)
                if permanent { self.fail(mapped) }
                throw mapped
            }
        }
    }

    /// Waits until registration fails in a way retrying cannot fix (the error), or the advertiser
    /// is closed (`nil`). `cable phone` uses it to end with a clear error instead of retrying.
    public func permanentFailure() async -> BlueZError? {
        await withCheckedContinuation { continuation in
            let now = self.state.withLock { s -> BlueZError?? in
                if let e = s.permanentFailure { return .some(e) }
                if s.closed { return .some(nil) }
                s.failureWaiters.append(continuation)
                return .none
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Unregisters the advert (bounded in time) and closes the bus connection. Idempotent.
    public func close() async {
        let (first, waiters) = self.state.withLock { s in
            defer {
                s.closed = true
                s.failureWaiters.removeAll()
            }
            return (!s.closed, s.failureWaiters)
        }
        for w in waiters { w.resume(returning: nil) }
        guard first else { return }
        try? await self.registration.run { () async throws(BlueZError) in
            if self.state.withLock({ $0.registered }) { await self.unregister() }
        }
        self.connection.unexport(path: self.objectPath)
        await self.connection.close()
    }

    private func unregister() async {
        _ = try? await self.connection.call(
            DBusCall(
                destination: BlueZ.service,
                path: self.adapterPath,
                interface: BlueZ.advertisingManagerInterface,
                member: "UnregisterAdvertisement",
                arguments: [.objectPath(self.objectPath)]
            ),
            timeout: .seconds(5)
        )
        self.state.withLock { $0.registered = false }
    }

    private func fail(_ error: BlueZError) {
        let waiters = self.state.withLock { s in
            s.permanentFailure = s.permanentFailure ?? error
            defer { s.failureWaiters.removeAll() }
            return s.failureWaiters
        }
        for w in waiters { w.resume(returning: error) }
    }

    // MARK: The exported object

    /// Answers bluetoothd's calls on the advertisement object (on the connection's thread).
    private static func answer(_ call: DBusIncomingCall, state: LockedValue<State>) -> DBusReply {
        switch (call.interface, call.member) {
        case (BlueZ.propertiesInterface, "GetAll"):
            guard call.arguments.first?.stringValue == BlueZ.advertisementInterface else {
                return .values([.properties([])])
            }
            return .values([.properties(self.properties(state))])
        case (BlueZ.propertiesInterface, "Get"):
            guard call.arguments.count == 2, call.arguments[0].stringValue == BlueZ.advertisementInterface,
                let name = call.arguments[1].stringValue,
                let value = self.properties(state).first(where: { $0.0 == name })?.1
            else {
                return .error(name: "org.freedesktop.DBus.Error.InvalidArgs", message: "no such property")
            }
            return .values([.variant(value)])
        case (BlueZ.advertisementInterface, "Release"):
            // BlueZ dropped the advert (adapter removed or powered off): it is no longer registered.
            state.withLock { $0.registered = false }
            return .values([])
        default:
            return .unknownMethod
        }
    }

    private static func properties(_ state: LockedValue<State>) -> [(String, DBusValue)] {
        let data = state.withLock { $0.serviceData } ?? []
        return [
            ("Type", .string("broadcast")),
            ("ServiceData", .properties([(BlueZ.fidoServiceUUID, .bytes(data))])),
        ]
    }
}

/// Runs registration steps one at a time (a transmit every 250 ms must not overlap a slow one).
private final class RegistrationGate: Sendable {
    private let state = LockedValue<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func run(_ body: () async throws(BlueZError) -> Void) async throws(BlueZError) {
        await withCheckedContinuation { continuation in
            let now = self.state.withLock { s -> Bool in
                if s.busy {
                    s.waiters.append(continuation)
                    return false
                }
                s.busy = true
                return true
            }
            if now { continuation.resume() }
        }
        defer {
            let next = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                if s.waiters.isEmpty {
                    s.busy = false
                    return nil
                }
                return s.waiters.removeFirst()
            }
            next?.resume()
        }
        try await body()
    }
}

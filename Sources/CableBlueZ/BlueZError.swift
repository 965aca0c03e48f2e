/// The one error type of the BlueZ radio. Each ``reason`` says what went wrong and what to do about
/// it, so `cable` can print it as its `error:` line unchanged. Equality compares the code only.
public struct BlueZError: Error, Hashable, CustomStringConvertible, Sendable {
    /// An extensible, stable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible, RawRepresentable {
        /// The stable name.
        public let rawValue: String
        /// Wraps a raw name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The stable name.
        public var description: String { self.rawValue }

        /// The D-Bus system bus could not be reached (no socket, refused, authentication failed).
        public static let noSystemBus = Self(rawValue: "noSystemBus")
        /// Nobody owns `org.bluez` on the system bus: bluetoothd is not running.
        public static let bluezNotRunning = Self(rawValue: "bluezNotRunning")
        /// BlueZ offers no `org.bluez.Adapter1` (or not the one asked for).
        public static let noAdapter = Self(rawValue: "noAdapter")
        /// The adapter exists but its `Powered` property is false (or rfkill blocks it).
        public static let adapterPoweredOff = Self(rawValue: "adapterPoweredOff")
        /// The bus or BlueZ refused a call (the D-Bus policy of `org.bluez`, the `bluetooth` group).
        public static let permissionDenied = Self(rawValue: "permissionDenied")
        /// The adapter cannot advertise (no `LEAdvertisingManager1`, or no free advertising instance).
        public static let advertisingUnavailable = Self(rawValue: "advertisingUnavailable")
        /// A D-Bus call failed for another reason; the reason names the D-Bus error.
        public static let callFailed = Self(rawValue: "callFailed")
        /// A D-Bus call had no answer in time.
        public static let timedOut = Self(rawValue: "timedOut")
        /// The connection to the bus is closed (closed by us or lost).
        public static let disconnected = Self(rawValue: "disconnected")
        /// The advertising data handed to the transmitter holds no 20-byte caBLE advert.
        public static let invalidAdvert = Self(rawValue: "invalidAdvert")
        /// A reply did not have the shape the D-Bus API promises.
        public static let malformedReply = Self(rawValue: "malformedReply")
    }

    /// Which rule failed.
    public let code: Code
    /// What went wrong and what to do, for people.
    public let reason: String
    /// The D-Bus error name, when the failure is a D-Bus error reply (e.g. `org.bluez.Error.NotReady`).
    public let dbusErrorName: String?

    /// Creates an error.
    public init(_ code: Code, _ reason: String, dbusErrorName: String? = nil) {
        self.code = code
        self.reason = reason
        self.dbusErrorName = dbusErrorName
    }

    /// The reason, as `cable` prints it.
    public var description: String { self.reason }

    /// Compares the codes only.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    /// Hashes the code only, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension BlueZError {
    /// What a user with no system bus should do.
    static func noSystemBus(_ address: String, _ detail: String) -> BlueZError {
        BlueZError(
            .noSystemBus,
            "cannot reach the D-Bus system bus at \(address) (\(detail)): start it (`systemctl start dbus`) "
                + "or set DBUS_SYSTEM_BUS_ADDRESS; or use --radio udp"
        )
    }

    static let bluezNotRunning = BlueZError(
        .bluezNotRunning,
        "BlueZ is not running (nobody owns org.bluez on the system bus): install bluez and run "
            + "`systemctl start bluetooth`; or use --radio udp"
    )

    static func permissionDenied(_ what: String, _ detail: String, dbusErrorName: String?) -> BlueZError {
        BlueZError(
            .permissionDenied,
            "permission denied: \(what) was refused (\(detail)); add yourself to the `bluetooth` group "
                + "(`sudo usermod -aG bluetooth $USER`, then log in again) or check the org.bluez D-Bus policy",
            dbusErrorName: dbusErrorName
        )
    }

    static func poweredOff(_ adapter: String) -> BlueZError {
        BlueZError(
            .adapterPoweredOff,
            "Bluetooth adapter \(adapter) is powered off: run `rfkill unblock bluetooth` and `bluetoothctl power on`"
        )
    }
}

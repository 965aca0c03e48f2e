import CCableDBus
import CableLocking
import Foundation

/// A method call to send.
package struct DBusCall: Sendable {
    package var destination: String
    package var path: String
    package var interface: String
    package var member: String
    package var arguments: [DBusValue]

    package init(destination: String, path: String, interface: String, member: String, arguments: [DBusValue] = []) {
        self.destination = destination
        self.path = path
        self.interface = interface
        self.member = member
        self.arguments = arguments
    }
}

/// A signal received from the bus. Its content is a stranger's: check every type.
package struct DBusSignal: Sendable {
    package let sender: String
    package let path: String
    package let interface: String
    package let member: String
    package let arguments: [DBusValue]
}

/// A method call someone made on an object we export.
package struct DBusIncomingCall: Sendable {
    package let sender: String
    package let path: String
    package let interface: String
    package let member: String
    package let arguments: [DBusValue]
}

/// The answer to an incoming call.
package enum DBusReply: Sendable {
    case values([DBusValue])
    case error(name: String, message: String)

    package static let unknownMethod = DBusReply.error(
        name: "org.freedesktop.DBus.Error.UnknownMethod",
        message: "no such method on this object"
    )
}

/// A D-Bus error reply to one of our calls.
package struct DBusErrorReply: Error, Sendable {
    package let name: String
    package let message: String
}

/// Why a call failed.
package enum DBusCallFailure: Error, Sendable {
    /// The peer answered with a D-Bus error.
    case errorReply(DBusErrorReply)
    /// No answer within the deadline.
    case timedOut
    /// The connection is closed or was lost.
    case disconnected
    /// The arguments could not be written (never sent).
    case unwritable(String)
    /// The reply was larger than the reader accepts.
    case replyTooLarge
}

/// One private connection to a message bus, driven by a thread of its own.
///
/// libdbus is blocking and not async, so a dedicated thread owns the `DBusConnection*` for its whole
/// life: it connects, sends every call, reads, answers calls on exported objects and hands replies
/// and signals to Swift concurrency through continuations. No other thread touches the pointer.
/// Calls are sent asynchronously and their replies matched by serial in the loop, so an
/// exported object is answered even while one of our own calls waits (bluetoothd reads our
/// advertisement with `GetAll` before it answers `RegisterAdvertisement`). Every call has a
/// deadline the loop enforces itself (libdbus only enforces timeouts under a main loop).
package final class DBusConnection: Sendable {
    /// The unique name the bus gave us (`:1.42`).
    package let uniqueName: String
    private let shared: LockedValue<Shared>
    private let thread: LoopThread

    /// Limits a stranger on the bus could otherwise push on us.
    package static let maxReceivedMessageSize = 8 << 20
    /// Signals buffered per subscriber before the oldest are dropped.
    package static let signalBufferLimit = 1024
    /// How long the loop sleeps in `read_write` when idle (the latency of a newly queued call).
    static let pollMilliseconds: Int32 = 20

    private init(uniqueName: String, shared: LockedValue<Shared>, thread: LoopThread) {
        self.uniqueName = uniqueName
        self.shared = shared
        self.thread = thread
    }

    /// Connects to the bus at `address` (a D-Bus address, `unix:path=…`) and registers with it.
    ///
    /// - Throws: ``BlueZError/Code/noSystemBus`` when the bus cannot be reached or refuses us
    ///   (``BlueZError/Code/permissionDenied`` when it says so).
    package static func open(address: String) async throws(BlueZError) -> DBusConnection {
        let shared = LockedValue(Shared())
        let thread = LoopThread(address: address, shared: shared)
        let result: Result<String, BlueZError> = await withCheckedContinuation { continuation in
            thread.start { continuation.resume(returning: $0) }
        }
        switch result {
        case .success(let name): return DBusConnection(uniqueName: name, shared: shared, thread: thread)
        case .failure(let error): throw error
        }
    }

    /// Calls a method and waits (at most `timeout`) for its reply's arguments.
    package func call(_ call: DBusCall, timeout: Duration = .seconds(10)) async throws(DBusCallFailure) -> [DBusValue] {
        let deadline = ContinuousClock.now + timeout
        let result: Result<[DBusValue], DBusCallFailure> = await withCheckedContinuation { continuation in
            let accepted = self.shared.withLock { s -> Bool in
                guard !s.closed else { return false }
                s.jobs.append(.call(call, deadline, continuation))
                return true
            }
            if !accepted { continuation.resume(returning: .failure(.disconnected)) }
        }
        return try result.get()
    }

    /// Sends a method call without waiting for, or wanting, a reply.
    package func send(_ call: DBusCall) {
        self.shared.withLock { s in
            if !s.closed { s.jobs.append(.send(call)) }
        }
    }

    /// Every signal the bus routes to us from now on (add match rules with `AddMatch` to get any).
    /// The stream ends when the connection closes.
    package func signals() -> AsyncStream<DBusSignal> {
        let (stream, continuation) = AsyncStream<DBusSignal>.makeStream(
            bufferingPolicy: .bufferingNewest(Self.signalBufferLimit)
        )
        let id = self.shared.withLock { s -> Int? in
            guard !s.closed else { return nil }
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [shared] _ in
            _ = shared.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Answers method calls on `path` with `handler`, which runs on the connection's thread and must
    /// not block. Calls on paths nobody exports are answered `UnknownObject`.
    package func export(path: String, handler: @escaping @Sendable (DBusIncomingCall) -> DBusReply) {
        self.shared.withLock { $0.exported[path] = handler }
    }

    /// Stops answering calls on `path`.
    package func unexport(path: String) {
        _ = self.shared.withLock { $0.exported.removeValue(forKey: path) }
    }

    /// Whether the connection is still open.
    package var isOpen: Bool { self.shared.withLock { !$0.closed } }

    /// Closes the connection: calls still waiting fail with ``DBusCallFailure/disconnected``, signal
    /// streams end, the thread exits. Idempotent; returns when the thread has let go of the bus.
    package func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyDone = self.shared.withLock { s -> Bool in
                if s.finished { return true }
                s.closeWaiters.append(continuation)
                s.stopRequested = true
                return false
            }
            if alreadyDone { continuation.resume() }
        }
    }

    deinit {
        // A connection dropped without close(): let the thread end by itself.
        self.shared.withLock { $0.stopRequested = true }
    }
}

// MARK: - The state shared between Swift callers and the loop thread

typealias CallContinuation = CheckedContinuation<Result<[DBusValue], DBusCallFailure>, Never>

enum Job {
    case call(DBusCall, ContinuousClock.Instant, CallContinuation)
    case send(DBusCall)
}

struct Shared {
    var jobs: [Job] = []
    var subscribers: [Int: AsyncStream<DBusSignal>.Continuation] = [:]
    var nextSubscriber = 0
    var exported: [String: @Sendable (DBusIncomingCall) -> DBusReply] = [:]
    var stopRequested = false
    /// No new work is accepted.
    var closed = false
    /// The thread has released the connection.
    var finished = false
    var closeWaiters: [CheckedContinuation<Void, Never>] = []
}

/// The thread that owns the libdbus connection. Everything in here runs on that thread only, which
/// is why the raw pointers it holds are safe to keep in a class marked `@unchecked Sendable`.
private final class LoopThread: @unchecked Sendable {
    private let address: String
    private let shared: LockedValue<Shared>
    // Touched only on the loop thread.
    private var connection: OpaquePointer?
    /// Our calls waiting for their reply, by serial. Replies are matched here rather than through
    /// libdbus's DBusPendingCall, which completes only under `dbus_connection_dispatch`.
    private var pending: [UInt32: (deadline: ContinuousClock.Instant, continuation: CallContinuation)] = [:]

    init(address: String, shared: LockedValue<Shared>) {
        self.address = address
        self.shared = shared
    }

    func start(_ opened: @escaping @Sendable (Result<String, BlueZError>) -> Void) {
        let thread = Thread { [self] in
            let result = self.connect()
            opened(result)
            if case .success = result { self.run() } else { self.finish() }
        }
        thread.name = "cable.dbus"
        thread.start()
    }

    private func connect() -> Result<String, BlueZError> {
        _ = dbus_threads_init_default()
        var error = DBusError()
        dbus_error_init(&error)
        defer { dbus_error_free(&error) }
        guard let connection = self.address.withCString({ dbus_connection_open_private($0, &error) }) else {
            return .failure(.noSystemBus(self.address, Self.text(error)))
        }
        dbus_connection_set_exit_on_disconnect(connection, 0)
        dbus_connection_set_max_received_size(connection, DBusConnection.maxReceivedMessageSize)
        dbus_connection_set_max_message_size(connection, DBusConnection.maxReceivedMessageSize)
        guard dbus_bus_register(connection, &error) != 0, let name = dbus_bus_get_unique_name(connection) else {
            let name = error.name.map { String(cString: $0) }
            let detail = Self.text(error)
            dbus_connection_close(connection)
            dbus_connection_unref(connection)
            if name == "org.freedesktop.DBus.Error.AccessDenied" {
                return .failure(.permissionDenied("connecting to the system bus", detail, dbusErrorName: name))
            }
            return .failure(.noSystemBus(self.address, detail))
        }
        self.connection = connection
        return .success(String(cString: name))
    }

    private static func text(_ error: DBusError) -> String {
        if let message = error.message { return String(cString: message) }
        if let name = error.name { return String(cString: name) }
        return "unknown error"
    }

    private func run() {
        guard let connection = self.connection else { return }
        while true {
            let (jobs, stop) = self.shared.withLock { s -> ([Job], Bool) in
                defer { s.jobs.removeAll() }
                return (s.jobs, s.stopRequested)
            }
            for job in jobs { self.perform(job, on: connection) }
            if stop { break }
            guard dbus_connection_read_write(connection, DBusConnection.pollMilliseconds) != 0 else { break }
            var lost = false
            while let message = dbus_connection_pop_message(connection) {
                if self.handle(message, on: connection) { lost = true }
                dbus_message_unref(message)
            }
            self.collectReplies()
            if lost || dbus_connection_get_is_connected(connection) == 0 { break }
        }
        self.finish()
    }

    private func perform(_ job: Job, on connection: OpaquePointer) {
        switch job {
        case .send(let call):
            guard let message = try? Self.message(for: call) else { return }
            dbus_message_set_no_reply(message, 1)
            _ = dbus_connection_send(connection, message, nil)
            dbus_message_unref(message)
        case .call(let call, let deadline, let continuation):
            let message: OpaquePointer
            do { message = try Self.message(for: call) } catch {
                continuation.resume(returning: .failure(.unwritable(error.reason)))
                return
            }
            defer { dbus_message_unref(message) }
            var serial: UInt32 = 0
            guard dbus_connection_send(connection, message, &serial) != 0 else {
                continuation.resume(returning: .failure(.disconnected))
                return
            }
            self.pending[serial] = (deadline, continuation)
        }
    }

    private static func message(for call: DBusCall) throws(DBusMessageCoding.Unwritable) -> OpaquePointer {
        guard DBusMessageCoding.isValidObjectPath(call.path), Self.isPlainName(call.destination),
            Self.isPlainName(call.interface), Self.isPlainName(call.member)
        else { throw DBusMessageCoding.Unwritable(reason: "invalid destination, path, interface or member") }
        guard let message = dbus_message_new_method_call(call.destination, call.path, call.interface, call.member)
        else {
            throw DBusMessageCoding.Unwritable(reason: "out of memory")
        }
        do { try DBusMessageCoding.append(call.arguments, to: message) } catch {
            dbus_message_unref(message)
            throw error
        }
        return message
    }

    /// Names we send are our own constants; this only keeps libdbus's fatal checks unreachable.
    private static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count < 255
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E
                    || c == 0x5F
                    || c == 0x2D || c == 0x3A
            }
    }

    /// Handles one incoming message; returns true when it says the connection is gone.
    private func handle(_ message: OpaquePointer, on connection: OpaquePointer) -> Bool {
        let type = dbus_message_get_type(message)
        let path = dbus_message_get_path(message).map { String(cString: $0) } ?? ""
        let interface = dbus_message_get_interface(message).map { String(cString: $0) } ?? ""
        let member = dbus_message_get_member(message).map { String(cString: $0) } ?? ""
        let sender = dbus_message_get_sender(message).map { String(cString: $0) } ?? ""
        switch type {
        case DBUS_MESSAGE_TYPE_SIGNAL:
            if interface == "org.freedesktop.DBus.Local", member == "Disconnected" { return true }
            // A body too large to read is dropped, as a scanner drops what it cannot parse.
            guard let arguments = try? DBusMessageCoding.arguments(of: message) else { return false }
            let signal = DBusSignal(
                sender: sender,
                path: path,
                interface: interface,
                member: member,
                arguments: arguments
            )
            let subscribers = self.shared.withLock { Array($0.subscribers.values) }
            for s in subscribers { s.yield(signal) }
        case DBUS_MESSAGE_TYPE_METHOD_CALL:
            let handler = self.shared.withLock { $0.exported[path] }
            let reply: DBusReply
            if let handler {
                if let arguments = try? DBusMessageCoding.arguments(of: message) {
                    reply = handler(
                        DBusIncomingCall(
                            sender: sender,
                            path: path,
                            interface: interface,
                            member: member,
                            arguments: arguments
                        )
                    )
                } else {
                    reply = .error(name: "org.freedesktop.DBus.Error.LimitsExceeded", message: "message too large")
                }
            } else {
                reply = .error(name: "org.freedesktop.DBus.Error.UnknownObject", message: "no object at this path")
            }
            guard dbus_message_get_no_reply(message) == 0 else { return false }
            self.answer(message, with: reply, on: connection)
        case DBUS_MESSAGE_TYPE_METHOD_RETURN, DBUS_MESSAGE_TYPE_ERROR:
            // A reply nobody waits for (its call timed out) is dropped.
            if let entry = self.pending.removeValue(forKey: dbus_message_get_reply_serial(message)) {
                entry.continuation.resume(returning: Self.result(of: message))
            }
        default:
            break
        }
        return false
    }

    private func answer(_ call: OpaquePointer, with reply: DBusReply, on connection: OpaquePointer) {
        var message: OpaquePointer?
        switch reply {
        case .values(let values):
            message = dbus_message_new_method_return(call)
            if let m = message, (try? DBusMessageCoding.append(values, to: m)) == nil {
                dbus_message_unref(m)
                message = dbus_message_new_error(
                    call,
                    "org.freedesktop.DBus.Error.Failed",
                    "reply could not be written"
                )
            }
        case .error(let name, let text):
            let safeName = Self.isPlainName(name) && name.contains(".") ? name : "org.freedesktop.DBus.Error.Failed"
            message = dbus_message_new_error(call, safeName, text.utf8.contains(0) ? "" : text)
        }
        guard let message else { return }
        _ = dbus_connection_send(connection, message, nil)
        dbus_message_unref(message)
    }

    /// Fails the calls whose deadline has passed.
    private func collectReplies() {
        let now = ContinuousClock.now
        for (serial, entry) in self.pending where now >= entry.deadline {
            self.pending.removeValue(forKey: serial)
            entry.continuation.resume(returning: .failure(.timedOut))
        }
    }

    private static func result(of reply: OpaquePointer?) -> Result<[DBusValue], DBusCallFailure> {
        guard let reply else { return .failure(.disconnected) }
        guard let arguments = try? DBusMessageCoding.arguments(of: reply) else { return .failure(.replyTooLarge) }
        if dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR {
            let name =
                dbus_message_get_error_name(reply).map { String(cString: $0) } ?? "org.freedesktop.DBus.Error.Failed"
            let text = arguments.first?.stringValue ?? ""
            // libdbus reports a lost connection to a pending call as this local error.
            if name == "org.freedesktop.DBus.Error.NoReply", text.contains("isconnected") {
                return .failure(.disconnected)
            }
            return .failure(.errorReply(DBusErrorReply(name: name, message: String(text.prefix(300)))))
        }
        return .success(arguments)
    }

    /// Releases the connection and fails everything still waiting.
    private func finish() {
        if let connection = self.connection {
            for entry in self.pending.values { entry.continuation.resume(returning: .failure(.disconnected)) }
            self.pending.removeAll()
            dbus_connection_flush(connection)
            dbus_connection_close(connection)
            dbus_connection_unref(connection)
            self.connection = nil
        }
        let (jobs, subscribers, waiters) = self.shared.withLock { s in
            s.closed = true
            s.finished = true
            defer {
                s.jobs.removeAll()
                s.subscribers.removeAll()
                s.closeWaiters.removeAll()
                s.exported.removeAll()
            }
            return (s.jobs, Array(s.subscribers.values), s.closeWaiters)
        }
        for job in jobs { if case .call(_, _, let c) = job { c.resume(returning: .failure(.disconnected)) } }
        for s in subscribers { s.finish() }
        for w in waiters { w.resume() }
    }
}

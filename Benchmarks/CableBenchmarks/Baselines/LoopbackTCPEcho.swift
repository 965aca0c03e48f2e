import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The relay's same-run baseline: a raw loopback TCP echo with the relay's shape, on blocking sockets
/// and one thread per socket direction, with no WebSocket framing, no NIO and no Swift concurrency.
///
/// For each of `pairs` "tunnels": a desktop socket → a forwarder (two threads pumping bytes, like the
/// relay) → a phone socket that echoes every message → forwarder → desktop. A round trip therefore
/// crosses loopback four times, as it does through the relay.
enum LoopbackTCPEcho {
    /// The round-trip times (ns) measured after the warm-up, and the window they span.
    struct RoundTrips: Sendable {
        /// Every round trip that started inside the measuring window.
        let nanoseconds: [Double]
        /// From the window's start to the last measured round trip's end.
        let window: Duration
    }

    /// Runs the echo for `warmUp + duration` and returns the measured round trips.
    ///
    /// - Throws: ``BenchmarkError/Code/socketFailed`` if a socket cannot be set up.
    static func run(pairs: Int, messageBytes: Int, warmUp: Duration, duration: Duration) throws(BenchmarkError)
        -> RoundTrips
    {
        let listener = try Socket.listenOnLoopback()
        defer { close(listener.descriptor) }
        var sockets: [(desktop: Int32, relayDesktopSide: Int32, relayPhoneSide: Int32, phone: Int32)] = []
        defer {
            for set in sockets {
                for fd in [set.desktop, set.relayDesktopSide, set.relayPhoneSide, set.phone] { close(fd) }
            }
        }
        for _ in 0..<pairs {
            // Accepted in connect order: the backlog is a FIFO.
            let desktop = try Socket.connectToLoopback(port: listener.port)
            let relayDesktopSide = try Socket.accept(listener.descriptor)
            let phone = try Socket.connectToLoopback(port: listener.port)
            let relayPhoneSide = try Socket.accept(listener.descriptor)
            sockets.append((desktop, relayDesktopSide, relayPhoneSide, phone))
        }

        let clock = ContinuousClock()
        let measureStart = clock.now + warmUp
        let end = measureStart + duration
        let samples = Mutex<[Double]>([])
        let lastCompletion = Mutex(measureStart)
        let threads = DispatchGroup()
        func spawn(_ body: @escaping @Sendable () -> Void) {
            threads.enter()
            let thread = Thread {
                body()
                threads.leave()
            }
            thread.stackSize = 256 << 10
            thread.start()
        }
        for set in sockets {
            spawn { Socket.pump(from: set.relayDesktopSide, to: set.relayPhoneSide) }
            spawn { Socket.pump(from: set.relayPhoneSide, to: set.relayDesktopSide) }
            spawn {
                var message = [UInt8](repeating: 0, count: messageBytes)
                while Socket.readExactly(set.phone, into: &message), Socket.writeAll(set.phone, message) {}
                shutdown(set.phone, Int32(SHUT_WR))
            }
            spawn {
                var message = [UInt8](repeating: 0x5A, count: messageBytes)
                var local: [Double] = []
                var last = measureStart
                while clock.now < end {
                    let start = clock.now
                    guard Socket.writeAll(set.desktop, message), Socket.readExactly(set.desktop, into: &message) else {
                        break
                    }
                    let finish = clock.now
                    if start >= measureStart {
                        local.append((finish - start).nanoseconds)
                        last = finish
                    }
                }
                // Closing the write side ends the phone's loop, then both pumps.
                shutdown(set.desktop, Int32(SHUT_WR))
                samples.withLock { $0 += local }
                lastCompletion.withLock { $0 = max($0, last) }
            }
        }
        threads.wait()
        return RoundTrips(
            nanoseconds: samples.withLock { $0 }, window: lastCompletion.withLock { $0 } - measureStart)
    }
}

/// Blocking BSD socket calls for ``LoopbackTCPEcho``, each failure reported with the call's name.
private enum Socket {
    static func listenOnLoopback() throws(BenchmarkError) -> (descriptor: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw self.failure("socket") }
        var address = self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 1024) == 0 else {
            close(fd)
            throw self.failure("bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw self.failure("getsockname")
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    static func connectToLoopback(port: UInt16) throws(BenchmarkError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw self.failure("socket") }
        var address = self.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw self.failure("connect")
        }
        self.disableNagle(fd)
        return fd
    }

    static func accept(_ listener: Int32) throws(BenchmarkError) -> Int32 {
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { throw self.failure("accept") }
        self.disableNagle(fd)
        return fd
    }

    /// Copies bytes until end of stream, then passes the end on.
    static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let forwarded = buffer.withUnsafeMutableBytes { raw -> Bool in
                let count = read(source, raw.baseAddress, raw.count)
                return count > 0 && self.writeAll(destination, UnsafeRawBufferPointer(rebasing: raw[0..<count]))
            }
            guard forwarded else { break }
        }
        shutdown(destination, Int32(SHUT_WR))
    }

    /// Fills `buffer` completely; `false` at end of stream or on error.
    static func readExactly(_ fd: Int32, into buffer: inout [UInt8]) -> Bool {
        buffer.withUnsafeMutableBytes { raw in
            var filled = 0
            while filled < raw.count {
                let count = read(fd, raw.baseAddress.map { $0 + filled }, raw.count - filled)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { return false }
                filled += count
            }
            return true
        }
    }

    /// Writes all of `bytes`; `false` on error.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { self.writeAll(fd, $0) }
    }

    /// Writes all of `raw`; `false` on error.
    static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> Bool {
        var written = 0
        while written < raw.count {
            let count = write(fd, raw.baseAddress.map { $0 + written }, raw.count - written)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            written += count
        }
        return true
    }

    private static func disableNagle(_ fd: Int32) {
        var on: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    private static func failure(_ call: String) -> BenchmarkError {
        BenchmarkError(.socketFailed, "\(call) failed: errno \(errno)")
    }
}

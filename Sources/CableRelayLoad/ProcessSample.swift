#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A process's resident memory and CPU time, read from `/proc/<pid>/` (Linux; zeros elsewhere).
package struct ProcessSample: Sendable, Hashable {
    /// `VmRSS`, in bytes.
    package let residentBytes: Int
    /// User plus system CPU time, in clock ticks (`utime + stime` of `/proc/<pid>/stat`).
    package let cpuTicks: Int

    /// Samples `pid` now.
    package static func of(_ pid: Int32) -> ProcessSample {
        ProcessSample(residentBytes: Self.resident(pid), cpuTicks: Self.cpu(pid))
    }

    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
    package static let ticksPerSecond: Int = {
        #if os(Linux)
        return max(1, sysconf(Int32(_SC_CLK_TCK)))
        #else
        return 100
        #endif
    }()

    /// Nanoseconds of CPU that `ticks` clock ticks are.
    package static func nanoseconds(ticks: Int) -> Double { Double(ticks) * 1e9 / Double(Self.ticksPerSecond) }

    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var text = ""
        var chunk = [CChar](repeating: 0, count: 4096)
        while fgets(&chunk, Int32(chunk.count), file) != nil {
            text += String(decoding: chunk.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return text
    }

    private static func resident(_ pid: Int32) -> Int {
        guard let status = Self.read("/proc/\(pid)/status") else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            // "VmRSS:     12345 kB"
            return (Int(line.dropFirst("VmRSS:".count).filter(\.isNumber)) ?? 0) * 1024
        }
        return 0
    }

    private static func cpu(_ pid: Int32) -> Int {
        // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
        guard let stat = Self.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return 0 }
        return user + system
    }
}

/// Raises this process's open-file soft limit to its hard limit (a load run opens two sockets
/// per tunnel); returns the limit in force.
package func raiseOpenFileLimit() -> Int {
    #if os(Linux)
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return Int(clamping: limit.rlim_cur)
    #else
    return 0
    #endif
}

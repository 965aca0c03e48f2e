import Foundation

/// The process's resident set size, from `/proc/self/status` (Linux).
enum ResidentMemory {
    /// `VmRSS` in bytes, or `nil` where `/proc` is not available.
    static func current() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return self.parseVmRSS(status)
    }

    /// The `VmRSS:  <n> kB` line of a `/proc/<pid>/status` text, in bytes.
    static func parseVmRSS(_ status: String) -> Int? {
        for line in status.split(whereSeparator: \.isNewline) where line.hasPrefix("VmRSS:") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count == 3, fields[2] == "kB", let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}

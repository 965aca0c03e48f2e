#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// This process's resident set size, from `/proc/self/status` (Linux; 0 elsewhere).
enum ResidentMemory {
    /// `VmRSS` in bytes.
    static func current() -> Int {
        #if os(Linux)
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("VmRSS:") else { continue }
            // "VmRSS:     12345 kB"
            let digits = text.dropFirst("VmRSS:".count).filter(\.isNumber)
            return (Int(digits) ?? 0) * 1024
        }
        return 0
        #else
        return 0
        #endif
    }
}

import Foundation

/// Where the figures were measured, printed at the top of every run and in the JSON report.
struct MachineInfo: Encodable, Sendable {
    /// Online processors (what `nproc` prints).
    let processors: Int
    /// `model name` from `/proc/cpuinfo`.
    let cpuModel: String
    /// `openssl version`, or why it is unknown.
    let openSSLVersion: String
    /// First line of `swift --version`, or the compiler the benchmark was built with.
    let swiftVersion: String
    /// `sysname release` of the kernel.
    let kernel: String
    /// The 1/5/15-minute load averages at the start: other work on the machine skews every figure.
    let loadAverage: String
    /// `release` or `debug`: debug figures are not meaningful.
    let buildConfiguration: String
    /// Where Swift tasks ran: Swift's default thread pool, or NIO's event loops (`--global-executor nio`).
    var globalExecutor: GlobalExecutorChoice = .swift
    /// Loops in NIO's shared event loop group, where every in-process socket runs (`--event-loops`).
    var eventLoops = 1

    /// Gathers the facts; never fails (unknown facts read as such).
    static func current(globalExecutor: GlobalExecutorChoice, eventLoops: Int) -> MachineInfo {
        MachineInfo(
            processors: ProcessInfo.processInfo.activeProcessorCount,
            cpuModel: Self.cpuModel(),
            openSSLVersion: Self.firstLine(of: "openssl", ["version"]) ?? "unknown (openssl not runnable)",
            swiftVersion: Self.firstLine(of: "swift", ["--version"]) ?? Self.compilerVersion,
            kernel: Self.kernel(),
            loadAverage: Self.loadAverage(),
            buildConfiguration: Self.buildConfiguration,
            globalExecutor: globalExecutor,
            eventLoops: eventLoops
        )
    }

    /// The configuration this binary was compiled in.
    static var buildConfiguration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    private static var compilerVersion: String {
        #if compiler(>=6.3)
        return "Swift compiler >= 6.3 (swift not on PATH)"
        #else
        return "Swift compiler < 6.3 (swift not on PATH)"
        #endif
    }

    private static func cpuModel() -> String {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in cpuinfo.split(whereSeparator: \.isNewline) where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    private static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    private static func kernel() -> String {
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(field(name.sysname)) \(field(name.release))"
    }

    private static func firstLine(of tool: String, _ arguments: [String]) -> String? {
        guard let output = try? Subprocess.run(tool, arguments) else { return nil }
        return output.split(whereSeparator: \.isNewline).first.map(String.init)
    }
}

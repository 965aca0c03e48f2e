import CableLocking
import Foundation
import Glibc

/// A private D-Bus system bus for one test: `dbus-daemon` (Debian's) started with its own config on
/// a unix socket in a temporary folder, and BlueZ played by `Tests/CableBlueZTests/Python/fake_bluez.py`
/// (dbus-next). Both are killed by ``stop()`` (and by `deinit` if a test ends early).
///
/// The CableBlueZTests rig (`BusRig`), shared with the other test targets (the conformance kit's
/// BlueZ runs); CableBlueZTests can move to it.
package final class BlueZStandInRig: Sendable {
    /// Who may send to `org.bluez`.
    package enum Policy: Sendable {
        case open
        /// The bus refuses every message to org.bluez, as the system bus does for users outside
        /// the `bluetooth` group where BlueZ's policy is restricted.
        case denyBlueZ
    }

    package let directory: URL
    /// The bus address, as `DBUS_SYSTEM_BUS_ADDRESS` takes it.
    package let address: String
    private let daemon: StandInProcess
    private let fake: StandInProcess?
    private let record: URL

    /// Starts the bus and, unless `scenario` is nil, the stand-in BlueZ.
    package init(policy: Policy = .open, scenario: String? = "normal", devices: String? = nil) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cable-bluez-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        let socket = directory.appendingPathComponent("system_bus_socket").path
        let deny = policy == .denyBlueZ ? #"<deny send_destination="org.bluez"/>"# : ""
        let config = """
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>system</type>
              <listen>unix:path=\(socket)</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/>
                <allow own="*"/>
                <allow send_destination="*"/>
                <allow receive_sender="*"/>
                \(deny)
              </policy>
            </busconfig>
            """
        let configFile = directory.appendingPathComponent("bus.conf")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        guard
            let daemonPath = ["/usr/bin/dbus-daemon", "/bin/dbus-daemon"].first(
                where: FileManager.default.isExecutableFile
            )
        else {
            throw StandInRigFailure("dbus-daemon is not installed: run `make deps` (Debian package dbus-daemon)")
        }
        self.daemon = try StandInProcess(
            daemonPath,
            ["--config-file=\(configFile.path)", "--nofork", "--print-address"]
        )
        let printed = try await self.daemon.firstLine { $0.hasPrefix("unix:") }
        self.address = String(printed.split(separator: ",").first ?? Substring(printed))
        self.record = directory.appendingPathComponent("calls.jsonl")
        _ = FileManager.default.createFile(atPath: self.record.path, contents: nil)
        if let scenario {
            var arguments = [
                Self.script.path, "--address", self.address, "--scenario", scenario, "--record", self.record.path,
            ]
            if let devices {
                let file = directory.appendingPathComponent("devices.json")
                try devices.write(to: file, atomically: true, encoding: .utf8)
                arguments += ["--devices", file.path]
            }
            let fake = try StandInProcess(try Self.python(), arguments, environment: ["PYTHONUNBUFFERED": "1"])
            self.fake = fake
            _ = try await fake.firstLine { $0 == "READY" }
        } else {
            self.fake = nil
        }
    }

    /// The environment a `cable` process needs to use this bus as its system bus.
    package var environment: [String: String] { ["DBUS_SYSTEM_BUS_ADDRESS": self.address] }

    /// Sends one command to the stand-in (see fake_bluez.py) and waits until it has acted.
    package func inject(_ json: String) async throws {
        guard let fake = self.fake else { throw StandInRigFailure("no stand-in BlueZ") }
        let before = fake.lines.filter { $0 == "DONE" }.count
        fake.write(json + "\n")
        _ = try await fake.firstLine(after: before) { $0 == "DONE" }
    }

    /// Every call the stand-in received, in order.
    package func calls() -> [[String: Any]] {
        guard let text = try? String(contentsOf: self.record, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The members called, in order.
    package func members() -> [String] { self.calls().compactMap { $0["member"] as? String } }

    /// Waits (bounded) until `member` has been called at least `count` times.
    package func waitFor(_ member: String, count: Int = 1, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while self.members().filter({ $0 == member }).count < count {
            guard ContinuousClock.now < deadline else {
                throw StandInRigFailure("\(member) not called \(count)×; calls: \(self.members())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Kills the stand-in BlueZ only (bluetoothd going away).
    package func killBlueZ() { self.fake?.kill() }
    /// Kills the bus daemon (the system bus going away).
    package func killBus() { self.daemon.kill() }

    package func stop() {
        self.fake?.kill()
        self.daemon.kill()
        try? FileManager.default.removeItem(at: self.directory)
    }

    deinit {
        self.fake?.kill()
        self.daemon.kill()
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CableBlueZTests/Python/fake_bluez.py")

    /// The project's Python venv (`make venv`), found by walking up from this file.
    static func python() throws -> String {
        var url = URL(fileURLWithPath: #filePath)
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".venv-tools/bin/python")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        }
        throw StandInRigFailure("Python venv .venv-tools not found: run `make venv` (it installs dbus-next)")
    }
}

package struct StandInRigFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// A child process whose stdout and stderr lines are collected as they arrive (read on a plain
/// thread), with a stdin pipe.
package final class StandInProcess: Sendable {
    private let process: ChildProcess
    private let input: FileHandle
    private let output: PipeLines

    package init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = input
        self.process = process
        self.input = input.fileHandleForWriting
        try process.run()
        self.output = PipeLines(output.fileHandleForReading)
    }

    /// A rig that failed half-way through its init still ends what it started.
    deinit { self.kill() }

    package var lines: [String] { self.output.lines }

    package func write(_ text: String) { try? self.input.write(contentsOf: Data(text.utf8)) }

    /// The first line (after the first `after` lines matching) that satisfies `matches`.
    package func firstLine(
        after skip: Int = 0,
        timeout: Duration = .seconds(60),
        _ matches: (String) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = self.lines.filter(matches)
            if found.count > skip { return found[skip] }
            if !self.process.isRunning {
                try await Task.sleep(for: .milliseconds(100))
                let again = self.lines.filter(matches)
                if again.count > skip { return again[skip] }
                throw StandInRigFailure(
                    "\(self.process.executableURL?.lastPathComponent ?? "") exited: \(self.lines.suffix(8))"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw StandInRigFailure("no expected line within \(timeout): \(self.lines.suffix(8))")
    }

    /// SIGKILL: children of the test process inherit a signal mask that blocks SIGTERM and SIGINT
    /// (Foundation spawns them from threads that block signals), so `terminate()` would be ignored.
    package func kill() {
        if self.process.isRunning {
            _ = Glibc.kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }
}

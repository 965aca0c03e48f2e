import CableTestSupport
import CableTunnel
import Foundation
import Testing

/// The stores default to one per-user directory (`$XDG_DATA_HOME/cable/`, else
/// `~/.local/share/cable/`), so `sign-in` finds what `register` wrote from any working directory.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DefaultStoreTests {
    /// Runs `cable` with `environment` added and `directory` as its working directory; returns the
    /// exit status, stdout and stderr (bounded in time).
    static func run(
        _ arguments: [String],
        environment: [String: String],
        in directory: URL,
        timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try await ChildProcess.run(
            CableProcess.executable,
            arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            currentDirectory: directory,
            timeout: timeout
        )
        return (result.status, result.stdoutText, result.stderrText)
    }

    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cable-xdg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func helpShowsTheDefaultsUnderXDGDataHomeAndElseUnderHome() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let xdg = try await Self.run(
            ["passkeys", "list", "--help"],
            environment: ["XDG_DATA_HOME": root.path + "/data"],
            in: root
        )
        #expect(xdg.stdout.contains("$XDG_DATA_HOME/cable/passkeys.sqlite"))
        let home = try await Self.run(
            ["sign-in", "--help"],
            environment: ["XDG_DATA_HOME": "relative/ignored", "HOME": root.path + "/home"],
            in: root
        )
        #expect(
            home.stdout.replacingOccurrences(of: "\n", with: "").replacingOccurrences(of: " ", with: "")
                .contains("~/.local/share/cable/registrations.sqlite")
        )
        // --help creates nothing.
        #expect(!FileManager.default.fileExists(atPath: root.path + "/data"))
    }

    @Test func signInFindsWhatRegisterWroteFromAnotherDirectory() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        let environment = ["XDG_DATA_HOME": data.path]
        let here = root.appendingPathComponent("here")
        let there = root.appendingPathComponent("there")
        for d in [here, there] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }

        let relay = try CableProcess(["relay", "--port", "0"])
        defer { relay.interrupt() }
        let tunnel = String(try await relay.waitForLine(startingWith: "listening on ").dropFirst("listening on ".count))
        let bus = "127.0.0.1:\(try unsharedLoopbackUDPPort())"

        for (ceremony, directory, extra) in [("register", here, ["--user", "alice"]), ("sign-in", there, [String]())] {
            let desktop = try CableProcess(
                [ceremony, "--tunnel", tunnel, "--advert-listen", bus, "--timeout", "30", "--style", "ascii", "--json"]
                    + extra,
                environment: environment,
                in: directory
            )
            let url = try await desktop.waitForLine(startingWith: "FIDO:/")
            let phone = try CableProcess(
                ["phone", url, "--tunnel", tunnel, "--advert-to", bus, "--persona", "authenticator-ios"],
                environment: environment,
                in: directory == here ? there : here
            )
            #expect(try await desktop.waitForExit() == 0, "\(ceremony): \(desktop.stderr.suffix(3))")
            #expect(try await phone.waitForExit() == 0, "phone: \(phone.stderr.suffix(3))")
        }
        // Both stores are in the per-user directory, private to the user, and none in either working directory.
        for name in ["registrations.sqlite", "passkeys.sqlite"] {
            #expect(
                FileManager.default.fileExists(atPath: data.appendingPathComponent("cable/\(name)").path),
                "\(name) missing"
            )
        }
        let mode =
            try FileManager.default.attributesOfItem(atPath: data.appendingPathComponent("cable").path)[
                .posixPermissions
            ] as? Int
        #expect(mode == 0o700)
        for directory in [here, there] {
            let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            #expect(left.isEmpty, "left in the working directory \(directory.lastPathComponent): \(left)")
        }
    }
}

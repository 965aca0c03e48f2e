import CableTestSupport
import Foundation
import Testing

/// `deploy/cable-relay.service` is accepted by `systemd-analyze verify` (with its `ExecStart`
/// pointed at the `cable` built here), and the check itself catches a broken unit.
@Suite struct DeployUnitTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs `systemd-analyze verify` on `unit` (written to a temporary directory); returns its
    /// status and output.
    func verify(_ unit: String) async throws -> (status: Int32, output: String) {
        let analyzer = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyzer) else {
            Issue.record("systemd-analyze is missing: install the systemd package (make deps)")
            return (-1, "")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cable-relay.service")
        try unit.write(to: path, atomically: true, encoding: .utf8)
        let result = try await ChildProcess.run(URL(fileURLWithPath: analyzer), ["verify", path.path])
        return (result.status, result.stdoutText + result.stderrText)
    }

    func unit() throws -> String {
        let text = try String(
            contentsOf: Self.root.appendingPathComponent("deploy/cable-relay.service"),
            encoding: .utf8
        )
        let cable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("cable").path
        #expect(text.contains("ExecStart=/usr/local/bin/cable relay"))
        return text.replacingOccurrences(of: "/usr/local/bin/cable", with: cable)
    }

    @Test func theUnitVerifies() async throws {
        let (status, output) = try await self.verify(try self.unit())
        #expect(status == 0, "\(output)")
        #expect(output.isEmpty, "\(output)")
    }

    @Test func theUnitSandboxesTheService() throws {
        let text = try self.unit()
        for directive in [
            "DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
            "KillSignal=SIGTERM",
        ] {
            #expect(text.contains("\n\(directive)\n"), "\(directive)")
        }
    }

    @Test func aBrokenUnitIsCaught() async throws {
        let broken = try self.unit().replacingOccurrences(of: "ProtectSystem=strict", with: "ProtectSystem=sometimes")
            .replacingOccurrences(of: "Type=exec", with: "Type=exec\nExecStartPre=relative/path")
        let (status, output) = try await self.verify(broken)
        #expect(status != 0 || !output.isEmpty, "systemd-analyze accepted a broken unit")
    }
}

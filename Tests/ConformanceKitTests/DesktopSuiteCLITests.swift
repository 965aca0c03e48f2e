import CableConformance
import CableLocking
import CableTestSupport
import CableTunnelTestSupport
import Foundation
import Testing

/// The `desktop.*` suite against our `cable register` as a separate process, driven only through its
/// command line, stdout and the network, as the kit drives another author's desktop; this is the
/// command `docs/conformance.md ("Testing your desktop client")` shows.
@Suite struct DesktopSuiteCLITests {
    /// `register` sends makeCredential; `sign-in` sends getAssertion (the kit's authenticator has no
    /// passkey, so its reply is an error status, which ends the ceremony but not the protocol).
    @Test(arguments: [["register", "--user", "alice"], ["sign-in"]])
    func everyScenarioPassesAgainstTheCableCommand(_ ceremony: [String]) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "conf-desktop-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let command = CableCommandDesktop(
            arguments: ceremony + [
                "--radio", "udp", "--tunnel", "{tunnel}", "--advert-listen", "{advert}",
                "--rp-store", directory.appendingPathComponent("rp.sqlite").path, "--timeout", "30",
            ]
        )
        try await withRelay { relay in
            for scenario in ConformanceSuites.desktop {
                // A fresh port per scenario: the previous scenario's process may still hold its port.
                let base = try await desktopUnderTest(relay, faults: .init())
                let subject = DesktopUnderTest(
                    implementation: command,
                    tunnel: base.tunnel,
                    advertHost: base.advertHost,
                    advertPort: base.advertPort
                )
                let (result, detail) = await verdict(scenario, subject, timeout: .seconds(30))
                #expect(result == .pass, "\(ceremony[0]) \(scenario.id): \(detail)")
            }
        }
    }
}

/// `cable <arguments>` with `{tunnel}` and `{advert}` filled in, its stdout as lines.
struct CableCommandDesktop: ImplementationUnderTest {
    let arguments: [String]

    func start(substitutions: [String: String]) async throws -> any RunningImplementation {
        let filled = self.arguments.map { argument in
            substitutions.reduce(argument) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
        }
        return CableCommandRun(process: try CableProcess(filled))
    }
}

final class CableCommandRun: RunningImplementation {
    let outputLines: AsyncStream<String>
    private let process: CableProcess
    private let reader: Task<Void, Never>

    init(process: CableProcess) {
        self.process = process
        let (lines, output) = AsyncStream<String>.makeStream()
        self.outputLines = lines
        // CableProcess collects lines; hand them on as they come, until the process ends.
        self.reader = Task {
            var delivered = 0
            while !Task.isCancelled {
                if !process.isRunning {
                    // Exited: its last lines may still be in the pipe, read by another thread.
                    await process.outputEnded()
                    for line in process.stdout.dropFirst(delivered) { output.yield(line) }
                    break
                }
                let all = process.stdout
                for line in all.dropFirst(delivered) { output.yield(line) }
                delivered = all.count
                try? await Task.sleep(for: .milliseconds(20))
            }
            output.finish()
        }
    }

    func stop() async -> ImplementationExit {
        let exitedByItself = !self.process.isRunning
        if !exitedByItself { self.process.terminate() }
        let status = try? await self.process.waitForExit(timeout: .seconds(10))
        self.reader.cancel()
        await self.reader.value
        return exitedByItself ? .exited(status ?? -1) : .stoppedByKit
    }
}

import CableTestSupport
import CableTunnelTestSupport
import Foundation
import Testing

/// `cable conformance phone --interactive` end to end, as a person uses it: the kit (a process) shows
/// each scenario's QR code and its `FIDO:/` URL as text, and says where the advert goes; the "person"
/// is our `cable phone`, started on each URL the kit prints. Every chosen scenario must PASS.
@Suite struct PhoneInteractiveTests {
    static let ids = ["phone.make-credential", "phone.get-assertion"]

    @Test func aPersonPastingTheShownURLsIntoCablePhonePassesTheChosenScenarios() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent(
            "conformance-interactive-\(UUID().uuidString).sqlite"
        )
        defer { try? FileManager.default.removeItem(at: store) }
        try await withRelay { relay in
            let kit = try CableProcess(
                [
                    "conformance", "phone", "--interactive", "--tunnel", relay.url.description, "--scenario-timeout",
                    "60",
                ]
                    + Self.ids.flatMap { ["--only", $0] }
            )
            var phones: [CableProcess] = []
            defer { for phone in phones where phone.isRunning { phone.terminate() } }
            let deadline = ContinuousClock.now + .seconds(240)
            while kit.isRunning, ContinuousClock.now < deadline {
                let urls = kit.stdout.filter { $0.hasPrefix("FIDO:/") }
                let adverts = kit.stderr.compactMap { line -> String? in
                    guard let range = line.range(of: "advert bus (udp): ") else { return nil }
                    return String(line[range.upperBound...])
                }
                // One phone per URL shown, told the advert bus address shown with it.
                while phones.count < min(urls.count, adverts.count) {
                    let index = phones.count
                    phones.append(
                        try CableProcess([
                            "phone", urls[index], "--tunnel", relay.url.description, "--radio", "udp",
                            "--advert-to", adverts[index], "--store", store.path,
                        ])
                    )
                }
                // The summary line ends the run (not only the exit, which a loaded machine reports late).
                if kit.stdout.contains(where: { $0.hasPrefix("phone: ") && $0.contains(" passed, ") }) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let status = try await kit.waitForExit(timeout: .seconds(60))
            let output = kit.stdout
            // A scenario may show more than one QR code (get-assertion registers a passkey first).
            #expect(phones.count >= Self.ids.count, "phones started: \(phones.count); stderr: \(kit.stderr.suffix(5))")
            for id in Self.ids {
                #expect(output.contains { $0.hasPrefix("PASS \(id):") }, "\(id): \(output.suffix(8))")
            }
            #expect(status == 0, "\(output.suffix(8))")
        }
    }

    /// A user reading `--help` learns where adverts travel: the UDP bus unless `--radio` says bluez.
    @Test(arguments: ["phone", "desktop"])
    func helpNamesTheRadiosAndTheUDPDefault(_ suite: String) async throws {
        let help = try CableProcess(["conformance", suite, "--help"])
        defer { if help.isRunning { help.terminate() } }
        // Reads the text as it comes rather than waiting for the exit (bounded; no timing claim).
        var text = ""
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            text = help.stdout.joined(separator: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ")
            if text.contains("-h, --help") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(text.contains("udp (the loopback UDP advert bus at {advert}; the default), bluez"), "\(text)")
        #expect(text.contains("(values: auto, bluez, udp; default: udp)"), "\(text)")
    }
}

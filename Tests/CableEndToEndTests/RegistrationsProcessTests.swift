import CableTestSupport
import Foundation
import Testing

/// `cable registrations list|remove` and the relying party's policy errors, with the real `cable` binary:
/// a relay, a desktop and a phone as separate processes on loopback.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RegistrationsProcessTests {
    static let androidAAGUID = "de1e552d-db1d-4423-a619-566b625cdc84"

    /// The end-to-end rig (a relay, a scratch directory, and a desktop that retries if its advert port
    /// was taken), with the phone this suite uses: the Android persona, packed attestation.
    struct Rig {
        let inner: ProcessEndToEndTests.Rig

        init() async throws { self.inner = try await ProcessEndToEndTests.Rig() }

        var rpStore: String { self.inner.rpStore }
        var directory: URL { self.inner.directory }

        func ceremony(_ command: String, desktop extra: [String]) async throws -> (desktop: CableProcess, status: Int32)
        {
            let run = try await self.inner.ceremony(
                command,
                desktop: extra,
                phone: ["--persona", "authenticator-android", "--attestation", "packed"]
            )
            return (run.desktop, run.desktopStatus)
        }

        func cable(_ arguments: [String]) async throws -> (process: CableProcess, status: Int32) {
            let process = try CableProcess(arguments)
            return (process, try await process.waitForExit())
        }

        func stop() async throws { try await self.inner.stop() }
    }

    static func errorLines(_ process: CableProcess) -> [String] { process.stderr.filter { $0.hasPrefix("error:") } }

    @Test func aRemovedRegistrationCannotSignInAndRemovingItAgainFails() async throws {
        let rig = try await Rig()
        let registered = try await rig.ceremony("register", desktop: ["--user", "alice"])
        #expect(registered.status == 0, "\(registered.desktop.stderr)")
        let credentialID = try #require(try registered.desktop.lastJSON()["credentialId"] as? String)

        let list = try await rig.cable(["registrations", "list", "--rp-store", rig.rpStore, "--json"])
        #expect(list.status == 0, "\(list.process.stderr)")
        let listed = try #require(try list.process.lastJSON()["registrations"] as? [[String: Any]])
        #expect(listed.count == 1)
        #expect(listed.first?["credentialId"] as? String == credentialID)
        #expect(listed.first?["user"] as? String == "alice")
        #expect(listed.first?["aaguid"] as? String == Self.androidAAGUID)
        #expect(listed.first?["signCount"] as? Int == 0)
        #expect((listed.first?["created"] as? String)?.hasSuffix("Z") == true)
        let human = try await rig.cable(["registrations", "list", "--rp-store", rig.rpStore])
        #expect(
            human.process.stdout.contains {
                $0.hasPrefix(credentialID) && $0.contains("alice") && $0.contains(Self.androidAAGUID)
            }
        )

        // Before removal the passkey signs in; after it, the same phone passkey is refused as unknown.
        let before = try await rig.ceremony("sign-in", desktop: [])
        #expect(before.status == 0, "\(before.desktop.stderr)")
        let remove = try await rig.cable(["registrations", "remove", credentialID, "--rp-store", rig.rpStore])
        #expect(remove.status == 0, "\(remove.process.stderr)")
        #expect(remove.process.stdout.contains { $0.contains("removed \(credentialID)") })
        let empty = try await rig.cable(["registrations", "list", "--rp-store", rig.rpStore, "--json"])
        #expect((try empty.process.lastJSON()["registrations"] as? [Any])?.isEmpty == true)

        let after = try await rig.ceremony("sign-in", desktop: [])
        #expect(after.status != 0)
        let refusal = Self.errorLines(after.desktop)
        #expect(refusal.count == 1)
        #expect(refusal.first?.contains("does not know") == true, "\(refusal)")
        let failure = try after.desktop.lastJSON()
        #expect(failure["ok"] as? Bool == false)
        #expect(failure["step"] as? String == "verify")
        #expect((failure["error"] as? String).map { "error: " + $0 } == refusal.first)

        let again = try await rig.cable(["registrations", "remove", credentialID, "--rp-store", rig.rpStore])
        #expect(again.status != 0)
        #expect(
            Self.errorLines(again.process).first?.contains("no registration with credential ID \(credentialID)") == true
        )
        let garbage = try await rig.cable(["registrations", "remove", "not base64!", "--rp-store", rig.rpStore])
        #expect(garbage.status != 0)
        #expect(Self.errorLines(garbage.process).count == 1)
        let missing = try await rig.cable([
            "registrations", "list", "--rp-store", rig.directory.appendingPathComponent("nope.json").path,
        ])
        #expect(missing.status != 0)
        #expect(Self.errorLines(missing.process).first?.contains("no relying-party store") == true)
        try await rig.stop()
    }

    @Test func aBlockedAAGUIDIsOneErrorLineNamingTheRuleTheAAGUIDAndTheFix() async throws {
        let rig = try await Rig()
        let blocked = try await rig.ceremony(
            "register",
            desktop: ["--user", "bob", "--block-aaguid", Self.androidAAGUID]
        )
        #expect(blocked.status != 0)
        let lines = Self.errorLines(blocked.desktop)
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.contains("block list"))
        #expect(line.contains("--block-aaguid \(Self.androidAAGUID)"))
        let failure = try blocked.desktop.lastJSON()
        #expect(failure["ok"] as? Bool == false)
        #expect(failure["step"] as? String == "policy")

        let notAllowed = try await rig.ceremony(
            "register",
            desktop: ["--user", "bob", "--allow-aaguid", "90a3ccdf-635c-4729-a248-9b709135078f"]
        )
        #expect(notAllowed.status != 0)
        let allowLine = try #require(Self.errorLines(notAllowed.desktop).first)
        #expect(allowLine.contains("--allow-aaguid \(Self.androidAAGUID)"))
        #expect(try notAllowed.desktop.lastJSON()["step"] as? String == "policy")
        try await rig.stop()
    }

    @Test(arguments: ["--allow-aaguid", "--block-aaguid"])
    func aMalformedAAGUIDOptionShowsTheExpectedForm(_ option: String) async throws {
        let run = try CableProcess([
            "register", "--user", "x", option, "not-a-uuid", "--json", "--advert-listen", "127.0.0.1:1",
        ])
        #expect(try await run.waitForExit() != 0)
        let lines = Self.errorLines(run)
        #expect(lines.count == 1)
        #expect(lines.first?.contains("\(option) not-a-uuid") == true)
        #expect(lines.first?.contains("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx") == true)
        let failure = try run.lastJSON()
        #expect(failure["ok"] as? Bool == false)
        #expect(failure["step"] as? String == "arguments")
    }
}

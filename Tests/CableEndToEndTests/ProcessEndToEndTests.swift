import CableLocking
import CableProtocol
import CableTestSupport
import CableTunnel
import Foundation
import Testing

/// Desktop (`cable register` / `cable sign-in`) and phone (`cable phone`) as separate processes,
/// meeting through a real `cable relay` on loopback and the UDP advert bus, as `cli.md` describes.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ProcessEndToEndTests {
    static let iosAAGUID = "90a3ccdf-635c-4729-a248-9b709135078f"
    static let androidAAGUID = "de1e552d-db1d-4423-a619-566b625cdc84"

    /// A relay and a scratch directory for the stores; each desktop gets its own advert-bus port. Every
    /// process goes through ``children``, so none outlives the test (see ``withRig(_:)``).
    final class Rig: Sendable {
        let children: ChildProcesses
        let relay: CableProcess
        let tunnel: String
        let directory: URL

        init(children: ChildProcesses) async throws {
            self.children = children
            self.relay = try children.start(["relay", "--port", "0"])
            let line = try await self.relay.waitForLine(startingWith: "listening on ")
            self.tunnel = String(line.dropFirst("listening on ".count))
            self.directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "cable-e2e-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        }

        /// A rig with children of its own, for tests that tear it down with ``stop()`` themselves
        /// (``withRig(_:)`` also tears it down when the test throws).
        convenience init() async throws {
            let children = ChildProcesses()
            do {
                try await self.init(children: children)
            } catch {
                children.killAll()
                throw error
            }
        }

        /// Stops the relay cleanly (and checks that it did), kills any child still running and removes
        /// the scratch directory.
        func stop() async throws {
            defer {
                self.children.killAll()
                try? FileManager.default.removeItem(at: self.directory)
            }
            try await self.stopRelay()
        }

        var rpStore: String { self.directory.appendingPathComponent("rp.sqlite").path }
        var phoneStore: String { self.directory.appendingPathComponent("phone.sqlite").path }

        /// Starts `cable arguments` as a child of this rig.
        func start(_ arguments: [String]) throws -> CableProcess { try self.children.start(arguments) }

        /// A desktop process that is showing its QR code, and the bus port it listens on.
        struct RunningDesktop {
            let process: CableProcess
            let url: String
            let busPort: Int
        }

        /// Starts a desktop with `arguments(busPort)` on a bus port no other test is handed (a port below
        /// the kernel's ephemeral range, see `unsharedLoopbackUDPPort()`) and waits for its QR code.
        func startDesktop(_ arguments: (Int) -> [String]) async throws -> RunningDesktop {
            let port = try unsharedLoopbackUDPPort()
            let process = try self.start(arguments(port))
            let url = try await process.waitForLine(startingWith: "FIDO:/")
            return RunningDesktop(process: process, url: url, busPort: port)
        }

        func desktop(_ command: String, _ extra: [String] = []) async throws -> RunningDesktop {
            try await self.startDesktop { port in
                [
                    command, "--rp-id", "login.example.com", "--tunnel", self.tunnel, "--advert-listen",
                    "127.0.0.1:\(port)",
                    "--rp-store", self.rpStore, "--timeout", "15", "--json",
                ] + extra
            }
        }

        func phone(url: String, busPort: Int, _ extra: [String] = []) throws -> CableProcess {
            try self.start(
                [
                    "phone", url, "--tunnel", self.tunnel, "--advert-to", "127.0.0.1:\(busPort)", "--store",
                    self.phoneStore, "--json",
                ]
                    + extra
            )
        }

        /// Runs a desktop command against a phone, returning both finished processes.
        func ceremony(
            _ command: String,
            desktop extra: [String] = [],
            phone phoneExtra: [String] = []
        ) async throws
            -> (desktop: CableProcess, phone: CableProcess, desktopStatus: Int32, phoneStatus: Int32)
        {
            let desktop = try await self.desktop(command, extra)
            let phone = try self.phone(url: desktop.url, busPort: desktop.busPort, phoneExtra)
            let d = try await desktop.process.waitForExit()
            let p = try await phone.waitForExit()
            return (desktop.process, phone, d, p)
        }

        /// The relay must shut down cleanly on SIGINT.
        func stopRelay() async throws {
            self.relay.interrupt()
            #expect(
                try await self.relay.waitForExit(timeout: .seconds(10)) == 0,
                "the relay shuts down cleanly on SIGINT"
            )
        }
    }

    /// Runs `body` with a rig that is always torn down: on success the relay is stopped cleanly (and
    /// checked); on every path whatever is still running — relay, desktops, phones — is killed with its
    /// process group and the scratch directory removed, so no child outlives its test.
    static func withRig(_ body: (Rig) async throws -> Void) async throws {
        var directory: URL?
        defer { if let directory { try? FileManager.default.removeItem(at: directory) } }
        try await ChildProcesses.withChildren { children in
            let rig = try await Rig(children: children)
            directory = rig.directory
            try await body(rig)
            try await rig.stopRelay()
        }
    }

    /// The tear-down is proven, not assumed: a test body that throws while the relay and a desktop run
    /// leaves neither running (both killed, not left to time out).
    @Test func aTestThatThrowsLeavesNoChildRunning() async throws {
        struct Thrown: Error {}
        final class Seen: Sendable { let processes = LockedValue<[CableProcess]>([]) }
        let seen = Seen()
        await #expect(throws: Thrown.self) {
            try await Self.withRig { rig in
                let desktop = try await rig.desktop("register", ["--user", "kim"])
                seen.processes.withLock { $0 = [rig.relay, desktop.process] }
                #expect(rig.relay.isRunning && desktop.process.isRunning)
                throw Thrown()
            }
        }
        let processes = seen.processes.withLock { $0 }
        #expect(processes.count == 2)
        for process in processes {
            // SIGKILL's number is the status Foundation reports for a killed child.
            #expect(try await process.waitForExit(timeout: .seconds(10)) == SIGKILL, "\(process.arguments)")
            #expect(!process.isRunning)
        }
    }

    @Test func registerThenSignInAcrossProcesses() async throws {
        try await Self.withRig { rig in
            let reg = try await rig.ceremony(
                "register",
                desktop: ["--user", "alice", "--allow-aaguid", Self.iosAAGUID],
                phone: ["--persona", "authenticator-ios", "--attestation", "packed"]
            )
            #expect(reg.desktopStatus == 0, "\(reg.desktop.stderr)")
            #expect(reg.phoneStatus == 0, "\(reg.phone.stderr)")
            let r = try reg.desktop.lastJSON()
            #expect(r["ok"] as? Bool == true)
            #expect(r["ceremony"] as? String == "register")
            #expect(r["aaguid"] as? String == Self.iosAAGUID)
            #expect(r["attestationFormat"] as? String == "packed")
            #expect(r["userVerified"] as? Bool == true)
            let credentialID = try #require(r["credentialId"] as? String)

            let list = try rig.start(["passkeys", "list", "--store", rig.phoneStore, "--json"])
            #expect(try await list.waitForExit() == 0)
            #expect(list.stdout.joined().contains(credentialID))

            let sign = try await rig.ceremony("sign-in", phone: ["--persona", "authenticator-ios"])
            #expect(sign.desktopStatus == 0, "\(sign.desktop.stderr)")
            let s = try sign.desktop.lastJSON()
            #expect(s["ceremony"] as? String == "sign-in")
            #expect(s["credentialId"] as? String == credentialID)
            #expect(s["signCount"] as? Int == 1)

            // The user removes the passkey from the lost phone: signing in then finds none.
            let delete = try rig.start(["passkeys", "delete", credentialID, "--store", rig.phoneStore])
            #expect(try await delete.waitForExit() == 0, "passkeys delete: \(delete.stderr)")
            #expect(delete.stdout == ["deleted \(credentialID)"], "passkeys delete: \(delete.stdout) \(delete.stderr)")
            let empty = try rig.start(["passkeys", "list", "--store", rig.phoneStore, "--json"])
            #expect(try await empty.waitForExit() == 0)
            #expect((try empty.lastJSON()["passkeys"] as? [Any])?.isEmpty == true, "after delete: \(empty.stdout)")
            let after = try await rig.ceremony("sign-in", phone: ["--persona", "authenticator-ios"])
            #expect(
                after.desktopStatus != 0,
                """
                registered \(credentialID); desktop: \(after.desktop.stdout.suffix(2)) \(after.desktop.stderr.suffix(3)); \
                phone: \(after.phone.stdout.suffix(2)) \(after.phone.stderr.suffix(3))
                """
            )
            #expect(after.desktop.stderr.contains { $0.hasPrefix("error:") && $0.contains("no passkey") })
        }
    }

    /// A bus port another program holds: the desktop exits before showing a QR code, with one plain
    /// line naming the address and the system's words (the bus port is never probed and reused).
    @Test func aTakenAdvertPortIsOnePlainError() async throws {
        try await Self.withRig { rig in
            let port = try unsharedLoopbackUDPPort()
            let squatter = try await UDPAdvertListener.bind(host: "127.0.0.1", port: port)
            do {
                let desktop = try rig.start([
                    "register", "--user", "ike", "--tunnel", rig.tunnel, "--advert-listen", "127.0.0.1:\(port)",
                    "--rp-store", rig.rpStore, "--timeout", "15", "--json",
                ])
                #expect(try await desktop.waitForExit() != 0)
                #expect(!desktop.stdout.contains { $0.hasPrefix("FIDO:/") }, "no QR code without a bus")
                #expect(
                    desktop.stderr.filter { $0.hasPrefix("error:") }
                        == ["error: cannot listen for adverts on 127.0.0.1:\(port): Address already in use"]
                )
                #expect(try desktop.lastJSON()["step"] as? String == "run")
            } catch {
                await squatter.close()
                throw error
            }
            await squatter.close()
        }
    }

    @Test func aRefusedAAGUIDIsNamedWithTheFix() async throws {
        try await Self.withRig { rig in
            let reg = try await rig.ceremony(
                "register",
                desktop: ["--user", "bob", "--allow-aaguid", Self.androidAAGUID],
                phone: ["--persona", "authenticator-ios"]
            )
            #expect(reg.desktopStatus != 0)
            let error = try #require(reg.desktop.stderr.first { $0.hasPrefix("error:") })
            #expect(error.contains(Self.iosAAGUID))
            #expect(error.contains("must add \(Self.iosAAGUID) to the allowed AAGUIDs list"))
            #expect(reg.desktop.stderr.filter { $0.hasPrefix("error:") }.count == 1)
        }
    }

    @Test func enforcedAttestationRefusesNone() async throws {
        try await Self.withRig { rig in
            let reg = try await rig.ceremony(
                "register",
                desktop: ["--user", "carol", "--enforce-attestation"],
                phone: ["--persona", "generic", "--attestation", "none"]
            )
            #expect(reg.desktopStatus != 0)
            // The exact line: the rule and the AAGUID in words, no code name or field path of the relying party.
            let refusal = "authenticator model 00000000-0000-0000-0000-000000000000"
            let fix = "it must attest with a certificate chain that verifies up to a trusted root"
            #expect(
                reg.desktop.stderr.filter { $0.hasPrefix("error:") } == [
                    "error: verification failed: enforce-attestation: attestation is enforced, but \(refusal) sent "
                        + "'none' attestation; \(fix)"
                ]
            )
            // Self attestation names no trusted model either (TrustProcessEndToEndTests covers the accepted path).
            let selfAttested = try await rig.ceremony(
                "register",
                desktop: ["--user", "carol", "--enforce-attestation"],
                phone: ["--persona", "generic", "--attestation", "packed"]
            )
            #expect(selfAttested.desktopStatus != 0)
            #expect(
                selfAttested.desktop.stderr.filter { $0.hasPrefix("error:") } == [
                    "error: verification failed: enforce-attestation: attestation is enforced, but \(refusal) sent "
                        + "self attestation (packed, no certificate chain); \(fix)"
                ]
            )
        }
    }

    @Test func theUserDeclining() async throws {
        try await Self.withRig { rig in
            let reg = try await rig.ceremony("register", desktop: ["--user", "dave"], phone: ["--deny"])
            #expect(reg.desktopStatus != 0)
            #expect(reg.desktop.stderr.contains { $0.hasPrefix("error:") && $0.contains("declined") })
            #expect(reg.phoneStatus == 0, "the phone ends cleanly after answering")
        }
    }

    @Test func aPhoneThatNeverAnswersTimesOutNamingTheStep() async throws {
        try await Self.withRig { rig in
            let desktop = try await rig.startDesktop { port in
                [
                    "register", "--user", "erin", "--tunnel", rig.tunnel, "--advert-listen", "127.0.0.1:\(port)",
                    "--rp-store", rig.rpStore, "--timeout", "1",
                ]
            }.process
            #expect(try await desktop.waitForExit() != 0)
            let error = try #require(desktop.stderr.first { $0.hasPrefix("error:") })
            #expect(error.contains("timed out waiting for the phone's BLE advert"))
        }
    }

    @Test func strangersAdvertsOnTheBusAreIgnored() async throws {
        try await Self.withRig { rig in
            let running = try await rig.desktop("register", ["--user", "frank"])
            let desktop = running.process
            // Noise first: garbage, truncated structures, and a well-formed advert under another key.
            let stranger = try await UDPAdvertTransmitter.connect(host: "127.0.0.1", port: running.busPort)
            let otherKey = try QRSecret(bytes: [UInt8](repeating: 7, count: 16)).eidKey
            let plaintext = try AdvertPlaintext(
                nonce: [UInt8](repeating: 1, count: 10),
                routingID: RoutingID(hex: "010203"),
                domainID: .google
            )
            for junk in [
                [UInt8](repeating: 0xFF, count: 40), [0x17, 0x16, 0xF9], [],
                AdvertisingData.phoneAdvert(try AdvertCrypter.encrypt(plaintext, key: otherKey)).bytes,
            ] {
                try await stranger.transmit(junk)
            }
            let phone = try rig.phone(url: running.url, busPort: running.busPort)
            #expect(try await desktop.waitForExit() == 0, "\(desktop.stderr)")
            #expect(try await phone.waitForExit() == 0)
            await stranger.close()
        }
    }

    @Test func twoCeremoniesAtOnceOnOneRelay() async throws {
        try await Self.withRig { rig in
            let a = try await rig.desktop("register", ["--user", "gina"])
            let b = try await rig.startDesktop { port in
                [
                    "register", "--user", "hank", "--rp-id", "login.example.com", "--tunnel", rig.tunnel,
                    "--advert-listen",
                    "127.0.0.1:\(port)", "--rp-store", rig.directory.appendingPathComponent("rp2.json").path,
                    "--timeout", "15",
                    "--json",
                ]
            }
            #expect(a.busPort != b.busPort)
            let phoneA = try rig.phone(url: a.url, busPort: a.busPort)
            let phoneB = try rig.start(
                [
                    "phone", b.url, "--tunnel", rig.tunnel, "--advert-to", "127.0.0.1:\(b.busPort)", "--store",
                    rig.directory.appendingPathComponent("phone2.json").path, "--persona", "authenticator-ios",
                ])
            #expect(try await a.process.waitForExit() == 0, "\(a.process.stderr)")
            #expect(try await b.process.waitForExit() == 0, "\(b.process.stderr)")
            #expect(try await phoneA.waitForExit() == 0)
            #expect(try await phoneB.waitForExit() == 0)
            #expect(try a.process.lastJSON()["aaguid"] as? String != b.process.lastJSON()["aaguid"] as? String)
        }
    }
}

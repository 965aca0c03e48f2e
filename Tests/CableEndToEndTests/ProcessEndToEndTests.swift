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

    /// A relay and a scratch directory for the stores; each desktop gets its own advert-bus port.
    final class Rig: Sendable {
        let relay: CableProcess
        let tunnel: String
        let directory: URL

        init() async throws {
            self.relay = try CableProcess(["relay", "--port", "0"])
            do {
                let line = try await self.relay.waitForLine(startingWith: "listening on ")
                self.tunnel = String(line.dropFirst("listening on ".count))
            } catch {
                self.relay.terminate()
                throw error
            }
            self.directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "cable-e2e-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        }

        /// A UDP port that was free a moment ago. Another process may take it before the desktop binds
        /// it, so ``startDesktop(_:)`` retries with a new one when the bind fails.
        static func freeUDPPort() async throws -> Int {
            let probe = try await UDPAdvertListener.bind(host: "127.0.0.1", port: 0)
            let port = probe.port
            await probe.close()
            return port
        }

        var rpStore: String { self.directory.appendingPathComponent("rp.sqlite").path }
        var phoneStore: String { self.directory.appendingPathComponent("phone.sqlite").path }

        /// A desktop process that is showing its QR code, and the bus port it listens on.
        struct RunningDesktop {
            let process: CableProcess
            let url: String
            let busPort: Int
        }

        /// Starts a desktop with `arguments(busPort)` and waits for its QR code. If the port was taken
        /// between choosing it and the desktop binding it (the desktop exits with its bind error), tries
        /// again with another port, a bounded number of times.
        /// `firstTry` is the port of the first attempt instead of a free one (to test the retry).
        func startDesktop(firstTry: Int? = nil, _ arguments: (Int) -> [String]) async throws -> RunningDesktop {
            var lastError: (any Error)?
            for attempt in 0..<5 {
                let port: Int
                if attempt == 0, let firstTry { port = firstTry } else { port = try await Self.freeUDPPort() }
                let process = try CableProcess(arguments(port))
                do {
                    let url = try await process.waitForLine(startingWith: "FIDO:/")
                    return RunningDesktop(process: process, url: url, busPort: port)
                } catch {
                    lastError = error
                    guard !process.isRunning,
                        process.stderr.contains(where: { $0.contains("cannot listen for adverts") })
                    else {
                        process.terminate()
                        throw error
                    }
                }
            }
            throw lastError ?? ProcessFailure("no free advert port")
        }

        func desktop(_ command: String, _ extra: [String] = [], firstTry: Int? = nil) async throws -> RunningDesktop {
            try await self.startDesktop(firstTry: firstTry) { port in
                [
                    command, "--rp-id", "login.example.com", "--tunnel", self.tunnel, "--advert-listen",
                    "127.0.0.1:\(port)",
                    "--rp-store", self.rpStore, "--timeout", "15", "--json",
                ] + extra
            }
        }

        func phone(url: String, busPort: Int, _ extra: [String] = []) throws -> CableProcess {
            try CableProcess(
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

        func stop() async throws {
            self.relay.interrupt()
            #expect(
                try await self.relay.waitForExit(timeout: .seconds(10)) == 0,
                "the relay shuts down cleanly on SIGINT"
            )
            try? FileManager.default.removeItem(at: self.directory)
        }

        /// On a failed test: the relay is killed and the scratch directory removed, whatever happened.
        func abandon() {
            if self.relay.isRunning { self.relay.terminate() }
            try? FileManager.default.removeItem(at: self.directory)
        }
    }

    /// Runs `body` with a rig that is always torn down: stopped cleanly (and checked) on success,
    /// killed if `body` throws, so no relay process outlives its test.
    static func withRig(_ body: (Rig) async throws -> Void) async throws {
        let rig = try await Rig()
        do {
            try await body(rig)
        } catch {
            rig.abandon()
            throw error
        }
        try await rig.stop()
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

            let list = try CableProcess(["passkeys", "list", "--store", rig.phoneStore, "--json"])
            #expect(try await list.waitForExit() == 0)
            #expect(list.stdout.joined().contains(credentialID))

            let sign = try await rig.ceremony("sign-in", phone: ["--persona", "authenticator-ios"])
            #expect(sign.desktopStatus == 0, "\(sign.desktop.stderr)")
            let s = try sign.desktop.lastJSON()
            #expect(s["ceremony"] as? String == "sign-in")
            #expect(s["credentialId"] as? String == credentialID)
            #expect(s["signCount"] as? Int == 1)

            // The user removes the passkey from the lost phone: signing in then finds none.
            let delete = try CableProcess(["passkeys", "delete", credentialID, "--store", rig.phoneStore])
            #expect(try await delete.waitForExit() == 0)
            let after = try await rig.ceremony("sign-in", phone: ["--persona", "authenticator-ios"])
            #expect(after.desktopStatus != 0)
            #expect(after.desktop.stderr.contains { $0.hasPrefix("error:") && $0.contains("no passkey") })
        }
    }

    /// The port race is handled, not assumed away: a desktop whose bus port was taken exits with its bind
    /// error, and the rig starts it again on another port; the ceremony then completes.
    @Test func aTakenAdvertPortIsRetriedWithAnother() async throws {
        try await Self.withRig { rig in
            let squatter = try await UDPAdvertListener.bind(host: "127.0.0.1", port: 0)
            let running = try await rig.desktop("register", ["--user", "ike"], firstTry: squatter.port)
            #expect(running.busPort != squatter.port)
            let phone = try rig.phone(url: running.url, busPort: running.busPort)
            #expect(try await running.process.waitForExit() == 0, "\(running.process.stderr)")
            #expect(try await phone.waitForExit() == 0)
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
            #expect(reg.desktop.stderr.contains { $0.hasPrefix("error:") && $0.contains("attestation") })
            // Self attestation names no trusted model either (TrustProcessEndToEndTests covers the accepted path).
            let selfAttested = try await rig.ceremony(
                "register",
                desktop: ["--user", "carol", "--enforce-attestation"],
                phone: ["--persona", "generic", "--attestation", "packed"]
            )
            #expect(selfAttested.desktopStatus != 0)
            #expect(selfAttested.desktop.stderr.contains { $0.hasPrefix("error:") && $0.contains("self attestation") })
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
            let phoneB = try CableProcess(
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

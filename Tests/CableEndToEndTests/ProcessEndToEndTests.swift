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

    /// A relay, a free UDP port for the bus and a scratch directory for the stores.
    final class Rig: Sendable {
        let relay: CableProcess
        let tunnel: String
        let busPort: Int
        let directory: URL

        init() async throws {
            self.relay = try CableProcess(["relay", "--port", "0"])
            let line = try await self.relay.waitForLine(startingWith: "listening on ")
            self.tunnel = String(line.dropFirst("listening on ".count))
            self.busPort = try await Self.freeUDPPort()
            self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("cable-e2e-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        }

        static func freeUDPPort() async throws -> Int {
            let probe = try await UDPAdvertListener.bind(host: "127.0.0.1", port: 0)
            let port = probe.port
            await probe.close()
            return port
        }

        var rpStore: String { self.directory.appendingPathComponent("rp.json").path }
        var phoneStore: String { self.directory.appendingPathComponent("phone.json").path }

        func desktop(_ command: String, _ extra: [String] = []) throws -> CableProcess {
            try CableProcess(
                [command, "--rp-id", "login.example.com", "--tunnel", self.tunnel, "--advert-listen", "127.0.0.1:\(self.busPort)",
                 "--rp-store", self.rpStore, "--timeout", "15", "--json"] + extra)
        }

        func phone(url: String, _ extra: [String] = []) throws -> CableProcess {
            try CableProcess(
                ["phone", url, "--tunnel", self.tunnel, "--advert-to", "127.0.0.1:\(self.busPort)", "--store", self.phoneStore, "--json"]
                    + extra)
        }

        /// Runs a desktop command against a phone, returning both finished processes.
        func ceremony(_ command: String, desktop extra: [String] = [], phone phoneExtra: [String] = []) async throws
            -> (desktop: CableProcess, phone: CableProcess, desktopStatus: Int32, phoneStatus: Int32)
        {
            let desktop = try self.desktop(command, extra)
            let url = try await desktop.waitForLine(startingWith: "FIDO:/")
            let phone = try self.phone(url: url, phoneExtra)
            let d = try await desktop.waitForExit()
            let p = try await phone.waitForExit()
            return (desktop, phone, d, p)
        }

        func stop() async throws {
            self.relay.interrupt()
            #expect(try await self.relay.waitForExit(timeout: .seconds(10)) == 0, "the relay shuts down cleanly on SIGINT")
            try? FileManager.default.removeItem(at: self.directory)
        }
    }

    @Test func registerThenSignInAcrossProcesses() async throws {
        let rig = try await Rig()
        let reg = try await rig.ceremony("register", desktop: ["--user", "alice", "--allow-aaguid", Self.iosAAGUID],
                                         phone: ["--persona", "authenticator-ios", "--attestation", "packed"])
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
        try await rig.stop()
    }

    @Test func aRefusedAAGUIDIsNamedWithTheFix() async throws {
        let rig = try await Rig()
        let reg = try await rig.ceremony("register", desktop: ["--user", "bob", "--allow-aaguid", Self.androidAAGUID],
                                         phone: ["--persona", "authenticator-ios"])
        #expect(reg.desktopStatus != 0)
        let error = try #require(reg.desktop.stderr.first { $0.hasPrefix("error:") })
        #expect(error.contains(Self.iosAAGUID))
        #expect(error.contains("must add \(Self.iosAAGUID) to the allowed AAGUIDs list"))
        #expect(reg.desktop.stderr.filter { $0.hasPrefix("error:") }.count == 1)
        try await rig.stop()
    }

    @Test func enforcedAttestationRefusesNone() async throws {
        let rig = try await Rig()
        let reg = try await rig.ceremony("register", desktop: ["--user", "carol", "--enforce-attestation"],
                                         phone: ["--persona", "generic", "--attestation", "none"])
        #expect(reg.desktopStatus != 0)
        #expect(reg.desktop.stderr.contains { $0.hasPrefix("error:") && $0.contains("attestation") })
        // Self attestation names no trusted model either (TrustProcessEndToEndTests covers the accepted path).
        let selfAttested = try await rig.ceremony("register", desktop: ["--user", "carol", "--enforce-attestation"],
                                                  phone: ["--persona", "generic", "--attestation", "packed"])
        #expect(selfAttested.desktopStatus != 0)
        #expect(selfAttested.desktop.stderr.contains { $0.hasPrefix("error:") && $0.contains("self attestation") })
        try await rig.stop()
    }

    @Test func theUserDeclining() async throws {
        let rig = try await Rig()
        let reg = try await rig.ceremony("register", desktop: ["--user", "dave"], phone: ["--deny"])
        #expect(reg.desktopStatus != 0)
        #expect(reg.desktop.stderr.contains { $0.hasPrefix("error:") && $0.contains("declined") })
        #expect(reg.phoneStatus == 0, "the phone ends cleanly after answering")
        try await rig.stop()
    }

    @Test func aPhoneThatNeverAnswersTimesOutNamingTheStep() async throws {
        let rig = try await Rig()
        let desktop = try CableProcess(
            ["register", "--user", "erin", "--tunnel", rig.tunnel, "--advert-listen", "127.0.0.1:\(rig.busPort)",
             "--rp-store", rig.rpStore, "--timeout", "1"])
        _ = try await desktop.waitForLine(startingWith: "FIDO:/")
        #expect(try await desktop.waitForExit() != 0)
        let error = try #require(desktop.stderr.first { $0.hasPrefix("error:") })
        #expect(error.contains("timed out waiting for the phone's BLE advert"))
        try await rig.stop()
    }

    @Test func strangersAdvertsOnTheBusAreIgnored() async throws {
        let rig = try await Rig()
        let desktop = try rig.desktop("register", ["--user", "frank"])
        let url = try await desktop.waitForLine(startingWith: "FIDO:/")
        // Noise first: garbage, truncated structures, and a well-formed advert under another key.
        let stranger = try await UDPAdvertTransmitter.connect(host: "127.0.0.1", port: rig.busPort)
        let otherKey = try QRSecret(bytes: [UInt8](repeating: 7, count: 16)).eidKey
        let plaintext = try AdvertPlaintext(nonce: [UInt8](repeating: 1, count: 10), routingID: RoutingID(hex: "010203"), domainID: .google)
        for junk in [[UInt8](repeating: 0xFF, count: 40), [0x17, 0x16, 0xF9], [], AdvertisingData.phoneAdvert(try AdvertCrypter.encrypt(plaintext, key: otherKey)).bytes] {
            try await stranger.transmit(junk)
        }
        let phone = try rig.phone(url: url)
        #expect(try await desktop.waitForExit() == 0, "\(desktop.stderr)")
        #expect(try await phone.waitForExit() == 0)
        await stranger.close()
        try await rig.stop()
    }

    @Test func twoCeremoniesAtOnceOnOneRelay() async throws {
        let rig = try await Rig()
        let secondBus = try await Rig.freeUDPPort()
        let a = try rig.desktop("register", ["--user", "gina"])
        let b = try CableProcess(
            ["register", "--user", "hank", "--rp-id", "login.example.com", "--tunnel", rig.tunnel, "--advert-listen",
             "127.0.0.1:\(secondBus)", "--rp-store", rig.directory.appendingPathComponent("rp2.json").path, "--timeout", "15", "--json"])
        let urlA = try await a.waitForLine(startingWith: "FIDO:/")
        let urlB = try await b.waitForLine(startingWith: "FIDO:/")
        let phoneA = try rig.phone(url: urlA)
        let phoneB = try CableProcess(
            ["phone", urlB, "--tunnel", rig.tunnel, "--advert-to", "127.0.0.1:\(secondBus)", "--store",
             rig.directory.appendingPathComponent("phone2.json").path, "--persona", "authenticator-ios"])
        #expect(try await a.waitForExit() == 0, "\(a.stderr)")
        #expect(try await b.waitForExit() == 0, "\(b.stderr)")
        #expect(try await phoneA.waitForExit() == 0)
        #expect(try await phoneB.waitForExit() == 0)
        #expect(try a.lastJSON()["aaguid"] as? String != b.lastJSON()["aaguid"] as? String)
        try await rig.stop()
    }
}

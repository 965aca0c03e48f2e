import CableTestSupport
import Foundation
import Testing

/// `cable register` / `cable sign-in` and `cable phone` as separate processes with `--radio bluez`
/// on both sides: the private bus is their system bus (`DBUS_SYSTEM_BUS_ADDRESS`), the stand-in
/// BlueZ carries the phone's registered advertisement to the desktop's discovery, and a real
/// `cable relay` on loopback carries the tunnel.
@Suite(.serialized, .timeLimit(.minutes(4))) struct CLIRadioTests {
    final class Relay: Sendable {
        let process: CableProcess
        let url: String
        init() async throws {
            self.process = try CableProcess(["relay", "--port", "0"])
            self.url = String(
                try await self.process.waitForLine(startingWith: "listening on ").dropFirst("listening on ".count)
            )
        }
        func stop() async throws {
            self.process.interrupt()
            _ = try await self.process.waitForExit(timeout: .seconds(60))
        }
    }

    static func desktop(_ command: String, _ rig: BusRig, relay: Relay, _ extra: [String]) throws -> CableProcess {
        try CableProcess(
            [
                command, "--tunnel", relay.url, "--rp-store", rig.directory.appendingPathComponent("rp.json").path,
                "--timeout", "20",
                "--json",
            ] + extra,
            environment: rig.environment
        )
    }

    static func phone(_ url: String, _ rig: BusRig, relay: Relay, _ extra: [String]) throws -> CableProcess {
        try CableProcess(
            [
                "phone", url, "--tunnel", relay.url, "--store", rig.directory.appendingPathComponent("phone.json").path,
                "--json",
            ] + extra,
            environment: rig.environment
        )
    }

    @Test func registerThenSignInWithBlueZOnBothSides() async throws {
        let relay = try await Relay()
        // The phone's device shows up when discovery starts and its advert arrives later through
        // PropertiesChanged, as a phone already in range starts advertising.
        let rig = try await BusRig(scenario: "phone-changed")
        defer { rig.stop() }

        let register = try Self.desktop("register", rig, relay: relay, ["--user", "alice", "--radio", "bluez"])
        let url = try await register.waitForLine(startingWith: "FIDO:/")
        let phone = try Self.phone(url, rig, relay: relay, ["--radio", "bluez", "--persona", "authenticator-android"])
        #expect(try await register.waitForExit(timeout: .seconds(60)) == 0, "\(register.stderr)")
        #expect(try await phone.waitForExit(timeout: .seconds(60)) == 0, "\(phone.stderr)")
        #expect(register.stderr.contains("radio: bluez hci0"))
        #expect(phone.stderr.contains("radio: bluez hci0"))
        let credential = try #require(try register.lastJSON()["credentialId"] as? String)

        // bluetoothd's view: the desktop discovered and stopped; the phone registered an advert
        // (read back with GetAll) and unregistered it.
        var members = rig.members()
        #expect(members.filter { $0 == "StartDiscovery" }.count == 1)
        #expect(members.filter { $0 == "StopDiscovery" }.count == 1)
        #expect((members.lastIndex(of: "StopDiscovery") ?? -1) > (members.firstIndex(of: "StartDiscovery") ?? Int.max))
        #expect(members.filter { $0 == "advert-read" }.count == 1)
        #expect(members.filter { $0 == "UnregisterAdvertisement" }.count == 1)

        // Sign in with `--radio auto`: the bus offers an adapter, so auto means bluez.
        let signIn = try Self.desktop("sign-in", rig, relay: relay, [])
        let url2 = try await signIn.waitForLine(startingWith: "FIDO:/")
        let phone2 = try Self.phone(url2, rig, relay: relay, ["--persona", "authenticator-android"])
        #expect(try await signIn.waitForExit(timeout: .seconds(60)) == 0, "\(signIn.stderr)")
        #expect(try await phone2.waitForExit(timeout: .seconds(60)) == 0, "\(phone2.stderr)")
        #expect(signIn.stderr.contains("radio: bluez hci0"))
        #expect(phone2.stderr.contains("radio: bluez hci0"))
        #expect(try signIn.lastJSON()["credentialId"] as? String == credential)
        members = rig.members()
        #expect(members.filter { $0 == "StopDiscovery" }.count == 2)
        #expect(members.filter { $0 == "UnregisterAdvertisement" }.count == 2)
        try await relay.stop()
    }

    @Test func autoFallsBackToUDPWithoutASystemBus() async throws {
        let relay = try await Relay()
        let env = ["DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/cable-test-bus"]
        // Below the ephemeral range: a random port in it could be any socket's source port (seen once).
        let port = try unsharedLoopbackUDPPort()
        let again = try CableProcess(
            [
                "register", "--user", "bob", "--tunnel", relay.url, "--advert-listen", "127.0.0.1:\(port)", "--timeout",
                "1",
                "--rp-store", FileManager.default.temporaryDirectory.appendingPathComponent("rp-\(port).json").path,
            ],
            environment: env
        )
        _ = try await again.waitForExit()
        #expect(again.stderr.contains("radio: udp 127.0.0.1:\(port)"), "\(again.stderr)")
        #expect(again.stderr.filter { $0.hasPrefix("radio:") }.count == 1)
        try await relay.stop()
    }

    @Test func theDesktopStopsDiscoveryOnTimeoutAndOnCtrlC() async throws {
        let relay = try await Relay()
        let rig = try await BusRig()
        defer { rig.stop() }
        let timedOut = try CableProcess(
            [
                "register", "--user", "carol", "--tunnel", relay.url, "--radio", "bluez", "--timeout", "1",
                "--rp-store", rig.directory.appendingPathComponent("rp.json").path,
            ],
            environment: rig.environment
        )
        #expect(try await timedOut.waitForExit() != 0)
        #expect(timedOut.stderr.contains { $0.hasPrefix("error:") && $0.contains("timed out") }, "\(timedOut.stderr)")
        #expect(rig.members().filter { $0 == "StopDiscovery" }.count == 1)

        let interrupted = try CableProcess(
            [
                "register", "--user", "carol", "--tunnel", relay.url, "--radio", "bluez", "--timeout", "60",
                "--rp-store", rig.directory.appendingPathComponent("rp.json").path,
            ],
            environment: rig.environment
        )
        _ = try await interrupted.waitForLine(startingWith: "FIDO:/")
        try await rig.waitFor("StartDiscovery", count: 2)
        interrupted.interrupt()
        #expect(try await interrupted.waitForExit() == 130)
        #expect(rig.members().filter { $0 == "StopDiscovery" }.count == 2, "Ctrl-C stops discovery: \(rig.members())")
        try await relay.stop()
    }

    @Test func thePhoneUnregistersOnCtrlCAndEndsOnARefusal() async throws {
        let relay = try await Relay()
        let rig = try await BusRig()
        defer { rig.stop() }
        // A desktop that never connects: the phone keeps advertising until interrupted.
        let qr = try CableProcess(["qr"])
        let url = try await qr.waitForLine(startingWith: "FIDO:/")
        let phone = try Self.phone(url, rig, relay: relay, ["--radio", "bluez"])
        try await rig.waitFor("advert-read")
        phone.interrupt()
        #expect(try await phone.waitForExit() == 130)
        #expect(rig.members().contains("UnregisterAdvertisement"))
        try await relay.stop()

        let refusing = try await BusRig(scenario: "advert-refused")
        defer { refusing.stop() }
        let relay2 = try await Relay()
        let refused = try Self.phone(url, refusing, relay: relay2, ["--radio", "bluez"])
        #expect(try await refused.waitForExit() != 0)
        #expect(
            refused.stderr.contains { $0.hasPrefix("error:") && $0.contains("advertising slot") },
            "\(refused.stderr)"
        )
        try await relay2.stop()
    }

    @Test func eachMissingPieceIsAnErrorThatSaysWhatToDo() async throws {
        let relay = try await Relay()
        let noBlueZ = try await BusRig(scenario: nil)
        let noAdapter = try await BusRig(scenario: "no-adapter")
        let poweredOff = try await BusRig(scenario: "powered-off")
        let denied = try await BusRig(policy: .denyBlueZ)
        defer { for r in [noBlueZ, noAdapter, poweredOff, denied] { r.stop() } }
        let cases: [([String: String], String)] = [
            (["DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/cable-test-bus"], "systemctl start dbus"),
            (noBlueZ.environment, "systemctl start bluetooth"),
            (noAdapter.environment, "bluetoothctl list"),
            (poweredOff.environment, "rfkill unblock bluetooth"),
            (denied.environment, "`bluetooth` group"),
        ]
        for (env, remedy) in cases {
            let scratch = noBlueZ.directory.path
            for command in [
                ["register", "--user", "dave", "--rp-store", scratch + "/rp.json"],
                ["phone", "FIDO:/0", "--store", scratch + "/phone.json"],
            ] {
                let p = try CableProcess(command + ["--radio", "bluez", "--tunnel", relay.url], environment: env)
                #expect(try await p.waitForExit() != 0)
                let errors = p.stderr.filter { $0.hasPrefix("error:") }
                #expect(errors.count == 1 && errors[0].contains(remedy), "\(command[0]) \(remedy): \(p.stderr)")
            }
        }
        #expect(!poweredOff.members().contains("StartDiscovery"))
        try await relay.stop()
    }
}

import CableRelay
import CableTestSupport
import CableTunnel
import CableTunnelTestSupport
import Foundation
import Logging
import Testing

/// `cable conformance phone|desktop --radio bluez` across a private D-Bus system bus with the BlueZ
/// stand-in (`BlueZStandInRig`: Debian's dbus-daemon and fake_bluez.py on dbus-next): the kit is one
/// process, our `cable phone --radio bluez` / `cable register --radio bluez` the implementation under
/// test in others, each reaching "BlueZ" through `DBUS_SYSTEM_BUS_ADDRESS`; a `cable relay`-equivalent
/// on loopback carries the tunnels. Each test starts and stops its own bus.
@Suite(.serialized, .timeLimit(.minutes(4))) struct BlueZRadioKitTests {
    /// A shell word for a command template (the kit runs templates through /bin/sh -c).
    static func shellWord(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static var cable: String { Self.shellWord(CableProcess.executable.path) }

    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conf-bluez-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The lines `PASS|FAIL|SKIP <id>: …` of a run.
    static func verdicts(_ kit: CableProcess) -> [String] {
        kit.stdout.filter { $0.hasPrefix("PASS ") || $0.hasPrefix("FAIL ") || $0.hasPrefix("SKIP ") }
    }

    @Test func thePhoneSuiteOverBlueZPassesAgainstCablePhone() async throws {
        let rig = try await BlueZStandInRig()
        defer { rig.stop() }
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = Self.shellWord(directory.appendingPathComponent("phone.sqlite").path)
        try await withRelay { relay in
            let kit = try CableProcess(
                [
                    "conformance", "phone", "--radio", "bluez", "--tunnel", relay.url.description,
                    "--scenario-timeout", "30", "--phone-command",
                    "\(Self.cable) phone {url} --radio bluez --tunnel {tunnel} --store \(store)",
                ],
                environment: rig.environment
            )
            let status = try await kit.waitForExit(timeout: .seconds(200))
            let verdicts = Self.verdicts(kit)
            #expect(verdicts.count >= 30, "\(kit.stdout.suffix(5)) \(kit.stderr.suffix(5))")
            for line in verdicts { #expect(line.hasPrefix("PASS "), "\(line)") }
            #expect(status == 0, "\(kit.stderr.suffix(5))")
            #expect(kit.stderr.filter { $0.hasPrefix("radio:") } == ["radio: bluez hci0"], "\(kit.stderr)")
        }
        // bluetoothd's view: the kit scanned once for the whole suite and stopped at the end; every
        // phone registered its advert and took it down again.
        let members = rig.members()
        #expect(members.filter { $0 == "StartDiscovery" }.count == 1, "\(members)")
        #expect(members.filter { $0 == "StopDiscovery" }.count == 1, "\(members)")
        #expect(members.filter { $0 == "advert-read" }.count >= 30)
    }

    /// Mutations: a phone advertising another QR code's EID, and a phone that never advertises on
    /// the radio (it sends to the UDP bus instead), each FAIL with the kit's reason.
    @Test func aPhoneWhoseAdvertTheKitCannotReadFails() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = Self.shellWord(directory.appendingPathComponent("phone.sqlite").path)
        let qr = try CableProcess(["qr"])
        let otherURL = try await qr.waitForLine(startingWith: "FIDO:/")
        _ = try? await qr.waitForExit()
        let udpPort = try unsharedLoopbackUDPPort()
        let phones = [
            (
                "wrong EID",
                "\(Self.cable) phone \(Self.shellWord(otherURL)) --radio bluez --tunnel {tunnel} --store \(store)"
            ),
            (
                "never on the radio",
                "\(Self.cable) phone {url} --radio udp --advert-to 127.0.0.1:\(udpPort) --tunnel {tunnel} --store \(store)"
            ),
        ]
        try await withRelay { relay in
            let tunnel = relay.url.description
            // Side by side, each on a bus of its own: both wait out the scenario's deadline.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, command) in phones {
                    group.addTask { try await Self.expectUnreadableAdvert(name, command: command, tunnel: tunnel) }
                }
                try await group.waitForAll()
            }
        }
    }

    static func expectUnreadableAdvert(_ name: String, command: String, tunnel: String) async throws {
        // A bus of its own: the stand-in keeps the last advert a device showed.
        let rig = try await BlueZStandInRig()
        defer { rig.stop() }
        let kit = try CableProcess(
            [
                "conformance", "phone", "--radio", "bluez", "--tunnel", tunnel, "--scenario-timeout", "12", "--only",
                "phone.advert.eid-key", "--phone-command", command,
            ],
            environment: rig.environment
        )
        let status = try await kit.waitForExit(timeout: .seconds(60))
        #expect(status == 1, "\(name): \(kit.stdout) \(kit.stderr.suffix(3))")
        let verdicts = Self.verdicts(kit)
        #expect(verdicts.count == 1, "\(name): \(kit.stdout)")
        let line = verdicts.first ?? ""
        #expect(
            line.hasPrefix(
                "FAIL phone.advert.eid-key: no advert decrypting with the QR code's EID key reached the kit's radio (bluez hci0)"
            ),
            "\(name): \(line)"
        )
        if name == "wrong EID" {
            #expect(line.contains("none decrypting with the EID key"), "\(line)")
        } else {
            #expect(line.contains("no advert arrived"), "\(line)")
        }
    }

    @Test func theDesktopSuiteOverBlueZPassesAgainstCableRegister() async throws {
        let rig = try await BlueZStandInRig()
        defer { rig.stop() }
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rpStore = Self.shellWord(directory.appendingPathComponent("rp.sqlite").path)
        try await withRelay { relay in
            let kit = try CableProcess(
                [
                    "conformance", "desktop", "--radio", "bluez", "--tunnel", relay.url.description,
                    "--scenario-timeout", "30", "--desktop-command",
                    "\(Self.cable) register --user alice --radio bluez --tunnel {tunnel} --rp-store \(rpStore) --timeout 30",
                ],
                environment: rig.environment
            )
            let status = try await kit.waitForExit(timeout: .seconds(200))
            let verdicts = Self.verdicts(kit)
            #expect(verdicts.count >= 10, "\(kit.stdout.suffix(5)) \(kit.stderr.suffix(5))")
            for line in verdicts {
                if line.hasPrefix("SKIP desktop.tunnel.legacy-advert-uuid:") {
                    #expect(line.contains("advertises under 0xFFF9 only"), "\(line)")
                } else {
                    #expect(line.hasPrefix("PASS "), "\(line)")
                }
            }
            #expect(verdicts.contains { $0.hasPrefix("SKIP desktop.tunnel.legacy-advert-uuid:") })
            #expect(status == 0, "\(kit.stderr.suffix(5))")
            #expect(kit.stderr.filter { $0.hasPrefix("radio:") } == ["radio: bluez hci0"], "\(kit.stderr)")
        }
        // The kit's phone registered adverts read back with GetAll and took the last one down at the end.
        let members = rig.members()
        #expect(members.filter { $0 == "advert-read" }.count >= 10, "\(members)")
        #expect(members.last(where: { $0.hasSuffix("Advertisement") }) == "UnregisterAdvertisement", "\(members)")
    }

    static let interactiveIDs = ["phone.make-credential", "phone.get-assertion"]

    /// The person scanning the QR code is played by `cable phone --radio bluez`, started on each
    /// `FIDO:/` URL the interactive kit shows.
    /// Over a real tunnel service: `wss://` with a private CA (`--ca-file` on both sides;
    /// certificates by Python `cryptography`, CableTunnelTests/Python/tls_certs.py).
    @Test func anInteractiveRunOverBlueZPasses() async throws {
        let rig = try await BlueZStandInRig()
        defer { rig.stop() }
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try await PythonTool.run("tls_certs.py", ["--dir", directory.path])
        var configuration = TunnelService.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.tlsContext = try TunnelServiceTLS(
            certificateChainFile: directory.appendingPathComponent("good.pem").path,
            privateKeyFile: directory.appendingPathComponent("good.key").path
        ).context
        let relay = TunnelService(
            configuration: configuration,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let address = try await relay.start()
        let tunnel = try TunnelServiceURL(scheme: .wss, host: "localhost", port: address.port).description
        do {
            try await Self.interactiveRun(
                tunnel: tunnel,
                caFile: directory.appendingPathComponent("ca.pem").path,
                store: directory.appendingPathComponent("phone.sqlite").path,
                environment: rig.environment
            )
        } catch {
            await relay.shutdown()
            throw error
        }
        await relay.shutdown()
    }

    static func interactiveRun(
        tunnel: String,
        caFile: String,
        store: String,
        environment: [String: String]
    ) async throws {
        let kit = try CableProcess(
            [
                "conformance", "phone", "--interactive", "--radio", "bluez", "--tunnel", tunnel, "--ca-file", caFile,
                "--scenario-timeout", "60",
            ]
                + Self.interactiveIDs.flatMap { ["--only", $0] },
            environment: environment
        )
        var phones: [CableProcess] = []
        defer { for phone in phones where phone.isRunning { phone.terminate() } }
        let deadline = ContinuousClock.now + .seconds(180)
        while kit.isRunning, ContinuousClock.now < deadline {
            let urls = kit.stdout.filter { $0.hasPrefix("FIDO:/") }
            while phones.count < urls.count {
                let url = urls[phones.count]
                let phone = try CableProcess(
                    ["phone", url, "--tunnel", tunnel, "--ca-file", caFile, "--radio", "bluez", "--store", store],
                    environment: environment
                )
                phones.append(phone)
            }
            if kit.stdout.contains(where: { $0.hasPrefix("phone: ") && $0.contains(" passed, ") }) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let status = try await kit.waitForExit(timeout: .seconds(60))
        let output = kit.stdout
        let errors = kit.stderr
        for id in Self.interactiveIDs {
            #expect(output.contains { $0.hasPrefix("PASS \(id):") }, "\(id): \(output.suffix(8))")
        }
        #expect(status == 0, "\(output.suffix(8))")
        #expect(errors.contains("radio: bluez hci0"), "\(errors)")
        #expect(
            errors.contains {
                $0.hasPrefix("tunnel service: \(tunnel);") && $0.contains("advert: Bluetooth (bluez hci0)")
            },
            "\(errors)"
        )
    }

    /// Each missing piece is the `error:` line `cable register` / `cable phone` print for it.
    @Test func eachMissingPieceIsTheRadioErrorOfTheRoles() async throws {
        let noBlueZ = try await BlueZStandInRig(scenario: nil)
        let noAdapter = try await BlueZStandInRig(scenario: "no-adapter")
        let poweredOff = try await BlueZStandInRig(scenario: "powered-off")
        let denied = try await BlueZStandInRig(policy: .denyBlueZ)
        defer { for rig in [noBlueZ, noAdapter, poweredOff, denied] { rig.stop() } }
        let cases: [([String: String], String)] = [
            (["DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/cable-test-bus"], "systemctl start dbus"),
            (noBlueZ.environment, "systemctl start bluetooth"),
            (noAdapter.environment, "bluetoothctl list"),
            (poweredOff.environment, "rfkill unblock bluetooth"),
            (denied.environment, "`bluetooth` group"),
        ]
        for (environment, remedy) in cases {
            for suite in [["phone", "--phone-command", "true"], ["desktop", "--desktop-command", "true"]] {
                let kit = try CableProcess(
                    ["conformance"] + suite + ["--radio", "bluez", "--tunnel", "ws://127.0.0.1:9"],
                    environment: environment
                )
                #expect(try await kit.waitForExit() != 0)
                let errors = kit.stderr.filter { $0.hasPrefix("error:") }
                #expect(errors.count == 1 && errors[0].contains(remedy), "\(suite[0]) \(remedy): \(kit.stderr)")
                #expect(Self.verdicts(kit).isEmpty, "no scenario runs without the radio: \(kit.stdout)")
            }
        }
    }

    /// Ctrl-C leaves BlueZ as it was: the kit's discovery stopped, its advert unregistered.
    @Test func ctrlCStopsTheKitsRadio() async throws {
        let rig = try await BlueZStandInRig()
        defer { rig.stop() }
        let started = rig.directory.appendingPathComponent("phone-started")
        try await withRelay { relay in
            // A phone that never advertises; once it runs, the kit's radio is open and its Ctrl-C
            // handler in place.
            let scanning = try CableProcess(
                [
                    "conformance", "phone", "--radio", "bluez", "--tunnel", relay.url.description, "--phone-command",
                    "touch \(Self.shellWord(started.path)); sleep 3", "--only", "phone.advert.eid-key",
                    "--scenario-timeout", "60",
                ],
                environment: rig.environment
            )
            let deadline = ContinuousClock.now + .seconds(30)
            while !FileManager.default.fileExists(atPath: started.path), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            scanning.interrupt()
            #expect(try await scanning.waitForExit() == 130, "\(scanning.stderr)")
            #expect(rig.members().filter { $0 == "StopDiscovery" }.count == 1, "\(rig.members())")

            let advertising = try CableProcess(
                [
                    "conformance", "desktop", "--radio", "bluez", "--tunnel", relay.url.description,
                    // A desktop that shows a QR code and never joins: the kit keeps advertising.
                    "--only", "desktop.tunnel.connect", "--scenario-timeout", "60", "--desktop-command",
                    "\(Self.cable) qr; sleep 3",
                ],
                environment: rig.environment
            )
            try await rig.waitFor("advert-read")
            advertising.interrupt()
            let status = try await advertising.waitForExit()
            #expect(status == 130, "\(status) \(advertising.stdout) \(advertising.stderr)")
            #expect(rig.members().contains("UnregisterAdvertisement"), "\(rig.members())")
        }
    }

    /// A radio that refuses the kit's advert fails each scenario at once with BlueZ's reason.
    @Test func aRefusedAdvertIsTheScenariosReasonAtOnce() async throws {
        let rig = try await BlueZStandInRig(scenario: "advert-refused")
        defer { rig.stop() }
        let environment = rig.environment
        let (status, line) = try await withRelay { relay in
            let kit = try CableProcess(
                [
                    "conformance", "desktop", "--radio", "bluez", "--tunnel", relay.url.description, "--only",
                    "desktop.tunnel.connect", "--scenario-timeout", "60", "--desktop-command",
                    "\(Self.cable) qr; sleep 3",
                ],
                environment: environment
            )
            let status = try await kit.waitForExit(timeout: .seconds(60))
            return (status, Self.verdicts(kit).first ?? "\(kit.stdout) \(kit.stderr)")
        }
        #expect(status == 1)
        #expect(line.hasPrefix("FAIL desktop.tunnel.connect: "), "\(line)")
        #expect(line.contains("did not take the advert") && line.contains("advertising slot"), "\(line)")
    }

    /// `--radio auto` without a system bus is the UDP bus, and says so.
    @Test func autoWithoutASystemBusIsTheUDPBus() async throws {
        let port = try unsharedLoopbackUDPPort()
        let kit = try CableProcess(
            [
                "conformance", "desktop", "--radio", "auto", "--advert", "127.0.0.1:\(port)", "--tunnel",
                "ws://127.0.0.1:9", "--desktop-command", "true", "--only", "desktop.qr.prefix",
            ],
            environment: ["DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/cable-test-bus"]
        )
        _ = try await kit.waitForExit()
        #expect(kit.stderr.filter { $0.hasPrefix("radio:") } == ["radio: udp 127.0.0.1:\(port)"], "\(kit.stderr)")
    }
}

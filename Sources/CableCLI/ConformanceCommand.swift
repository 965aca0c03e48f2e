import ArgumentParser
import CableBlueZ
import CableConformance
import CableProtocol
import CableTunnel
import Foundation

/// `cable conformance relay|phone|desktop`: runs a suite of the conformance kit against another
/// implementation and reports each scenario (cli.md). Selection and reporting only: the scenarios,
/// the engine and the subprocess handling live in `CableConformance`.
struct ConformanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Test another implementation of the hybrid transport: a tunnel service, a phone or a desktop.",
        discussion: """
            Each scenario prints one line "PASS|FAIL|SKIP <id>: <detail>", then a summary line; \
            exit status 0 only when nothing failed. See docs/conformance.md for what each scenario \
            checks and how to read a failure.
            """,
        subcommands: [ConformanceRelayCommand.self, ConformancePhoneCommand.self, ConformanceDesktopCommand.self]
    )
}

/// Options every suite shares: selection and reports.
struct ConformanceReportOptions: ParsableArguments {
    @Flag(help: "Print the scenario ids with one line of description each, and exit (needs no other option).")
    var list = false

    @Option(name: .customLong("only"), help: ArgumentHelp("Run only this scenario (repeatable).", valueName: "ID"))
    var only: [String] = []

    @Flag(help: "Stop at the first FAIL; the remaining scenarios are not run and not reported.")
    var failFast = false

    @Option(
        help: ArgumentHelp(
            "Deadline of each scenario, in seconds (default 10; 120 with --interactive).",
            valueName: "SECONDS"
        )
    )
    var scenarioTimeout: Double?

    @Flag(help: "End stdout with one JSON object: passed, failed, skipped and every scenario's id, result and detail.")
    var json = false

    @Option(help: ArgumentHelp("Also write the results as JUnit XML to FILE.", valueName: "FILE"))
    var junit: String?

    func validate() throws {
        if let timeout = self.scenarioTimeout, !(timeout.isFinite && timeout > 0 && timeout <= 3600) {
            throw ValidationError("--scenario-timeout must be a number of seconds above 0 and at most 3600")
        }
    }

    /// Lists, or selects, runs and reports. `subject` is built only when scenarios will run.
    func execute<Subject: Sendable>(
        suite: ConformanceSuite,
        scenarios: [ConformanceScenario<Subject>],
        defaultTimeout: Duration = .seconds(10),
        subject: () async throws -> Subject
    ) async throws {
        if self.list {
            let width = scenarios.map(\.id.count).max() ?? 0
            for scenario in scenarios {
                print(scenario.id.padding(toLength: width + 2, withPad: " ", startingAt: 0) + scenario.summary)
            }
            if scenarios.isEmpty { Output.diagnostic("the \(suite.rawValue) suite has no scenarios in this build") }
            return
        }
        let selected: [ConformanceScenario<Subject>]
        do {
            selected = try ConformanceRunner.select(scenarios, only: self.only)
        } catch {
            throw Output.failure("--only: \(error.description)", step: "arguments")
        }
        let subject = try await subject()
        let timeout =
            self.scenarioTimeout.map { Duration.milliseconds(Int64(($0 * 1000).rounded(.up))) } ?? defaultTimeout
        let runner = ConformanceRunner(options: .init(scenarioTimeout: timeout, failFast: self.failFast))
        let started = Date()
        let reports = await runner.run(selected, against: subject) { report in
            print(ConformanceReport.line(for: report))
            Output.flushStdout()
        }
        let report = ConformanceReport(suite: suite, scenarios: reports)
        print(report.summaryLine)
        if let path = self.junit {
            let xml = report.junitXML(timestamp: Self.timestamp(started), hostname: ProcessInfo.processInfo.hostName)
            do {
                try Data(xml.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw Output.failure("--junit \(path): \(error.localizedDescription)", step: "report")
            }
        }
        if self.json { print(report.json) }
        Output.flushStdout()
        if !report.succeeded { throw ExitCode.failure }
    }

    /// ISO 8601 in UTC without a zone designator, as JUnit's `timestamp` is typed.
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.string(from: date)
    }
}

/// Options of the suites that run a command (phone, desktop).
struct ConformanceRoleOptions: ParsableArguments {
    @Option(
        help:
            "The tunnel service both sides use, e.g. ws://127.0.0.1:8080 (a running `cable relay`); phone --interactive without it: the one the phone's advert names."
    )
    var tunnel: String?

    @Option(help: "PEM file of CA certificates trusted for a wss:// tunnel service, in addition to the system's.")
    var caFile: String?

    @Option(
        help: ArgumentHelp(
            "Where adverts travel: udp (the loopback UDP advert bus at {advert}; the default), bluez "
                + "(Bluetooth LE through BlueZ on the D-Bus system bus; {advert} is then empty) or auto "
                + "(bluez when the system bus offers a BlueZ adapter, else udp)."
        )
    )
    var radio: RadioChoice = .udp

    @Option(
        help: ArgumentHelp(
            "The advert bus address HOST:PORT the kit uses (default: a free loopback port; for phone, a fresh one the kit holds per scenario).",
            valueName: "HOST:PORT"
        )
    )
    var advert: String?

    func validate() throws {
        if let advert = self.advert { _ = try HostPort(advert, option: "--advert") }
        if let tunnel = self.tunnel {
            do { _ = try TunnelServiceURL(string: tunnel) } catch {
                throw ValidationError("--tunnel \(tunnel): \(error.reason)")
            }
        }
    }

    /// The tunnel URL, required once scenarios run.
    func tunnelURL() throws -> TunnelServiceURL {
        guard let text = self.tunnel else {
            throw Output.failure("--tunnel is required (the tunnel service both sides use)", step: "arguments")
        }
        do { return try TunnelServiceURL(string: text) } catch {
            throw Output.failure("--tunnel \(text): \(error.reason)", step: "arguments")
        }
    }

    /// The tunnel URL if given: `--interactive` without `--tunnel` follows the phone's advert.
    func optionalTunnelURL() throws -> TunnelServiceURL? {
        self.tunnel == nil ? nil : try self.tunnelURL()
    }

    func trust() throws -> TunnelTLSTrust { try conformanceTrust(caFile: self.caFile) }

    /// The scanner of the kit's desktop on BlueZ, opened by the code `register` uses (the same
    /// `radio: bluez <adapter>` line and errors); `nil` for the UDP bus, whose `radio: udp …`
    /// line is printed here. `resolved` is `--radio` after `auto` was resolved.
    func openScanner(_ resolved: RadioChoice, udpLine: String) async throws -> OpenedRadio<any AdvertScanner>? {
        guard resolved == .bluez else {
            Output.diagnostic("radio: udp \(udpLine)")
            return nil
        }
        return try await Radio.openScanner(.bluez, advertListen: "")
    }

    /// The transmitter of the kit's phone on BlueZ, opened by the code `cable phone` uses; `nil`
    /// for the UDP bus, whose `radio: udp …` line is printed here.
    func openTransmitter(_ resolved: RadioChoice, udpLine: String) async throws -> OpenedRadio<any AdvertTransmitter>? {
        guard resolved == .bluez else {
            Output.diagnostic("radio: udp \(udpLine)")
            return nil
        }
        return try await Radio.openTransmitter(.bluez, advertTo: "")
    }

    /// How reports name an opened BlueZ radio: `bluez hci0`.
    static func name(_ seam: any Sendable) -> String {
        if let scanner = seam as? BlueZScanner { return "bluez \(scanner.adapter)" }
        if let advertiser = seam as? BlueZAdvertiser { return "bluez \(advertiser.adapter)" }
        return "bluez"
    }

    /// `--advert`, or port 0 on loopback: the phone suite's kit then binds a fresh port per scenario
    /// itself and keeps it bound while the phone runs (nothing else can take it in between).
    func kitHeldAdvertAddress() throws -> (host: String, port: Int) {
        if let advert = self.advert {
            let address = try HostPort(advert, option: "--advert")
            return (address.host, address.port)
        }
        return ("127.0.0.1", 0)
    }

    /// `--advert`, or a loopback port free right now.
    func advertAddress() throws -> HostPort {
        if let advert = self.advert { return try HostPort(advert, option: "--advert") }
        guard let port = unsharedLoopbackUDPPortBelowEphemeralRange() else {
            throw Output.failure(
                "could not find a free loopback UDP port for the advert bus; pass --advert",
                step: "arguments"
            )
        }
        return try HostPort("127.0.0.1:\(port)", option: "--advert")
    }
}

/// The trust for `wss://`: the system's store plus `--ca-file`.
func conformanceTrust(caFile: String?) throws -> TunnelTLSTrust {
    guard let caFile else { return .systemTrustStore }
    do throws(TunnelError) { return try .systemTrustStore(plusCAFile: caFile) } catch {
        throw Output.failure("--ca-file: \(FailureText.describe(error))", step: "arguments")
    }
}

/// `cable conformance relay --url ws://HOST:PORT`.
struct ConformanceRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Test a tunnel service: the kit plays both the phone and the desktop."
    )

    @Option(help: "The tunnel service under test, ws://HOST:PORT or wss://HOST[:PORT].")
    var url: String?

    @Option(help: "PEM file of CA certificates trusted for a wss:// service, in addition to the system's.")
    var caFile: String?

    @OptionGroup var report: ConformanceReportOptions

    func run() async throws {
        try await self.report.execute(suite: .relay, scenarios: ConformanceSuites.relay) {
            guard let text = self.url else {
                throw Output.failure("--url is required (the tunnel service under test)", step: "arguments")
            }
            let url: TunnelServiceURL
            do throws(TunnelError) { url = try TunnelServiceURL(string: text) } catch {
                throw Output.failure("--url \(text): \(error.reason)", step: "arguments")
            }
            return RelayUnderTest(url: url, tlsTrust: try conformanceTrust(caFile: self.caFile))
        }
    }
}

/// `cable conformance phone --phone-command '…{url}…' --tunnel ws://HOST:PORT` (or `--interactive`).
struct ConformancePhoneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phone",
        abstract: "Test a phone-side implementation: the kit plays the desktop.",
        discussion: """
            The command runs once per scenario through /bin/sh -c, with {url} replaced by that \
            scenario's FIDO:/ URL, {tunnel} by the tunnel service URL and {advert} by the advert \
            bus address (HOST:PORT) it must send its adverts to (empty with --radio bluez, where \
            it advertises over Bluetooth LE); each value is shell-quoted. With --interactive no \
            command runs: each scenario's QR code is shown, its FIDO:/ URL printed as text and \
            the radio named, and the kit waits for a person to scan it with the phone under \
            test; without --tunnel the kit meets the phone at the tunnel service its advert names.
            """
    )

    @Option(
        help: ArgumentHelp(
            "The phone under test, as a command template with {url}, {tunnel} and {advert}.",
            valueName: "COMMAND"
        )
    )
    var phoneCommand: String?

    @Flag(help: "Show each scenario's QR code and wait for a person to scan it with a real phone (no command).")
    var interactive = false

    @OptionGroup var role: ConformanceRoleOptions
    @OptionGroup var report: ConformanceReportOptions

    func validate() throws {
        if self.interactive, self.phoneCommand != nil {
            throw ValidationError("--interactive and --phone-command exclude each other")
        }
    }

    func run() async throws {
        let timeout: Duration = self.interactive ? .seconds(120) : .seconds(10)
        var opened: OpenedRadio<any AdvertScanner>?
        do {
            try await self.report.execute(suite: .phone, scenarios: ConformanceSuites.phone, defaultTimeout: timeout) {
                // Every argument is checked before the radio opens.
                let tunnel = self.interactive ? try self.role.optionalTunnelURL() : try self.role.tunnelURL()
                let trust = try self.role.trust()
                let advert = try self.role.kitHeldAdvertAddress()
                if !self.interactive, self.phoneCommand == nil {
                    throw Output.failure("--phone-command (or --interactive) is required", step: "arguments")
                }
                let udpLine =
                    advert.port == 0 ? "\(advert.host) (a fresh port per scenario)" : "\(advert.host):\(advert.port)"
                opened = try await self.role.openScanner(await Radio.resolve(self.role.radio), udpLine: udpLine)
                let radio = opened.map { ConformanceRadio(name: ConformanceRoleOptions.name($0.seam), seam: $0.seam) }
                let implementation: any ImplementationUnderTest
                if self.interactive {
                    let radioName = radio?.name
                    implementation = InteractiveImplementation(present: { substitutions in
                        Output.diagnostic(
                            "Scan this QR code with the phone under test (it must reach the tunnel service and send its advert):"
                        )
                        let service = tunnel?.description ?? "the one the phone's advert names (wss://<domain>)"
                        if let radioName {
                            Output.diagnostic(
                                "tunnel service: \(service); advert: Bluetooth (\(radioName)), so keep the phone near this computer"
                            )
                        } else {
                            Output.diagnostic(
                                "tunnel service: \(service); advert bus (udp): \(substitutions["advert"] ?? "")"
                            )
                        }
                        // Draws the code and prints the FIDO:/ URL as text too, for pasting.
                        QRDisplay.showOrReport(url: substitutions["url"] ?? "", options: Self.qrOptions)
                        Output.flushStdout()
                    })
                } else {
                    implementation = CommandImplementation(template: self.phoneCommand ?? "")
                }
                return PhoneUnderTest(
                    implementation: implementation,
                    tunnel: tunnel,
                    tlsTrust: trust,
                    advertHost: advert.host,
                    advertPort: advert.port,
                    radio: radio
                )
            }
        } catch {
            await opened?.close()
            throw error
        }
        await opened?.close()
    }

    private static var qrOptions: QRStyleOptions {
        // The defaults of `cable qr`'s drawing options.
        (try? QRStyleOptions.parse([])) ?? QRStyleOptions()
    }
}

/// `cable conformance desktop --desktop-command '…' --tunnel ws://HOST:PORT`.
struct ConformanceDesktopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desktop",
        abstract: "Test a desktop implementation: the kit plays the phone.",
        discussion: """
            The command runs once per scenario through /bin/sh -c, with {tunnel} replaced by the \
            tunnel service URL and {advert} by the advert bus address (HOST:PORT) it must listen \
            on (empty with --radio bluez, where it scans with its Bluetooth LE radio); each value \
            is shell-quoted. The first line of its stdout that starts with FIDO:/ \
            is its QR code.
            """
    )

    @Option(
        help: ArgumentHelp(
            "The desktop under test, as a command template with {tunnel} and {advert}.",
            valueName: "COMMAND"
        )
    )
    var desktopCommand: String?

    @OptionGroup var role: ConformanceRoleOptions
    @OptionGroup var report: ConformanceReportOptions

    func run() async throws {
        var opened: OpenedRadio<any AdvertTransmitter>?
        do {
            try await self.report.execute(suite: .desktop, scenarios: ConformanceSuites.desktop) {
                guard let command = self.desktopCommand else {
                    throw Output.failure("--desktop-command is required", step: "arguments")
                }
                let tunnel = try self.role.tunnelURL()
                let trust = try self.role.trust()
                let resolved = await Radio.resolve(self.role.radio)
                // On BlueZ there is no bus address: the subject's host and port go unused.
                let advert = resolved == .bluez ? nil : try self.role.advertAddress()
                let udpLine = advert.map { "\($0.host):\($0.port)" } ?? ""
                opened = try await self.role.openTransmitter(resolved, udpLine: udpLine)
                return DesktopUnderTest(
                    implementation: CommandImplementation(template: command),
                    tunnel: tunnel,
                    tlsTrust: trust,
                    advertHost: advert?.host ?? "",
                    advertPort: advert?.port ?? 0,
                    radio: opened.map { ConformanceRadio(name: ConformanceRoleOptions.name($0.seam), seam: $0.seam) }
                )
            }
        } catch {
            await opened?.close()
            throw error
        }
        await opened?.close()
    }
}

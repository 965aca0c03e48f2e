import ArgumentParser
import CableConformance
import CableTunnel
import Foundation
@preconcurrency import Glibc

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
    @Option(help: "The tunnel service both sides use, e.g. ws://127.0.0.1:8080 (a running `cable relay`).")
    var tunnel: String?

    @Option(help: "PEM file of CA certificates trusted for a wss:// tunnel service, in addition to the system's.")
    var caFile: String?

    @Option(
        help: """
            Where adverts travel. Only udp (the loopback UDP advert bus) is accepted: the kit has \
            no Bluetooth yet, so adverts travel as UDP datagrams to {advert}.
            """
    )
    var radio = "udp"

    @Option(
        help: ArgumentHelp(
            "The advert bus address HOST:PORT the kit uses (default: a free loopback port; for phone, a fresh one the kit holds per scenario).",
            valueName: "HOST:PORT"
        )
    )
    var advert: String?

    func validate() throws {
        guard self.radio == "udp" else {
            throw ValidationError(
                "--radio \(self.radio): the conformance kit supports only udp (the loopback advert bus) for now"
            )
        }
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

    func trust() throws -> TunnelTLSTrust { try conformanceTrust(caFile: self.caFile) }

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
        guard let port = freeLoopbackUDPPort() else {
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

/// A UDP port on 127.0.0.1 nobody holds at this moment, for a desktop under test to listen on.
///
/// Chosen at random below the kernel's ephemeral range (32768-60999 on Linux) and checked free: a
/// port released after a bind to port 0 may be handed to the next program that binds port 0 before
/// the desktop under test binds it; a port below that range only an explicit bind can take.
func freeLoopbackUDPPort() -> Int? {
    for _ in 0..<200 {
        let port = Int.random(in: 20000..<32768)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if bound == 0 { return port }
    }
    return nil
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
            bus address (HOST:PORT) it must send its adverts to; each value is shell-quoted. \
            With --interactive no command runs: each scenario's QR code is shown, its FIDO:/ URL \
            printed as text and the advert bus address named, and the kit waits for a person to \
            scan it with the phone under test.
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
        try await self.report.execute(suite: .phone, scenarios: ConformanceSuites.phone, defaultTimeout: timeout) {
            let implementation: any ImplementationUnderTest
            if self.interactive {
                implementation = InteractiveImplementation(present: { substitutions in
                    Output.diagnostic(
                        "Scan this QR code with the phone under test (it must reach the tunnel service and send its advert):"
                    )
                    Output.diagnostic(
                        "tunnel service: \(substitutions["tunnel"] ?? ""); advert bus (udp): \(substitutions["advert"] ?? "")"
                    )
                    // Draws the code and prints the FIDO:/ URL as text too, for pasting.
                    QRDisplay.showOrReport(url: substitutions["url"] ?? "", options: Self.qrOptions)
                    Output.flushStdout()
                })
            } else {
                guard let command = self.phoneCommand else {
                    throw Output.failure("--phone-command (or --interactive) is required", step: "arguments")
                }
                implementation = CommandImplementation(template: command)
            }
            let advert = try self.role.kitHeldAdvertAddress()
            return PhoneUnderTest(
                implementation: implementation,
                tunnel: try self.role.tunnelURL(),
                tlsTrust: try self.role.trust(),
                advertHost: advert.host,
                advertPort: advert.port
            )
        }
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
            on; each value is shell-quoted. The first line of its stdout that starts with FIDO:/ \
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
        try await self.report.execute(suite: .desktop, scenarios: ConformanceSuites.desktop) {
            guard let command = self.desktopCommand else {
                throw Output.failure("--desktop-command is required", step: "arguments")
            }
            let advert = try self.role.advertAddress()
            return DesktopUnderTest(
                implementation: CommandImplementation(template: command),
                tunnel: try self.role.tunnelURL(),
                tlsTrust: try self.role.trust(),
                advertHost: advert.host,
                advertPort: advert.port
            )
        }
    }
}

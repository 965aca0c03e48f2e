public import CableProtocol
public import CableTunnel

// The contract the three suites and the engine share. Suites are arrays of `ConformanceScenario`
// values; the engine (`ConformanceRunner`) runs them one by one with a deadline each and turns what
// a judge returns or throws into a `ScenarioReport`; the `cable conformance` command only selects
// and reports.

/// Which kind of implementation a suite tests.
public enum ConformanceSuite: String, Sendable, CaseIterable, Codable {
    /// A tunnel service; the kit plays both the desktop and the phone.
    case relay
    /// A phone-side implementation; the kit plays the desktop.
    case phone
    /// A desktop implementation; the kit plays the phone.
    case desktop
}

/// One checked rule of the hybrid transport: a stable id, what it checks and where the rule comes
/// from, and the judge that drives the implementation under test and decides.
///
/// A judge returns the detail of a pass ("selected fido.cable"), throws ``ScenarioFailure`` when the
/// implementation broke the rule, or ``ScenarioSkipped`` when the rule does not apply to it. Any other
/// error the judge throws (a timeout, a refused connection, a crashed subprocess) is a failure of the
/// scenario too; the engine reports it and goes on with the next scenario.
public struct ConformanceScenario<Subject: Sendable>: Sendable, Identifiable {
    /// Stable, namespaced id: `relay.*`, `phone.*` or `desktop.*` (e.g. `relay.subprotocol`).
    public let id: String
    /// One line: the rule checked.
    public let summary: String
    /// Where the rule comes from: a Chromium function, CTAP 2.2 §11.5, RFC 6455 §…
    public let source: String
    /// Drives the implementation under test and judges what it does.
    package let judge: @Sendable (Subject, ScenarioContext) async throws -> String

    package init(
        id: String,
        summary: String,
        source: String,
        judge: @escaping @Sendable (Subject, ScenarioContext) async throws -> String
    ) {
        self.id = id
        self.summary = summary
        self.source = source
        self.judge = judge
    }
}

/// What the engine gives every judge besides its subject.
public struct ScenarioContext: Sendable {
    /// How long the scenario may take in all; judges derive their own waits from it.
    public let timeout: Duration
    /// The engine's per-scenario deadline, as an instant on `ContinuousClock`.
    public let deadline: ContinuousClock.Instant

    package init(timeout: Duration, deadline: ContinuousClock.Instant) {
        self.timeout = timeout
        self.deadline = deadline
    }
}

/// Thrown by a judge when the implementation under test broke the scenario's rule.
public struct ScenarioFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in one line: what was expected and what was seen.
    public let detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { self.detail }
}

/// Thrown by a judge when the scenario does not apply to the implementation under test.
public struct ScenarioSkipped: Error, Sendable, CustomStringConvertible {
    /// Why the scenario was not judged.
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { self.reason }
}

/// A scenario's verdict.
public enum ScenarioResult: String, Sendable, Codable {
    case pass = "PASS"
    case fail = "FAIL"
    case skip = "SKIP"
}

/// One line of a report: `PASS|FAIL|SKIP <id>: <detail>`.
public struct ScenarioReport: Sendable, Codable, Equatable {
    public let id: String
    public let result: ScenarioResult
    public let detail: String
    /// Wall-clock time the scenario took.
    public let seconds: Double

    public init(id: String, result: ScenarioResult, detail: String, seconds: Double) {
        self.id = id
        self.result = result
        self.detail = detail
        self.seconds = seconds
    }
}

// MARK: - Subjects: what the implementation under test is.

/// A tunnel service under test (`cable conformance relay --url …`).
public struct RelayUnderTest: Sendable {
    /// Where it listens.
    public let url: TunnelServiceURL
    /// Roots to trust for `wss://` (system store plus `--ca-file`).
    public let tlsTrust: TunnelTLSTrust

    public init(url: TunnelServiceURL, tlsTrust: TunnelTLSTrust = .systemTrustStore) {
        self.url = url
        self.tlsTrust = tlsTrust
    }
}

/// A real radio the kit's adverts travel on instead of the UDP bus: the scanner the kit's desktop
/// listens with (phone suite) or the transmitter the kit's phone advertises with (desktop suite),
/// opened by the caller (`cable conformance … --radio bluez` opens BlueZ) and used for the whole suite.
public struct ConformanceRadio<Seam: Sendable>: Sendable {
    /// What the reports call it, e.g. `bluez hci0`.
    public let name: String
    /// The scanner or transmitter.
    public let seam: Seam

    public init(name: String, seam: Seam) {
        self.name = name
        self.seam = seam
    }
}

/// A phone-side implementation under test: the kit plays the desktop, shows it a QR code per
/// scenario (`{url}`), listens for its advert on `advert` and meets it at `tunnel`.
public struct PhoneUnderTest: Sendable {
    /// Started once per scenario with `{url}`, `{tunnel}` and `{advert}` filled in.
    public let implementation: any ImplementationUnderTest
    /// The tunnel service both sides use; `nil` (interactive runs with a real phone): the service
    /// the phone's advert names (`wss://<domain>`), as a desktop without a fixed service does.
    public let tunnel: TunnelServiceURL?
    /// Roots to trust for a `wss://` tunnel.
    public let tlsTrust: TunnelTLSTrust
    /// `HOST:PORT` of the advert bus the kit listens on (the phone under test sends there).
    public let advertHost: String
    /// Port 0 (the default): the kit binds a fresh port for each scenario and keeps it bound while the
    /// phone runs, so `{advert}` names a port the kit holds (no probe-release-rebind race with other
    /// programs on the machine).
    public let advertPort: Int
    /// The radio the kit scans with instead of the UDP bus (`advertHost`/`advertPort` are then
    /// unused and `{advert}` is empty); `nil`: the UDP bus.
    public let radio: ConformanceRadio<any AdvertScanner>?

    public init(
        implementation: any ImplementationUnderTest,
        tunnel: TunnelServiceURL?,
        tlsTrust: TunnelTLSTrust = .systemTrustStore,
        advertHost: String,
        advertPort: Int = 0,
        radio: ConformanceRadio<any AdvertScanner>? = nil
    ) {
        self.implementation = implementation
        self.tunnel = tunnel
        self.tlsTrust = tlsTrust
        self.advertHost = advertHost
        self.advertPort = advertPort
        self.radio = radio
    }
}

/// A desktop implementation under test: the kit plays the phone, reads its QR code (the first
/// stdout line starting with `FIDO:/`), sends adverts to `advert` and meets it at `tunnel`.
public struct DesktopUnderTest: Sendable {
    /// Started once per scenario with `{tunnel}` and `{advert}` filled in.
    public let implementation: any ImplementationUnderTest
    /// The tunnel service both sides use.
    public let tunnel: TunnelServiceURL
    /// Roots to trust for a `wss://` tunnel.
    public let tlsTrust: TunnelTLSTrust
    /// `HOST:PORT` of the advert bus the desktop under test listens on (the kit sends there).
    public let advertHost: String
    public let advertPort: Int
    /// The radio the kit advertises with instead of the UDP bus (`advertHost`/`advertPort` are then
    /// unused and `{advert}` is empty); `nil`: the UDP bus.
    public let radio: ConformanceRadio<any AdvertTransmitter>?

    public init(
        implementation: any ImplementationUnderTest,
        tunnel: TunnelServiceURL,
        tlsTrust: TunnelTLSTrust = .systemTrustStore,
        advertHost: String,
        advertPort: Int,
        radio: ConformanceRadio<any AdvertTransmitter>? = nil
    ) {
        self.implementation = implementation
        self.tunnel = tunnel
        self.tlsTrust = tlsTrust
        self.advertHost = advertHost
        self.advertPort = advertPort
        self.radio = radio
    }
}

// MARK: - Running the implementation under test.

/// Something the kit can start once per scenario: a command line (`CommandImplementation`, what
/// `cable conformance` uses) or, in the project's own tests, one of our roles in process with a
/// fault injected.
public protocol ImplementationUnderTest: Sendable {
    /// Starts one run. `substitutions` maps placeholder names without braces (`url`, `tunnel`,
    /// `advert`) to their values for this scenario.
    func start(substitutions: [String: String]) async throws -> any RunningImplementation
}

/// One run of an implementation under test.
public protocol RunningImplementation: Sendable {
    /// Its standard output, line by line (without the newline); finishes when it exits or stops.
    var outputLines: AsyncStream<String> { get }
    /// Stops the run (terminating a process that is still going) and reports how it ended;
    /// safe to call more than once.
    func stop() async -> ImplementationExit
    /// What the run said besides its output (the end of a subprocess's stderr, a note about
    /// dropped output), for a failure's detail; empty when there is nothing to add.
    var diagnostics: String { get }
}

extension RunningImplementation {
    /// Nothing to add by default.
    public var diagnostics: String { "" }
}

extension ImplementationUnderTest {
    /// Starts one run, hands it to `body` and stops it however `body` ends (returns, throws, is
    /// cancelled at the scenario's deadline), so no run outlives its scenario.
    package func withRun<Result: Sendable>(
        substitutions: [String: String],
        _ body: (any RunningImplementation) async throws -> Result
    ) async throws -> Result {
        let running = try await self.start(substitutions: substitutions)
        do {
            let result = try await body(running)
            _ = await running.stop()
            return result
        } catch {
            _ = await running.stop()
            throw error
        }
    }
}

/// How a run of an implementation under test ended.
public enum ImplementationExit: Sendable, Equatable {
    /// It ended by itself with this status (0: success).
    case exited(Int32)
    /// It was still running and the kit stopped it.
    case stoppedByKit
    /// It was killed by a signal it did not ask for (a crash).
    case signaled(Int32)
}

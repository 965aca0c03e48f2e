import CableAuthenticator
import CableCeremonies
import CableDesktop
import CableLocking
import CableProtocol
import CableRelay
import CableRelyingParty
import CableTunnel
import Foundation
import Logging

/// Where the time of `ceremony.registerAndSignIn` goes: the same register + sign-in through a loopback
/// relay (in-memory stores), with each step timed from the desktop's and the phone's progress events.
///
/// Each row is the median time of one step of a ceremony, from the event that ends the step before
/// it (the first row from the ceremony's start), so the rows of one ceremony add up to about its whole
/// time. Steps that run at the same time on both sides are ordered by when they usually end.
enum CeremonyPhaseCases {
    /// One step: the event that ends it.
    enum Mark: String, CaseIterable, Sendable {
        case qrShown = "desktop shows the QR code"
        case phoneRegistered = "phone: /new connect + upgrade"
        case advertSeen = "advert sent → desktop matched it"
        case desktopConnected = "desktop: /connect connect + upgrade"
        case desktopHandshake = "handshake (desktop sends, phone answers)"
        case postHandshake = "post-handshake message arrives"
        case requestSent = "desktop sends the CTAP request"
        case phoneAnswered = "phone answers the request"
        case responseReceived = "desktop receives the reply"
        case phoneFinished = "shutdown reaches the phone"
        case done = "both sides closed, relying party done"

        /// The figure's name for one ceremony kind.
        func figure(_ kind: String) -> String { "ceremony.phases.\(kind).\(Self.allCases.firstIndex(of: self)!)" }
    }

    static var all: [BenchmarkCase] {
        let figures = ["register", "signIn"].flatMap { kind in Mark.allCases.map { $0.figure(kind) } }
        return [BenchmarkCase("ceremony.phases", figures: figures) { context in try await self.run(context) }]
    }

    /// Timestamps of one ceremony, recorded from both roles' event callbacks.
    final class Recorder: Sendable {
        private let marks = LockedValue([Mark: ContinuousClock.Instant]())
        let start = ContinuousClock.now

        func mark(_ mark: Mark) {
            let now = ContinuousClock.now
            self.marks.withLock { marks in
                if marks[mark] == nil { marks[mark] = now }
            }
        }

        func desktop(_ event: DesktopEvent) {
            switch event {
            case .qrCode: self.mark(.qrShown)
            case .advertReceived: self.mark(.advertSeen)
            case .tunnelConnected: self.mark(.desktopConnected)
            case .handshakeComplete: self.mark(.desktopHandshake)
            case .postHandshakeReceived: self.mark(.postHandshake)
            case .requestSent: self.mark(.requestSent)
            case .responseReceived: self.mark(.responseReceived)
            }
        }

        func phone(_ event: PhoneEvent) {
            switch event {
            case .tunnelRegistered: self.mark(.phoneRegistered)
            case .requestAnswered: self.mark(.phoneAnswered)
            case .finished: self.mark(.phoneFinished)
            default: break
            }
        }

        /// Each step's duration in ns, in the order of `Mark.allCases`.
        func steps() -> [Double] {
            let marks = self.marks.withLock { $0 }
            var previous = self.start
            return Mark.allCases.map { mark in
                let at = marks[mark] ?? previous
                defer { previous = max(previous, at) }
                return max(0, (at - previous).nanoseconds)
            }
        }
    }

    static func run(_ context: BenchmarkContext) async throws -> [BenchmarkResult] {
        let quiet = Logger(label: "cable.bench.ceremony") { _ in SwiftLogNoOpLogHandler() }
        return try await LoopbackRelay.with { service in try await self.sample(context, service: service, logger: quiet)
        }
    }

    static func sample(
        _ context: BenchmarkContext,
        service: TunnelServiceURL,
        logger quiet: Logger
    ) async throws -> [BenchmarkResult] {
        let connector = WebSocketTunnelConnector(fixedService: service)
        let bus = InProcessAdvertBus()
        let phone = HybridPhone(
            connector: connector,
            transmitter: bus,
            advertInterval: CeremonyCases.advertInterval,
            timeouts: PhoneTimeouts(registerTunnel: .seconds(60)),
            logger: quiet
        )
        let desktop = HybridDesktop(
            scanner: bus,
            connector: connector,
            timeouts: .all(.seconds(60)),
            logger: quiet
        )
        let relyingParty = RelyingParty(
            id: "login.example.com",
            policy: .init(allowedAAGUIDs: [.microsoftAuthenticatorAndroid])
        )
        let iterations = context.isQuick ? 3 : 40
        var register: [[Double]] = []
        var signIn: [[Double]] = []
        for iteration in 0..<(iterations + 2) {
            let authenticator = PhoneAuthenticator(
                persona: .authenticatorAndroid,
                store: InMemoryCredentialStore(),
                logger: quiet
            )
            let ceremonies = PasskeyCeremonies(
                desktop: desktop,
                relyingParty: relyingParty,
                records: InMemoryCredentialRecordStore()
            )
            let timestamp = Int64(Date().timeIntervalSince1970)
            let registering = Recorder()
            _ = try await self.ceremony(phone, authenticator, registering) { onEvent in
                try await ceremonies.register(userName: "alice", timestamp: timestamp, onEvent: onEvent)
            }
            registering.mark(.done)
            let signingIn = Recorder()
            _ = try await self.ceremony(phone, authenticator, signingIn) { onEvent in
                try await ceremonies.signIn(timestamp: timestamp, onEvent: onEvent)
            }
            signingIn.mark(.done)
            if iteration >= 2 {
                register.append(registering.steps())
                signIn.append(signingIn.steps())
            }
        }
        var results: [BenchmarkResult] = []
        for (kind, samples) in [("register", register), ("signIn", signIn)] {
            for (index, mark) in Mark.allCases.enumerated() {
                let values = samples.map { $0[index] }
                results.append(
                    .timed(
                        mark.figure(kind),
                        Measurement(nanosecondsPerOperation: values, operationCount: values.count),
                        baseline: nil,
                        note: "\(kind) step \(index): \(mark.rawValue)"
                    )
                )
            }
        }
        return results
    }

    static func ceremony<T: Sendable>(
        _ phone: HybridPhone,
        _ authenticator: PhoneAuthenticator,
        _ recorder: Recorder,
        _ body: @escaping @Sendable (@escaping @Sendable (DesktopEvent) -> Void) async throws -> T
    ) async throws -> T {
        try await withQRCodeScanner(
            { url in _ = try await phone.run(url: url, handler: authenticator, onEvent: recorder.phone) },
            onEvent: recorder.desktop,
            ceremony: body
        )
    }
}

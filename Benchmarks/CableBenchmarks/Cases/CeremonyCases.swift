import CableAuthenticator
import CableCTAP
import CableCeremonies
import CableCrypto
import CableDesktop
import CableProtocol
import CableRelay
import CableRelyingParty
import CableTestSupport
import CableTunnel
import Foundation
import Logging

/// A full passkey registration and sign-in, all parts in this process, composed from the same public
/// API as `Examples/LoopbackPairing`: a `TunnelService` on loopback, `PasskeyCeremonies` over a
/// `HybridDesktop` with a relying party (AAGUID allow list; the phone's self attestation verified), and a `HybridPhone`
/// serving a `PhoneAuthenticator`, the phone "scanning" through an `InProcessAdvertBus`.
///
/// Each sample is one register then one sign-in with a fresh phone credential store and a fresh
/// relying-party record store (set up outside the timed region), so every iteration does the same work.
/// `ceremony.registerAndSignIn` and its two steps use in-memory stores, so they measure the protocol and
/// its crypto; `ceremony.registerAndSignIn.sqlite` runs the same ceremonies on the SQLite stores a
/// deployment uses (phone credentials and relying-party records, WAL with `synchronous = FULL`), so
/// the difference is the two stores' durable commits (about four `fsync`s per register + sign-in).
/// The phone re-broadcasts its advert every ``advertInterval`` instead of the default 250 ms, so the
/// figure is protocol work rather than a wait for the next (simulated) radio advert.
///
/// Baseline, same run: one KNpsk0 handshake (both roles, in process) per ceremony, so the ratio is
/// what everything else costs in handshake units: two WebSocket connects through the relay, the
/// post-handshake messages, CTAP, attestation and assertion signing, relying-party verification and
/// the record file.
enum CeremonyCases {
    /// How often the phone repeats its advert while waiting for the desktop.
    static let advertInterval: Duration = .milliseconds(5)
    /// The handshake baseline's name.
    static let handshakeName = "KNpsk0 handshake, both roles (in process)"

    /// Where a ceremony's phone credentials and relying-party records live.
    enum Stores: Sendable {
        /// `InMemoryCredentialStore` and `InMemoryCredentialRecordStore`: no disk.
        case inMemory
        /// `SQLiteCredentialStore` and `SQLiteCredentialRecordStore` in a temporary directory.
        case sqlite
    }

    /// The cases: three figures from one set of in-memory ceremonies, and the whole ceremony on SQLite.
    static var all: [BenchmarkCase] {
        [
            BenchmarkCase(
                "ceremony.registerAndSignIn",
                figures: ["ceremony.register", "ceremony.signIn", "ceremony.registerAndSignIn"]
            ) { context in try await self.run(context, stores: .inMemory) },
            BenchmarkCase("ceremony.registerAndSignIn.sqlite") { context in
                try await self.run(context, stores: .sqlite)
            },
            BenchmarkCase("ceremony.registerAndSignIn.inProcess") { context in
                try await self.runInProcess(context)
            },
        ]
    }

    /// The same in-memory ceremonies with both roles joined by `InMemoryTunnelService`: no relay, no
    /// sockets, so the figure beside `ceremony.registerAndSignIn` shows what the WebSocket path costs.
    static func runInProcess(_ context: BenchmarkContext) async throws -> [BenchmarkResult] {
        let quiet = Logger(label: "cable.bench.ceremony") { _ in SwiftLogNoOpLogHandler() }
        let directory = FileManager.default.temporaryDirectory
        let samples = try await self.sample(
            context,
            connector: InMemoryTunnelService(),
            stores: .inMemory,
            directory: directory,
            logger: quiet
        )
        return try self.results(context, samples, stores: .inMemory, inProcess: true)
    }

    /// Starts a relay, samples ceremonies through it and compares them with the handshake.
    static func run(_ context: BenchmarkContext, stores: Stores) async throws -> [BenchmarkResult] {
        let quiet = Logger(label: "cable.bench.ceremony") { _ in SwiftLogNoOpLogHandler() }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cable-bench-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // The handshake baseline is measured after the relay has shut down.
        let samples = try await LoopbackRelay.with { service in
            try await self.sample(
                context,
                // Quick runs (tests, possibly in parallel on a loaded machine) allow a slow upgrade, as
                // their phone and desktop timeouts do; a timed run keeps the production default.
                connector: WebSocketTunnelConnector(
                    fixedService: service,
                    timeout: context.isQuick ? .seconds(60) : .seconds(10)
                ),
                stores: stores,
                directory: directory,
                logger: quiet
            )
        }
        return try self.results(context, samples, stores: stores)
    }

    /// Register and sign-in times (ns) of each measured iteration.
    static func sample(
        _ context: BenchmarkContext,
        connector: some TunnelConnector,
        stores: Stores,
        directory: URL,
        logger: Logger
    ) async throws -> (register: [Double], signIn: [Double]) {
        let bus = InProcessAdvertBus()
        // Quick mode runs inside the test suite, beside other tests on two cores: a loaded machine
        // must not turn a slow tunnel registration into a failure (the figures are not read there).
        let phoneTimeouts = context.isQuick ? PhoneTimeouts(registerTunnel: .seconds(60)) : PhoneTimeouts()
        let desktopTimeouts = context.isQuick ? DesktopTimeouts.all(.seconds(60)) : DesktopTimeouts()
        let phone = HybridPhone(
            connector: connector,
            transmitter: bus,
            advertInterval: self.advertInterval,
            timeouts: phoneTimeouts,
            logger: logger
        )
        let desktop = HybridDesktop(scanner: bus, connector: connector, timeouts: desktopTimeouts, logger: logger)
        let relyingParty = RelyingParty(
            id: "login.example.com",
            policy: .init(allowedAAGUIDs: [.microsoftAuthenticatorAndroid])
        )

        let sampler = context.sampler
        let warmUpIterations = context.isQuick ? 1 : 2
        let minimumSamples = context.isQuick ? 3 : 10
        let clock = ContinuousClock()
        var register: [Double] = []
        var signIn: [Double] = []
        var measured = Duration.zero
        var iteration = 0
        while measured < sampler.measuringTime || register.count < minimumSamples {
            let credentials: any CredentialStore
            let records: any CredentialRecordStore
            switch stores {
            case .inMemory:
                credentials = InMemoryCredentialStore()
                records = InMemoryCredentialRecordStore()
            case .sqlite:
                credentials = try SQLiteCredentialStore(
                    fileURL: directory.appendingPathComponent("credentials-\(iteration).sqlite")
                )
                records = try SQLiteCredentialRecordStore(
                    fileURL: directory.appendingPathComponent("records-\(iteration).sqlite")
                )
            }
            let authenticator = PhoneAuthenticator(persona: .authenticatorAndroid, store: credentials, logger: logger)
            let ceremonies = PasskeyCeremonies(desktop: desktop, relyingParty: relyingParty, records: records)
            let timestamp = Int64(Date().timeIntervalSince1970)

            let start = clock.now
            _ = try await self.withPhone(phone, authenticator) { onEvent in
                try await ceremonies.register(userName: "alice", timestamp: timestamp, onEvent: onEvent)
            }
            let registered = clock.now
            _ = try await self.withPhone(phone, authenticator) { onEvent in
                try await ceremonies.signIn(timestamp: timestamp, onEvent: onEvent)
            }
            let signedIn = clock.now

            if iteration >= warmUpIterations {
                register.append((registered - start).nanoseconds)
                signIn.append((signedIn - registered).nanoseconds)
                measured += signedIn - start
            }
            iteration += 1
        }
        return (register, signIn)
    }

    /// Runs a desktop ceremony while the phone acts on the QR code it shows (the library's glue, as
    /// `LoopbackPairing` uses it).
    static func withPhone<T: Sendable>(
        _ phone: HybridPhone,
        _ authenticator: PhoneAuthenticator,
        _ ceremony: @escaping @Sendable (@escaping @Sendable (DesktopEvent) -> Void) async throws -> T
    ) async throws -> T {
        try await withQRCodeScanner(
            { url in _ = try await phone.run(url: url, handler: authenticator) },
            ceremony: ceremony
        )
    }

    /// The three rows, each against handshakes measured now.
    static func results(
        _ context: BenchmarkContext,
        _ samples: (register: [Double], signIn: [Double]),
        stores: Stores,
        inProcess: Bool = false
    ) throws -> [BenchmarkResult] {
        let identity = try P256.PrivateKey()
        let psk = try PreSharedKey(bytes: SecureRandom.bytes(count: PreSharedKey.byteCount))
        context.progress("  baseline: \(self.handshakeName)")
        let handshake = try context.measure {
            blackHole(try HandshakeCases.handshake(identity: identity, psk: psk).desktop.handshakeHash)
        }
        func handshakes(_ count: Int) -> Baseline {
            .sum(
                count == 1 ? self.handshakeName : "\(count) × \(self.handshakeName)",
                of: [.init(name: self.handshakeName, count: count, medianNs: handshake.median)]
            )
        }
        let register = Measurement(nanosecondsPerOperation: samples.register, operationCount: samples.register.count)
        let signIn = Measurement(nanosecondsPerOperation: samples.signIn, operationCount: samples.signIn.count)
        let both = Measurement(
            nanosecondsPerOperation: zip(samples.register, samples.signIn).map(+),
            operationCount: samples.register.count
        )
        let storeNote: String
        switch stores {
        case .inMemory: storeNote = "in-memory stores"
        case .sqlite: storeNote = "SQLite stores (WAL, synchronous = FULL)"
        }
        let path = inProcess ? "in one process (InMemoryTunnelService, no sockets)" : "through a loopback relay"
        let note =
            "\(both.sampleCount) ceremonies \(path), \(storeNote); phone adverts every"
            + " \(TableFormatter.duration(self.advertInterval.nanoseconds))"
        if inProcess {
            return [.timed("ceremony.registerAndSignIn.inProcess", both, baseline: handshakes(2), note: note)]
        }
        if stores == .sqlite {
            return [.timed("ceremony.registerAndSignIn.sqlite", both, baseline: handshakes(2), note: note)]
        }
        return [
            .timed("ceremony.register", register, baseline: handshakes(1)),
            .timed("ceremony.signIn", signIn, baseline: handshakes(1)),
            .timed("ceremony.registerAndSignIn", both, baseline: handshakes(2), note: note),
        ]
    }
}

import CableAuthenticator
import CableDesktop
import CableLocking
import CableProtocol
import CableTestSupport
import Testing

/// A CTAP handler that answers every request with a fixed reply, to test the drivers alone.
struct FixedReplyHandler: CTAPRequestHandler {
    let getInfoResponse: [UInt8] = [0xA1, 0x01, 0x81, 0x68] + Array("FIDO_2_0".utf8)
    let reply: [UInt8]
    func handle(_ request: [UInt8]) async -> [UInt8] { self.reply }
}

@Suite(.timeLimit(.minutes(1))) struct DriverTests {
    @Test func desktopAndPhoneCompleteATransactionInProcess() async throws {
        let bus = InProcessAdvertBus()
        let service = InMemoryTunnelService()
        let desktop = HybridDesktop(scanner: bus, connector: service, timeouts: .all(.seconds(60)))
        let phone = HybridPhone(connector: service, transmitter: bus, advertInterval: .milliseconds(20))
        let answered = Counter()
        let r = try await withQRCodeScanner({ url in
            answered.add(try await phone.run(url: url, handler: FixedReplyHandler(reply: [0x2E])))
        }) { onEvent in
            try await desktop.transact(
                request: [0x02, 0xA0],
                requestType: .getAssertion,
                timestamp: 1_700_000_000,
                onEvent: onEvent
            )
        }
        #expect(r.response == [0x2E])
        #expect(r.revision == .one)
        #expect(r.getInfo == FixedReplyHandler(reply: []).getInfoResponse)
        #expect(answered.value == 1)
    }

    @Test func getInfoIsAnsweredLocally() async throws {
        let bus = InProcessAdvertBus()
        let service = InMemoryTunnelService()
        let desktop = HybridDesktop(scanner: bus, connector: service, timeouts: .all(.seconds(60)))
        let phone = HybridPhone(connector: service, transmitter: bus, advertInterval: .milliseconds(20))
        let answered = Counter()
        let result = try await withQRCodeScanner({ url in
            answered.add(try await phone.run(url: url, handler: FixedReplyHandler(reply: [0x01])))
        }) { onEvent in
            try await desktop.transact(request: [0x04], requestType: .getAssertion, timestamp: 0, onEvent: onEvent)
        }
        #expect(result.response == [0x00] + FixedReplyHandler(reply: []).getInfoResponse)
        #expect(answered.value == 0)
    }

    /// The phone stops advertising as soon as the handshake arrives, not when the transaction ends:
    /// while its handler holds the desktop's request, no advert goes out (at most one that was
    /// already being sent when the handshake came).
    @Test func thePhoneStopsAdvertisingOnceTheHandshakeArrives() async throws {
        let bus = InProcessAdvertBus()
        let service = InMemoryTunnelService()
        let transmitter = CountingTransmitter(bus: bus)
        let desktop = HybridDesktop(scanner: bus, connector: service, timeouts: .all(.seconds(60)))
        let phone = HybridPhone(
            connector: service,
            transmitter: transmitter,
            advertInterval: .milliseconds(2),
            timeouts: PhoneTimeouts(registerTunnel: .seconds(60), handshake: .seconds(60), idle: .seconds(60))
        )
        let handler = HeldReplyHandler()
        let check = Task {
            _ = await handler.started.first { _ in true }
            let atRequest = transmitter.count.value
            // Fifty advert intervals: a loop still running would send some whatever the machine's load.
            try await Task.sleep(for: .milliseconds(100))
            let later = transmitter.count.value
            handler.release.yield()
            return (atRequest, later)
        }
        let result = try await withQRCodeScanner({ url in
            _ = try await phone.run(url: url, handler: handler)
        }) { onEvent in
            try await desktop.transact(
                request: [0x02, 0xA0],
                requestType: .getAssertion,
                timestamp: 0,
                onEvent: onEvent
            )
        }
        let (atRequest, later) = try await check.value
        #expect(result.response == [0x00])
        #expect(atRequest >= 1, "the phone advertised before the handshake")
        #expect(later <= atRequest + 1, "no advert after the handshake (\(atRequest) then \(later))")
    }

    /// The advert timeout is measured on the driver's clock: nothing fires until the clock passes it,
    /// and no test waits for two real minutes.
    @Test func aPhoneThatNeverAnswersTimesOutAtTheAdvertStep() async throws {
        let clock = ManualClock()
        let desktop = HybridDesktop(
            scanner: InProcessAdvertBus(),
            connector: InMemoryTunnelService(),
            timeouts: DesktopTimeouts(advert: .seconds(120)),
            clock: clock
        )
        let task = Task { try await desktop.transact(request: [0x02], requestType: .getAssertion, timestamp: 0) }
        try await clock.waitForSleepers(1)
        clock.advance(by: .seconds(119))
        #expect(clock.sleeperCount == 1, "one second before the deadline it still waits")
        clock.advance(by: .seconds(1))
        let error = await #expect(throws: DesktopError.self) { _ = try await task.value }
        #expect(error?.code == .timeout)
        #expect(error?.step == .advert)
    }

    @Test func aPhoneThatStopsAfterTheAdvertTimesOutAtTheHandshake() async throws {
        // A stranger replays the right advert but nobody answers on the tunnel.
        let bus = InProcessAdvertBus()
        let service = InMemoryTunnelService()
        let clock = ManualClock()
        let desktop = HybridDesktop(
            scanner: bus,
            connector: service,
            timeouts: DesktopTimeouts(advert: .seconds(5), handshake: .seconds(10)),
            clock: clock
        )
        let (events, sink) = AsyncStream<DesktopEvent>.makeStream()
        let finished = Counter()
        let task = Task {
            defer { finished.add(1) }
            return try await desktop.transact(request: [0x02], requestType: .getAssertion, timestamp: 0) {
                sink.yield($0)
            }
        }
        var url: String?
        for await event in events {
            if case .qrCode(let shown) = event {
                url = shown
                break
            }
        }
        var session = PhoneSession(payload: try QRCodePayload(url: try #require(url)), getInfo: [0xA0])
        _ = try await service.connect(to: session.newTunnelEndpoint, domainID: .google)
        let advert = try session.tunnelOpened(
            routingID: try RoutingID(hex: "2A0000"),
            domainID: .google,
            nonce: [UInt8](repeating: 1, count: 10)
        )
        try await bus.transmit(advert)
        for await event in events where event == .tunnelConnected { break }
        // The handshake wait sleeps on the clock. Its sleeper may register just after a cancelled
        // earlier deadline's leaves, so move the clock on in handshake-sized steps until it fires.
        for _ in 0..<100 where finished.value == 0 {
            try? await clock.waitForSleepers(1, within: .milliseconds(200))
            clock.advance(by: .seconds(10))
            try await Task.sleep(for: .milliseconds(10))
        }
        let error = await #expect(throws: DesktopError.self) { _ = try await task.value }
        #expect(error?.step == .handshake)
        #expect(error?.code == .timeout)
    }
}

/// The test clock itself: a sleeper wakes exactly when the clock passes its deadline, and a cancelled
/// one throws at once, so tests built on it can fail.
@Suite(.timeLimit(.minutes(1))) struct ManualClockTests {
    @Test func aSleeperWakesOnlyOnceTheClockPassesItsDeadline() async throws {
        let clock = ManualClock()
        let woke = Counter()
        let task = Task {
            try await clock.sleep(for: .seconds(5))
            woke.add(1)
        }
        try await clock.waitForSleepers(1)
        clock.advance(by: .seconds(4))
        try await Task.sleep(for: .milliseconds(50))
        #expect(woke.value == 0)
        clock.advance(by: .seconds(1))
        try await task.value
        #expect(woke.value == 1)
    }

    @Test func aCancelledSleeperThrowsAtOnce() async throws {
        let clock = ManualClock()
        let task = Task { try await clock.sleep(for: .seconds(5)) }
        try await clock.waitForSleepers(1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.sleeperCount == 0)
    }
}

/// Counts the adverts a phone transmits, passing each on to the bus.
final class CountingTransmitter: AdvertTransmitter {
    let bus: InProcessAdvertBus
    let count = Counter()
    init(bus: InProcessAdvertBus) { self.bus = bus }
    func transmit(_ advertisingData: [UInt8]) async throws {
        self.count.add(1)
        try await self.bus.transmit(advertisingData)
    }
}

/// A CTAP handler that reports each request and answers `[0x00]` only once released.
final class HeldReplyHandler: CTAPRequestHandler {
    let getInfoResponse: [UInt8] = [0xA1, 0x01, 0x81, 0x68] + Array("FIDO_2_0".utf8)
    let started: AsyncStream<Void>
    private let startedSink: AsyncStream<Void>.Continuation
    private let released: AsyncStream<Void>
    let release: AsyncStream<Void>.Continuation

    init() {
        (self.started, self.startedSink) = AsyncStream<Void>.makeStream()
        (self.released, self.release) = AsyncStream<Void>.makeStream()
    }

    func handle(_ request: [UInt8]) async -> [UInt8] {
        self.startedSink.yield()
        for await _ in self.released { break }
        return [0x00]
    }
}

/// Counts from inside a `@Sendable` closure.
final class Counter: Sendable {
    private let count = LockedValue(0)
    func add(_ n: Int) { self.count.withLock { $0 += n } }
    var value: Int { self.count.withLock { $0 } }
}

/// `withQRCodeScanner`, the one glue between a desktop ceremony and an in-process phone.
@Suite(.timeLimit(.minutes(1))) struct QRCodeScannerGlueTests {
    struct Failure: Error, Equatable {}

    @Test func theScannerGetsTheURLOfTheQRCodeAndEveryEventGoesToOnEvent() async throws {
        let scanned = LockedValue<[String]>([])
        let seen = LockedValue<[DesktopEvent]>([])
        let result = try await withQRCodeScanner(
            { url in scanned.withLock { $0.append(url) } },
            onEvent: { event in
                seen.withLock { $0.append(event) }
            }
        ) { onEvent in
            onEvent(.qrCode(url: "FIDO:/1"))
            onEvent(.qrCode(url: "FIDO:/2"))  // a second code is not scanned again
            onEvent(.tunnelConnected)
            return 7
        }
        #expect(result == 7)
        #expect(scanned.withLock { $0 } == ["FIDO:/1"])
        #expect(seen.withLock { $0 } == [.qrCode(url: "FIDO:/1"), .qrCode(url: "FIDO:/2"), .tunnelConnected])
    }

    @Test func aCeremonyThatFailsBeforeShowingACodeNeverRunsTheScanner() async throws {
        let scanned = Counter()
        await #expect(throws: Failure.self) {
            _ = try await withQRCodeScanner({ _ in scanned.add(1) }) { _ -> Int in throw Failure() }
        }
        #expect(scanned.value == 0)
    }

    /// A failing phone cancels the desktop, which ends at once instead of waiting out its timeout.
    @Test func aFailingScannerCancelsTheCeremony() async throws {
        let desktop = HybridDesktop(
            scanner: InProcessAdvertBus(),
            connector: InMemoryTunnelService(),
            timeouts: .all(.seconds(600))
        )
        let started = ContinuousClock.now
        await #expect(throws: Failure.self) {
            _ = try await withQRCodeScanner({ _ in throw Failure() }) { onEvent in
                try await desktop.transact(request: [0x02], requestType: .getAssertion, timestamp: 0, onEvent: onEvent)
            }
        }
        #expect(ContinuousClock.now - started < .seconds(60), "ended by cancellation, not by the 600 s advert timeout")
    }
}

/// A handler that never answers until its task is cancelled (the user is still deciding).
struct UndecidedHandler: CTAPRequestHandler {
    let getInfoResponse: [UInt8] = [0xA0]
    func handle(_ request: [UInt8]) async -> [UInt8] {
        try? await Task.sleep(for: .seconds(600))
        return [0x2E]
    }
}

/// Cancelling a ceremony surfaces as `CancellationError`, at every wait, never as "the phone closed
/// the tunnel" or a timeout.
@Suite(.timeLimit(.minutes(1))) struct DriverCancellationTests {
    /// Starts a desktop transaction in a task and returns it with its events.
    static func startDesktop(
        _ desktop: HybridDesktop,
        request: [UInt8] = [0x02, 0xA0]
    ) -> (task: Task<DesktopTransactionResult, any Error>, events: AsyncStream<DesktopEvent>) {
        let (events, sink) = AsyncStream<DesktopEvent>.makeStream()
        let task = Task {
            try await desktop.transact(request: request, requestType: .getAssertion, timestamp: 0) { sink.yield($0) }
        }
        return (task, events)
    }

    /// Waits for the first event `matching` (bounded by the suite's time limit).
    static func next(_ events: AsyncStream<DesktopEvent>, matching: (DesktopEvent) -> Bool) async -> DesktopEvent? {
        for await event in events where matching(event) { return event }
        return nil
    }

    @Test func cancellingWhileWaitingForTheAdvert() async throws {
        let desktop = HybridDesktop(
            scanner: InProcessAdvertBus(),
            connector: InMemoryTunnelService(),
            timeouts: .all(.seconds(60))
        )
        let (task, events) = Self.startDesktop(desktop)
        _ = await Self.next(events) { if case .qrCode = $0 { return true } else { return false } }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test func cancellingWhileWaitingForTheReply() async throws {
        let bus = InProcessAdvertBus()
        let service = InMemoryTunnelService()
        let desktop = HybridDesktop(scanner: bus, connector: service, timeouts: .all(.seconds(60)))
        let phone = HybridPhone(connector: service, transmitter: bus, advertInterval: .milliseconds(20))
        let (task, events) = Self.startDesktop(desktop)
        guard
            case .qrCode(let url) = await Self.next(events, matching: { if case .qrCode = $0 { true } else { false } })
        else {
            Issue.record("no QR code")
            return
        }
        let phoneTask = Task { try await phone.run(url: url, handler: UndecidedHandler()) }
        _ = await Self.next(events) { $0 == .requestSent }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        phoneTask.cancel()
        _ = try? await phoneTask.value
    }

    @Test func cancellingThePhoneWhileItWaitsForTheHandshake() async throws {
        let (phoneEvents, sink) = AsyncStream<PhoneEvent>.makeStream()
        let phone = HybridPhone(
            connector: InMemoryTunnelService(),
            transmitter: InProcessAdvertBus(),
            advertInterval: .milliseconds(20),
            timeouts: PhoneTimeouts(handshake: .seconds(60))
        )
        var rng = DeterministicRNG(seed: 3)
        let url = try DesktopSession(
            key: try QRGeneratorKey.random(using: &rng),
            requestType: .getAssertion,
            timestamp: 0
        ).qrPayload.url
        let task = Task { try await phone.run(url: url, handler: UndecidedHandler()) { sink.yield($0) } }
        for await event in phoneEvents where event == .advertising { break }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }
}

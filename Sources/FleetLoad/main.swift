import CableAuthenticator
import CableCeremonies
import CableDesktop
import CableLocking
import CableProtocol
import CableRelyingParty
import CableTunnel
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

// `FleetLoad`: passkey registrations through a relay fleet's front door (`make fleet-test`).
//
// Every ceremony is our desktop (`PasskeyCeremonies` + `HybridDesktop`) and our phone (`HybridPhone`
// serving a `PhoneAuthenticator`) in this process, meeting through the front door: the phone's
// /cable/new/ lands on any instance, the desktop's /cable/connect/<routing id>/ must reach the one
// holding the phone's socket (any other instance answers 404), so every completed ceremony proves a
// correct route. Phases:
//   1. probes: a routing ID no instance owns is refused at the door; a tunnel registered through the
//      door cannot be joined through another instance's routing ID (the check that a misroute fails)
//      but can through its own;
//   2. load: --ceremonies registrations, --concurrency at a time; all must succeed, on every instance;
//   3. outage (with --victim): --outage-ceremonies at once, half paired (the phone holds its answer)
//      and half waiting (the advert is held back); then --victim-pid gets --signal; only the
//      ceremonies on --victim may fail, each with a typed error within the deadline, and all others
//      must succeed.
// Exits 1 if any check fails, 64 on bad usage.

struct Options {
    var tunnel = ""
    var instances: [RoutingID] = []
    var ceremonies = 300
    var concurrency = 8
    var victim: RoutingID?
    var victimPID: pid_t = 0
    var signalNumber = SIGKILL
    var outageCeremonies = 60
    var deadline: Duration = .seconds(90)
}

func usage() -> Never {
    print(
        """
        usage: FleetLoad --tunnel ws://HOST:PORT --instance HEX [--instance HEX ...] [--ceremonies N] \
        [--concurrency N] [--victim HEX --victim-pid PID [--signal KILL|TERM] [--outage-ceremonies N]] \
        [--deadline SECONDS]
        """
    )
    exit(64)
}

func parseOptions(_ arguments: [String]) -> Options {
    var options = Options()
    var rest = arguments[...]
    func routingID(_ text: String) -> RoutingID {
        guard let id = try? RoutingID(hex: text) else { usage() }
        return id
    }
    func count(_ text: String, _ range: ClosedRange<Int>) -> Int {
        guard let value = Int(text), range.contains(value) else { usage() }
        return value
    }
    while let flag = rest.popFirst() {
        guard let value = rest.popFirst() else { usage() }
        switch flag {
        case "--tunnel": options.tunnel = value
        case "--instance": options.instances.append(routingID(value))
        case "--ceremonies": options.ceremonies = count(value, 0...100_000)
        case "--concurrency": options.concurrency = count(value, 1...1_000)
        case "--victim": options.victim = routingID(value)
        case "--victim-pid": options.victimPID = pid_t(count(value, 2...Int(Int32.max)))
        case "--outage-ceremonies": options.outageCeremonies = count(value, 2...1_000)
        case "--deadline": options.deadline = .seconds(count(value, 1...3_600))
        case "--signal":
            switch value {
            case "KILL": options.signalNumber = SIGKILL
            case "TERM": options.signalNumber = SIGTERM
            default: usage()
            }
        default: usage()
        }
    }
    if options.tunnel.isEmpty || options.instances.count < 2 { usage() }
    if Set(options.instances).count != options.instances.count { usage() }
    if let victim = options.victim, !options.instances.contains(victim) || options.victimPID == 0 { usage() }
    return options
}

/// A latch that many tasks wait on until it is opened once.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if self.isOpen { return }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    func open() {
        self.isOpen = true
        for waiter in self.waiters { waiter.resume() }
        self.waiters.removeAll()
    }
}

/// Counts ceremonies that reached their hold point in the outage phase.
actor Arrivals {
    private(set) var count = 0
    func arrive() { self.count += 1 }
}

/// The phone's radio for one ceremony. While `gate` is closed, adverts are kept (the latest one)
/// instead of sent, so the desktop connects only once the gate opens: then the kept advert is
/// delivered even if the phone has failed meanwhile, as a desktop that scanned it a moment ago would.
final class HeldTransmitter: AdvertTransmitter {
    private struct State {
        var released = false
        var kept: [UInt8]?
    }
    private let bus: InProcessAdvertBus
    private let state = LockedValue(State())
    private let onFirstHold: @Sendable () -> Void

    init(bus: InProcessAdvertBus, onFirstHold: @escaping @Sendable () -> Void) {
        self.bus = bus
        self.onFirstHold = onFirstHold
    }

    func transmit(_ advertisingData: [UInt8]) async throws {
        let (send, first) = self.state.withLock { s -> (Bool, Bool) in
            if s.released { return (true, false) }
            defer { s.kept = advertisingData }
            return (false, s.kept == nil)
        }
        if first { self.onFirstHold() }
        if send { try await self.bus.transmit(advertisingData) }
    }

    func release() async {
        let kept = self.state.withLock { s -> [UInt8]? in
            s.released = true
            return s.kept
        }
        if let kept { try? await self.bus.transmit(kept) }
    }
}

/// The phone's authenticator, optionally holding every answer until a gate opens (a user deciding).
struct HeldHandler: CTAPRequestHandler {
    let authenticator: PhoneAuthenticator
    let gate: Gate?
    let onHold: @Sendable () async -> Void

    var getInfoResponse: [UInt8] { self.authenticator.getInfoResponse }

    func handle(_ request: [UInt8]) async -> [UInt8] {
        if let gate = self.gate {
            await self.onHold()
            await gate.wait()
        }
        return await self.authenticator.handle(request)
    }
}

enum Hold { case none, paired, waiting }

/// What happened to one ceremony.
struct Outcome: Sendable {
    var hold: Hold
    /// Where the phone registered its tunnel (from the `X-caBLE-Routing-ID` the front door passed on).
    var phoneRoutingID: RoutingID?
    /// The routing ID the desktop read from the advert.
    var desktopRoutingID: RoutingID?
    var desktopError: String?
    var phoneError: String?
    /// Whether every error was one of the roles' typed errors.
    var typed = true
    var hung = false
    var succeeded: Bool { self.desktopError == nil && self.phoneError == nil && !self.hung }
}

/// The routing IDs one ceremony's phone registered at and its desktop read from the advert.
final class Recorder: Sendable {
    private let ids = LockedValue<(phone: RoutingID?, desktop: RoutingID?)>((nil, nil))
    func phoneRegistered(_ id: RoutingID) { self.ids.withLock { $0.phone = id } }
    func desktopSaw(_ id: RoutingID) { self.ids.withLock { $0.desktop = id } }
    var routingIDs: (RoutingID?, RoutingID?) { self.ids.withLock { ($0.phone, $0.desktop) } }
}

func describe(_ error: any Error) -> (String, Bool) {
    switch error {
    case let e as DesktopError: return ("desktop \(e.code.rawValue)@\(e.step.rawValue)", true)
    case let e as CeremonyError: return ("ceremony \(e.code.rawValue)", true)
    case let e as PhoneError: return ("phone \(e.code.rawValue)@\(e.step.rawValue)", true)
    case let e as TunnelError: return ("tunnel \(e.code.rawValue)", true)
    default: return ("untyped \(type(of: error))", false)
    }
}

/// One registration, desktop and phone, bounded by `deadline` as a whole.
func ceremony(
    service: TunnelServiceURL,
    index: Int,
    hold: Hold,
    gate: Gate?,
    arrivals: Arrivals?,
    deadline: Duration
) async -> Outcome {
    let connector = WebSocketTunnelConnector(fixedService: service, timeout: .seconds(10))
    let bus = InProcessAdvertBus()
    let transmitter = HeldTransmitter(bus: bus, onFirstHold: { Task { await arrivals?.arrive() } })
    if hold != .waiting {
        await transmitter.release()
    } else if let gate {
        Task {
            await gate.wait()
            await transmitter.release()
        }
    }
    let recorder = Recorder()
    let phone = HybridPhone(
        connector: connector,
        transmitter: transmitter,
        advertInterval: .milliseconds(20),
        timeouts: PhoneTimeouts(registerTunnel: .seconds(10), handshake: .seconds(40), idle: .seconds(40))
    )
    let handler = HeldHandler(
        authenticator: PhoneAuthenticator(persona: .authenticatorAndroid, store: InMemoryCredentialStore()),
        gate: hold == .paired ? gate : nil,
        onHold: { await arrivals?.arrive() }
    )
    let ceremonies = PasskeyCeremonies(
        desktop: HybridDesktop(
            scanner: bus,
            connector: connector,
            timeouts: DesktopTimeouts(
                advert: .seconds(40),
                connect: .seconds(10),
                handshake: .seconds(10),
                postHandshake: .seconds(10),
                response: .seconds(40)
            )
        ),
        relyingParty: RelyingParty(id: "fleet.example.com"),
        records: InMemoryCredentialRecordStore()
    )
    let (qrCodes, shown) = AsyncStream<String>.makeStream()
    var outcome = Outcome(hold: hold)

    let finished = await withTaskGroup(of: (Bool, String?, String?, Bool).self) { group -> Outcome? in
        // (isDesktop, error, -, typed)
        group.addTask {
            for await url in qrCodes {
                do {
                    try await phone.run(url: url, handler: handler) { event in
                        if case .tunnelRegistered(let id) = event { recorder.phoneRegistered(id) }
                    }
                    return (false, nil, nil, true)
                } catch {
                    let (text, typed) = describe(error)
                    // A phone that failed before advertising leaves nothing for a held desktop to scan.
                    await transmitter.release()
                    return (false, text, nil, typed)
                }
            }
            return (false, "phone never saw the QR code", nil, false)
        }
        group.addTask {
            do {
                _ = try await ceremonies.register(
                    userName: "user\(index)",
                    timestamp: Int64(Date().timeIntervalSince1970)
                ) { event in
                    switch event {
                    case .qrCode(let url):
                        shown.yield(url)
                        shown.finish()
                    case .advertReceived(_, let id): recorder.desktopSaw(id)
                    default: break
                    }
                }
                return (true, nil, nil, true)
            } catch {
                shown.finish()
                let (text, typed) = describe(error)
                return (true, text, nil, typed)
            }
        }
        group.addTask {
            try? await Task.sleep(for: deadline)
            return (true, "hung", "hung", false)
        }
        var done = 0
        while let (isDesktop, error, marker, typed) = await group.next() {
            if marker == "hung" {
                if done < 2 {
                    outcome.hung = true
                    group.cancelAll()
                    return outcome
                }
                continue
            }
            if isDesktop { outcome.desktopError = error } else { outcome.phoneError = error }
            outcome.typed = outcome.typed && typed
            done += 1
            if done == 2 {
                group.cancelAll()
                return outcome
            }
        }
        return outcome
    }
    var result = finished ?? outcome
    (result.phoneRoutingID, result.desktopRoutingID) = recorder.routingIDs
    return result
}

/// Runs `count` ceremonies, `concurrency` at a time.
func runMany(
    count: Int,
    concurrency: Int,
    service: TunnelServiceURL,
    deadline: Duration,
    hold: @escaping @Sendable (Int) -> Hold = { _ in .none },
    gate: Gate? = nil,
    arrivals: Arrivals? = nil
) async -> [Outcome] {
    await withTaskGroup(of: Outcome.self) { group in
        var results: [Outcome] = []
        var next = 0
        while next < min(concurrency, count) {
            let i = next
            group.addTask {
                await ceremony(
                    service: service,
                    index: i,
                    hold: hold(i),
                    gate: gate,
                    arrivals: arrivals,
                    deadline: deadline
                )
            }
            next += 1
        }
        while let outcome = await group.next() {
            results.append(outcome)
            if next < count {
                let i = next
                group.addTask {
                    await ceremony(
                        service: service,
                        index: i,
                        hold: hold(i),
                        gate: gate,
                        arrivals: arrivals,
                        deadline: deadline
                    )
                }
                next += 1
            }
        }
        return results
    }
}

var failures: [String] = []
@MainActor func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if condition {
        print("ok    \(message())")
    } else {
        print("FAIL  \(message())")
        failures.append(message())
    }
}

func tally(_ outcomes: [Outcome]) -> [String: Int] {
    var counts: [String: Int] = [:]
    for o in outcomes {
        for e in [o.desktopError, o.phoneError].compactMap({ $0 }) { counts[e, default: 0] += 1 }
        if o.hung { counts["hung", default: 0] += 1 }
    }
    return counts
}

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
// Hundreds of ceremonies: only warnings and errors from the roles, the checks say the rest.
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
let service: TunnelServiceURL
do { service = try TunnelServiceURL(string: options.tunnel) } catch {
    print("error: --tunnel: \(error.reason)")
    exit(64)
}
let owners = Set(options.instances)
/// Tunnels each instance must have counted as paired (`cable_relay_tunnels_paired_total`): one per
/// completed ceremony whose phone registered there, and the probe's join. fleet-test compares.
var expectedPaired: [RoutingID: Int] = [:]

// Phase 1: probes. A routing ID nobody owns (the complement of the first byte of every owner's).
let unownedFirstByte = (0...255).first { b in !options.instances.contains { $0.bytes[0] == UInt8(b) } } ?? 0
let unowned = RoutingID(validatedBytes: [UInt8(unownedFirstByte), 0x5A, 0xA5])
func randomTunnelID() -> TunnelID { TunnelID(validatedBytes: (0..<16).map { _ in UInt8.random(in: 0...255) }) }
do {
    _ = try await TunnelClient.connect(
        to: service,
        endpoint: .connect(unowned, randomTunnelID()),
        timeout: .seconds(10)
    )
    check(false, "probe: /cable/connect/ with unowned routing ID \(unowned) is refused at the front door")
} catch {
    check(
        error.httpStatus == 404,
        "probe: /cable/connect/ with unowned routing ID \(unowned) is refused at the front door (\(error))"
    )
}
do {
    let tunnelID = randomTunnelID()
    let phone = try await TunnelClient.connect(to: service, endpoint: .new(tunnelID), timeout: .seconds(10))
    let owner = phone.routingID
    check(
        owner.map { owners.contains($0) } ?? false,
        "probe: /cable/new/ through the door returns an owner's routing ID (\(owner.map { "\($0)" } ?? "none"))"
    )
    if let owner, let other = options.instances.first(where: { $0 != owner }) {
        do {
            let wrong = try await TunnelClient.connect(
                to: service,
                endpoint: .connect(other, tunnelID),
                timeout: .seconds(10)
            )
            await wrong.close()
            check(false, "probe: joining a tunnel of \(owner) through routing ID \(other) fails")
        } catch {
            check(
                error.httpStatus == 404,
                "probe: joining a tunnel of \(owner) through routing ID \(other) fails (\(error))"
            )
        }
        do {
            let right = try await TunnelClient.connect(
                to: service,
                endpoint: .connect(owner, tunnelID),
                timeout: .seconds(10)
            )
            expectedPaired[owner, default: 0] += 1
            try await right.send([1, 2, 3])
            let got = try await phone.receive()
            check(got == [1, 2, 3], "probe: joining it through its own routing ID \(owner) carries a message")
            await right.close()
        } catch {
            check(false, "probe: joining it through its own routing ID \(owner) carries a message (\(error))")
        }
    }
    await phone.close()
} catch {
    check(false, "probe: /cable/new/ through the door (\(error))")
}

// Phase 2: load.
let started = ContinuousClock.now
let load = await runMany(
    count: options.ceremonies,
    concurrency: options.concurrency,
    service: service,
    deadline: options.deadline
)
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
var perInstance: [RoutingID: Int] = [:]
for o in load where o.succeeded { if let id = o.phoneRoutingID { perInstance[id, default: 0] += 1 } }
for (id, count) in perInstance { expectedPaired[id, default: 0] += count }
let succeeded = load.filter(\.succeeded).count
check(succeeded == options.ceremonies, "load: \(succeeded)/\(options.ceremonies) ceremonies succeeded \(tally(load))")
check(
    load.allSatisfy {
        !$0.succeeded || ($0.phoneRoutingID == $0.desktopRoutingID && $0.phoneRoutingID.map(owners.contains) == true)
    },
    "load: every desktop connected to the routing ID its phone registered at, an owned one"
)
let spread = options.instances.map { "\($0)=\(perInstance[$0, default: 0])" }.joined(separator: " ")
let fair = options.ceremonies / (options.instances.count * 4)
check(
    options.instances.allSatisfy { perInstance[$0, default: 0] >= max(1, fair) },
    "load: spread over every instance, each at least \(max(1, fair)) (\(spread))"
)
print(
    String(
        format: "load: %d ceremonies in %.2f s, %.1f ceremonies/s through the front door, concurrency %d",
        options.ceremonies,
        seconds,
        Double(options.ceremonies) / max(seconds, 1e-9),
        options.concurrency
    )
)

// Phase 3: outage.
var outageSummary = "no outage phase"
if !failures.isEmpty {
    outageSummary = "outage phase skipped: the fleet already failed"
} else if let victim = options.victim {
    let count = options.outageCeremonies
    let gate = Gate()
    let arrivals = Arrivals()
    let outage = Task {
        await runMany(
            count: count,
            concurrency: count,
            service: service,
            deadline: options.deadline,
            hold: { $0 % 2 == 0 ? .paired : .waiting },
            gate: gate,
            arrivals: arrivals
        )
    }
    // Everyone in place: paired ones hold their answer, waiting ones hold their advert.
    let waitStart = ContinuousClock.now
    while await arrivals.count < count, ContinuousClock.now - waitStart < .seconds(60) {
        try? await Task.sleep(for: .milliseconds(50))
    }
    let inPlace = await arrivals.count
    check(
        inPlace == count,
        "outage: \(inPlace)/\(count) ceremonies in place (half paired, half waiting) before the stop"
    )
    kill(options.victimPID, options.signalNumber)
    // Let the victim's sockets close (a killed process's at once; TERM closes with 1001).
    try? await Task.sleep(for: .seconds(2))
    await gate.open()
    let outcomes = await outage.value
    let onVictim = outcomes.filter { $0.phoneRoutingID == victim }
    let others = outcomes.filter { $0.phoneRoutingID != victim }
    let victimPaired = onVictim.filter { $0.hold == .paired }.count
    let victimWaiting = onVictim.count - victimPaired
    check(
        victimPaired > 0 && victimWaiting > 0,
        "outage: the stopped instance \(victim) held \(victimPaired) paired and \(victimWaiting) waiting tunnels"
    )
    check(
        onVictim.allSatisfy { !$0.succeeded && !$0.hung && $0.typed && $0.desktopError != nil },
        "outage: all \(onVictim.count) ceremonies on \(victim) failed with typed errors, none hung \(tally(onVictim))"
    )
    let othersOK = others.filter(\.succeeded).count
    check(
        othersOK == others.count && others.allSatisfy { $0.phoneRoutingID.map(owners.contains) == true },
        "outage: \(othersOK)/\(others.count) ceremonies on the other instances succeeded \(tally(others))"
    )
    outageSummary =
        "outage: \(onVictim.count) failed cleanly on \(victim), \(othersOK)/\(others.count) on the others succeeded"
    for o in others where o.succeeded { if let id = o.phoneRoutingID { expectedPaired[id, default: 0] += 1 } }

    // After the stop: new ceremonies go around the dead instance.
    let after = await runMany(count: 30, concurrency: options.concurrency, service: service, deadline: options.deadline)
    let afterOK = after.filter(\.succeeded).count
    for o in after where o.succeeded { if let id = o.phoneRoutingID { expectedPaired[id, default: 0] += 1 } }
    check(
        afterOK == after.count && after.allSatisfy { $0.phoneRoutingID != victim },
        "after the stop: \(afterOK)/\(after.count) new ceremonies succeeded, none on \(victim) \(tally(after))"
    )
}

let rate = String(format: "%.1f", Double(options.ceremonies) / max(seconds, 1e-9))
// For the instances' metrics (fleet-test): what each must have counted, the stopped one's included.
print("expected paired: " + options.instances.map { "\($0)=\(expectedPaired[$0, default: 0])" }.joined(separator: " "))
print(
    "fleet: \(failures.isEmpty ? "PASS" : "FAIL (\(failures.count) checks)"): \(succeeded)/\(options.ceremonies) ceremonies through the front door at \(rate)/s (\(spread)); \(outageSummary)"
)
exit(failures.isEmpty ? 0 : 1)

import CableLocking
import CableProtocol
import CableTestSupport
import CableTunnel
import CableTunnelTestSupport
import Testing

@testable import CableRelay

/// Many tunnels and many strangers at once: the relay stays up, stays within its limits, reaps
/// what never pairs, and keeps serving the tunnels that do.
@Suite(.serialized, .timeLimit(.minutes(3))) struct TunnelServiceLoadTests {
    @Test func threeHundredTunnelsAtOnceWithOurClient() async throws {
        try await withRelay { relay in
            let count = 300
            let completed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<count {
                    group.addTask {
                        let (phone, desktop) = try await relay.pair()
                        var ok = true
                        for i in 0..<10 {
                            let ping = randomBytes(32 + i)
                            try await desktop.send(ping)
                            ok = try await phone.receive() == ping && ok
                            try await phone.send(ping.reversed())
                            ok = try await desktop.receive() == ping.reversed() && ok
                        }
                        await desktop.close()
                        ok = try await phone.receive() == nil && ok
                        await phone.close()
                        return ok
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(completed == count)
            try await eventually("every tunnel removed") { relay.server.statistics.tunnels == 0 }
            try await eventually("every connection closed") {
                relay.server.statistics.openConnections == 0
            }
        }
    }

    @Test func tunnelsThatNeverPairAreBoundedAndReapedWhileAPairedOneWorks() async throws {
        let waiting = 400
        try await withRelay({
            $0.maxTunnels = waiting + 1
            // Long enough that none of the 400 is reaped before the last one is open, even in a
            // ThreadSanitizer build on two busy cores (where opening them took over 2 s) or beside the
            // other suites of a parallel run (over 10 s).
            $0.peerWaitTimeout = .seconds(40)
        }) { relay in
            let phones = try await withThrowingTaskGroup(of: TunnelConnection.self) { group in
                for _ in 0..<waiting { group.addTask { try await relay.newTunnel().0 } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let (phone, desktop) = try await relay.pair()
            #expect(relay.server.statistics.waitingTunnels == waiting)
            // At the limit: one more tunnel is refused, the paired one keeps working.
            let refused = await #expect(throws: TunnelError.self) { _ = try await relay.newTunnel() }
            #expect(refused?.code == .serviceUnavailable)
            for i in 0..<5 {
                try await phone.send([UInt8(i)])
                #expect(try await desktop.receive() == [UInt8(i)])
            }
            // Every waiting phone is closed with 1008 once its wait is over.
            let ends = await withTaskGroup(of: WebSocketCloseCode?.self) { group in
                for waitingPhone in phones {
                    group.addTask {
                        do {
                            while try await waitingPhone.receive() != nil {}
                            return nil
                        } catch {
                            return (error as? TunnelError)?.closeCode
                        }
                    }
                }
                return await group.reduce(into: [WebSocketCloseCode?]()) { $0.append($1) }
            }
            #expect(ends.count == waiting)
            #expect(ends.allSatisfy { $0 == .policyViolation })
            try await eventually("waiting tunnels reaped", timeout: .seconds(30)) {
                relay.server.statistics.tunnels == 1
            }
            for waitingPhone in phones { await waitingPhone.close() }
            await desktop.close()
            #expect(try await phone.receive() == nil)
            await phone.close()
        }
    }

    /// Large and small messages alike must stall against a reader that stopped (a sender that did not
    /// wait for small writes would queue them on the event loop without end).
    @Test(arguments: [256 << 10, 4 << 10])
    func aDesktopThatStopsReadingStallsItsPhoneNotTheRelay(messageSize: Int) async throws {
        try await withRelay { relay in
            let (slowPhone, slowDesktop) = try await relay.pair()
            let (phone, desktop) = try await relay.pair()
            // The slow desktop never reads: back-pressure must stop the phone's sends after a bounded
            // amount is buffered (client inbox, socket buffers, the relay's read-ahead), not let the
            // relay queue without end.
            let sent = Counter()
            let message = randomBytes(messageSize)
            let pump = Task {
                while !Task.isCancelled {
                    do { try await slowPhone.send(message) } catch { return }
                    sent.increment()
                }
            }
            // Wait until the sends stop (at most 20 s: a debug build on a busy machine fills slowly).
            var stalledAt = -1
            for _ in 0..<40 {
                let before = sent.value
                try await Task.sleep(for: .milliseconds(500))
                if sent.value == before {
                    stalledAt = before
                    break
                }
            }
            #expect(stalledAt >= 0, "sends went on while nobody read")
            // Buffers on the way (client inbox, three sockets, the relay's read-ahead) hold tens of MiB.
            #expect(
                stalledAt * messageSize < 100 << 20,
                "\(stalledAt * messageSize >> 20) MiB accepted for a desktop that reads nothing"
            )
            // Another tunnel is unaffected.
            for i in 0..<10 {
                try await phone.send([UInt8(i)])
                #expect(try await desktop.receive() == [UInt8(i)])
            }
            // Reading again drains the backlog in order.
            #expect(try await slowDesktop.receive() == message)
            pump.cancel()
            await slowDesktop.close()
            await slowPhone.close()
            await desktop.close()
            await phone.close()
        }
    }

    @Test func aThousandStalledConnectionsAreReapedWhileATunnelIsServed() async throws {
        try await withRelay({
            $0.upgradeTimeout = .seconds(2)
            $0.maxConnections = 1100
        }) { relay in
            let result = try await PythonTool.run(
                "relay_client.py",
                ["idle-sockets", "--port", String(relay.address.port), "--limit", "1000"]
            )
            #expect(result["receivedMeanwhile"]?.string == result["sentMeanwhile"]?.string)
            #expect(result["sentMeanwhile"]?.string?.count == 32)
            #expect(result["closedByRelay"]?.int == 1000)
            try await eventually("connections closed") { relay.server.statistics.openConnections == 0 }
            #expect(relay.logs.all.filter { $0.contains("upgrade not completed in time") }.count == 1000)
        }
    }
}

/// A thread-safe counter for a test's background task.
final class Counter: Sendable {
    private let count = LockedValue(0)
    func increment() { self.count.withLock { $0 += 1 } }
    var value: Int { self.count.withLock { $0 } }
}

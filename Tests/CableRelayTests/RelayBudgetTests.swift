import CableLocking
import CableProtocol
import CableTestSupport
import CableTunnel
import CableTunnelTestSupport
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import CableRelay

/// The relay's memory budget and limits under abuse, measured through its own byte counter
/// (``TunnelService/Statistics/bufferedBytes``), not RSS: the bounds are the documented ones.
@Suite(.serialized, .timeLimit(.minutes(2))) struct RelayBudgetTests {
    func receiveEnd(_ connection: TunnelConnection) async -> TunnelError? {
        do {
            while try await connection.receive() != nil {}
            return nil
        } catch {
            return error as? TunnelError
        }
    }

    func connectError(_ url: TunnelServiceURL, _ endpoint: TunnelEndpoint) async -> TunnelError? {
        do {
            let connection = try await TunnelClient.connect(
                to: url,
                endpoint: endpoint,
                timeout: generousUpgradeTimeout
            )
            await connection.close()
            return nil
        } catch {
            return error
        }
    }

    /// Pushes `message` from `sender` until its sends stop (nobody reads at the other end) while
    /// sampling the relay's buffered bytes; returns how many were sent and the largest sample.
    ///
    /// Stopped means: more than `beyond` bytes sent, then no send completed for 2 s. A pump that a
    /// loaded machine merely did not schedule for 2 s has not stalled while less than the relay may
    /// hold has gone out: the relay cannot have pushed back yet.
    func pumpUntilStalled(
        _ sender: TunnelConnection,
        _ message: [UInt8],
        beyond: Int,
        relay: RelayHarness
    ) async throws -> (sent: Int, peak: Int) {
        let sent = LockedValue(0)
        let pump = Task {
            while !Task.isCancelled {
                do { try await sender.send(message) } catch { return }
                sent.withLock { $0 += 1 }
            }
        }
        var peak = 0
        var last = -1
        var still = 0
        // At most 60 s: a debug build on a busy machine is slow.
        for _ in 0..<600 {
            try await Task.sleep(for: .milliseconds(100))
            peak = max(peak, relay.server.statistics.bufferedBytes)
            let now = sent.withLock { $0 }
            still = now == last ? still + 1 : 0
            last = now
            if still >= 20, now * message.count > beyond { break }
        }
        pump.cancel()
        #expect(still >= 20, "sends went on while nobody read")
        return (last, peak)
    }

    @Test func aStalledReaderCannotGrowTheRelayPastItsPerTunnelBound() async throws {
        try await withRelay({
            $0.maxMessageSize = 64 << 10
            $0.maxBytesPerTunnel = 1 << 30
        }) { relay in
            let bound = relay.server.configuration.bufferBoundPerDirection
            let (phone, desktop) = try await relay.pair()
            let message = randomBytes(64 << 10)
            let (sent, peak) = try await self.pumpUntilStalled(phone, message, beyond: bound, relay: relay)
            // Far more was sent than the relay may hold: the rest sits in the clients and the kernel.
            #expect(sent * message.count > bound, "only \(sent) messages sent; the test proves nothing")
            #expect(peak <= bound, "relay held \(peak) bytes for one direction; bound \(bound)")
            #expect(relay.server.statistics.bufferedBytesHighWater <= bound)
            // Reading again drains everything, in order and intact.
            for _ in 0..<sent { #expect(try await desktop.receive() == message) }
            await phone.close()
            await desktop.close()
            try await eventually("budget released") { relay.server.statistics.bufferedBytes == 0 }
        }
    }

    @Test func aTunnelKeepsWorkingWhileOthersAreAbused() async throws {
        try await withRelay({
            $0.maxMessageSize = 64 << 10
            $0.maxBytesPerTunnel = 1 << 30
        }) { relay in
            let bound = relay.server.configuration.bufferBoundPerDirection
            // Every tunnel is paired first: on two cores (slower still under a sanitizer) four pumps that
            // never wait would otherwise starve the opening of the next connection, which is not what
            // this test is about.
            let (phone, desktop) = try await relay.pair()
            var abusers: [(TunnelConnection, TunnelConnection)] = []
            for _ in 0..<4 { abusers.append(try await relay.pair()) }
            // Four tunnels whose desktops never read, their phones pushing as fast as they can.
            let message = randomBytes(64 << 10)
            let pumps = abusers.map { pair in Task { while (try? await pair.0.send(message)) != nil {} } }
            // Meanwhile the healthy tunnel does 100 round trips.
            for i in 0..<100 {
                let ping = randomBytes(1 + i * 50)
                try await desktop.send(ping)
                #expect(try await phone.receive() == ping)
                try await phone.send(ping)
                #expect(try await desktop.receive() == ping)
            }
            #expect(relay.server.statistics.bufferedBytesHighWater <= 5 * bound)
            for pump in pumps { pump.cancel() }
            for (abusivePhone, stalledDesktop) in abusers {
                await abusivePhone.close()
                await stalledDesktop.close()
            }
            await phone.close()
            await desktop.close()
            try await eventually("budget released") { relay.server.statistics.bufferedBytes == 0 }
        }
    }

    @Test func theBufferBudgetClosesTheTunnelThatWouldCrossItAndRefusesNewTunnelsWith503() async throws {
        try await withRelay({
            $0.maxMessageSize = 256 << 10
            $0.maxBufferedBytes = 512 << 10
            $0.maxHeldBytes = 480 << 10
        }) { relay in
            // Two phones whose desktops have not joined: what they send is held.
            let (hoarder, _) = try await relay.newTunnel()
            let (late, _) = try await relay.newTunnel()
            for _ in 0..<3 { try await hoarder.send(randomBytes(150 << 10)) }
            try await eventually("held") { relay.server.statistics.heldBytes == 3 * (150 << 10) }
            // Over seven eighths of the budget is in use: a new tunnel is refused with 503.
            let refused = await self.connectError(relay.url, .new(.random()))
            #expect(refused?.httpStatus == 503)
            #expect(refused?.code == .serviceUnavailable)
            #expect(relay.logs.all.contains { $0.contains("refusal=memoryBudgetExhausted") })
            // A message that would cross the budget closes its tunnel with 1008.
            try await late.send(randomBytes(100 << 10))
            let end = await self.receiveEnd(late)
            #expect(end?.closeCode == .policyViolation, "\(String(describing: end))")
            #expect(relay.server.statistics.bufferedBytes <= 512 << 10)
            // Once the hoarder is gone its bytes come back and tunnels are admitted again.
            await hoarder.close()
            await late.close()
            try await eventually("budget released") { relay.server.statistics.bufferedBytes == 0 }
            let (fresh, _) = try await relay.newTunnel()
            await fresh.close()
        }
    }

    @Test func tunnelsPerAddressBeyondTheLimitAreRefusedWith429() async throws {
        try await withRelay({ $0.maxTunnelsPerAddress = 2 }) { relay in
            let (a, _) = try await relay.newTunnel()
            let (b, _) = try await relay.newTunnel()
            let error = await self.connectError(relay.url, .new(.random()))
            #expect(error?.httpStatus == 429)
            #expect(error?.code == .httpRefused)
            #expect(relay.logs.all.contains { $0.contains("refusal=tooManyTunnelsFromAddress") })
            // Joining an existing tunnel is not a new tunnel: the desktop still gets in.
            let routing = try #require(a.routingID)
            _ = routing
            await a.close()
            try await eventually("a tunnel freed") { relay.server.statistics.tunnels == 1 }
            let (c, _) = try await relay.newTunnel()
            await b.close()
            await c.close()
        }
    }

    @Test func connectionsPerAddressBeyondTheLimitAreRefusedWith429() async throws {
        try await withRelay({ $0.maxConnectionsPerAddress = 2 }) { relay in
            let (a, _) = try await relay.newTunnel()
            let (b, _) = try await relay.newTunnel()
            let error = await self.connectError(relay.url, .new(.random()))
            // The 429 is written before the request is read, so the client may see the reset instead.
            #expect(
                error?.httpStatus == 429 || [TunnelError.Code.upgradeFailed, .connectionLost].contains(error?.code),
                "\(String(describing: error))"
            )
            #expect(relay.logs.all.contains { $0.contains("refusal=tooManyConnectionsFromAddress") })
            await a.close()
            await b.close()
            try await eventually("connections freed") { relay.server.statistics.openConnections == 0 }
            let (c, _) = try await relay.newTunnel()
            await c.close()
        }
    }

    @Test func failedAcceptsAreLoggedOncePerBurstAndTheRelayRecovers() async throws {
        try await withRelay { relay in
            let listener = try #require(relay.server.listeningChannel)
            // What the kernel answers accept() with when the process is out of descriptors.
            for _ in 0..<50 {
                listener.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
            }
            try await eventually("failures counted") { relay.server.statistics.acceptFailures == 50 }
            let lines = relay.logs.all.filter { $0.contains("accept failed") }
            #expect(lines.count == 1, "\(lines)")
            #expect(lines.first?.contains("errno=\(EMFILE)") == true)
            // After the back-off the relay accepts again and says so.
            let (phone, desktop) = try await relay.pair()
            try await phone.send([1, 2, 3])
            #expect(try await desktop.receive() == [1, 2, 3])
            #expect(relay.logs.all.contains { $0.contains("accepting connections again") && $0.contains("49") })
            await phone.close()
            await desktop.close()
        }
    }

    @Test func budgetReservationsNeverCrossTheLimit() {
        let budget = RelayMemoryBudget(limit: 1000)
        #expect(budget.reserve(600))
        #expect(!budget.reserve(401))
        #expect(budget.inUse == 600)
        #expect(budget.reserve(400))
        #expect(budget.isNearlyExhausted)
        budget.release(1000)
        #expect(budget.inUse == 0)
        #expect(budget.highWater == 1000)
        #expect(budget.refused == 1)
    }

    @Test func aBurstOfAcceptFailuresIsOneLine() {
        var log = AcceptFailureLog()
        let start = ContinuousClock.now
        #expect(log.recordFailure(now: start) == 0)
        for i in 1...9 { #expect(log.recordFailure(now: start + .milliseconds(i)) == nil) }
        #expect(log.recordSuccess() == 9)
        #expect(log.recordSuccess() == nil)
        #expect(log.recordFailure(now: start + .seconds(1)) == 0)
        #expect(log.total == 11)
    }
}

/// `cable relay` in a child process whose open-file limit is lowered: the limit is met with 503,
/// logged once per burst, and the relay serves again once connections close.
@Suite(.serialized, .timeLimit(.minutes(4))) struct RelayFileDescriptorLimitTests {
    /// The `cable` executable built beside this test bundle.
    static var cableExecutable: String? {
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidate = directory.appendingPathComponent("cable").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    /// A raw TCP connection that records what the server sends.
    final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = LockedValue<[UInt8]>([])
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Self.unwrapInboundIn(data)
            self.received.withLock { $0 += bytes.readableBytesView }
        }
    }

    @Test func theOpenFileLimitIsMetWith503AndTheRelayRecovers() async throws {
        let cable = try #require(Self.cableExecutable, "build the cable product first")
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        // Soft and hard limit 100: the relay keeps 64 descriptors for itself and serves 36 connections.
        // In a parallel run a child inherits descriptors other suites had open when it was spawned
        // (Foundation's pipes and sockets), which would count against the relay's 100. So the relay
        // runs in a subshell that closes everything but stdin, stdout and stderr first, while this
        // shell keeps its own descriptors (one is how Foundation learns the child ended: closing it
        // makes Foundation wait for the process at once, blocking every other process wait), prints
        // the relay's PID, and exits with the relay's status.
        process.arguments = [
            "-c",
            "( for fd in /proc/$BASHPID/fd/*; do fd=${fd##*/}; [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\"; done; "
                + "ulimit -n 100 && exec \"$0\" relay --port 0 --max-connections-per-address 10000 --upgrade-timeout 600 ) & "
                + "echo \"pid $!\"; wait $!",
            cable,
        ]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let child = process
        var relayPID: pid_t = 0
        defer {
            if relayPID > 0 { kill(relayPID, SIGTERM) }
            child.terminate()
        }
        let logs = PipeLines(stderr.fileHandleForReading)
        let lines = try await PipeLines(stdout.fileHandleForReading).first(2, within: .seconds(60))
        relayPID = try #require(lines.first.flatMap { pid_t($0.dropFirst("pid ".count)) })
        let text = try #require(lines.dropFirst().first)
        let port = try #require(Int((text.split(separator: ":").last ?? "").filter(\.isNumber)))
        #expect(text.hasPrefix("listening on ws://127.0.0.1:"))

        // 60 connections that never send a request: the first 36 wait for one, the rest get 503. Opened
        // at once, and the relay's upgrade timeout is long: on a loaded machine, opening them one by one
        // took longer than the default 10 s, so the first were closed before the last arrived.
        let channels = try await withThrowingTaskGroup(of: ((any Channel), Recorder).self) { group in
            for _ in 0..<60 {
                group.addTask {
                    let recorder = Recorder()
                    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(recorder)
                            }
                        }
                        .connect(host: "127.0.0.1", port: port).get()
                    return (channel, recorder)
                }
            }
            return try await group.reduce(into: [(any Channel, Recorder)]()) { $0.append($1) }
        }
        // Generous: the relay is a separate process competing with the parallel suites for two cores.
        try await eventually("refusals answered", timeout: .seconds(90)) {
            channels.filter { String(decoding: $0.1.received.withLock { $0 }, as: UTF8.self).hasPrefix("HTTP/1.1 503") }
                .count >= 20
        }
        let answered = channels.filter {
            String(decoding: $0.1.received.withLock { $0 }, as: UTF8.self).hasPrefix("HTTP/1.1 503")
        }.count
        #expect((20...24).contains(answered), "\(answered) of 60 answered 503 (36 fit)")
        let log = logs.lines.joined(separator: "\n")
        #expect(log.contains("file descriptor limit below maxConnections"))
        #expect(
            log.components(separatedBy: "refused connection at capacity").count - 1 == 1,
            "one line per burst:\n\(log)"
        )
        #expect(!log.contains("accept failed"), "the limit is met before accept() runs out of descriptors")

        // Connections close: the relay serves tunnels again.
        for (channel, _) in channels { try? await channel.close() }
        let url = try TunnelServiceURL(scheme: .ws, host: "127.0.0.1", port: port)
        var lastError: (any Error)?
        for _ in 0..<50 {
            do {
                let phone = try await TunnelClient.connect(to: url, endpoint: .new(.random()), timeout: .seconds(30))
                await phone.close()
                lastError = nil
                break
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(lastError == nil, "the relay did not recover: \(String(describing: lastError))")
        kill(relayPID, SIGTERM)
        relayPID = 0
        #expect(await child.exit(within: .seconds(60)) == 0)
    }
}

import CableRelay
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import NIOWebSocket
import Testing

@testable import CableRelayLoad

/// The load tool's arithmetic, its wire format checked against NIO's own WebSocket codec, and a
/// tiny run against both servers (the numbers themselves are machine-dependent and not asserted).
@Suite struct RelayLoadRunTests {
    @Test func percentilesAreNearestRank() {
        let samples: [UInt64] = Array(1...100)
        #expect(ThroughputResult.percentile(samples, 0.50) == 50)
        #expect(ThroughputResult.percentile(samples, 0.99) == 99)
        #expect(ThroughputResult.percentile([7], 0.99) == 7)
        #expect(ThroughputResult.percentile([], 0.5) == 0)
    }

    @Test func aStampedMessageMeasuresElapsedTime() async throws {
        var message = ByteBuffer(repeating: 0, count: 64)
        LoadWire.stamp(&message)
        try await Task.sleep(for: .milliseconds(20))
        let elapsed = LoadWire.elapsedSinceStamp(message)
        #expect(elapsed >= 20_000_000)
        #expect(elapsed < 60_000_000_000)
    }

    @Test(arguments: [0, 1, 125, 126, 1024, 65535, 65536, 200_000])
    func clientFramesDecodeWithNIOsWebSocketDecoder(size: Int) throws {
        let payload = ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var wire = ByteBuffer()
        LoadWire.writeMessage(payload, as: .webSocket, into: &wire)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try channel.writeInbound(wire)
        let frame = try #require(try channel.readInbound(as: WebSocketFrame.self))
        #expect(frame.opcode == .binary && frame.fin)
        #expect(frame.maskKey != nil, "client frames must be masked")
        #expect(frame.unmaskedData == payload)
        _ = try channel.finish()
    }

    @Test(arguments: [0, 125, 126, 70_000])
    func serverFramesFromNIOsEncoderParse(size: Int) throws {
        let payload = ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0) })
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        try channel.writeOutbound(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(bytes: [1])))
        try channel.writeOutbound(WebSocketFrame(fin: true, opcode: .binary, data: payload))
        var wire = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&part) }
        // Every split point: a partial frame is "need more", never a wrong message.
        var partial = wire.getSlice(at: wire.readerIndex, length: wire.readableBytes - 1)!
        if case .message = LoadWire.readMessage(from: &partial, as: .webSocket) {
            Issue.record("parsed a partial frame")
        }
        guard case .message(let message) = LoadWire.readMessage(from: &wire, as: .webSocket) else {
            Issue.record("no message")
            return
        }
        #expect(message == payload)
        _ = try channel.finish()
    }

    @Test func spliceFramesRoundTrip() {
        var wire = ByteBuffer()
        LoadWire.writeMessage(ByteBuffer(bytes: [1, 2, 3]), as: .splice, into: &wire)
        #expect(Array(wire.readableBytesView) == [0, 0, 0, 3, 1, 2, 3])
        guard case .message(let message) = LoadWire.readMessage(from: &wire, as: .splice) else {
            Issue.record("no message")
            return
        }
        #expect(Array(message.readableBytesView) == [1, 2, 3])
    }

    @Test func invalidPlansAreRefused() {
        var plan = RelayLoadPlan()
        plan.messageSize = 4
        #expect(throws: LoadError.self) { try plan.validate() }
        plan = RelayLoadPlan()
        plan.activeTunnelCounts = []
        #expect(throws: LoadError.self) { try plan.validate() }
        #expect(RelayLoadPlan().roundTrips(tunnels: 1000) == 50)
        #expect(RelayLoadPlan().roundTrips(tunnels: 100_000) == 10)
    }

    @Test(.timeLimit(.minutes(3))) func aSmallRunMeasuresBothServers() async throws {
        var plan = RelayLoadPlan()
        plan.idleTunnelCounts = [20]
        plan.activeTunnelCounts = [1, 4]
        plan.messagesPerScenario = 400
        let me = getpid()
        // A flood of its own: the relay and the load clients run on loops of their own (see
        // RelayOnOwnLoops.swift), and the relay waits for upgrades as long as a loaded machine needs.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { loops.shutdownGracefully { _ in } }
        var configuration = LoadServerProcess.relayConfiguration
        configuration.upgradeTimeout = .seconds(60)
        let relay = TunnelService(
            configuration: configuration,
            logger: Logger(label: "load", factory: { _ in SwiftLogNoOpLogHandler() }),
            eventLoopGroup: loops
        )
        let relayPort = try await relay.start().port
        let splice = TCPSpliceRelay(group: loops)
        let splicePort = try await splice.start(host: "127.0.0.1", port: 0)
        do {
            let relayResults = try await RelayLoadRun.measure(
                ServerUnderTest(name: "relay", wire: .webSocket, host: "127.0.0.1", port: relayPort, pid: me),
                plan: plan,
                group: loops
            )
            let spliceResults = try await RelayLoadRun.measure(
                ServerUnderTest(name: "splice", wire: .splice, host: "127.0.0.1", port: splicePort, pid: me),
                plan: plan,
                group: loops
            )
            for results in [relayResults, spliceResults] {
                #expect(results.idle.count == 1)
                #expect(results.throughput.map(\.tunnels) == [1, 4])
                for run in results.throughput {
                    #expect(run.messages == 2 * plan.roundTrips(tunnels: run.tunnels) * run.tunnels)
                    #expect(run.messagesPerSecond > 0)
                    #expect(run.p50Ns > 0 && run.p99Ns >= run.p50Ns)
                }
            }
            let report = RelayLoadReport(plan: plan, relay: relayResults, baseline: spliceResults).description
            #expect(report.contains("memory 20 idle tunnels"))
            #expect(report.contains("throughput 4 tunnels"))
            #expect(report.contains("server CPU per message"))
            // Every tunnel of the run was closed again.
            try await Task.sleep(for: .milliseconds(200))
        } catch {
            await relay.shutdown()
            await splice.stop()
            throw error
        }
        await relay.shutdown()
        await splice.stop()
    }

    @Test func processSamplesReadThisProcess() {
        let sample = ProcessSample.of(getpid())
        #expect(sample.residentBytes > 1 << 20)
        #expect(sample.cpuTicks >= 0)
        #expect(ProcessSample.ticksPerSecond > 0)
        #expect(ProcessSample.of(-1) == ProcessSample(residentBytes: 0, cpuTicks: 0))
    }
}

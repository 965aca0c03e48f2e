import CableLocking
import CableProtocol
import CableTestSupport
import CableTunnelTestSupport
import Testing

@testable import CableTunnel

/// The UDP loopback advert bus: one datagram per advert, bounded in size and in queue, and
/// interoperable with a plain UDP socket on the other end (`Python/udp_advert.py`).
@Suite(.timeLimit(.minutes(1))) struct UDPAdvertBusTests {
    /// A phone's advertising data as the bus carries it (flags, then FFF9 service data).
    static let advert = AdvertisingData.phoneAdvert(Array(0..<20)).bytes

    /// Collects `count` adverts from a stream, or what arrived within `timeout` (generous: it returns
    /// as soon as `count` are in, and a loaded two-core machine can take seconds to deliver ten).
    func collect(_ stream: AsyncStream<[UInt8]>, count: Int, timeout: Duration = .seconds(30)) async -> [[UInt8]] {
        await withTaskGroup(of: [[UInt8]]?.self) { group in
            group.addTask {
                var got: [[UInt8]] = []
                for await advert in stream {
                    got.append(advert)
                    if got.count == count { break }
                }
                return got
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? []
        }
    }

    @Test func theDefaultPortIsTheFIDOServiceUUID() {
        #expect(UDPAdvertBus.defaultPort == Int(AdvertisingData.fidoServiceUUID))
        #expect(UDPAdvertBus.maxDatagramSize == AdvertisingData.maxSize + 1)
    }

    @Test func anAdvertArrivesByteForByteAndParses() async throws {
        let listener = try await UDPAdvertListener.bind(port: 0)
        let stream = listener.adverts()
        let transmitter = try await UDPAdvertTransmitter.connect(port: listener.port)
        try await transmitter.transmit(Self.advert)
        let got = await self.collect(stream, count: 1)
        #expect(got == [Self.advert])
        #expect(try AdvertisingData(bytes: try #require(got.first)).cableAdvert == Array(0..<20))
        await transmitter.close()
        await listener.close()
    }

    /// The scoped listener: adverts arrive while the scope runs, and when it ends the socket is closed
    /// (the port can be bound again) and a subscriber's stream has ended, without a `close()` to remember.
    @Test func aScopedListenerListensForItsScopeAndEndsWithIt() async throws {
        let (stream, port) = try await withUDPAdvertListener(port: 0) { listener in
            let stream = listener.adverts()
            let probe = listener.adverts()
            let transmitter = try await UDPAdvertTransmitter.connect(port: listener.port)
            try await transmitter.transmit(Self.advert)
            await transmitter.close()
            // Delivered to every subscriber at once: once the probe has it, so has `stream`.
            #expect(await self.collect(probe, count: 1, timeout: .seconds(20)) == [Self.advert])
            return (stream, listener.port)
        }
        // Ended: the advert sent inside the scope, then the end of the stream (no wait for a timeout).
        var delivered: [[UInt8]] = []
        for await advert in stream { delivered.append(advert) }
        #expect(delivered == [Self.advert])
        let again = try await UDPAdvertListener.bind(port: port)
        await again.close()
    }

    @Test func aScopeThatThrowsStillClosesItsListener() async throws {
        struct Stop: Error {}
        let ended = LockedBox<AsyncStream<[UInt8]>?>(nil)
        await #expect(throws: Stop.self) {
            try await withUDPAdvertListener(port: 0) { listener in
                ended.set(listener.adverts())
                throw Stop()
            }
        }
        let stream = try #require(ended.get())
        for await _ in stream {}
    }

    @Test func everySubscriberGetsEveryAdvertInOrder() async throws {
        let listener = try await UDPAdvertListener.bind(port: 0)
        let first = listener.adverts()
        let second = listener.adverts()
        let transmitter = try await UDPAdvertTransmitter.connect(port: listener.port)
        let sent = (0..<10).map { [UInt8($0)] + Self.advert }
        for advert in sent { try await transmitter.transmit(advert) }
        #expect(await self.collect(first, count: 10) == sent)
        #expect(await self.collect(second, count: 10) == sent)
        await transmitter.close()
        await listener.close()
    }

    @Test func advertsOver255BytesAreNotSent() async throws {
        let transmitter = try await UDPAdvertTransmitter.connect(port: 9)
        try await transmitter.transmit(Array(repeating: 1, count: UDPAdvertBus.maxDatagramSize))
        await #expect(throws: TunnelError(.advertTooLarge, "")) {
            try await transmitter.transmit(Array(repeating: 1, count: UDPAdvertBus.maxDatagramSize + 1))
        }
        await transmitter.close()
    }

    @Test func oversizedAndEmptyDatagramsFromAStrangerAreDropped() async throws {
        let listener = try await UDPAdvertListener.bind(port: 0)
        let stream = listener.adverts()
        let oversized = String(repeating: "ab", count: 300)
        let exact = String(repeating: "cd", count: UDPAdvertBus.maxDatagramSize)
        _ = try await PythonTool.run(
            "udp_advert.py",
            ["send", "--port", String(listener.port), oversized, "", exact, Hex.lower(Self.advert)]
        )
        let got = await self.collect(stream, count: 2)
        #expect(got == [hex(exact), Self.advert])
        await listener.close()
    }

    @Test func aPlainUDPSocketReceivesWhatTheTransmitterSends() async throws {
        // Generous: the receiver ends as soon as both datagrams are in.
        let receiver = try PythonProcess(
            script: "udp_advert.py",
            arguments: ["receive", "--count", "2", "--timeout", "60"]
        )
        let port = try #require(Int(try await receiver.firstLine(withPrefix: "PORT ")))
        let transmitter = try await UDPAdvertTransmitter.connect(host: "127.0.0.1", port: port)
        try await transmitter.transmit(Self.advert)
        try await transmitter.transmit([0x02, 0x01, 0x1A])
        let result = try await receiver.result()
        #expect(result["datagrams"]?.array?.compactMap { $0.string } == [Hex.lower(Self.advert), "02011a"])
        await transmitter.close()
    }

    @Test func aSlowSubscriberKeepsOnlyTheNewestAdverts() async throws {
        let limit = 8
        let listener = try await UDPAdvertListener.bind(port: 0, queueLimit: limit)
        let slow = listener.adverts()
        let eager = listener.adverts()
        let transmitter = try await UDPAdvertTransmitter.connect(port: listener.port)
        // The eager subscriber only tells when the last advert has been delivered (on a busy
        // machine it may itself miss some in between: it has the same bounded queue).
        let lastSeen = Task {
            for await advert in eager where advert == [99] { return true }
            return false
        }
        for i in 0..<100 {
            try await transmitter.transmit([UInt8(i)])
            try await Task.sleep(for: .milliseconds(1))
        }
        let deadline = Task {
            try await Task.sleep(for: .seconds(20))
            await listener.close()
        }
        #expect(await lastSeen.value)
        deadline.cancel()
        await listener.close()
        var got: [UInt8] = []
        for await advert in slow { got += advert }
        #expect(got.count == limit)
        #expect(got.last == 99)
        #expect(got == got.sorted(), "the newest kept, in order")
        await transmitter.close()
    }

    /// Whether `stream` finishes (its iterator returns `nil`) within `timeout`, delivering nothing. A
    /// stream that is merely quiet is not finished: the timeout says `false`.
    func finishesEmpty(_ stream: AsyncStream<[UInt8]>, within timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                for await _ in stream { return false }  // an advert: not an empty, finished stream
                return true  // the iterator returned nil: finished
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? false
        }
    }

    @Test func closingTheListenerEndsTheStream() async throws {
        let listener = try await UDPAdvertListener.bind(port: 0)
        let stream = listener.adverts()
        await listener.close()
        await listener.close()
        #expect(await self.finishesEmpty(stream, within: .seconds(10)))
    }

    /// The checker above is not vacuous: an open listener's stream does not finish.
    @Test func anOpenListenersStreamDoesNotFinish() async throws {
        let listener = try await UDPAdvertListener.bind(port: 0)
        let stream = listener.adverts()
        #expect(await !self.finishesEmpty(stream, within: .milliseconds(300)))
        await listener.close()
    }

    @Test func aPortAnotherListenerHoldsIsABindError() async throws {
        let listener = try await UDPAdvertListener.bind(port: 0)
        await #expect(throws: TunnelError(.bindFailed, "")) {
            _ = try await UDPAdvertListener.bind(port: listener.port)
        }
        await listener.close()
    }

    @Test func nobodyListeningIsNotAnError() async throws {
        let probe = try await UDPAdvertListener.bind(port: 0)
        let port = probe.port
        await probe.close()
        let transmitter = try await UDPAdvertTransmitter.connect(port: port)
        for _ in 0..<5 { try await transmitter.transmit(Self.advert) }
        await transmitter.close()
    }
}

/// A value handed out of a scope in a test.
private final class LockedBox<Value: Sendable>: Sendable {
    private let value: CableLocking.LockedValue<Value>
    init(_ value: Value) { self.value = CableLocking.LockedValue(value) }
    func set(_ new: Value) { self.value.withLock { $0 = new } }
    func get() -> Value { self.value.withLock { $0 } }
}

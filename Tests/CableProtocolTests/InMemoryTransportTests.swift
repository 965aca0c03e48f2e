import CableProtocol
import Testing

@Suite struct InMemoryTransportTests {
    @Test func messagesArriveWholeAndInOrderThenNilAfterClose() async throws {
        let (a, b) = InMemoryMessageChannel.makePair()
        for i in 0..<100 { try await a.send([UInt8(i), 1, 2]) }
        for i in 0..<100 { #expect(try await b.receive() == [UInt8(i), 1, 2]) }
        await a.close()
        #expect(try await b.receive() == nil)
        await #expect(throws: CableProtocolError.self) { try await b.send([1]) }
    }

    @Test func busDeliversToEverySubscriber() async throws {
        let bus = InProcessAdvertBus()
        let s1 = bus.adverts()
        let s2 = bus.adverts()
        try await bus.transmit([1, 2, 3])
        bus.close()
        var i1 = s1.makeAsyncIterator()
        var i2 = s2.makeAsyncIterator()
        #expect(await i1.next() == [1, 2, 3])
        #expect(await i2.next() == [1, 2, 3])
        #expect(await i1.next() == nil)
    }
}

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

    /// The default `send(contentsOf:)`: one `send` after another, so a batch arrives as its messages
    /// in order, and a closed channel refuses it as it refuses one message.
    @Test func aBatchArrivesAsItsMessagesInOrder() async throws {
        let (a, b) = InMemoryMessageChannel.makePair()
        try await a.send(contentsOf: [[1], [], [2, 3]])
        try await a.send(contentsOf: [])
        try await a.send([4])
        for expected: [UInt8] in [[1], [], [2, 3], [4]] { #expect(try await b.receive() == expected) }
        await b.close()
        await #expect(throws: CableProtocolError.self) { try await a.send(contentsOf: [[5]]) }
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

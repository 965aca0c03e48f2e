import Testing

@testable import CableTunnel

/// Reassembly of fragmented messages (RFC 6455 §5.4) and the relay's refusal rules.
@Suite struct WebSocketMessageAssemblerTests {
    typealias Assembler = WebSocketMessageAssembler<[UInt8]>

    func message(_ outcome: Assembler.Outcome) -> [UInt8]? {
        if case .message(let m) = outcome { return m }
        return nil
    }

    func refusal(_ outcome: Assembler.Outcome) -> WebSocketCloseCode? {
        if case .refuse(let r) = outcome { return r.code }
        return nil
    }

    @Test func anUnfragmentedBinaryFrameIsAMessage() {
        var a = Assembler(maxMessageSize: 10, maxFragments: 4)
        #expect(self.message(a.consume(opcode: .binary, fin: true, payload: [1, 2, 3])) == [1, 2, 3])
        #expect(!a.isAssembling)
    }

    @Test func anEmptyBinaryMessageIsAMessage() {
        var a = Assembler(maxMessageSize: 10, maxFragments: 4)
        #expect(self.message(a.consume(opcode: .binary, fin: true, payload: [])) == [])
    }

    @Test func fragmentsAreJoinedInOrder() {
        var a = Assembler(maxMessageSize: 10, maxFragments: 4)
        guard case .needMore = a.consume(opcode: .binary, fin: false, payload: [1, 2]) else {
            Issue.record("first fragment completed a message")
            return
        }
        guard case .needMore = a.consume(opcode: .continuation, fin: false, payload: []) else {
            Issue.record("empty middle fragment completed a message")
            return
        }
        #expect(self.message(a.consume(opcode: .continuation, fin: true, payload: [3])) == [1, 2, 3])
        // Ready for the next message.
        #expect(self.message(a.consume(opcode: .binary, fin: true, payload: [4])) == [4])
    }

    @Test func aMessageExactlyAtTheLimitPasses() {
        var a = Assembler(maxMessageSize: 4, maxFragments: 4)
        _ = a.consume(opcode: .binary, fin: false, payload: [1, 2])
        #expect(self.message(a.consume(opcode: .continuation, fin: true, payload: [3, 4])) == [1, 2, 3, 4])
    }

    @Test func aSingleFrameOverTheLimitIs1009() {
        var a = Assembler(maxMessageSize: 4, maxFragments: 4)
        #expect(self.refusal(a.consume(opcode: .binary, fin: true, payload: [1, 2, 3, 4, 5])) == .messageTooBig)
    }

    @Test func fragmentsAddingUpOverTheLimitAre1009() {
        var a = Assembler(maxMessageSize: 4, maxFragments: 4)
        _ = a.consume(opcode: .binary, fin: false, payload: [1, 2, 3])
        #expect(self.refusal(a.consume(opcode: .continuation, fin: false, payload: [4, 5])) == .messageTooBig)
        #expect(!a.isAssembling, "a refused message frees its buffer")
    }

    @Test func tooManyFragmentsAre1008() {
        var a = Assembler(maxMessageSize: 100, maxFragments: 3)
        _ = a.consume(opcode: .binary, fin: false, payload: [1])
        _ = a.consume(opcode: .continuation, fin: false, payload: [1])
        _ = a.consume(opcode: .continuation, fin: false, payload: [1])
        #expect(self.refusal(a.consume(opcode: .continuation, fin: true, payload: [1])) == .policyViolation)
    }

    @Test func textIs1003WhetherWholeOrFragmented() {
        var a = Assembler(maxMessageSize: 10, maxFragments: 4)
        #expect(self.refusal(a.consume(opcode: .text, fin: true, payload: Array("hi".utf8))) == .unsupportedData)
        var b = Assembler(maxMessageSize: 10, maxFragments: 4)
        #expect(self.refusal(b.consume(opcode: .text, fin: false, payload: Array("h".utf8))) == .unsupportedData)
    }

    @Test func aContinuationWithoutAStartIs1002() {
        var a = Assembler(maxMessageSize: 10, maxFragments: 4)
        #expect(self.refusal(a.consume(opcode: .continuation, fin: true, payload: [1])) == .protocolError)
    }

    @Test func aNewMessageInsideAFragmentedOneIs1002() {
        var a = Assembler(maxMessageSize: 10, maxFragments: 4)
        _ = a.consume(opcode: .binary, fin: false, payload: [1])
        #expect(self.refusal(a.consume(opcode: .binary, fin: true, payload: [2])) == .protocolError)
    }

    @Test func randomFragmentationAlwaysReassemblesTheSameBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let whole = (0..<Int.random(in: 0...300, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            var a = Assembler(maxMessageSize: 300, maxFragments: 400)
            var rest = whole[...]
            var first = true
            var result: [UInt8]?
            repeat {
                let take = Int.random(in: 0...max(0, rest.count), using: &generator)
                let piece = Array(rest.prefix(take))
                rest = rest.dropFirst(take)
                let outcome = a.consume(opcode: first ? .binary : .continuation, fin: rest.isEmpty, payload: piece)
                first = false
                result = self.message(outcome)
            } while !rest.isEmpty
            #expect(result == whole)
        }
    }
}

/// The ping budget: answer keep-alives, stop floods.
@Suite struct PingBudgetTests {
    @Test func pingsWithinTheWindowLimitAreAdmittedAndTheNextIsNot() {
        let t0 = ContinuousClock.now
        var budget = PingBudget(limit: 3, window: .seconds(10))
        let admitted = (0...3).map { budget.admit(now: t0 + .seconds($0)) }
        #expect(admitted == [true, true, true, false])
    }

    @Test func aNewWindowStartsAfresh() {
        let t0 = ContinuousClock.now
        var budget = PingBudget(limit: 1, window: .seconds(10))
        let admitted = [0, 10, 11].map { budget.admit(now: t0 + .seconds($0)) }
        #expect(admitted == [true, true, false])
    }
}

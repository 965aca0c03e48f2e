import CableTestSupport
import Testing

/// The advert-bus ports the process tests hand to `cable`.
@Suite struct LoopbackUDPPortTests {
    /// Four ceremonies started together once drew the same port, and the second desktop's bind failed.
    /// 300 random draws from 12,768 ports repeat a number with probability ~97 % unless repeats are refused.
    @Test func noPortIsHandedOutTwiceAndEveryPortIsBelowTheEphemeralRange() throws {
        let ports = try (0..<300).map { _ in try unsharedLoopbackUDPPort() }
        #expect(Set(ports).count == ports.count)
        #expect(ports.allSatisfy { (20000..<32768).contains($0) })
    }
}

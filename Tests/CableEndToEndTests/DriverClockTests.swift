import CableAuthenticator
import CableDesktop
import CableProtocol
import CableTestSupport
import Testing

/// No fixed sleep or polling interval sits on a transaction's path (BENCHMARKS.md, issue 14 part 4:
/// a suspect for the loopback ceremony's time that this rules out).
@Suite(.timeLimit(.minutes(1))) struct DriverClockTests {
    /// With the drivers' clock never moving and the phone's re-send interval an hour, a transaction
    /// still completes (the first advert goes out at once, and nothing waits on the clock). A driver
    /// that slept first would never finish; the real-time deadline turns that into a failure instead
    /// of a hang.
    @Test func aTransactionWaitsOnNoTimerOfTheDriversClock() async throws {
        let clock = ManualClock()
        let bus = InProcessAdvertBus()
        let service = InMemoryTunnelService()
        let desktop = HybridDesktop(scanner: bus, connector: service, timeouts: .all(.seconds(10)), clock: clock)
        let phone = HybridPhone(connector: service, transmitter: bus, advertInterval: .seconds(3600), clock: clock)
        let handler = FixedReplyHandler(reply: [0x2E])
        let response = try await withDeadline(
            .seconds(30),
            clock: ContinuousClock(),
            timeoutError: CableProtocolError(.channelClosed, "the transaction waited on the manual clock")
        ) {
            try await withQRCodeScanner({ url in _ = try await phone.run(url: url, handler: handler) }) { onEvent in
                try await desktop.transact(
                    request: [0x02, 0xA0],
                    requestType: .getAssertion,
                    timestamp: 0,
                    onEvent: onEvent
                )
            }.response
        }
        #expect(response == [0x2E])
        #expect(clock.now.offset == .zero)
    }
}

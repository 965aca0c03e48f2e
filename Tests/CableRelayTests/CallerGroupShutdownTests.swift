import CableAuthenticator
import CableDesktop
import CableLocking
import CableProtocol
import CableTestSupport
import CableTunnelTestSupport
import NIOPosix
import Testing

@testable import CableTunnel

/// A caller that passes its own event loop group and shuts it down while a connection is in use:
/// whatever was waiting ends with a typed error and `close()` returns. Before, `close()` awaited the
/// channel's close future from off the loop, which after the shutdown never completes, so the phone's
/// driver hung in its close. Every wait here is bounded: a hang fails the test.
@Suite(.timeLimit(.minutes(3))) struct CallerGroupShutdownTests {
    /// Runs `body` in a task of its own and waits (bounded) for it to finish: a body that never ends
    /// fails the test instead of hanging the run (its task is left behind). Whether it finished.
    func finishes(
        _ what: String,
        within timeout: Duration = .seconds(60),
        _ body: @escaping @Sendable () async -> Void
    ) async throws -> Bool {
        let finished = LockedValue(false)
        Task {
            await body()
            finished.withLock { $0 = true }
        }
        try await eventually(what, timeout: timeout) { finished.withLock { $0 } }
        return finished.withLock { $0 }
    }

    /// A receive pending when the group shuts down ends with `connectionLost`; closing both
    /// connections afterwards returns, and a send then throws instead of waiting for a loop that is gone.
    @Test func shuttingDownACallersGroupEndsAPendingReceive() async throws {
        try await withRelay { (relay) async throws in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let connect: @Sendable (TunnelEndpoint) async throws -> TunnelConnection = { endpoint in
                try await TunnelClient.connect(
                    to: relay.url,
                    endpoint: endpoint,
                    timeout: generousUpgradeTimeout,
                    eventLoopGroup: group
                )
            }
            let tunnel = TunnelID.random()
            let phone = try await connect(.new(tunnel))
            let desktop = try await connect(.connect(try #require(phone.routingID), tunnel))
            let outcome = LockedValue<Result<[UInt8]?, any Error>?>(nil)
            let receiving = Task {
                let result: Result<[UInt8]?, any Error>
                do {
                    result = .success(try await phone.receive())
                } catch {
                    result = .failure(error)
                }
                outcome.withLock { $0 = result }
            }
            try await eventually("the receive is pending") { phone.isReceiving }
            try await group.shutdownGracefully()
            guard try await self.finishes("the pending receive ended", { await receiving.value }) else { return }
            switch try #require(outcome.withLock { $0 }) {
            case .success(let message):
                Issue.record("the receive returned \(String(describing: message)) after its loop shut down")
            case .failure(let error):
                let tunnelError = try #require(error as? TunnelError, "\(error)")
                #expect(tunnelError.code == .connectionLost, "\(tunnelError)")
            }
            _ = try await self.finishes("both connections closed") {
                await desktop.close()
                await phone.close()
            }
            await #expect(throws: TunnelError.self) { try await phone.send([1]) }
        }
    }

    /// The same through the phone's driver: its group shut down while it waits for the handshake, the
    /// phone ends with a typed error (`tunnelFailed` at `awaitHandshake`) instead of waiting forever.
    @Test func shuttingDownACallersGroupEndsThePhone() async throws {
        try await withRelay { (relay) async throws in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let connector = WebSocketTunnelConnector(
                fixedService: relay.url,
                timeout: generousUpgradeTimeout,
                eventLoopGroup: group
            )
            // The desktop scans another bus: it never sees the advert, so the phone waits for a handshake.
            let desktop = HybridDesktop(
                scanner: InProcessAdvertBus(),
                connector: connector,
                timeouts: .all(.seconds(60))
            )
            let phone = HybridPhone(
                connector: connector,
                transmitter: InProcessAdvertBus(),
                advertInterval: .milliseconds(20),
                timeouts: PhoneTimeouts(registerTunnel: .seconds(60), handshake: .seconds(60), idle: .seconds(60))
            )
            let advertising = LockedValue(false)
            let phoneEnd = LockedValue<(any Error)?>(nil)
            let ceremony = Task {
                _ = try? await withQRCodeScanner({ url in
                    do {
                        _ = try await phone.run(url: url, handler: FixedReply()) { event in
                            if event == .advertising { advertising.withLock { $0 = true } }
                        }
                    } catch {
                        phoneEnd.withLock { $0 = error }
                        throw error
                    }
                }) { onEvent in
                    try await desktop.transact(
                        request: [0x02, 0xA0],
                        requestType: .getAssertion,
                        timestamp: 0,
                        onEvent: onEvent
                    )
                }
            }
            try await eventually("the phone advertises") { advertising.withLock { $0 } }
            try await group.shutdownGracefully()
            guard try await self.finishes("the phone and the ceremony ended", { await ceremony.value }) else { return }
            let error = try #require(
                phoneEnd.withLock { $0 } as? PhoneError,
                "\(String(describing: phoneEnd.withLock { $0 }))"
            )
            #expect(error.code == .tunnelFailed, "\(error)")
            #expect(error.step == .awaitHandshake, "\(error)")
            #expect(error.underlying is TunnelError, "\(error)")
        }
    }

    /// The app's side of the phone: never asked here (no handshake arrives).
    struct FixedReply: CTAPRequestHandler {
        let getInfoResponse: [UInt8] = [0xA1, 0x01, 0x81, 0x68] + Array("FIDO_2_0".utf8)
        func handle(_ request: [UInt8]) async -> [UInt8] { [0x2E] }
    }
}

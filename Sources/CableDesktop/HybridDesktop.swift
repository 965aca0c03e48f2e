internal import CableCrypto
public import CableProtocol
import Logging

/// Timeouts for each wait of a desktop transaction.
public struct DesktopTimeouts: Sendable, Hashable {
    /// Until the phone's advert is seen (the user must scan the QR code first).
    public var advert: Duration
    /// To connect to the tunnel service.
    public var connect: Duration
    /// For the handshake response.
    public var handshake: Duration
    /// For the post-handshake message.
    public var postHandshake: Duration
    /// For the reply to the request (includes the user's decision on the phone).
    public var response: Duration

    public init(
        advert: Duration = .seconds(120),
        connect: Duration = .seconds(10),
        handshake: Duration = .seconds(10),
        postHandshake: Duration = .seconds(10),
        response: Duration = .seconds(120)
    ) {
        self.advert = advert
        self.connect = connect
        self.handshake = handshake
        self.postHandshake = postHandshake
        self.response = response
    }

    /// Every wait bounded by the same overall budget (the CLI's `--timeout`).
    public static func all(_ d: Duration) -> DesktopTimeouts {
        DesktopTimeouts(
            advert: d,
            connect: min(d, .seconds(10)),
            handshake: min(d, .seconds(10)),
            postHandshake: min(d, .seconds(10)),
            response: d
        )
    }
}

/// Progress of a desktop transaction, for status lines and step timings. Carries no secrets.
public enum DesktopEvent: Sendable, Equatable {
    /// The QR code to show now (the `FIDO:/…` URL).
    case qrCode(url: String)
    /// The phone's advert was received and decrypted.
    case advertReceived(domainID: TunnelServiceDomainID, routingID: RoutingID)
    /// The tunnel to the phone is open.
    case tunnelConnected
    /// The Noise handshake finished.
    case handshakeComplete
    /// The post-handshake message arrived (protocol revision).
    case postHandshakeReceived(revision: ProtocolRevision)
    /// The CTAP request was sent.
    case requestSent
    /// The CTAP reply arrived.
    case responseReceived
}

/// What a desktop transaction produced.
public struct DesktopTransactionResult: Sendable {
    /// The phone's authenticatorGetInfo (from the post-handshake message).
    public let getInfo: [UInt8]?
    /// The reply `[status][CBOR]`.
    public let response: [UInt8]
    /// Protocol revision the phone speaks.
    public let revision: ProtocolRevision
}

/// The desktop (client platform) driver: shows a QR code, waits for the phone's advert, meets it
/// through the tunnel service, runs the handshake, sends one CTAP2 request and returns the reply.
/// All protocol decisions are in ``DesktopSession``; this type only waits, sends and times out.
public struct HybridDesktop: Sendable {
    private let scanner: any AdvertScanner
    private let connector: any TunnelConnector
    private let timeouts: DesktopTimeouts
    private let clock: any Clock<Duration>
    private let logger: Logger
    /// Deliberate mistakes for the conformance kit's mutation tests (none by default).
    package var faults = DesktopFaults()

    /// - Parameters:
    ///   - scanner: where adverts arrive (a radio, the UDP bus, an in-process bus).
    ///   - connector: how to reach the tunnel service the phone names.
    ///   - timeouts: how long each wait may take.
    ///   - clock: what the timeouts are measured on (tests pass one they move by hand).
    ///   - logger: where the driver logs (at debug level; never secrets).
    public init(
        scanner: any AdvertScanner,
        connector: any TunnelConnector,
        timeouts: DesktopTimeouts = DesktopTimeouts(),
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "cable.desktop")
    ) {
        self.scanner = scanner
        self.connector = connector
        self.timeouts = timeouts
        self.clock = clock
        self.logger = logger
    }

    /// Runs one transaction with a fresh QR key.
    ///
    /// - Parameters:
    ///   - request: `[command][CBOR]`, e.g. `[0x01] + makeCredential`. `[0x04]` (getInfo) is answered
    ///     locally from the post-handshake message, as Chromium does.
    ///   - timestamp: UNIX seconds for the QR code.
    ///   - onEvent: progress, called on the driver's task.
    ///   - requestType: the hint the QR code carries (key 5).
    public func transact(
        request: [UInt8],
        requestType: RequestTypeHint,
        timestamp: Int64,
        onEvent: @escaping @Sendable (DesktopEvent) -> Void = { _ in }
    ) async throws -> DesktopTransactionResult {
        var rng = SecureRandomNumberGenerator()
        let key: QRGeneratorKey
        do { key = try QRGeneratorKey.random(using: &rng) } catch {
            throw DesktopError(.protocolViolation, step: .advert, "could not make a QR key", underlying: error)
        }
        var session = try DesktopSession(key: key, requestType: requestType, timestamp: timestamp)
        session.faults = self.faults  // fault seam
        // Subscribe before showing the code so no advert is missed.
        let adverts = self.scanner.adverts()
        onEvent(.qrCode(url: self.faults.qrURL(session.qrPayload)))  // fault seam: session.qrPayload.url

        // The scanning task holds only the matcher (no crypter); the match it returns is accepted as is,
        // so each advert is decrypted once.
        let matcher = session.advertMatcher
        let faults = self.faults
        let match = try await withDeadline(
            self.timeouts.advert,
            clock: self.clock,
            timeoutError: DesktopError(.timeout, step: .advert, "no advert decrypted with this QR code's key")
        ) { () -> DesktopSession.AdvertMatch in
            for await data in adverts {
                // fault seam: faults.scans
                if let match = matcher.match(advertisingData: data), faults.scans(data) { return match }
            }
            // A cancelled ceremony ends the stream too: that is cancellation, not a stopped scanner.
            try Task.checkCancellation()
            throw DesktopError(.closedByPeer, step: .advert, "the advert scanner stopped")
        }
        session.acceptAdvert(match)
        onEvent(.advertReceived(domainID: match.domainID, routingID: match.plaintext.routingID))
        self.logger.debug(
            "advert matched",
            metadata: ["domain": "\(match.domainID)", "routingID": "\(match.plaintext.routingID)"]
        )

        let connector = self.connector
        let endpoint = self.faults.endpoint(match.endpoint)  // fault seam: match.endpoint
        let tunnel: ConnectedTunnel
        do {
            tunnel = try await withDeadline(
                self.timeouts.connect,
                clock: self.clock,
                timeoutError: DesktopError(.timeout, step: .connect, "the tunnel service did not answer")
            ) { try await connector.connect(to: endpoint, domainID: match.domainID) }
        } catch let e as DesktopError {
            throw e
        } catch {
            try Task.checkCancellation()
            throw DesktopError(.tunnelFailed, step: .connect, "", underlying: error)
        }
        let channel = tunnel.channel
        onEvent(.tunnelConnected)
        do {
            let result = try await self.converse(
                session: &session,
                channel: channel,
                request: request,
                onEvent: onEvent
            )
            await channel.close()
            return result
        } catch {
            await self.faults.lingerAfterError()  // fault seam
            await channel.close()
            throw error
        }
    }

    private func converse(
        session: inout DesktopSession,
        channel: any MessageChannel,
        request: [UInt8],
        onEvent: @Sendable (DesktopEvent) -> Void
    ) async throws -> DesktopTransactionResult {
        try await self.send(
            try self.checked { () throws(DesktopError) in try session.makeHandshakeMessage() },
            on: channel,
            step: .handshake
        )
        let response = try await self.receive(on: channel, step: .handshake, within: self.timeouts.handshake)
        _ = try self.checked { () throws(DesktopError) in try session.receive(response) }
        onEvent(.handshakeComplete)

        let postMessage = try await self.receive(on: channel, step: .postHandshake, within: self.timeouts.postHandshake)
        let post = try self.checked { () throws(DesktopError) in try session.receive(postMessage)
        }
        guard case .postHandshake(let getInfo, let revision, _) = post else {
            preconditionFailure("the first frame after the handshake is the post-handshake message")
        }
        onEvent(.postHandshakeReceived(revision: revision))

        let reply: [UInt8]
        if request == [0x04] {
            // getInfo is answered locally from the post-handshake message (Chromium, libwebauthn).
            reply = [0x00] + (getInfo ?? [])
        } else {
            let frame = try self.checked { () throws(DesktopError) in try session.sendCTAP(request) }
            try await self.send(frame, on: channel, step: .response)
            onEvent(.requestSent)
            var got: [UInt8]? = nil
            while got == nil {
                let message = try await self.receive(on: channel, step: .response, within: self.timeouts.response)
                switch try self.checked({ () throws(DesktopError) in try session.receive(message) }) {
                case .ctapResponse(let r): got = r
                case .update, .none, .handshakeComplete, .postHandshake: continue
                }
            }
            reply = got ?? []
        }
        onEvent(.responseReceived)
        if let shutdown = try? session.shutdown(), !self.faults.has(.omitsShutdown) {  // fault seam
            try? await channel.send(shutdown)
        }
        return DesktopTransactionResult(getInfo: getInfo, response: reply, revision: revision)
    }

    /// Runs a session transition, logging the rule that broke (the session's error names the step).
    private func checked<T>(_ body: () throws(DesktopError) -> T) throws(DesktopError) -> T {
        do { return try body() } catch {
            // The embedder's Logger decides what is shown; the error itself goes to the caller.
            let code = error.protocolError.map { "\($0.code)" } ?? error.code.rawValue
            self.logger.debug("protocol error", metadata: ["step": "\(error.step.rawValue)", "code": "\(code)"])
            throw error
        }
    }

    private func send(_ message: [UInt8], on channel: any MessageChannel, step: DesktopStep) async throws {
        try await channel.send(message, step: step, failure: DesktopError.self)
    }

    private func receive(on channel: any MessageChannel, step: DesktopStep, within: Duration) async throws -> [UInt8] {
        try await channel.receive(step: step, within: within, clock: self.clock, failure: DesktopError.self)
    }
}

extension DesktopError: ChannelFailure {
    package static func timedOut(at step: DesktopStep, after duration: Duration) -> DesktopError {
        DesktopError(.timeout, step: step, "nothing arrived within \(duration)")
    }

    package static func closedByPeer(at step: DesktopStep) -> DesktopError {
        DesktopError(.closedByPeer, step: step, "")
    }

    package static func channelFailed(at step: DesktopStep, sending: Bool, cause: any Error) -> DesktopError {
        DesktopError(.tunnelFailed, step: step, sending ? "sending failed" : "receiving failed", underlying: cause)
    }
}

/// Runs a desktop `ceremony` while `scanner` acts on the QR code it shows: the glue between a desktop
/// and a phone in one process (the demo, the embedding example, benchmarks, tests).
///
/// `scanner` is called once, with the `FIDO:/` URL of the first ``DesktopEvent/qrCode(url:)`` event,
/// e.g. `{ url in _ = try await phone.run(url: url, handler: authenticator) }`; every event also goes
/// to `onEvent` (to show the code or time the steps). Both run as child tasks: the call returns the
/// ceremony's result once both have finished, and the first error from either cancels the other and is
/// thrown. If the ceremony fails before it shows a code, the scanner never runs.
///
/// It lives with the desktop role because it speaks in desktop events; the scanner is any closure, so
/// this library needs no phone.
public func withQRCodeScanner<T: Sendable>(
    _ scanner: @escaping @Sendable (_ url: String) async throws -> Void,
    onEvent: @escaping @Sendable (DesktopEvent) -> Void = { _ in },
    ceremony: @escaping @Sendable (_ onEvent: @escaping @Sendable (DesktopEvent) -> Void) async throws -> T
) async throws -> T {
    let (urls, shown) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1))
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            defer { shown.finish() }  // no code shown: the scanner's wait ends
            return try await ceremony { event in
                onEvent(event)
                if case .qrCode(let url) = event {
                    shown.yield(url)
                    shown.finish()
                }
            }
        }
        group.addTask {
            for await url in urls {
                try await scanner(url)
                break
            }
            return nil
        }
        var result: T?
        do {
            while let value = try await group.next() {
                if let value { result = value }
            }
        } catch {
            group.cancelAll()
            throw error
        }
        guard let result else { preconditionFailure("the ceremony task returns a value or throws") }
        return result
    }
}

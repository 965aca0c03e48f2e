internal import CableCrypto
public import CableProtocol
import Logging

/// Progress of a phone transaction. Carries no secrets.
public enum PhoneEvent: Sendable, Equatable {
    /// The QR code was read and validated.
    case scanned(requestType: RequestTypeHint)
    /// The tunnel is registered; the service assigned this routing ID.
    case tunnelRegistered(routingID: RoutingID)
    /// The advert is being broadcast (repeated every interval).
    case advertising
    /// The desktop's handshake arrived and was answered.
    case handshakeComplete
    /// A CTAP request arrived (its command byte) and was answered with this status.
    case requestAnswered(command: UInt8, status: UInt8)
    /// The desktop ended the transaction.
    case finished
}

/// Timeouts of the phone's waits.
public struct PhoneTimeouts: Sendable, Hashable {
    /// Registering the tunnel with the tunnel service.
    public var registerTunnel: Duration
    /// Until the desktop's handshake arrives (it must first see the advert).
    public var handshake: Duration
    /// Between frames once connected (the desktop's next request or shutdown).
    public var idle: Duration

    public init(
        registerTunnel: Duration = .seconds(10),
        handshake: Duration = .seconds(60),
        idle: Duration = .seconds(120)
    ) {
        self.registerTunnel = registerTunnel
        self.handshake = handshake
        self.idle = idle
    }
}

/// What the phone answers CTAP2 requests with: the authenticator model (or a real platform API).
public protocol CTAPRequestHandler: Sendable {
    /// The CBOR authenticatorGetInfo response, for the post-handshake message.
    var getInfoResponse: [UInt8] { get }
    /// Answers `[command][CBOR]` with `[status][CBOR]`. Never throws: failures are CTAP statuses.
    func handle(_ request: [UInt8]) async -> [UInt8]
}

/// The phone driver: acts on a scanned `FIDO:/…` URL — registers a tunnel, broadcasts the advert every
/// 250 ms until the desktop's handshake arrives, answers it, sends the post-handshake and update
/// messages, and serves CTAP requests until the desktop shuts the transaction down.
public struct HybridPhone: Sendable {
    private let connector: any TunnelConnector
    private let transmitter: any AdvertTransmitter
    private let advertInterval: Duration
    private let timeouts: PhoneTimeouts
    private let clock: any Clock<Duration>
    private let logger: Logger
    /// A fault injected for the conformance kit's mutation tests (PhoneFaults.swift); `nil` in use.
    package var faults: PhoneFaults? = nil

    /// - Parameters:
    ///   - connector: opens the tunnel at the tunnel service (`/cable/new/…`).
    ///   - transmitter: sends the encrypted advert (a radio, or the UDP advert bus on loopback).
    ///   - advertInterval: how often the advert is sent until the desktop's handshake arrives.
    ///   - timeouts: the deadline of each wait.
    ///   - clock: what the timeouts and the advert interval are measured on (tests pass one
    ///     they move by hand).
    ///   - logger: where the driver's steps go (below info; never keys or plaintext).
    public init(
        connector: any TunnelConnector,
        transmitter: any AdvertTransmitter,
        advertInterval: Duration = .milliseconds(250),
        timeouts: PhoneTimeouts = PhoneTimeouts(),
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "cable.phone")
    ) {
        self.connector = connector
        self.transmitter = transmitter
        self.advertInterval = advertInterval
        self.timeouts = timeouts
        self.clock = clock
        self.logger = logger
    }

    /// Runs one transaction. Returns when the desktop has shut it down (or closed after a reply).
    ///
    /// - Parameters:
    ///   - domainID: the tunnel-server domain this phone names in its advert.
    ///   - url: the scanned `FIDO:/…` text.
    ///   - handler: what answers the desktop's CTAP2 requests.
    ///   - onEvent: progress, for status lines (no secrets).
    /// - Returns: the number of requests answered.
    @discardableResult
    public func run(
        url: String,
        domainID: TunnelServiceDomainID = .google,
        handler: any CTAPRequestHandler,
        onEvent: @escaping @Sendable (PhoneEvent) -> Void = { _ in }
    ) async throws -> Int {
        let payload: QRCodePayload
        do { payload = try QRCodePayload(url: url) } catch {
            throw PhoneError(.invalidQRCode, step: .scan, "", underlying: error)
        }
        try self.faults?.scanned(url: url, payload: payload)
        onEvent(.scanned(requestType: payload.requestType))
        var session = PhoneSession(
            payload: payload,
            getInfo: handler.getInfoResponse,
            ephemeral: self.faults?.ephemeral
        )

        let connector = self.faults?.connector(wrapping: self.connector) ?? self.connector
        let endpoint = session.newTunnelEndpoint
        let tunnel: ConnectedTunnel
        do {
            tunnel = try await withDeadline(
                self.timeouts.registerTunnel,
                clock: self.clock,
                timeoutError: PhoneError(.timeout, step: .registerTunnel, "the tunnel service did not answer")
            ) { try await connector.connect(to: endpoint, domainID: domainID) }
        } catch let e as PhoneError {
            throw e
        } catch {
            try Task.checkCancellation()
            throw PhoneError(.tunnelFailed, step: .registerTunnel, "", underlying: error)
        }
        let channel = tunnel.channel
        guard let routingID = tunnel.routingID else {
            await channel.close()
            throw PhoneError(.tunnelFailed, step: .registerTunnel, "the tunnel service returned no routing ID")
        }
        onEvent(.tunnelRegistered(routingID: routingID))
        do {
            let count = try await self.serve(
                session: &session,
                channel: channel,
                routingID: routingID,
                domainID: domainID,
                handler: handler,
                onEvent: onEvent
            )
            await channel.close()
            return count
        } catch {
            await channel.close()
            throw error
        }
    }

    private func serve(
        session: inout PhoneSession,
        channel: any MessageChannel,
        routingID: RoutingID,
        domainID: TunnelServiceDomainID,
        handler: any CTAPRequestHandler,
        onEvent: @escaping @Sendable (PhoneEvent) -> Void
    ) async throws -> Int {
        let nonce = SecureRandom.bytes(count: CableConstants.eidNonceSize)
        let advertisingData = try session.tunnelOpened(routingID: routingID, domainID: domainID, nonce: nonce)
        // Advertise until the handshake arrives, as a phone keeps advertising until connected. The advert
        // loop is cancelled when this wait ends, whatever ends it, and is not waited for: its sleep ends
        // on cancellation (a transmission under way may finish). The wait itself runs in this task, so
        // the handshake reaches the session without a hop through a child task.
        let transmitter = self.faults?.transmitter(wrapping: self.transmitter) ?? self.transmitter
        let interval = self.advertInterval
        let logger = self.logger
        let clock = self.clock
        onEvent(.advertising)
        let adverts = Task {
            while !Task.isCancelled {
                do { try await transmitter.transmit(advertisingData) } catch {
                    logger.debug("advert transmission failed", metadata: ["error": "\(error)"])
                }
                try? await clock.sleep(for: interval)
            }
        }
        let handshake: [UInt8]
        do {
            defer { adverts.cancel() }
            handshake = try await self.receive(on: channel, step: .awaitHandshake, within: self.timeouts.handshake)
        }
        var answered = 0
        var next: [UInt8]? = handshake
        while let message = next {
            let output: PhoneSession.Output
            do { output = try session.receive(message) } catch {
                // The session's error names the step; the rule's code goes to the debug log.
                let code = error.protocolError.map { "\($0.code)" } ?? error.code.rawValue
                self.logger.debug("protocol error", metadata: ["step": "\(error.step.rawValue)", "code": "\(code)"])
                throw error
            }
            switch output {
            case .send(let frames):
                var sent = 0
                do {
                    // The handshake response and the post-handshake message leave together (one write
                    // and flush on the tunnel). The update message follows on its own, so a failure
                    // below still tells whether both of those went out.
                    let together = Array(frames.prefix(2))
                    try await channel.send(contentsOf: together, step: .serveRequests, failure: PhoneError.self)
                    sent = together.count
                    for f in frames.dropFirst(2) {
                        try await self.send(f, on: channel)
                        sent += 1
                    }
                } catch {
                    // A desktop that needs nothing more than the post-handshake message (getInfo is
                    // answered from it) may shut down and close before the update message goes out.
                    // Once the response and the post-handshake message are out, what the desktop sent
                    // before closing decides: its shutdown is a clean end, anything else the failure.
                    guard sent >= 2, try await self.shutdownWasReceived(session: &session, channel: channel) else {
                        throw error
                    }
                    onEvent(.handshakeComplete)
                    onEvent(.finished)
                    return answered
                }
                onEvent(.handshakeComplete)
            case .ctapRequest(let request):
                let reply = await handler.handle(request)
                let frame = try session.respond(reply)
                try await self.send(frame, on: channel)
                answered += 1
                onEvent(.requestAnswered(command: request.first ?? 0, status: reply.first ?? 0))
            case .finished:
                onEvent(.finished)
                return answered
            case .none:
                break
            }
            next = try await self.receiveOrEnd(on: channel, answered: answered)
        }
        onEvent(.finished)
        return answered
    }

    /// The next frame; `nil` when the desktop closed after at least one answered request (revision-0
    /// style ending). Closing before any request is an unexpected end.
    private func receiveOrEnd(on channel: any MessageChannel, answered: Int) async throws -> [UInt8]? {
        do {
            return try await self.receive(on: channel, step: .serveRequests, within: self.timeouts.idle)
        } catch let e as PhoneError where e.code == .closedByPeer && answered > 0 {
            return nil
        }
    }

    /// Whether the next frame still readable on a channel the desktop closed is its shutdown.
    private func shutdownWasReceived(session: inout PhoneSession, channel: any MessageChannel) async throws -> Bool {
        guard let frame = try? await self.receive(on: channel, step: .serveRequests, within: self.timeouts.idle) else {
            return false
        }
        return (try? session.receive(frame)) == .finished
    }

    private func send(_ message: [UInt8], on channel: any MessageChannel) async throws {
        try await channel.send(message, step: .serveRequests, failure: PhoneError.self)
    }

    private func receive(
        on channel: any MessageChannel,
        step: PhoneError.Step,
        within: Duration
    ) async throws -> [UInt8] {
        try await channel.receive(step: step, within: within, clock: self.clock, failure: PhoneError.self)
    }
}

extension PhoneError: ChannelFailure {
    package static func timedOut(at step: Step, after duration: Duration) -> PhoneError {
        PhoneError(.timeout, step: step, "nothing arrived within \(duration)")
    }

    package static func closedByPeer(at step: Step) -> PhoneError {
        PhoneError(.closedByPeer, step: step, "the connection closed")
    }

    package static func channelFailed(at step: Step, sending: Bool, cause: any Error) -> PhoneError {
        PhoneError(.tunnelFailed, step: step, sending ? "sending failed" : "receiving failed", underlying: cause)
    }
}

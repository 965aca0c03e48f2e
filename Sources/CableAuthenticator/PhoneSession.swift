package import CableCrypto
// The Noise handshake types are SPI: this package and its fuzz harnesses use them, apps do not.
@_spi(Fuzzing) public import CableProtocol

/// The phone (authenticator) side of one QR-initiated hybrid transaction, as a sans-I/O state machine
/// (Chromium `v2_authenticator.cc`, `TunnelTransport`).
///
/// ```
/// scanned ──tunnelOpened(routingID)──▶ advertising ──receive(handshake)──▶ ready
///     ⇄ (receive(request) / respond(_:)) answering ──receive(shutdown)──▶ finished
/// ```
/// The phone always speaks the current crypter construction and protocol revision 1: after the
/// handshake it sends the post-handshake message and, QR flow only, an update message padded to 512
/// bytes (sent whether or not it links, so an observer cannot tell).
///
/// `~Copyable`: from the handshake on, the session owns the transaction's only `Crypter`, and a copy
/// would seal under the same key and nonce as the original.
///
/// Every transition throws ``PhoneError`` naming the step: the phone's own rule as
/// ``PhoneError/Code/unexpectedFrame``, a broken rule of the core as
/// ``PhoneError/Code/protocolViolation`` with the `CableProtocolError` as its ``PhoneError/underlying``
/// value.
public struct PhoneSession: ~Copyable, Sendable {
    /// What a received message produced.
    public enum Output: Sendable, Equatable {
        /// Ciphertexts to send, in order (handshake response, post-handshake and update messages).
        case send([[UInt8]])
        /// A CTAP request `[command][CBOR]` to answer with ``respond(_:)``.
        case ctapRequest([UInt8])
        /// The desktop shut the transaction down; close the tunnel.
        case finished
        /// Nothing to do (an update from the desktop, checked and ignored as Chromium does).
        case none
    }

    private enum State: ~Copyable, Sendable {
        case scanned
        case advertising(psk: PreSharedKey)
        /// The tunnel is encrypted; `answering` while a request awaits ``respond(_:)``.
        case established(Crypter, answering: Bool)
        case finished
        case failed

        /// Moves the state out, leaving `failed` until the caller puts the next one back.
        mutating func take() -> State {
            let current = consume self
            self = .failed
            return current
        }
    }

    /// What ``receive(_:)``'s inner step produced: an output, or a refusal by the phone's own rule.
    private enum Outcome {
        case output(Output)
        case refused(String)
    }

    private var state: State = .scanned
    /// The step at which the session failed (for messages that arrive afterwards).
    private var failedStep: PhoneError.Step = .registerTunnel
    /// The scanned QR code.
    public let payload: QRCodePayload
    private let getInfo: [UInt8]
    private let ephemeral: P256.PrivateKey?

    /// Starts from a scanned, validated QR payload.
    ///
    /// - Parameters:
    ///   - getInfo: the CBOR authenticatorGetInfo response (no status byte) to put in the
    ///     post-handshake message.
    ///   - payload: the scanned QR code.
    public init(payload: QRCodePayload, getInfo: [UInt8]) {
        self.init(payload: payload, getInfo: getInfo, ephemeral: nil)
    }

    /// As above, with an injected Noise ephemeral key (reproducible transcripts).
    package init(payload: QRCodePayload, getInfo: [UInt8], ephemeral: P256.PrivateKey?) {
        self.payload = payload
        self.getInfo = getInfo
        self.ephemeral = ephemeral
    }

    /// The path to open on the phone's tunnel service: `/cable/new/<tunnel ID>`.
    public var newTunnelEndpoint: TunnelEndpoint { .new(self.payload.secret.tunnelID) }

    /// The tunnel is open and the service assigned `routingID`: builds the advert to broadcast
    /// (BLE advertising data with the 20-byte encrypted EID as service data for `0xFFF9`).
    ///
    /// - Parameters:
    ///   - nonce: 10 random bytes (passed in so tests are deterministic).
    ///   - routingID: the routing ID the tunnel service returned on `/cable/new/`.
    ///   - domainID: the tunnel-server domain this phone's service is known by.
    public mutating func tunnelOpened(
        routingID: RoutingID,
        domainID: TunnelServiceDomainID,
        nonce: [UInt8]
    )
        throws(PhoneError) -> [UInt8]
    {
        do { return try self.makeAdvert(routingID: routingID, domainID: domainID, nonce: nonce) } catch {
            throw self.violation(error, at: .registerTunnel)
        }
    }

    private mutating func makeAdvert(
        routingID: RoutingID,
        domainID: TunnelServiceDomainID,
        nonce: [UInt8]
    )
        throws(CableProtocolError) -> [UInt8]
    {
        switch self.state {
        case .scanned: break
        default: preconditionFailure("the tunnel opens once")
        }
        let plaintext = try AdvertPlaintext(nonce: nonce, routingID: routingID, domainID: domainID)
        let advert = try AdvertCrypter.encrypt(plaintext, key: self.payload.secret.eidKey)
        self.state = .advertising(psk: self.payload.secret.psk(advert: plaintext))
        return AdvertisingData.phoneAdvert(advert).bytes
    }

    /// The step the transaction is at, for the errors the session throws.
    private var step: PhoneError.Step {
        switch self.state {
        case .scanned: return .registerTunnel
        case .advertising: return .awaitHandshake
        case .established: return .serveRequests
        case .finished: return .serveRequests
        case .failed: return self.failedStep
        }
    }

    /// A rule of the core broke at `step`: the session fails there.
    private mutating func violation(_ error: CableProtocolError, at step: PhoneError.Step) -> PhoneError {
        self.failedStep = step
        return PhoneError(.protocolViolation, step: step, "", underlying: error)
    }

    /// Whether the phone should keep advertising (until the desktop's handshake arrives).
    public var isAdvertising: Bool {
        switch self.state {
        case .advertising: return true
        default: return false
        }
    }

    /// Processes one message from the desktop.
    public mutating func receive(_ message: [UInt8]) throws(PhoneError) -> Output {
        let step = self.step
        let outcome: Outcome
        do { outcome = try self.process(message) } catch { throw self.violation(error, at: step) }
        switch outcome {
        case .output(let output):
            return output
        case .refused(let reason):
            self.failedStep = step
            throw PhoneError(.unexpectedFrame, step: step, reason)
        }
    }

    private mutating func process(_ message: [UInt8]) throws(CableProtocolError) -> Outcome {
        // `take()` leaves `failed` behind until this message is fully accepted.
        switch self.state.take() {
        case .advertising(let psk):
            let desktopKey = try self.payload.publicKey
            let ephemeral: P256.PrivateKey
            if let e = self.ephemeral {
                ephemeral = e
            } else {
                do { ephemeral = try P256.PrivateKey() } catch {
                    throw CableProtocolError(.cryptoFailure, "generating the ephemeral key failed: \(error.code)")
                }
            }
            var responder = HandshakeResponder(qrFlowWith: psk, desktopIdentity: desktopKey, ephemeral: ephemeral)
            let answer = try responder.respond(to: message)
            let response = answer.response
            var crypter = answer.result.crypter
            let post = PostHandshakeMessage(getInfo: self.getInfo, features: [.ctap])
            let postCiphertext = try crypter.seal(post.encoded(revision: .one))
            let updateCiphertext = try crypter.seal(UpdateMessage().frame)
            self.state = .established(crypter, answering: false)
            return .output(.send([response, postCiphertext, updateCiphertext]))
        case .established(var crypter, let answering):
            let frame = try TunnelMessage(decoding: try crypter.open(message))
            switch (frame, answering) {
            case (.shutdown, _):
                self.state = .finished
                return .output(.finished)
            case (_, true):
                // Only a shutdown may interrupt a request being answered.
                return .refused("a frame other than shutdown arrived while a request was being answered")
            case (.ctap(let request), false):
                self.state = .established(crypter, answering: true)
                return .output(.ctapRequest(request))
            case (.update(let payload), false):
                try UpdateMessage.validateDesktopUpdate(payload)
                self.state = .established(crypter, answering: false)
                return .output(.none)
            case (.json, false):
                return .refused("JSON frames are not supported by this phone")
            }
        case .scanned:
            return .refused("a message arrived before the tunnel was registered")
        case .finished:
            self.state = .finished
            return .refused("the transaction has ended")
        case .failed:
            return .refused("the transaction has ended")
        }
    }

    /// Encrypts the reply `[status][CBOR]` to the outstanding request.
    public mutating func respond(_ reply: [UInt8]) throws(PhoneError) -> [UInt8] {
        do { return try self.sealReply(reply) } catch { throw self.violation(error, at: .serveRequests) }
    }

    private mutating func sealReply(_ reply: [UInt8]) throws(CableProtocolError) -> [UInt8] {
        switch self.state {
        case .established(_, answering: true): break
        default: preconditionFailure("respond(_:) answers an outstanding request")
        }
        guard case .established(var crypter, _) = self.state.take() else { fatalError("checked above") }
        let ciphertext = try crypter.seal(TunnelMessage.ctap(reply).encoded())
        self.state = .established(crypter, answering: false)
        return ciphertext
    }

    /// Whether the desktop has ended the transaction.
    public var isFinished: Bool {
        switch self.state {
        case .finished: return true
        default: return false
        }
    }
}

package import CableCrypto
public import CableProtocol

extension CableProtocolError.Code {
    /// The desktop sent a frame the phone does not expect now (e.g. a second request while one is
    /// being answered, or data before the handshake).
    public static let phoneUnexpectedFrame = Self(rawValue: "phoneUnexpectedFrame")
}

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
public struct PhoneSession: Sendable {
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

    private enum State: Sendable {
        case scanned
        case advertising(psk: PreSharedKey)
        case ready(Crypter)
        case answering(Crypter)
        case finished
        case failed
    }

    private var state: State = .scanned
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
    public mutating func tunnelOpened(routingID: RoutingID, domainID: TunnelServerDomainID, nonce: [UInt8])
        throws(CableProtocolError) -> [UInt8]
    {
        guard case .scanned = self.state else { preconditionFailure("the tunnel opens once") }
        let plaintext = try AdvertPlaintext(nonce: nonce, routingID: routingID, domainID: domainID)
        let advert = try AdvertCrypter.encrypt(plaintext, key: self.payload.secret.eidKey)
        self.state = .advertising(psk: self.payload.secret.psk(advert: plaintext))
        return AdvertisingData.phoneAdvert(advert).bytes
    }

    /// Whether the phone should keep advertising (until the desktop's handshake arrives).
    public var isAdvertising: Bool {
        if case .advertising = self.state { return true }
        return false
    }

    /// Processes one message from the desktop.
    public mutating func receive(_ message: [UInt8]) throws(CableProtocolError) -> Output {
        let current = self.state
        self.state = .failed  // Until this message is fully accepted.
        switch current {
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
            var (response, result) = try responder.respond(to: message)
            let post = PostHandshakeMessage(getInfo: self.getInfo, features: [.ctap])
            let postCiphertext = try result.crypter.seal(post.encoded(revision: .one))
            let updateCiphertext = try result.crypter.seal(UpdateMessage().frame)
            self.state = .ready(result.crypter)
            return .send([response, postCiphertext, updateCiphertext])
        case .ready(var crypter):
            let frame = try TunnelMessage(decoding: try crypter.open(message))
            switch frame {
            case .ctap(let request):
                self.state = .answering(crypter)
                return .ctapRequest(request)
            case .shutdown:
                self.state = .finished
                return .finished
            case .update(let payload):
                try UpdateMessage.validateDesktopUpdate(payload)
                self.state = .ready(crypter)
                return .none
            case .json:
                throw CableProtocolError(.phoneUnexpectedFrame, "JSON frames are not supported by this phone")
            }
        case .answering(var crypter):
            // Only a shutdown may interrupt a request being answered.
            let frame = try TunnelMessage(decoding: try crypter.open(message))
            guard case .shutdown = frame else {
                throw CableProtocolError(.phoneUnexpectedFrame, "a second request arrived before the first was answered")
            }
            self.state = .finished
            return .finished
        case .scanned:
            throw CableProtocolError(.phoneUnexpectedFrame, "a message arrived before the tunnel was registered")
        case .finished, .failed:
            throw CableProtocolError(.phoneUnexpectedFrame, "the transaction has ended")
        }
    }

    /// Encrypts the reply `[status][CBOR]` to the outstanding request.
    public mutating func respond(_ reply: [UInt8]) throws(CableProtocolError) -> [UInt8] {
        guard case .answering(var crypter) = self.state else {
            preconditionFailure("respond(_:) answers an outstanding request")
        }
        self.state = .failed
        let ciphertext = try crypter.seal(TunnelMessage.ctap(reply).encoded())
        self.state = .ready(crypter)
        return ciphertext
    }

    /// Whether the desktop has ended the transaction.
    public var isFinished: Bool {
        if case .finished = self.state { return true }
        return false
    }
}

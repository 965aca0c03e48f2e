package import CableCrypto
public import CableProtocol

extension CableProtocolError.Code {
    /// The phone sent a frame the desktop does not expect in its current state.
    public static let desktopUnexpectedFrame = Self(rawValue: "desktopUnexpectedFrame")
    /// The phone sent a shutdown frame; only desktops send those (Chromium treats it as an error).
    public static let desktopReceivedShutdown = Self(rawValue: "desktopReceivedShutdown")
    /// A CTAP reply arrived with no request outstanding.
    public static let desktopUnsolicitedReply = Self(rawValue: "desktopUnsolicitedReply")
}

/// The desktop (client platform) side of one QR-initiated hybrid transaction, as a sans-I/O state
/// machine (Chromium `FidoTunnelDevice` + `v2_discovery`).
///
/// ```
/// awaitingAdvert ──matchAdvert──▶ advertMatched ──makeHandshakeMessage──▶ handshakeSent
///     ──receive(response)──▶ awaitingPostHandshake ──receive(post-handshake)──▶ ready
///     ⇄ (sendCTAP / receive(reply)) awaitingReply ── shutdown() ──▶ shutDown
/// ```
/// Inbound problems throw and move the session to `failed`; calling a method in the wrong state is a
/// programmer error and traps.
public struct DesktopSession: Sendable {
    /// What a received message produced.
    public enum Output: Sendable, Equatable {
        /// The handshake finished; the tunnel is encrypted.
        case handshakeComplete
        /// The phone's post-handshake message: its getInfo bytes and the protocol revision.
        case postHandshake(getInfo: [UInt8]?, revision: ProtocolRevision, linking: LinkingInfo?)
        /// An update message (possibly carrying linking information).
        case update(linking: LinkingInfo?)
        /// The reply to the outstanding CTAP request: `[status][CBOR]`.
        case ctapResponse([UInt8])
        /// Nothing to act on (e.g. a late CTAP reply after shutdown, dropped as Chromium does).
        case none
    }

    /// Where the phone said to meet, from its advert.
    public struct AdvertMatch: Sendable, Equatable {
        /// The advert's plaintext (its routing ID and domain).
        public let plaintext: AdvertPlaintext
        /// The tunnel ID derived from the QR secret.
        public let tunnelID: TunnelID
        /// `/cable/connect/<routing ID>/<tunnel ID>`.
        public var endpoint: TunnelEndpoint { .connect(self.plaintext.routingID, self.tunnelID) }
        /// The tunnel-server domain the phone uses.
        public var domainID: TunnelServerDomainID { self.plaintext.domainID }
    }

    private enum State: Sendable {
        case awaitingAdvert
        case advertMatched(AdvertMatch, psk: PreSharedKey)
        case handshakeSent(HandshakeInitiator)
        case awaitingPostHandshake(Crypter, LinkingVerifier)
        case ready(Crypter, ProtocolRevision, LinkingVerifier)
        case awaitingReply(Crypter, ProtocolRevision, LinkingVerifier)
        case shutDown(Crypter, ProtocolRevision, LinkingVerifier)
        case failed
    }

    private var state: State = .awaitingAdvert
    private let key: QRGeneratorKey
    private let eidKey: EIDKey
    private let ephemeral: P256.PrivateKey?
    private let crypterPolicy: Crypter.ConstructionPolicy
    /// What this desktop shows in its QR code.
    public let qrPayload: QRCodePayload

    /// Starts a transaction with a fresh QR key.
    ///
    /// - Parameters:
    ///   - key: the QR generator key (fresh per ceremony).
    ///   - requestType: the hint for QR key 5.
    ///   - timestamp: UNIX seconds for QR key 3 (passed in: no clock here).
    ///   - crypterPolicy: by default the current construction, falling back to the legacy one if the
    ///     phone's first frame only opens that way (older Android phones); `.fixed(.current)` is
    ///     exactly current Chromium.
    public init(
        key: QRGeneratorKey, requestType: RequestTypeHint, timestamp: Int64,
        crypterPolicy: Crypter.ConstructionPolicy = HandshakeInitiator.defaultCrypterPolicy
    ) throws(CableProtocolError) {
        try self.init(key: key, requestType: requestType, timestamp: timestamp, ephemeral: nil, crypterPolicy: crypterPolicy)
    }

    /// As above, with an injected Noise ephemeral key (reproducible transcripts).
    package init(
        key: QRGeneratorKey, requestType: RequestTypeHint, timestamp: Int64, ephemeral: P256.PrivateKey?,
        crypterPolicy: Crypter.ConstructionPolicy = HandshakeInitiator.defaultCrypterPolicy
    ) throws(CableProtocolError) {
        self.key = key
        self.eidKey = key.secret.eidKey
        self.ephemeral = ephemeral
        self.crypterPolicy = crypterPolicy
        self.qrPayload = try key.payload(timestamp: timestamp, requestType: requestType, supportsLinking: false)
    }

    /// Whether an advert has been accepted (all later adverts are ignored, as in Chromium).
    public var hasMatchedAdvert: Bool {
        if case .awaitingAdvert = self.state { return false }
        return true
    }

    /// Trial-decrypts a stranger's BLE advertising data. Returns the match for this transaction's
    /// advert, `nil` for anything else (malformed, someone else's, or after the first match).
    public mutating func matchAdvert(advertisingData: [UInt8]) -> AdvertMatch? {
        guard case .awaitingAdvert = self.state,
            let data = try? AdvertisingData(bytes: advertisingData), let advert = data.cableAdvert
        else { return nil }
        return self.matchAdvert(advert)
    }

    /// Trial-decrypts a 20-byte advert (service data already extracted).
    public mutating func matchAdvert(_ advert: [UInt8]) -> AdvertMatch? {
        guard case .awaitingAdvert = self.state,
            let plaintext = try? AdvertCrypter.decrypt(advert, key: self.eidKey)
        else { return nil }
        let match = AdvertMatch(plaintext: plaintext, tunnelID: self.key.secret.tunnelID)
        self.state = .advertMatched(match, psk: self.key.secret.psk(advert: plaintext))
        return match
    }

    /// Noise message 1 (81 bytes), sent first on the tunnel.
    public mutating func makeHandshakeMessage() throws(CableProtocolError) -> [UInt8] {
        guard case .advertMatched(_, let psk) = self.state else {
            preconditionFailure("the handshake starts once, after an advert matched")
        }
        let ephemeral: P256.PrivateKey
        if let e = self.ephemeral {
            ephemeral = e
        } else {
            do { ephemeral = try P256.PrivateKey() } catch {
                self.state = .failed
                throw CableProtocolError(.cryptoFailure, "generating the ephemeral key failed: \(error.code)")
            }
        }
        var initiator = HandshakeInitiator(
            qrFlowWith: psk, identity: self.key.privateKey, ephemeral: ephemeral, crypterPolicy: self.crypterPolicy)
        do {
            let message = try initiator.makeInitialMessage()
            self.state = .handshakeSent(initiator)
            return message
        } catch {
            self.state = .failed
            throw error
        }
    }

    /// Processes one message from the phone.
    public mutating func receive(_ message: [UInt8]) throws(CableProtocolError) -> Output {
        let current = self.state
        self.state = .failed  // Until this message is fully accepted.
        switch current {
        case .handshakeSent(var initiator):
            let result = try initiator.receiveResponse(message)
            // Linking information is accepted only with a valid signature over this handshake.
            let verifier = LinkingVerifier(handshakeHash: result.handshakeHash, desktopIdentity: self.key.privateKey)
            self.state = .awaitingPostHandshake(result.crypter, verifier)
            return .handshakeComplete
        case .awaitingPostHandshake(var crypter, let verifier):
            let plaintext = try crypter.open(message)
            let (post, revision) = try PostHandshakeMessage.decode(
                plaintext, options: .init(requiresCTAP: true, linking: .verify(verifier)))
            self.state = .ready(crypter, revision, verifier)
            return .postHandshake(getInfo: post.getInfo, revision: revision, linking: post.linkingInfo)
        case .ready(var crypter, let revision, let verifier), .awaitingReply(var crypter, let revision, let verifier),
            .shutDown(var crypter, let revision, let verifier):
            let frame = try TunnelMessage(decoding: try crypter.open(message), revision: revision)
            switch (frame, current) {
            case (.update(let payload), _):
                let update = try UpdateMessage(decoding: payload, linking: .verify(verifier))
                self.state = Self.sameState(current, crypter: crypter)
                return .update(linking: update.linkingInfo)
            case (.ctap(let reply), .awaitingReply):
                self.state = .ready(crypter, revision, verifier)
                return .ctapResponse(reply)
            case (.ctap, .shutDown), (.json, .shutDown):
                // Locally shut down: late replies are dropped silently (Chromium).
                self.state = .shutDown(crypter, revision, verifier)
                return .none
            case (.ctap, _), (.json, _):
                throw CableProtocolError(.desktopUnsolicitedReply, "a reply arrived with no request outstanding")
            case (.shutdown, _):
                throw CableProtocolError(.desktopReceivedShutdown, "the phone sent a shutdown frame")
            }
        case .awaitingAdvert, .advertMatched:
            throw CableProtocolError(.desktopUnexpectedFrame, "a message arrived before the handshake was sent")
        case .failed:
            throw CableProtocolError(.desktopUnexpectedFrame, "the session has already failed")
        }
    }

    /// Encrypts a CTAP request `[command][CBOR]` for the phone. One request at a time.
    public mutating func sendCTAP(_ request: [UInt8]) throws(CableProtocolError) -> [UInt8] {
        guard case .ready(var crypter, let revision, let verifier) = self.state else {
            preconditionFailure("a CTAP request needs a ready session with no request outstanding")
        }
        self.state = .failed
        let ciphertext = try crypter.seal(TunnelMessage.ctap(request).encoded(revision: revision))
        self.state = .awaitingReply(crypter, revision, verifier)
        return ciphertext
    }

    /// Ends the transaction: the encrypted `[0x00]` shutdown frame for revision 1, `nil` for revision 0
    /// (which ends by closing the socket). Updates are still accepted afterwards.
    public mutating func shutdown() throws(CableProtocolError) -> [UInt8]? {
        switch self.state {
        case .ready(var crypter, let revision, let verifier), .awaitingReply(var crypter, let revision, let verifier):
            guard revision == .one else {
                self.state = .shutDown(crypter, revision, verifier)
                return nil
            }
            self.state = .failed
            let frame = try crypter.seal(TunnelMessage.shutdown.encoded())
            self.state = .shutDown(crypter, revision, verifier)
            return frame
        case .awaitingAdvert, .advertMatched, .handshakeSent, .awaitingPostHandshake, .shutDown, .failed:
            return nil
        }
    }

    private static func sameState(_ state: State, crypter: Crypter) -> State {
        switch state {
        case .ready(_, let r, let v): return .ready(crypter, r, v)
        case .awaitingReply(_, let r, let v): return .awaitingReply(crypter, r, v)
        case .shutDown(_, let r, let v): return .shutDown(crypter, r, v)
        case .awaitingAdvert, .advertMatched, .handshakeSent, .awaitingPostHandshake, .failed: return state
        }
    }
}

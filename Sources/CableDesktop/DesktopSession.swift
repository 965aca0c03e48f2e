package import CableCrypto
// The Noise handshake types are SPI: this package and its fuzz harnesses use them, apps do not.
@_spi(Fuzzing) public import CableProtocol

/// The desktop (client platform) side of one QR-initiated hybrid transaction, as a sans-I/O state
/// machine (Chromium `FidoTunnelDevice` + `v2_discovery`).
///
/// ```
/// awaitingAdvert ──matchAdvert / acceptAdvert──▶ advertMatched ──makeHandshakeMessage──▶ handshakeSent
///     ──receive(response)──▶ awaitingPostHandshake ──receive(post-handshake)──▶ ready
///     ⇄ (sendCTAP / receive(reply)) awaitingReply ── shutdown() ──▶ shutDown
/// ```
/// Inbound problems throw and move the session to `failed`; calling a method in the wrong state is a
/// programmer error and traps.
///
/// Every transition throws ``DesktopError`` naming the step: the desktop's own rules as its codes
/// (``DesktopError/Code/unexpectedFrame``, ``DesktopError/Code/receivedShutdown``,
/// ``DesktopError/Code/unsolicitedReply``), a broken rule of the core as
/// ``DesktopError/Code/protocolViolation`` with the `CableProtocolError` as its
/// ``DesktopError/underlying`` value. Only the initializer throws `CableProtocolError`: it validates
/// the caller's QR inputs before any step begins, as `QRCodePayload` does.
///
/// `~Copyable`: from the handshake on, the session owns the transaction's only `Crypter`, and a copy
/// would seal under the same key and nonce as the original. To look for the phone's advert from another
/// task, take an ``advertMatcher`` (it holds no crypter) and hand its match to ``acceptAdvert(_:)``.
public struct DesktopSession: ~Copyable, Sendable {
    /// What a received message produced.
    public enum Output: Sendable, Equatable {
        /// The handshake finished; the tunnel is encrypted.
        case handshakeComplete
        /// The phone's post-handshake message: its getInfo bytes and the protocol revision.
        case postHandshake(getInfo: [UInt8]?, revision: ProtocolRevision, linking: LinkingInfo?)
        /// An update message. This desktop never offers linking (QR key 4 is false), so linking
        /// information in an update is dropped, as Chromium does without a pairing callback, and
        /// `linking` is always `nil`.
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
        public var domainID: TunnelServiceDomainID { self.plaintext.domainID }
    }

    /// Trial-decrypts adverts for one session without touching it: a copyable, `Sendable` value that a
    /// scanning task can own while the session stays with its driver. It holds the advert key only.
    public struct AdvertMatcher: Sendable {
        let eidKey: EIDKey
        let tunnelID: TunnelID

        /// The match if `advertisingData` is BLE advertising data carrying this session's advert.
        public func match(advertisingData: [UInt8]) -> AdvertMatch? {
            guard let data = try? AdvertisingData(bytes: advertisingData), let advert = data.cableAdvert else {
                return nil
            }
            return self.match(advert)
        }

        /// The match if `advert` (20 bytes of service data) is this session's advert.
        public func match(_ advert: [UInt8]) -> AdvertMatch? {
            guard let plaintext = try? AdvertCrypter.decrypt(advert, key: self.eidKey) else { return nil }
            return AdvertMatch(plaintext: plaintext, tunnelID: self.tunnelID)
        }
    }

    /// The phases once the tunnel is encrypted; one case of ``State`` carries them so the crypter is
    /// matched in one place (a `~Copyable` payload cannot be bound by a multi-pattern case).
    private enum Phase: Sendable {
        case ready, awaitingReply, shutDown
    }

    private enum State: ~Copyable, Sendable {
        case awaitingAdvert
        case advertMatched(AdvertMatch, psk: PreSharedKey)
        case handshakeSent(HandshakeInitiator)
        case awaitingPostHandshake(Crypter, LinkingVerifier)
        case established(Crypter, Phase, ProtocolRevision)
        case failed

        /// Moves the state out, leaving `failed` until the caller puts the next one back.
        mutating func take() -> State {
            let current = consume self
            self = .failed
            return current
        }
    }

    /// What ``receive(_:)``'s inner step produced: an output, or a refusal by the desktop's own rules.
    private enum Outcome {
        case output(Output)
        case refused(DesktopError.Code, String)
    }

    private var state: State = .awaitingAdvert
    /// The step at which the session failed (for messages that arrive afterwards).
    private var failedStep: DesktopStep = .advert
    private let key: QRGeneratorKey
    private let eidKey: EIDKey
    private let ephemeral: P256.PrivateKey?
    private let crypterPolicy: Crypter.ConstructionPolicy
    /// What this desktop shows in its QR code.
    public let qrPayload: QRCodePayload
    /// Deliberate mistakes for the conformance kit's mutation tests (none by default).
    package var faults = DesktopFaults()

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
        key: QRGeneratorKey,
        requestType: RequestTypeHint,
        timestamp: Int64,
        crypterPolicy: Crypter.ConstructionPolicy = .fallbackOnFirstRead(initial: .current)
    ) throws(CableProtocolError) {
        try self.init(
            key: key,
            requestType: requestType,
            timestamp: timestamp,
            ephemeral: nil,
            crypterPolicy: crypterPolicy
        )
    }

    /// As above, with an injected Noise ephemeral key (reproducible transcripts).
    package init(
        key: QRGeneratorKey,
        requestType: RequestTypeHint,
        timestamp: Int64,
        ephemeral: P256.PrivateKey?,
        crypterPolicy: Crypter.ConstructionPolicy = .fallbackOnFirstRead(initial: .current)
    ) throws(CableProtocolError) {
        self.key = key
        self.eidKey = key.secret.eidKey
        self.ephemeral = ephemeral
        self.crypterPolicy = crypterPolicy
        self.qrPayload = try key.payload(timestamp: timestamp, requestType: requestType, supportsLinking: false)
    }

    /// Whether an advert has been accepted (all later adverts are ignored, as in Chromium).
    public var hasMatchedAdvert: Bool {
        switch self.state {
        case .awaitingAdvert: return false
        default: return true
        }
    }

    /// The step the transaction is at, for the errors the session throws.
    private var step: DesktopStep {
        switch self.state {
        case .awaitingAdvert: return .advert
        case .advertMatched: return .handshake
        case .handshakeSent: return .handshake
        case .awaitingPostHandshake: return .postHandshake
        case .established: return .response
        case .failed: return self.failedStep
        }
    }

    /// A rule of the core broke at the current step: the session fails there.
    private mutating func violation(_ error: CableProtocolError, at step: DesktopStep) -> DesktopError {
        self.failedStep = step
        return DesktopError(.protocolViolation, step: step, "", underlying: error)
    }

    /// A matcher for this session's advert, to run where the adverts arrive.
    public var advertMatcher: AdvertMatcher { AdvertMatcher(eidKey: self.eidKey, tunnelID: self.key.secret.tunnelID) }

    /// Trial-decrypts a stranger's BLE advertising data. Returns the match for this transaction's
    /// advert, `nil` for anything else (malformed, someone else's, or after the first match).
    public mutating func matchAdvert(advertisingData: [UInt8]) -> AdvertMatch? {
        guard !self.hasMatchedAdvert, let match = self.advertMatcher.match(advertisingData: advertisingData) else {
            return nil
        }
        self.acceptAdvert(match)
        return match
    }

    /// Trial-decrypts a 20-byte advert (service data already extracted).
    public mutating func matchAdvert(_ advert: [UInt8]) -> AdvertMatch? {
        guard !self.hasMatchedAdvert, let match = self.advertMatcher.match(advert) else { return nil }
        self.acceptAdvert(match)
        return match
    }

    /// Accepts a match that this session's ``advertMatcher`` found, without decrypting the advert again.
    ///
    /// - Precondition: no advert was accepted yet, and `match` came from this session's matcher.
    public mutating func acceptAdvert(_ match: AdvertMatch) {
        precondition(!self.hasMatchedAdvert, "an advert is accepted once")
        precondition(match.tunnelID == self.key.secret.tunnelID, "the match belongs to another session")
        self.state = .advertMatched(match, psk: self.key.secret.psk(advert: match.plaintext))
    }

    /// Noise message 1 (81 bytes), sent first on the tunnel.
    public mutating func makeHandshakeMessage() throws(DesktopError) -> [UInt8] {
        do { return try self.makeInitialMessage() } catch { throw self.violation(error, at: .handshake) }
    }

    private mutating func makeInitialMessage() throws(CableProtocolError) -> [UInt8] {
        let psk: PreSharedKey
        switch self.state {
        case .advertMatched(_, let matchedPSK): psk = matchedPSK
        default: preconditionFailure("the handshake starts once, after an advert matched")
        }
        self.state = .failed  // Until the message is made.
        let ephemeral: P256.PrivateKey
        if let e = self.ephemeral {
            ephemeral = e
        } else {
            do { ephemeral = try P256.PrivateKey() } catch {
                throw CableProtocolError(.cryptoFailure, "generating the ephemeral key failed: \(error.code)")
            }
        }
        var initiator = HandshakeInitiator(
            qrFlowWith: psk,
            identity: self.key.privateKey,
            ephemeral: ephemeral,
            crypterPolicy: self.crypterPolicy
        )
        let message = try initiator.makeInitialMessage()
        self.state = .handshakeSent(initiator)
        return self.faults.handshakeMessage(message)  // fault seam: message
    }

    /// Processes one message from the phone.
    public mutating func receive(_ message: [UInt8]) throws(DesktopError) -> Output {
        let step = self.step
        let outcome: Outcome
        do { outcome = try self.process(message) } catch { throw self.violation(error, at: step) }
        switch outcome {
        case .output(let output):
            return output
        case .refused(let code, let reason):
            self.failedStep = step
            throw DesktopError(code, step: step, reason)
        }
    }

    private mutating func process(_ message: [UInt8]) throws(CableProtocolError) -> Outcome {
        // `take()` leaves `failed` behind until this message is fully accepted.
        switch self.state.take() {
        case .handshakeSent(var initiator):
            let result = try initiator.receiveResponse(self.faults.handshakeResponse(message))  // fault seam: message
            // Linking information is accepted only with a valid signature over this handshake.
            let verifier = LinkingVerifier(handshakeHash: result.handshakeHash, desktopIdentity: self.key.privateKey)
            self.state = .awaitingPostHandshake(result.crypter, verifier)
            return .output(.handshakeComplete)
        case .awaitingPostHandshake(var crypter, let verifier):
            let plaintext = try crypter.open(message)
            // Chromium parses and verifies linking information in a QR flow's post-handshake message
            // whether or not the QR code offered linking (fido_tunnel_device.cc, OnTunnelData,
            // kWaitingForPostHandshakeMessage), so this message keeps the check.
            let (post, revision) = try PostHandshakeMessage.decode(
                plaintext,
                options: .init(requiresCTAP: true, linking: .verify(verifier))
            )
            try self.faults.checkPostHandshake(plaintext, revision: revision)  // fault seam
            self.state = .established(crypter, .ready, revision)
            return .output(.postHandshake(getInfo: post.getInfo, revision: revision, linking: post.linkingInfo))
        case .established(var crypter, let phase, let revision):
            let opened: [UInt8]
            do { opened = try crypter.open(message) } catch
                where error.code == .crypterInvalidPadding && self.faults.has(.skipsFramesWithBadPadding)
            {
                self.state = .established(crypter, phase, revision)  // fault seam
                return .output(.none)
            }
            let frame = try TunnelMessage(decoding: opened, revision: revision)
            switch (frame, phase) {
            case (.update(let payload), _):
                // No linking was offered (QR key 4 false): Chromium, without a pairing callback, still
                // requires key 1 to be a map and then discards it (ProcessUpdate).
                _ = try UpdateMessage(decoding: payload, linking: .ignore)
                self.state = .established(crypter, phase, revision)
                return .output(.update(linking: nil))
            case (.json(let reply), .awaitingReply) where self.faults.has(.acceptsAnyReplyType):  // fault seam
                self.state = .established(crypter, .ready, revision)
                return .output(.ctapResponse(reply))
            case (.ctap(let reply), .awaitingReply):
                self.state = .established(crypter, .ready, revision)
                return .output(.ctapResponse(reply))
            case (.ctap, .shutDown), (.json, .shutDown):
                // Locally shut down: late replies are dropped silently (Chromium).
                self.state = .established(crypter, .shutDown, revision)
                return .output(.none)
            case (.ctap, _), (.json, _):
                return .refused(.unsolicitedReply, "a reply arrived with no request outstanding")
            case (.shutdown, _) where self.faults.has(.ignoresPhoneShutdown):  // fault seam
                self.state = .established(crypter, phase, revision)
                return .output(.none)
            case (.shutdown, _):
                return .refused(.receivedShutdown, "the phone sent a shutdown frame")
            }
        case .awaitingAdvert:
            return .refused(.unexpectedFrame, "a message arrived before the handshake was sent")
        case .advertMatched:
            return .refused(.unexpectedFrame, "a message arrived before the handshake was sent")
        case .failed:
            return .refused(.unexpectedFrame, "the session has already failed")
        }
    }

    /// Encrypts a CTAP request `[command][CBOR]` for the phone. One request at a time.
    public mutating func sendCTAP(_ request: [UInt8]) throws(DesktopError) -> [UInt8] {
        do { return try self.sealRequest(request) } catch { throw self.violation(error, at: .response) }
    }

    private mutating func sealRequest(_ request: [UInt8]) throws(CableProtocolError) -> [UInt8] {
        switch self.state {
        case .established(_, .ready, _): break
        default: preconditionFailure("a CTAP request needs a ready session with no request outstanding")
        }
        guard case .established(var crypter, _, let revision) = self.state.take() else { fatalError("checked above") }
        // fault seam: `revision`
        let ciphertext = try crypter.seal(
            TunnelMessage.ctap(request).encoded(revision: self.faults.requestRevision(revision))
        )
        self.state = .established(crypter, .awaitingReply, revision)
        return ciphertext
    }

    /// Ends the transaction: the encrypted `[0x00]` shutdown frame for revision 1, `nil` for revision 0
    /// (which ends by closing the socket). Updates are still accepted afterwards.
    public mutating func shutdown() throws(DesktopError) -> [UInt8]? {
        do { return try self.sealShutdown() } catch { throw self.violation(error, at: .response) }
    }

    private mutating func sealShutdown() throws(CableProtocolError) -> [UInt8]? {
        switch self.state {
        case .established(_, let phase, _) where phase != .shutDown: break
        default: return nil
        }
        guard case .established(var crypter, _, let revision) = self.state.take() else { fatalError("checked above") }
        guard revision == .one else {
            self.state = .established(crypter, .shutDown, revision)
            return nil
        }
        let frame = try crypter.seal(TunnelMessage.shutdown.encoded())
        self.state = .established(crypter, .shutDown, revision)
        return frame
    }
}

package import CableCrypto

/// The desktop's side of the caBLE Noise handshake (Chromium `HandshakeInitiator`, hybrid-protocol.md §6.3).
///
/// A sans-I/O value-type state machine: ``makeInitialMessage()`` produces the 81-byte first message,
/// ``receiveResponse(_:)`` consumes the phone's 81-byte answer and yields the ``HandshakeResult``.
/// The operation order is exactly Chromium's:
///
/// ```
/// message 1:  MixHash(prologue) MixHash(static pub) MixKeyAndHash(psk)
///             MixHash(e_i) MixKey(e_i) [NK: MixKey(ECDH(e_i, S_phone))] EncryptAndHash(∅)  → e_i ‖ tag
/// response:   length == 81; parse e_r; MixHash(e_r) MixKey(e_r) MixKey(ECDH(e_i, e_r))
///             [KN: MixKey(ECDH(S_desktop, e_r))] DecryptAndHash(tag) == ∅; Split → write k1, read k2
/// ```
///
/// Peer input that breaks a rule throws a specific ``CableProtocolError`` and leaves the machine failed
/// for good (a session never retries a handshake). Calling the methods out of order is a programming
/// error and traps.
///
/// `~Copyable`, like the ``Crypter`` it makes: a copy taken before ``receiveResponse(_:)`` could complete
/// the same handshake twice and yield two crypters that seal under one key and nonce.
@_spi(Fuzzing) public struct HandshakeInitiator: ~Copyable, Sendable {
    /// The static key that precedes the handshake, by pattern.
    private enum StaticKey: Sendable {
        /// KNpsk0: the desktop's own QR key (its public half is in the QR code).
        case localIdentity(P256.PrivateKey)
        /// NKpsk0: the linked phone's identity key, stored from its linking info.
        case peerIdentity(P256.PublicKey)
    }

    private enum State: Sendable {
        /// Nothing sent yet.
        case idle(psk: PreSharedKey, ephemeral: P256.PrivateKey)
        /// Message 1 is out; waiting for the phone's response.
        case sentInitialMessage(SymmetricState, ephemeral: P256.PrivateKey)
        /// The handshake succeeded and its result was handed out.
        case complete
        /// A check failed; the session is over.
        case failed
    }

    /// Which handshake this is.
    public let pattern: HandshakePattern
    private let staticKey: StaticKey
    private let crypterPolicy: Crypter.ConstructionPolicy
    private var state: State

    /// The desktop's default crypter policy: the current construction, falling back to the legacy one
    /// if the phone's first message does not authenticate (older Android Chrome).
    public static let defaultCrypterPolicy = Crypter.ConstructionPolicy.fallbackOnFirstRead(initial: .current)

    // MARK: - Initialisers

    /// A QR-flow (KNpsk0) initiator.
    ///
    /// - Parameters:
    ///   - psk: `Derive(qrSecret, advertPlaintext, psk, 32)`.
    ///   - identity: the desktop's QR key, whose public half the QR code carries.
    ///   - ephemeral: this handshake's ephemeral key (random in production; fixed in known-answer tests).
    ///   - crypterPolicy: how the resulting crypter picks its construction.
    package init(
        qrFlowWith psk: PreSharedKey,
        identity: P256.PrivateKey,
        ephemeral: P256.PrivateKey,
        crypterPolicy: Crypter.ConstructionPolicy = Self.defaultCrypterPolicy
    ) {
        self.pattern = .knpsk0
        self.staticKey = .localIdentity(identity)
        self.crypterPolicy = crypterPolicy
        self.state = .idle(psk: psk, ephemeral: ephemeral)
    }

    /// A linked-flow (NKpsk0) initiator.
    ///
    /// - Parameters:
    ///   - psk: `Derive(linkSecret, advertPlaintext, psk, 32)`.
    ///   - phoneIdentity: the phone's identity key from its linking info (key 4).
    ///   - ephemeral: this handshake's ephemeral key.
    ///   - crypterPolicy: how the resulting crypter picks its construction.
    package init(
        linkedFlowWith psk: PreSharedKey,
        phoneIdentity: P256.PublicKey,
        ephemeral: P256.PrivateKey,
        crypterPolicy: Crypter.ConstructionPolicy = Self.defaultCrypterPolicy
    ) {
        self.pattern = .nkpsk0
        self.staticKey = .peerIdentity(phoneIdentity)
        self.crypterPolicy = crypterPolicy
        self.state = .idle(psk: psk, ephemeral: ephemeral)
    }

    /// A QR-flow (KNpsk0) initiator from raw key bytes.
    ///
    /// - Parameters:
    ///   - identityScalar: the 32-byte big-endian private scalar of the desktop's QR key.
    ///   - ephemeralScalar: a fixed 32-byte ephemeral scalar, or `nil` for a fresh random one.
    ///   - psk: the transaction's pre-shared key (derived from the QR secret and the advert plaintext).
    ///   - crypterPolicy: the crypter construction to start with (``Crypter/ConstructionPolicy``).
    /// - Throws: ``CableProtocolError/Code/handshakeInvalidKey`` for a scalar that is not in [1, n − 1].
    public init(
        qrFlowWith psk: PreSharedKey,
        identityScalar: [UInt8],
        ephemeralScalar: [UInt8]? = nil,
        crypterPolicy: Crypter.ConstructionPolicy = Self.defaultCrypterPolicy
    ) throws(CableProtocolError) {
        let identity = try HandshakeSupport.privateKey(scalar: identityScalar, role: "identity key")
        let ephemeral = try Self.ephemeral(ephemeralScalar)
        self.init(qrFlowWith: psk, identity: identity, ephemeral: ephemeral, crypterPolicy: crypterPolicy)
    }

    /// A QR-flow (KNpsk0) initiator for the QR code generated from `qrKey`.
    ///
    /// - Parameters:
    ///   - qrKey: the key behind the QR code the phone scanned (its public half is QR key 0).
    ///   - ephemeralScalar: a fixed 32-byte ephemeral scalar, or `nil` for a fresh random one.
    ///   - psk: the transaction's pre-shared key (derived from the QR secret and the advert plaintext).
    ///   - crypterPolicy: the crypter construction to start with (``Crypter/ConstructionPolicy``).
    /// - Throws: ``CableProtocolError/Code/handshakeInvalidKey`` for a malformed ephemeral scalar.
    public init(
        qrFlowWith psk: PreSharedKey,
        qrKey: QRGeneratorKey,
        ephemeralScalar: [UInt8]? = nil,
        crypterPolicy: Crypter.ConstructionPolicy = Self.defaultCrypterPolicy
    ) throws(CableProtocolError) {
        let ephemeral = try Self.ephemeral(ephemeralScalar)
        self.init(qrFlowWith: psk, identity: qrKey.privateKey, ephemeral: ephemeral, crypterPolicy: crypterPolicy)
    }

    /// A linked-flow (NKpsk0) initiator from raw key bytes.
    ///
    /// - Parameters:
    ///   - phoneIdentity: the phone's 65-byte uncompressed identity key (linking info key 4).
    ///   - ephemeralScalar: a fixed 32-byte ephemeral scalar, or `nil` for a fresh random one.
    ///   - psk: the transaction's pre-shared key (derived from the QR secret and the advert plaintext).
    ///   - crypterPolicy: the crypter construction to start with (``Crypter/ConstructionPolicy``).
    /// - Throws: ``CableProtocolError/Code/handshakeInvalidKey`` for a malformed key.
    public init(
        linkedFlowWith psk: PreSharedKey,
        phoneIdentity: [UInt8],
        ephemeralScalar: [UInt8]? = nil,
        crypterPolicy: Crypter.ConstructionPolicy = Self.defaultCrypterPolicy
    ) throws(CableProtocolError) {
        let identity = try HandshakeSupport.publicKey(uncompressed: phoneIdentity, role: "phone identity key")
        let ephemeral = try Self.ephemeral(ephemeralScalar)
        self.init(linkedFlowWith: psk, phoneIdentity: identity, ephemeral: ephemeral, crypterPolicy: crypterPolicy)
    }

    // MARK: - Transitions

    /// Builds message 1: the 65-byte ephemeral key then the 16-byte tag over an empty payload.
    ///
    /// - Precondition: called once, first.
    /// - Throws: ``CableProtocolError/Code/handshakeCryptoFailure`` only if OpenSSL fails.
    public mutating func makeInitialMessage() throws(CableProtocolError) -> [UInt8] {
        switch self.state {
        case .idle(let psk, let ephemeral):
            self.state = .failed  // Until this succeeds.
            var symmetric = SymmetricState(pattern: self.pattern)
            switch self.staticKey {
            case .localIdentity(let identity): symmetric.mixHash(identity.publicKey.uncompressedRepresentation)
            case .peerIdentity(let identity): symmetric.mixHash(identity.uncompressedRepresentation)
            }
            symmetric.mixKeyAndHash(psk.bytes)

            let ephemeralPublic = ephemeral.publicKey.uncompressedRepresentation
            symmetric.mixHash(ephemeralPublic)
            symmetric.mixKey(ephemeralPublic)  // psk0: every `e` token also keys.
            if case .peerIdentity(let phoneIdentity) = self.staticKey {
                symmetric.mixKey(try HandshakeSupport.sharedSecret(ephemeral, phoneIdentity))  // es
            }
            let tag = try symmetric.encryptAndHash([])
            self.state = .sentInitialMessage(symmetric, ephemeral: ephemeral)
            return ephemeralPublic + tag
        case .sentInitialMessage, .complete, .failed:
            preconditionFailure("the initial handshake message is built once, first")
        }
    }

    /// Processes the phone's response and completes the handshake.
    ///
    /// - Returns: the crypter (write = k1, read = k2) and the handshake hash.
    /// - Throws: ``CableProtocolError/Code/handshakeInvalidMessageLength`` unless exactly 81 bytes;
    ///   ``CableProtocolError/Code/handshakeInvalidPublicKey``;
    ///   ``CableProtocolError/Code/handshakeAuthenticationFailed``;
    ///   ``CableProtocolError/Code/handshakeUnexpectedMessage`` after completion or failure.
    /// - Precondition: ``makeInitialMessage()`` was called.
    public mutating func receiveResponse(_ response: [UInt8]) throws(CableProtocolError) -> HandshakeResult {
        switch self.state {
        case .sentInitialMessage(var symmetric, let ephemeral):
            self.state = .failed  // Until every check passes.
            // Chromium demands exactly kResponseSize; anything else is not a response.
            guard response.count == HandshakeMessageSize.message else {
                throw CableProtocolError(
                    .handshakeInvalidMessageLength,
                    "handshake response is \(response.count) bytes, expected \(HandshakeMessageSize.message)"
                )
            }
            let peerPoint = response[0..<HandshakeMessageSize.ephemeralKey]
            let tag = Array(response[HandshakeMessageSize.ephemeralKey...])
            let peerEphemeral = try HandshakeSupport.peerEphemeral(peerPoint)
            let ee = try HandshakeSupport.sharedSecret(ephemeral, peerEphemeral)

            symmetric.mixHash(peerPoint)
            symmetric.mixKey(peerPoint)
            symmetric.mixKey(ee)
            if case .localIdentity(let identity) = self.staticKey {
                symmetric.mixKey(try HandshakeSupport.sharedSecret(identity, peerEphemeral))  // se
            }
            let payload = try symmetric.decryptAndHash(tag)
            guard payload.isEmpty else {
                throw CableProtocolError(.handshakeUnexpectedPayload, "handshake response carried a payload")
            }

            let keys = symmetric.split()
            self.state = .complete
            return HandshakeResult(
                crypter: Crypter(readKey: keys.second, writeKey: keys.first, policy: self.crypterPolicy),
                handshakeHash: HandshakeHash(symmetric.handshakeHash)
            )
        case .complete, .failed:
            throw CableProtocolError(.handshakeUnexpectedMessage, "no handshake message is expected now")
        case .idle:
            preconditionFailure("a response cannot be processed before the initial message is sent")
        }
    }

    /// The pattern and phase only; no key material.
    public var description: String {
        let phase: String
        switch self.state {
        case .idle: phase = "idle"
        case .sentInitialMessage: phase = "sentInitialMessage"
        case .complete: phase = "complete"
        case .failed: phase = "failed"
        }
        return "HandshakeInitiator(\(self.pattern.protocolName), \(phase))"
    }

    private static func ephemeral(_ scalar: [UInt8]?) throws(CableProtocolError) -> P256.PrivateKey {
        guard let scalar else { return try HandshakeSupport.randomEphemeral() }
        return try HandshakeSupport.privateKey(scalar: scalar, role: "ephemeral key")
    }
}

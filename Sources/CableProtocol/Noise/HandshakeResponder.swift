package import CableCrypto

/// The phone's side of the caBLE Noise handshake (Chromium `RespondToHandshake`, hybrid-protocol.md §6.3).
///
/// A sans-I/O value-type state machine with one transition: ``respond(to:)`` consumes the desktop's
/// message 1 and returns the 81-byte response together with the ``HandshakeResult``. Chromium's order:
///
/// ```
/// length ≥ 65; MixHash(prologue) MixHash(static pub) MixKeyAndHash(psk) MixHash(e_i) MixKey(e_i);
/// parse e_i; [NK: MixKey(ECDH(S_phone, e_i))]; DecryptAndHash(rest) == ∅;
/// MixHash(e_r) MixKey(e_r) MixKey(ECDH(e_r, e_i)) [KN: MixKey(ECDH(e_r, S_desktop))];
/// EncryptAndHash(∅) → e_r ‖ tag; Split → read k1, write k2
/// ```
///
/// Like Chromium, the responder accepts a message longer than 81 bytes only if the extra bytes
/// authenticate *and* decrypt to nothing, which cannot happen; so in effect it requires 81 bytes too.
///
/// `~Copyable`, like the ``Crypter`` it makes: a copy taken before ``respond(to:)`` could answer the same
/// message twice and yield two crypters that seal under one key and nonce.
@_spi(Fuzzing) public struct HandshakeResponder: ~Copyable, Sendable {
    /// The static key that precedes the handshake, by pattern.
    private enum StaticKey: Sendable {
        /// KNpsk0: the desktop's QR key, from the scanned QR code.
        case peerIdentity(P256.PublicKey)
        /// NKpsk0: the phone's own identity key.
        case localIdentity(P256.PrivateKey)
    }

    private enum State: Sendable {
        /// Waiting for the desktop's message 1.
        case awaitingInitialMessage(psk: PreSharedKey, ephemeral: P256.PrivateKey)
        /// Responded; the result was handed out.
        case complete
        /// A check failed; the session is over.
        case failed
    }

    /// Which handshake this is.
    public let pattern: HandshakePattern
    private let staticKey: StaticKey
    private let crypterPolicy: Crypter.ConstructionPolicy
    private var state: State

    /// Phones always use the current construction (as Chromium's and webauthn-rs' phone roles do).
    public static let defaultCrypterPolicy = Crypter.ConstructionPolicy.fixed(.current)

    // MARK: - Initialisers

    /// A QR-flow (KNpsk0) responder.
    ///
    /// - Parameters:
    ///   - psk: `Derive(qrSecret, advertPlaintext, psk, 32)`.
    ///   - desktopIdentity: the desktop's QR key, from QR key 0 (decompressed).
    ///   - ephemeral: this handshake's ephemeral key (random in production; fixed in known-answer tests).
    package init(
        qrFlowWith psk: PreSharedKey,
        desktopIdentity: P256.PublicKey,
        ephemeral: P256.PrivateKey,
        crypterPolicy: Crypter.ConstructionPolicy = Self.defaultCrypterPolicy
    ) {
        self.pattern = .knpsk0
        self.staticKey = .peerIdentity(desktopIdentity)
        self.crypterPolicy = crypterPolicy
        self.state = .awaitingInitialMessage(psk: psk, ephemeral: ephemeral)
    }

    /// A linked-flow (NKpsk0) responder.
    ///
    /// - Parameters:
    ///   - psk: `Derive(linkSecret, advertPlaintext, psk, 32)`.
    ///   - identity: the phone's long-term identity key.
    ///   - ephemeral: this handshake's ephemeral key.
    package init(
        linkedFlowWith psk: PreSharedKey,
        identity: P256.PrivateKey,
        ephemeral: P256.PrivateKey,
        crypterPolicy: Crypter.ConstructionPolicy = Self.defaultCrypterPolicy
    ) {
        self.pattern = .nkpsk0
        self.staticKey = .localIdentity(identity)
        self.crypterPolicy = crypterPolicy
        self.state = .awaitingInitialMessage(psk: psk, ephemeral: ephemeral)
    }

    /// A QR-flow (KNpsk0) responder from raw key bytes.
    ///
    /// - Parameters:
    ///   - desktopIdentity: the desktop's QR key as X9.62 bytes (the QR code's 33-byte compressed form, or
    ///     65 bytes uncompressed).
    ///   - ephemeralScalar: a fixed 32-byte ephemeral scalar, or `nil` for a fresh random one.
    ///   - psk: the transaction's pre-shared key (derived from the QR secret and the advert plaintext).
    ///   - crypterPolicy: the crypter construction to start with (``Crypter/ConstructionPolicy``).
    /// - Throws: ``CableProtocolError/Code/handshakeInvalidKey`` for a malformed key.
    public init(
        qrFlowWith psk: PreSharedKey,
        desktopIdentity: [UInt8],
        ephemeralScalar: [UInt8]? = nil,
        crypterPolicy: Crypter.ConstructionPolicy = Self.defaultCrypterPolicy
    ) throws(CableProtocolError) {
        let identity: P256.PublicKey
        do throws(CryptoError) {
            identity = try P256.PublicKey(x962Representation: desktopIdentity)
        } catch {
            throw CableProtocolError(.handshakeInvalidKey, "desktop identity key is not a P-256 point")
        }
        let ephemeral = try Self.ephemeral(ephemeralScalar)
        self.init(qrFlowWith: psk, desktopIdentity: identity, ephemeral: ephemeral, crypterPolicy: crypterPolicy)
    }

    /// A linked-flow (NKpsk0) responder from raw key bytes.
    ///
    /// - Parameters:
    ///   - identityScalar: the 32-byte big-endian scalar of the phone's identity key.
    ///   - ephemeralScalar: a fixed 32-byte ephemeral scalar, or `nil` for a fresh random one.
    ///   - psk: the transaction's pre-shared key (derived from the QR secret and the advert plaintext).
    ///   - crypterPolicy: the crypter construction to start with (``Crypter/ConstructionPolicy``).
    /// - Throws: ``CableProtocolError/Code/handshakeInvalidKey`` for a scalar that is not in [1, n − 1].
    public init(
        linkedFlowWith psk: PreSharedKey,
        identityScalar: [UInt8],
        ephemeralScalar: [UInt8]? = nil,
        crypterPolicy: Crypter.ConstructionPolicy = Self.defaultCrypterPolicy
    ) throws(CableProtocolError) {
        let identity = try HandshakeSupport.privateKey(scalar: identityScalar, role: "identity key")
        let ephemeral = try Self.ephemeral(ephemeralScalar)
        self.init(linkedFlowWith: psk, identity: identity, ephemeral: ephemeral, crypterPolicy: crypterPolicy)
    }

    // MARK: - Transition

    /// Processes the desktop's message 1 and answers it.
    ///
    /// - Returns: the 81-byte response to send, and the crypter (read = k1, write = k2) with the
    ///   handshake hash.
    /// - Throws: ``CableProtocolError/Code/handshakeInvalidMessageLength`` under 65 bytes (or over the
    ///   1 MiB a tunnel message can be); ``CableProtocolError/Code/handshakeInvalidPublicKey``;
    ///   ``CableProtocolError/Code/handshakeAuthenticationFailed``;
    ///   ``CableProtocolError/Code/handshakeUnexpectedPayload``;
    ///   ``CableProtocolError/Code/handshakeUnexpectedMessage`` for any message after the first.
    public mutating func respond(
        to message: [UInt8]
    ) throws(CableProtocolError) -> HandshakeResponse {
        switch self.state {
        case .awaitingInitialMessage(let psk, let ephemeral):
            self.state = .failed  // Until every check passes.
            guard message.count >= HandshakeMessageSize.ephemeralKey,
                message.count <= TunnelServiceProtocol.maxMessageSize
            else {
                throw CableProtocolError(
                    .handshakeInvalidMessageLength,
                    "handshake message is \(message.count) bytes, expected at least 65"
                )
            }
            let peerPoint = message[0..<HandshakeMessageSize.ephemeralKey]
            let ciphertext = Array(message[HandshakeMessageSize.ephemeralKey...])

            var symmetric = SymmetricState(pattern: self.pattern)
            switch self.staticKey {
            case .peerIdentity(let identity): symmetric.mixHash(identity.uncompressedRepresentation)
            case .localIdentity(let identity): symmetric.mixHash(identity.publicKey.uncompressedRepresentation)
            }
            symmetric.mixKeyAndHash(psk.bytes)
            symmetric.mixHash(peerPoint)
            symmetric.mixKey(peerPoint)

            let peerEphemeral = try HandshakeSupport.peerEphemeral(peerPoint)
            if case .localIdentity(let identity) = self.staticKey {
                symmetric.mixKey(try HandshakeSupport.sharedSecret(identity, peerEphemeral))  // es
            }
            let payload = try symmetric.decryptAndHash(ciphertext)
            guard payload.isEmpty else {
                throw CableProtocolError(.handshakeUnexpectedPayload, "handshake message carried a payload")
            }

            let ephemeralPublic = ephemeral.publicKey.uncompressedRepresentation
            symmetric.mixHash(ephemeralPublic)
            symmetric.mixKey(ephemeralPublic)
            symmetric.mixKey(try HandshakeSupport.sharedSecret(ephemeral, peerEphemeral))  // ee
            if case .peerIdentity(let desktopIdentity) = self.staticKey {
                symmetric.mixKey(try HandshakeSupport.sharedSecret(ephemeral, desktopIdentity))  // se
            }
            let tag = try symmetric.encryptAndHash([])

            let keys = symmetric.split()
            self.state = .complete
            let result = HandshakeResult(
                crypter: Crypter(readKey: keys.first, writeKey: keys.second, policy: self.crypterPolicy),
                handshakeHash: HandshakeHash(symmetric.handshakeHash)
            )
            return HandshakeResponse(response: ephemeralPublic + tag, result: result)
        case .complete, .failed:
            throw CableProtocolError(.handshakeUnexpectedMessage, "no handshake message is expected now")
        }
    }

    /// The pattern and phase only; no key material.
    public var description: String {
        let phase: String
        switch self.state {
        case .awaitingInitialMessage: phase = "awaitingInitialMessage"
        case .complete: phase = "complete"
        case .failed: phase = "failed"
        }
        return "HandshakeResponder(\(self.pattern.protocolName), \(phase))"
    }

    private static func ephemeral(_ scalar: [UInt8]?) throws(CableProtocolError) -> P256.PrivateKey {
        guard let scalar else { return try HandshakeSupport.randomEphemeral() }
        return try HandshakeSupport.privateKey(scalar: scalar, role: "ephemeral key")
    }
}

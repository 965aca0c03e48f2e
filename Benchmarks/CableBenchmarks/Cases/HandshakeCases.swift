import CableCrypto
@_spi(Fuzzing) import CableProtocol

/// The KNpsk0 handshake, both roles in one process, and P-256 ECDH against `openssl speed`.
///
/// One handshake performs, both roles together (read from `HandshakeInitiator`, `HandshakeResponder`
/// and `SymmetricState`):
/// - 2 P-256 key generations (one ephemeral per side),
/// - 2 P-256 point decodes (each side parses the other's 65-byte ephemeral),
/// - 4 ECDH (ee and se on each side),
/// - 12 HKDF-SHA256: per side one 96-byte `MixKeyAndHash(psk)`, four 64-byte `MixKey` and one 64-byte
///   `Split`,
/// - 2 AES-256-GCM seals and 2 opens of an empty payload (16-byte tag, 32-byte `h` as AD),
/// - 14 SHA-256 `MixHash` (7 per side).
/// The sum of those, each timed on its own through CableCrypto, is the handshake's floor; `4 ×` OpenSSL's
/// own ECDH rate is the floor of the floor.
enum HandshakeCases {
    /// The name of the sum-of-primitives baseline.
    static let primitivesName = "sum of its primitives (CableCrypto)"
    /// The name of the `openssl speed` baseline.
    static let openSSLECDHName = "openssl speed ecdhp256"

    /// ECDH, then the handshake.
    static var all: [BenchmarkCase] {
        [
            BenchmarkCase("p256.ecdh") { context in
                let ours = try P256.PrivateKey()
                let peer = try P256.PrivateKey().publicKey
                let measurement = try context.measure { blackHole(try ours.sharedSecret(with: peer)) }
                return [.timed("p256.ecdh", measurement, baseline: self.openSSLECDH(context, operations: 1))]
            },
            BenchmarkCase("handshake.knpsk0", figures: ["handshake.knpsk0", "handshake.knpsk0.vsOpenSSL"]) { context in
                let desktopIdentity = try P256.PrivateKey()
                let psk = try PreSharedKey(bytes: SecureRandom.bytes(count: PreSharedKey.byteCount))
                try self.checkHandshake(identity: desktopIdentity, psk: psk)
                let (figure, primitives) = try context.compare(
                    { blackHole(try self.handshake(identity: desktopIdentity, psk: psk).desktop.handshakeHash) },
                    withSumOf: try self.primitives(),
                    named: self.primitivesName
                )
                return [
                    .timed("handshake.knpsk0", figure, baseline: primitives),
                    .timed(
                        "handshake.knpsk0.vsOpenSSL",
                        figure,
                        baseline: self.openSSLECDH(context, operations: 4),
                        note: "baseline is the 4 ECDH of a handshake at openssl speed's rate, nothing else"
                    ),
                ]
            },
        ]
    }

    /// Both sides' results (a struct: a tuple cannot hold the `~Copyable` results).
    struct Results: ~Copyable {
        var desktop: HandshakeResult
        var phone: HandshakeResult
    }

    /// One complete QR-flow handshake: both sides' fresh ephemeral keys, message 1, the response, and
    /// both results.
    static func handshake(identity: P256.PrivateKey, psk: PreSharedKey) throws -> Results {
        var initiator = HandshakeInitiator(qrFlowWith: psk, identity: identity, ephemeral: try P256.PrivateKey())
        var responder = HandshakeResponder(
            qrFlowWith: psk,
            desktopIdentity: identity.publicKey,
            ephemeral: try P256.PrivateKey()
        )
        let message = try initiator.makeInitialMessage()
        let answer = try responder.respond(to: message)
        let desktop = try initiator.receiveResponse(answer.response)
        return Results(desktop: desktop, phone: answer.result)
    }

    /// Refuses to time a handshake whose two sides do not end with matching crypters.
    static func checkHandshake(identity: P256.PrivateKey, psk: PreSharedKey) throws {
        var results = try self.handshake(identity: identity, psk: psk)
        let probe: [UInt8] = Array("benchmark".utf8)
        guard results.desktop.handshakeHash == results.phone.handshakeHash,
            try results.phone.crypter.open(try results.desktop.crypter.seal(probe)) == probe
        else {
            throw BenchmarkError(.operationFailed, "the two handshake roles did not agree")
        }
    }

    /// Each primitive of a handshake, through CableCrypto, with how often a handshake performs it.
    static func primitives() throws -> [(operation: TimedOperation, count: Int)] {
        let first = try P256.PrivateKey()
        let second = try P256.PrivateKey()
        let uncompressed = second.publicKey.uncompressedRepresentation
        let chainingKey = SecureRandom.bytes(count: 32)
        let inputKey = SecureRandom.bytes(count: 32)
        let gcmKey = SecureRandom.bytes(count: 32)
        let nonce = [UInt8](repeating: 0, count: 12)
        let transcript = SecureRandom.bytes(count: 32)
        let tag = try AES256GCM.seal([UInt8](), key: gcmKey, nonce: nonce, additionalData: transcript)
        let hashInput = SecureRandom.bytes(count: 32 + 65)
        return [
            (TimedOperation(name: "P-256 key generation") { blackHole(try P256.PrivateKey()) }, 2),
            (
                TimedOperation(name: "P-256 point decode (65 B)") {
                    blackHole(try P256.PublicKey(x962Representation: uncompressed))
                }, 2
            ),
            (TimedOperation(name: "P-256 ECDH") { blackHole(try first.sharedSecret(with: second.publicKey)) }, 4),
            (
                TimedOperation(name: "HKDF-SHA256 64 B") {
                    blackHole(
                        HKDFSHA256.deriveKey(
                            inputKeyMaterial: inputKey,
                            salt: chainingKey,
                            info: [UInt8](),
                            outputByteCount: 64
                        )
                    )
                }, 10
            ),
            (
                TimedOperation(name: "HKDF-SHA256 96 B") {
                    blackHole(
                        HKDFSHA256.deriveKey(
                            inputKeyMaterial: inputKey,
                            salt: chainingKey,
                            info: [UInt8](),
                            outputByteCount: 96
                        )
                    )
                }, 2
            ),
            (
                TimedOperation(name: "AES-256-GCM seal (empty)") {
                    blackHole(try AES256GCM.seal([UInt8](), key: gcmKey, nonce: nonce, additionalData: transcript))
                }, 2
            ),
            (
                TimedOperation(name: "AES-256-GCM open (tag only)") {
                    blackHole(try AES256GCM.open(tag, key: gcmKey, nonce: nonce, additionalData: transcript))
                }, 2
            ),
            (TimedOperation(name: "SHA-256 (97 B)") { blackHole(SHA256.hash(hashInput)) }, 14),
        ]
    }

    /// `operations` ECDH at the rate `openssl speed ecdhp256` reports in this run.
    static func openSSLECDH(_ context: BenchmarkContext, operations: Int) -> Baseline {
        let name = operations == 1 ? self.openSSLECDHName : "\(operations) × \(self.openSSLECDHName)"
        switch context.openSSLECDHP256() {
        case .success(let rate):
            return .external(name, value: rate, unit: "op/s", impliedNs: Double(operations) * 1e9 / rate)
        case .failure(let error):
            return .unavailable(name, reason: error.reason)
        }
    }
}

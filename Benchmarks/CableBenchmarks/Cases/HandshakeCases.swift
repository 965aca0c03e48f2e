import CableCrypto
import CableProtocol

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
    static let primitivesName = "sum of its primitives (CableCrypto)"
    static let openSSLECDHName = "openssl speed ecdhp256"

    static var all: [BenchmarkCase] {
        [
            BenchmarkCase("p256.ecdh") { context in
                let ours = try P256.PrivateKey()
                let peer = try P256.PrivateKey().publicKey
                let measurement = try context.measure { () throws(CryptoError) in
                    blackHole(try ours.sharedSecret(with: peer))
                }
                return [.timed("p256.ecdh", measurement, baseline: self.openSSLECDH(context, operations: 1))]
            },
            BenchmarkCase("handshake.knpsk0", figures: ["handshake.knpsk0", "handshake.knpsk0.vsOpenSSL"]) { context in
                let desktopIdentity = try P256.PrivateKey()
                let psk = try PreSharedKey(bytes: SecureRandom.bytes(count: PreSharedKey.byteCount))
                try self.checkHandshake(identity: desktopIdentity, psk: psk)
                let measurement = try context.measure {
                    blackHole(try self.handshake(identity: desktopIdentity, psk: psk))
                }
                return [
                    .timed("handshake.knpsk0", measurement, baseline: try self.primitives(context)),
                    .timed(
                        "handshake.knpsk0.vsOpenSSL", measurement, baseline: self.openSSLECDH(context, operations: 4),
                        note: "baseline is the 4 ECDH of a handshake at openssl speed's rate, nothing else"),
                ]
            },
        ]
    }

    /// One complete QR-flow handshake: both sides' fresh ephemeral keys, message 1, the response, and
    /// both results.
    static func handshake(
        identity: P256.PrivateKey, psk: PreSharedKey
    ) throws -> (desktop: HandshakeResult, phone: HandshakeResult) {
        var initiator = HandshakeInitiator(qrFlowWith: psk, identity: identity, ephemeral: try P256.PrivateKey())
        var responder = HandshakeResponder(
            qrFlowWith: psk, desktopIdentity: identity.publicKey, ephemeral: try P256.PrivateKey())
        let message = try initiator.makeInitialMessage()
        let (response, phone) = try responder.respond(to: message)
        let desktop = try initiator.receiveResponse(response)
        return (desktop, phone)
    }

    /// Refuses to time a handshake whose two sides do not end with matching crypters.
    static func checkHandshake(identity: P256.PrivateKey, psk: PreSharedKey) throws {
        var (desktop, phone) = try self.handshake(identity: identity, psk: psk)
        let probe: [UInt8] = Array("benchmark".utf8)
        guard desktop.handshakeHash == phone.handshakeHash,
            try phone.crypter.open(try desktop.crypter.seal(probe)) == probe
        else {
            throw BenchmarkError(.operationFailed, "the two handshake roles did not agree")
        }
    }

    /// Each primitive of a handshake timed through CableCrypto, with its count.
    static func primitives(_ context: BenchmarkContext) throws -> Baseline {
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

        func component(_ name: String, count: Int, _ operation: () throws -> Void) throws -> Baseline.Component {
            Baseline.Component(name: name, count: count, medianNs: try context.baseline(name, operation).median)
        }
        return .sum(
            self.primitivesName,
            of: [
                try component("P-256 key generation", count: 2) { blackHole(try P256.PrivateKey()) },
                try component("P-256 point decode (65 B)", count: 2) {
                    blackHole(try P256.PublicKey(x962Representation: uncompressed))
                },
                try component("P-256 ECDH", count: 4) { blackHole(try first.sharedSecret(with: second.publicKey)) },
                try component("HKDF-SHA256 64 B", count: 10) {
                    blackHole(
                        HKDFSHA256.deriveKey(
                            inputKeyMaterial: inputKey, salt: chainingKey, info: [UInt8](), outputByteCount: 64))
                },
                try component("HKDF-SHA256 96 B", count: 2) {
                    blackHole(
                        HKDFSHA256.deriveKey(
                            inputKeyMaterial: inputKey, salt: chainingKey, info: [UInt8](), outputByteCount: 96))
                },
                try component("AES-256-GCM seal (empty)", count: 2) {
                    blackHole(try AES256GCM.seal([UInt8](), key: gcmKey, nonce: nonce, additionalData: transcript))
                },
                try component("AES-256-GCM open (tag only)", count: 2) {
                    blackHole(try AES256GCM.open(tag, key: gcmKey, nonce: nonce, additionalData: transcript))
                },
                try component("SHA-256 (97 B)", count: 14) { blackHole(SHA256.hash(hashInput)) },
            ])
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

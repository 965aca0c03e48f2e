internal import CableCrypto

/// The final Noise handshake hash `h` (32 bytes): a digest of the whole transcript that both sides share
/// once the handshake succeeds. caBLE uses it as the channel binding of the linking signature
/// (hybrid-protocol.md §9.2). It is treated as a secret: `description` is redacted and the bytes are
/// reachable only through package API.
public struct HandshakeHash: Hashable, Sendable, CustomStringConvertible {
    /// Size (SHA-256).
    public static let byteCount = 32
    /// The hash. Never log it.
    package let bytes: [UInt8]

    /// Wraps the final `h` of a handshake.
    ///
    /// - Precondition: 32 bytes.
    package init(_ bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount)
        self.bytes = bytes
    }

    /// Compares in constant time.
    public static func == (lhs: HandshakeHash, rhs: HandshakeHash) -> Bool {
        constantTimeEquals(lhs.bytes, rhs.bytes)
    }

    /// Hashes the length only, so a hash table never depends on the secret bytes.
    public func hash(into hasher: inout Hasher) { hasher.combine(Self.byteCount) }

    /// Always redacted.
    public var description: String { "HandshakeHash(redacted)" }
}

/// What a completed handshake yields: the transport crypter and the handshake hash. `~Copyable`
/// because it owns the session's only ``Crypter``. `@frozen` so that other modules can move the
/// crypter out (`var crypter = result.crypter`): partial consumption needs a frozen layout.
@frozen
public struct HandshakeResult: ~Copyable, Sendable {
    /// The crypter for the rest of the session, keyed for this side's direction.
    public var crypter: Crypter
    /// The transcript hash, for the linking signature.
    public let handshakeHash: HandshakeHash

    /// Bundles what `Split` and the final hash give.
    package init(crypter: consuming Crypter, handshakeHash: HandshakeHash) {
        self.crypter = crypter
        self.handshakeHash = handshakeHash
    }

    /// The crypter's counters; the hash redacted.
    public var description: String { "HandshakeResult(\(self.crypter.description), \(self.handshakeHash))" }
}

/// What the responder's `HandshakeResponder.respond(to:)` yields: the message to send back and the
/// completed handshake. (A struct, not a tuple: tuples cannot hold the `~Copyable` result; `@frozen` so
/// other modules can move ``result`` out.)
@frozen
public struct HandshakeResponse: ~Copyable, Sendable {
    /// The 81-byte response (`e_r ‖ tag`) to send to the desktop.
    public let response: [UInt8]
    /// The crypter (read = k1, write = k2) and the handshake hash.
    public var result: HandshakeResult

    package init(response: [UInt8], result: consuming HandshakeResult) {
        self.response = response
        self.result = result
    }
}

extension CableProtocolError.Code {
    /// A handshake message had the wrong length (initiator: not exactly 81 bytes; responder: under 65).
    public static let handshakeInvalidMessageLength = Self(rawValue: "handshakeInvalidMessageLength")
    /// A handshake message's ephemeral key is not a valid uncompressed P-256 point.
    public static let handshakeInvalidPublicKey = Self(rawValue: "handshakeInvalidPublicKey")
    /// A handshake message decrypted to a non-empty payload (caBLE handshakes carry none).
    public static let handshakeUnexpectedPayload = Self(rawValue: "handshakeUnexpectedPayload")
    /// A handshake message arrived when none was expected (after completion or after a failure).
    public static let handshakeUnexpectedMessage = Self(rawValue: "handshakeUnexpectedMessage")
    /// A static or ephemeral key given to a handshake was malformed (wrong length, not on the curve,
    /// or a scalar out of range).
    public static let handshakeInvalidKey = Self(rawValue: "handshakeInvalidKey")
}

/// Helpers shared by both handshake roles.
enum HandshakeSupport {
    /// Parses a peer's 65-byte uncompressed ephemeral point. Chromium's `EC_POINT_oct2point` accepts
    /// only what is on the curve; the point is taken from a fixed-length slice, so only the uncompressed
    /// form fits.
    static func peerEphemeral(_ bytes: ArraySlice<UInt8>) throws(CableProtocolError) -> P256.PublicKey {
        guard bytes.first == 0x04 else {
            throw CableProtocolError(.handshakeInvalidPublicKey, "ephemeral key is not an uncompressed point")
        }
        do throws(CryptoError) {
            return try P256.PublicKey(x962Representation: bytes)
        } catch {
            throw CableProtocolError(.handshakeInvalidPublicKey, "ephemeral key is not a P-256 point")
        }
    }

    /// ECDH, mapping an (unexpected) OpenSSL failure to a typed error.
    static func sharedSecret(
        _ privateKey: P256.PrivateKey,
        _ publicKey: P256.PublicKey
    ) throws(CableProtocolError) -> SecretBytes {
        do throws(CryptoError) {
            return try privateKey.sharedSecret(with: publicKey)
        } catch {
            throw CableProtocolError(.handshakeCryptoFailure, "ECDH failed: \(error.code.rawValue)")
        }
    }

    /// A private key from a 32-byte big-endian scalar.
    static func privateKey(scalar: [UInt8], role: String) throws(CableProtocolError) -> P256.PrivateKey {
        do throws(CryptoError) {
            return try P256.PrivateKey(rawScalar: scalar)
        } catch {
            throw CableProtocolError(.handshakeInvalidKey, "\(role) is not a valid P-256 scalar")
        }
    }

    /// A fresh random ephemeral key.
    static func randomEphemeral() throws(CableProtocolError) -> P256.PrivateKey {
        do throws(CryptoError) {
            return try P256.PrivateKey()
        } catch {
            throw CableProtocolError(.handshakeCryptoFailure, "ephemeral key generation failed")
        }
    }

    /// A public key from 65 uncompressed bytes, as linking info and QR-derived keys carry them.
    static func publicKey(uncompressed bytes: [UInt8], role: String) throws(CableProtocolError) -> P256.PublicKey {
        guard bytes.count == CableConstants.uncompressedPublicKeySize, bytes.first == 0x04 else {
            throw CableProtocolError(.handshakeInvalidKey, "\(role) must be a 65-byte uncompressed point")
        }
        do throws(CryptoError) {
            return try P256.PublicKey(x962Representation: bytes)
        } catch {
            throw CableProtocolError(.handshakeInvalidKey, "\(role) is not a P-256 point")
        }
    }
}

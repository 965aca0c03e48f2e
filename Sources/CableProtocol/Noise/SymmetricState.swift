package import CableCrypto

extension CableProtocolError.Code {
    /// A handshake message's AES-GCM tag did not verify (wrong PSK, wrong keys, or tampering).
    public static let handshakeAuthenticationFailed = Self(rawValue: "handshakeAuthenticationFailed")
    /// An OpenSSL operation failed during the handshake for a reason unrelated to the peer's input.
    public static let handshakeCryptoFailure = Self(rawValue: "handshakeCryptoFailure")
}

/// Noise's SymmetricState object, as Chromium's `device/fido/cable/noise.cc` implements it
/// (<https://noiseprotocol.org/noise.html#the-symmetricstate-object>, hybrid-protocol.md §6.2).
///
/// It holds the chaining key `ck`, the handshake hash `h` and the CipherState (`k`, `n`). The operations
/// are named after the spec so the code can be read beside it. caBLE's differences from textbook Noise:
/// - the protocol name is always exactly 32 bytes (the 31-character names plus the C string's NUL), so
///   `ck = h = name` with no hashing;
/// - the handshake AEAD nonce carries the counter big-endian in bytes 0–3 (textbook Noise: bytes 4–11).
///   Every encryption in these patterns directly follows a `MixKey`, so the nonce is always zero and
///   the difference never shows on the wire.
///
/// This is a value type: copying it forks the transcript, which back-to-back tests rely on.
/// Its `description` never shows `ck`, `h` or `k`.
package struct SymmetricState: Sendable, CustomStringConvertible {
    /// `HASHLEN` for SHA-256.
    package static let hashLength = SHA256.byteCount

    /// The chaining key `ck`.
    package private(set) var chainingKey: SecretBytes
    /// The handshake hash `h`: the transcript digest, and the channel binding once the handshake is done.
    package private(set) var handshakeHash: [UInt8]
    /// The CipherState key `k`; `nil` until the first `MixKey` (Noise's "empty" key).
    package private(set) var cipherKey: SecretBytes?
    /// The CipherState nonce `n`, reset by every key change.
    package private(set) var nonce: UInt32

    /// `InitializeSymmetric(protocol_name)`: `ck = h = name` zero-padded to 32 bytes.
    ///
    /// - Precondition: the name is at most 32 bytes (both caBLE names are 31).
    package init(protocolName: String) {
        var name = Array(protocolName.utf8)
        precondition(name.count <= Self.hashLength, "Noise protocol names longer than HASHLEN must be hashed")
        name += [UInt8](repeating: 0, count: Self.hashLength - name.count)
        self.chainingKey = SecretBytes(name)
        self.handshakeHash = name
        self.cipherKey = nil
        self.nonce = 0
    }

    /// Starts the transcript of `pattern`: initialises with its name and mixes its prologue byte.
    package init(pattern: HandshakePattern) {
        self.init(protocolName: pattern.protocolName)
        self.mixHash([pattern.prologue])
    }

    /// `MixHash(data)`: `h = SHA-256(h ‖ data)`.
    package mutating func mixHash(_ data: some Collection<UInt8>) {
        // Borrowed buffers reach CableCrypto's concrete entry point; its generic one would run unspecialised.
        let digest = data.withContiguousStorageIfAvailable { data in
            self.handshakeHash.withUnsafeBufferPointer { hash in SHA256.hash(hash, data) }
        }
        if let digest {
            self.handshakeHash = digest
        } else {
            self.mixHash(Array(data))
        }
    }

    /// `MixKey(ikm)`: `(ck, k) = HKDF(salt: ck, ikm, info: ∅, 64)`; the nonce restarts at zero.
    package mutating func mixKey(_ inputKeyMaterial: some Collection<UInt8>) {
        let output =
            inputKeyMaterial.withContiguousStorageIfAvailable { ikm in self.hkdf(ikm, outputs: 2) }
            ?? Array(inputKeyMaterial).withUnsafeBufferPointer { ikm in self.hkdf(ikm, outputs: 2) }
        self.chainingKey = output[0]
        self.initializeKey(output[1])
    }

    /// `MixKey(ikm)` with a secret (an ECDH result) lent in place: no ordinary copy of it is made.
    package mutating func mixKey(_ secret: SecretBytes) {
        let output = HKDFSHA256.deriveSecrets(inputKeyMaterial: secret, salt: self.chainingKey, count: 2)
        self.chainingKey = output[0]
        self.initializeKey(output[1])
    }

    /// `MixKeyAndHash(ikm)`: HKDF to three outputs; `ck` = the first, `MixHash` the second, `k` = the third.
    /// caBLE uses it once, to mix in the PSK (the `psk0` modifier).
    package mutating func mixKeyAndHash(_ inputKeyMaterial: some Collection<UInt8>) {
        let output =
            inputKeyMaterial.withContiguousStorageIfAvailable { ikm in self.hkdf(ikm, outputs: 3) }
            ?? Array(inputKeyMaterial).withUnsafeBufferPointer { ikm in self.hkdf(ikm, outputs: 3) }
        self.chainingKey = output[0]
        output[1].withUnsafeBytes { self.mixHash($0) }
        self.initializeKey(output[2])
    }

    /// `EncryptAndHash(plaintext)`: AES-256-GCM with `k`, the current nonce and `AD = h`; then
    /// `MixHash(ciphertext)`. Returns ciphertext ‖ tag.
    ///
    /// - Precondition: a key has been mixed in (both caBLE patterns always `MixKey` first).
    /// - Throws: ``CableProtocolError/Code/handshakeCryptoFailure`` if OpenSSL fails.
    package mutating func encryptAndHash(_ plaintext: [UInt8]) throws(CableProtocolError) -> [UInt8] {
        guard let key = self.cipherKey else {
            preconditionFailure("EncryptAndHash before MixKey: caBLE patterns always have a key here")
        }
        let nonce = self.nextNonce()
        let ciphertext: [UInt8]
        do throws(CryptoError) {
            ciphertext = try Self.borrowing(plaintext, nonce, self.handshakeHash) {
                (plaintext, nonce, hash) throws(CryptoError) in
                try AES256GCM.seal(plaintext, key: key, nonce: nonce, additionalData: hash)
            }
        } catch {
            throw CableProtocolError(.handshakeCryptoFailure, "AES-GCM seal failed: \(error.code.rawValue)")
        }
        self.mixHash(ciphertext)
        return ciphertext
    }

    /// `DecryptAndHash(ciphertext)`: opens with `k`, the current nonce and `AD = h`; on success
    /// `MixHash(ciphertext)`. The nonce advances either way, as in Chromium.
    ///
    /// - Precondition: a key has been mixed in.
    /// - Throws: ``CableProtocolError/Code/handshakeAuthenticationFailed`` if the tag does not verify.
    package mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(CableProtocolError) -> [UInt8] {
        guard let key = self.cipherKey else {
            preconditionFailure("DecryptAndHash before MixKey: caBLE patterns always have a key here")
        }
        let nonce = self.nextNonce()
        let plaintext: [UInt8]
        do throws(CryptoError) {
            plaintext = try Self.borrowing(ciphertext, nonce, self.handshakeHash) {
                (ciphertext, nonce, hash) throws(CryptoError) in
                try AES256GCM.open(ciphertext, key: key, nonce: nonce, additionalData: hash)
            }
        } catch {
            // Every AEAD failure looks the same to the peer: which check failed is not revealed.
            throw CableProtocolError(.handshakeAuthenticationFailed, "handshake ciphertext did not authenticate")
        }
        self.mixHash(ciphertext)
        return plaintext
    }

    /// `Split()`: `HKDF(salt: ck, ikm: ∅, info: ∅, 64)` → `(k1, k2)`. The initiator writes with `k1` and
    /// reads with `k2`; the responder the other way round (Chromium `traffic_keys`).
    package func split() -> (first: SecretBytes, second: SecretBytes) {
        let output = self.hkdf(UnsafeBufferPointer(start: nil, count: 0), outputs: 2)
        return (output[0], output[1])
    }

    /// Whether a key is set and the nonce; never `ck`, `h` or `k`.
    package var description: String {
        "SymmetricState(keyed: \(self.cipherKey != nil), nonce: \(self.nonce), secrets redacted)"
    }

    // MARK: - Private

    /// Noise's `HKDF(chaining_key, input_key_material, num_outputs)`: RFC 5869 with `salt = ck` and no info.
    /// Each output is written straight into a ``SecretBytes``.
    private func hkdf(_ inputKeyMaterial: UnsafeBufferPointer<UInt8>, outputs: Int) -> [SecretBytes] {
        HKDFSHA256.deriveSecrets(inputKeyMaterial: inputKeyMaterial, salt: self.chainingKey, count: outputs)
    }

    /// Lends three arrays' bytes to `body` (the buffers are valid only inside it).
    private static func borrowing<Result>(
        _ first: [UInt8],
        _ second: [UInt8],
        _ third: [UInt8],
        _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) throws(CryptoError)
            -> Result
    ) throws(CryptoError) -> Result {
        // `withUnsafeBufferPointer` is `rethrows`, which would erase the typed error; carry it out instead.
        var failure: CryptoError?
        let result = first.withUnsafeBufferPointer { first in
            second.withUnsafeBufferPointer { second in
                third.withUnsafeBufferPointer { third -> Result? in
                    do throws(CryptoError) {
                        return try body(first, second, third)
                    } catch {
                        failure = error
                        return nil
                    }
                }
            }
        }
        if let failure { throw failure }
        guard let result else { preconditionFailure("no result and no error") }
        return result
    }

    /// `InitializeKey(k)`: a new key restarts the nonce.
    private mutating func initializeKey(_ key: SecretBytes) {
        self.cipherKey = key
        self.nonce = 0
    }

    /// The 12-byte handshake nonce: the counter big-endian in bytes 0–3, zeros after (Chromium `noise.cc`).
    /// Post-increments `n`.
    private mutating func nextNonce() -> [UInt8] {
        let n = self.nonce
        self.nonce &+= 1
        return [
            UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), 0, 0, 0, 0, 0, 0, 0, 0,
        ]
    }
}

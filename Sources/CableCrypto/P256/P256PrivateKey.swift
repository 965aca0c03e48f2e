internal import CCableOpenSSL

extension P256 {
    /// A private key. Immutable; the OpenSSL handle is owned and freed exactly once.
    ///
    /// The scalar is held twice, both wiped on free: in OpenSSL's key (cleared by `EVP_PKEY_free`) and in
    /// ``rawScalar``'s ``SecretBytes``.
    package final class PrivateKey: Sendable, CustomStringConvertible {
        /// The key pair as an OpenSSL key, for ECDH and signing.
        let key: EVPPKey
        /// The matching public key.
        package let publicKey: PublicKey
        /// The 32-byte scalar (secret).
        package let rawScalar: SecretBytes

        /// A key from a scalar, which is checked here: every other initialiser funnels into this one.
        init(scalar: SecretBytes) throws(CryptoError) {
            let (key, publicKey) = try scalar.withBuffer { (scalar) throws(CryptoError) in
                guard scalar.count == P256Group.scalarByteCount else {
                    throw CryptoError.invalidLength(
                        "P-256 scalar",
                        expected: P256Group.scalarByteCount,
                        actual: scalar.count
                    )
                }
                guard P256Group.isValidScalar(scalar) else {
                    throw CryptoError(.invalidPrivateKey, "P-256 scalar must be in [1, n-1]")
                }
                let uncompressed = try P256Group.shared.uncompressedPublicPoint(forScalar: scalar)
                let key = try Self.importKeyPair(scalar: scalar, uncompressedPublic: uncompressed)
                return (key, try PublicKey(validatedUncompressed: uncompressed))
            }
            self.key = key
            self.publicKey = publicKey
            self.rawScalar = scalar
        }

        /// A fresh random key from OpenSSL's key generation (`EVP_PKEY_keygen`: a uniformly random scalar
        /// in [1, n-1] from its DRBG, the same source as ``SecureRandom``).
        package convenience init() throws(CryptoError) {
            let (key, scalar, uncompressed) = try P256Group.shared.generateKeyPair()
            try self.init(key: key, scalar: scalar, publicKey: PublicKey(validatedUncompressed: uncompressed))
        }

        private init(key: EVPPKey, scalar: SecretBytes, publicKey: PublicKey) {
            self.key = key
            self.publicKey = publicKey
            self.rawScalar = scalar
        }

        /// From a 32-byte big-endian scalar in [1, n-1].
        ///
        /// Throws `.invalidLength` unless there are 32 bytes and `.invalidPrivateKey` for 0 or ≥ n.
        package convenience init(rawScalar: some Collection<UInt8>) throws(CryptoError) {
            guard rawScalar.count == P256Group.scalarByteCount else {
                throw .invalidLength("P-256 scalar", expected: P256Group.scalarByteCount, actual: rawScalar.count)
            }
            let scalar = rawScalar.withContiguousBytes { source in
                SecretBytes(count: P256Group.scalarByteCount) { destination in
                    _ = destination.update(fromContentsOf: source)
                }
            }
            try self.init(scalar: scalar)
        }

        /// BoringSSL `EC_KEY_derive_from_secret`: HKDF-SHA256(IKM=seed, salt=∅, info="derive EC key P-256",
        /// L=48) read big-endian, reduced mod n. Chromium derives its QR key and phone identity key this way.
        ///
        /// Any seed length is accepted, as in BoringSSL. Throws `.invalidPrivateKey` in the (2⁻²⁵⁶) case
        /// that the reduction gives zero.
        package convenience init(derivedFromSeed seed: some Collection<UInt8>) throws(CryptoError) {
            try self.init(scalar: P256Group.shared.scalar(derivedFromSeed: seed))
        }

        /// ECDH: the 32-byte X coordinate of d·Q (no KDF), as BoringSSL `ECDH_compute_key`.
        package func sharedSecret(with peer: PublicKey) throws(CryptoError) -> SecretBytes {
            let context = try EVPPKeyContext(key: self.key)
            guard EVP_PKEY_derive_init(context.pointer) == 1 else { throw OpenSSLError.failure("EVP_PKEY_derive_init") }
            // `peer` was validated when it was parsed (on the curve, not infinity; P-256's cofactor is 1, so
            // that is the whole check). OpenSSL's own re-validation adds an n·Q multiplication, doubling
            // the cost of every ECDH, so it is skipped.
            guard EVP_PKEY_derive_set_peer_ex(context.pointer, peer.key.pointer, 0) == 1 else {
                throw OpenSSLError.failure("EVP_PKEY_derive_set_peer_ex")
            }
            return try SecretBytes(count: P256Group.scalarByteCount) { (output) throws(CryptoError) in
                var written = output.count
                guard EVP_PKEY_derive(context.pointer, output.baseAddress, &written) == 1,
                    written == P256Group.scalarByteCount
                else {
                    throw OpenSSLError.failure("EVP_PKEY_derive")
                }
            }
        }

        /// Never shows the scalar.
        package var description: String { "P256.PrivateKey(redacted)" }

        private static func importKeyPair(
            scalar: UnsafeBufferPointer<UInt8>,
            uncompressedPublic: [UInt8]
        ) throws(CryptoError) -> EVPPKey {
            let context = try EVPPKeyContext(keyType: "EC")
            guard EVP_PKEY_fromdata_init(context.pointer) == 1 else {
                throw OpenSSLError.failure("EVP_PKEY_fromdata_init")
            }
            return try uncompressedPublic.withContiguousBytes { (point) throws(CryptoError) in
                var key: OpaquePointer?
                guard
                    cable_p256_key_pair_fromdata(
                        context.pointer,
                        scalar.baseAddress,
                        point.baseAddress,
                        point.count,
                        &key
                    ) == 1, let key
                else {
                    throw OpenSSLError.failure("EVP_PKEY_fromdata")
                }
                return EVPPKey(taking: key)
            }
        }
    }
}

extension P256.PrivateKey: CustomReflectable {
    /// Shows only the public key, so `dump` and debuggers cannot reach the scalar.
    package var customMirror: Mirror {
        Mirror(self, children: ["publicKey": self.publicKey], displayStyle: .class)
    }
}

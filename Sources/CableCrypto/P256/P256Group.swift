internal import CCableOpenSSL

/// The P-256 group and the scalar and point arithmetic CableCrypto needs on it.
///
/// `@unchecked Sendable`: the `EC_GROUP` is created once in `init` and afterwards only passed as
/// `const EC_GROUP *` (point decoding, encoding and multiplication), which OpenSSL documents as safe
/// to share between threads.
final class P256Group: @unchecked Sendable {
    /// The process-wide group, created on first use.
    static let shared = P256Group()

    /// Bytes in a scalar and in a field element.
    static let scalarByteCount = 32
    /// Bytes in an X9.62 compressed point (02/03 ‖ X).
    static let compressedByteCount = 33
    /// Bytes in an X9.62 uncompressed point (04 ‖ X ‖ Y).
    static let uncompressedByteCount = 65

    /// The group order n, big-endian (SEC 2 §2.4.2); checked against OpenSSL's in `init`.
    static let orderBigEndian: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]

    /// BoringSSL `EC_KEY_derive_from_secret`'s HKDF info for P-256.
    private static let seedDerivationInfo = Array("derive EC key P-256".utf8)
    /// HKDF output for seed derivation: the order's length plus 16 bytes, so reduction mod n is
    /// negligibly biased (BoringSSL `EC_KEY_DERIVE_EXTRA_BYTES`).
    private static let seedDerivationByteCount = 48

    /// The owned `EC_GROUP` (never freed: it lives as long as the process).
    let pointer: OpaquePointer
    /// The group order as a `BIGNUM` owned by the group.
    private let order: OpaquePointer
    /// P-256 domain parameters as a key-less `EVP_PKEY`. Public keys are made by duplicating it and
    /// setting the point, about 3.5× faster than `EVP_PKEY_fromdata`, which rebuilds the group from its
    /// name for every key (8.5 µs against 30 µs, measured here with OpenSSL 3.0.19). `EVP_PKEY_dup` only
    /// reads the template, so concurrent duplication is safe.
    private let parameters: EVPPKey

    private init() {
        guard let group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1) else {
            OpenSSLError.unrecoverable("EC_GROUP_new_by_curve_name")
        }
        guard let order = EC_GROUP_get0_order(group) else { OpenSSLError.unrecoverable("EC_GROUP_get0_order") }
        var orderBytes = [UInt8](repeating: 0, count: Self.scalarByteCount)
        guard BN_bn2binpad(order, &orderBytes, Int32(Self.scalarByteCount)) == Int32(Self.scalarByteCount),
            orderBytes == Self.orderBigEndian
        else {
            OpenSSLError.unrecoverable("EC_GROUP_get0_order")
        }
        self.pointer = group
        self.order = order
        do {
            self.parameters = try Self.makeParameters()
        } catch {
            preconditionFailure("CableCrypto: P-256 parameters: \(error)")
        }
    }

    private static func makeParameters() throws(CryptoError) -> EVPPKey {
        let context = try EVPPKeyContext(keyType: "EC")
        guard EVP_PKEY_paramgen_init(context.pointer) == 1 else { throw OpenSSLError.failure("EVP_PKEY_paramgen_init") }
        // The name is only read during the call (OpenSSL copies it), so Swift's temporary C string is fine.
        guard EVP_PKEY_CTX_set_group_name(context.pointer, SN_X9_62_prime256v1) == 1 else {
            throw OpenSSLError.failure("EVP_PKEY_CTX_set_group_name")
        }
        var parameters: OpaquePointer?
        guard EVP_PKEY_paramgen(context.pointer, &parameters) == 1, let parameters else {
            throw OpenSSLError.failure("EVP_PKEY_paramgen")
        }
        return EVPPKey(taking: parameters)
    }

    /// An OpenSSL public key for a point that this type decoded or computed (65 uncompressed bytes).
    func publicKey(validatedUncompressed point: UnsafeBufferPointer<UInt8>) throws(CryptoError) -> EVPPKey {
        guard let duplicate = EVP_PKEY_dup(self.parameters.pointer) else { throw OpenSSLError.failure("EVP_PKEY_dup") }
        // Owned from here so that it is freed on failure; it is not shared until it is returned.
        let key = EVPPKey(taking: duplicate)
        guard EVP_PKEY_set1_encoded_public_key(key.pointer, point.baseAddress, point.count) == 1 else {
            throw OpenSSLError.failure("EVP_PKEY_set1_encoded_public_key")
        }
        return key
    }

    /// A fresh key pair from OpenSSL's key generation on the group's parameters: the key, its scalar
    /// (uniform in [1, n-1]) and its uncompressed public point. About 16 µs less per key than computing
    /// the point and importing the pair, which rebuilds the group (BENCHMARKS.md, "Eighth pass").
    func generateKeyPair() throws(CryptoError) -> (key: EVPPKey, scalar: SecretBytes, uncompressedPublic: [UInt8]) {
        var key: OpaquePointer?
        var point = [UInt8](repeating: 0, count: Self.uncompressedByteCount)
        var pointLength = 0
        let scalar = try SecretBytes(count: Self.scalarByteCount) { (scalar) throws(CryptoError) in
            guard
                cable_p256_generate(
                    self.parameters.pointer,
                    &key,
                    scalar.baseAddress,
                    &point,
                    point.count,
                    &pointLength
                ) == 1
            else {
                throw OpenSSLError.failure("EVP_PKEY_keygen")
            }
        }
        guard let key else { throw OpenSSLError.failure("EVP_PKEY_keygen") }
        let owned = EVPPKey(taking: key)
        guard pointLength == Self.uncompressedByteCount, point[0] == 0x04,
            scalar.withBuffer(Self.isValidScalar)
        else {
            throw CryptoError(.invalidPrivateKey, "OpenSSL generated a P-256 key outside the expected form")
        }
        return (owned, scalar, point)
    }

    // MARK: - Scalars

    /// Whether a 32-byte big-endian scalar is in [1, n-1], in time independent of its value.
    static func isValidScalar(_ scalar: UnsafeBufferPointer<UInt8>) -> Bool {
        guard scalar.count == self.scalarByteCount else { return false }
        var accumulated: UInt8 = 0
        var borrow = 0
        // scalar − n, least significant byte first: a final borrow means scalar < n.
        for index in stride(from: self.scalarByteCount - 1, through: 0, by: -1) {
            let difference = Int(scalar[index]) - Int(self.orderBigEndian[index]) - borrow
            borrow = (difference >> 8) & 1
            accumulated |= scalar[index]
        }
        return (accumulated != 0) && (borrow == 1)
    }

    /// BoringSSL `EC_KEY_derive_from_secret`: HKDF-SHA256(IKM = seed, salt = ∅, info = "derive EC key P-256",
    /// L = 48) read big-endian and reduced mod n. The result may be zero (probability ~2⁻²⁵⁶); the key
    /// constructor rejects it then, as BoringSSL does.
    func scalar(derivedFromSeed seed: some Collection<UInt8>) throws(CryptoError) -> SecretBytes {
        let wide = try SecretBytes(count: Self.seedDerivationByteCount) { (output) throws(CryptoError) in
            try HKDFSHA256.derive(
                inputKeyMaterial: seed,
                salt: [UInt8](),
                info: Self.seedDerivationInfo,
                into: output
            )
        }
        let wideNumber = try wide.withBuffer { (bytes) throws(CryptoError) in try SecretBigNumber(bigEndian: bytes) }
        let reduced = try SecretBigNumber()
        let context = try BigNumberContext()
        guard BN_nnmod(reduced.pointer, wideNumber.pointer, self.order, context.pointer) == 1 else {
            throw OpenSSLError.failure("BN_nnmod")
        }
        return try SecretBytes(count: Self.scalarByteCount) { (output) throws(CryptoError) in
            try reduced.write(bigEndianPaddedTo: output)
        }
    }

    // MARK: - Points

    /// d·G as 65 uncompressed bytes, for a scalar already known to be valid.
    func uncompressedPublicPoint(forScalar scalar: UnsafeBufferPointer<UInt8>) throws(CryptoError) -> [UInt8] {
        let number = try SecretBigNumber(bigEndian: scalar)
        let point = try ECPoint(group: self.pointer)
        let context = try BigNumberContext()
        guard EC_POINT_mul(self.pointer, point.pointer, number.pointer, nil, nil, context.pointer) == 1 else {
            throw OpenSSLError.failure("EC_POINT_mul")
        }
        return try self.uncompressedEncoding(of: point)
    }

    /// Validates an X9.62 compressed or uncompressed encoding and returns the 65-byte uncompressed one.
    ///
    /// Lengths other than 33 and 65 are `.invalidLength`, except the one-byte encoding of the point at
    /// infinity. Everything else that is not a point of P-256 is `.invalidPublicKey`: a prefix that does
    /// not match the length (including the hybrid forms 06/07), a coordinate ≥ p, an X with no square
    /// root, an (X, Y) off the curve.
    func uncompressedPoint(decoding encoded: UnsafeBufferPointer<UInt8>) throws(CryptoError) -> [UInt8] {
        switch (encoded.count, encoded.first) {
        case (Self.compressedByteCount, 0x02), (Self.compressedByteCount, 0x03), (Self.uncompressedByteCount, 0x04):
            break
        case (1, 0x00):
            throw CryptoError(.invalidPublicKey, "the point at infinity is not a public key")
        case (Self.compressedByteCount, let prefix?), (Self.uncompressedByteCount, let prefix?):
            let prefixHex = (prefix < 0x10 ? "0" : "") + String(prefix, radix: 16)
            throw CryptoError(
                .invalidPublicKey,
                "prefix \(prefixHex) does not match a \(encoded.count)-byte X9.62 point"
            )
        default:
            throw CryptoError(
                .invalidLength,
                "an X9.62 P-256 point is 33 or 65 bytes, got \(encoded.count)"
            )
        }
        let point = try ECPoint(group: self.pointer)
        // oct2point checks coordinates < p, decompresses (failing when X has no square root) and, for
        // uncompressed input, that the point satisfies the curve equation.
        guard EC_POINT_oct2point(self.pointer, point.pointer, encoded.baseAddress, encoded.count, nil) == 1 else {
            OpenSSLError.clearQueue()
            throw CryptoError(.invalidPublicKey, "not a point on P-256")
        }
        guard EC_POINT_is_at_infinity(self.pointer, point.pointer) == 0 else {
            throw CryptoError(.invalidPublicKey, "the point at infinity is not a public key")
        }
        return try self.uncompressedEncoding(of: point)
    }

    private func uncompressedEncoding(of point: ECPoint) throws(CryptoError) -> [UInt8] {
        try [UInt8](byteCapacity: Self.uncompressedByteCount) { (output) throws(CryptoError) in
            let written = EC_POINT_point2oct(
                self.pointer,
                point.pointer,
                POINT_CONVERSION_UNCOMPRESSED,
                output.baseAddress,
                output.count,
                nil
            )
            guard written == Self.uncompressedByteCount else { throw OpenSSLError.failure("EC_POINT_point2oct") }
            return written
        }
    }
}

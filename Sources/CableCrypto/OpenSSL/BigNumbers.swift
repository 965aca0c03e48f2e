internal import CCableOpenSSL

/// Owns a `BIGNUM` used for secret scalars: allocated from the secure heap when one is configured,
/// flagged for constant-time arithmetic, and cleared when freed.
final class SecretBigNumber {
    /// The owned handle.
    let pointer: OpaquePointer

    /// Reads `bytes` as a big-endian unsigned integer.
    init(bigEndian bytes: UnsafeBufferPointer<UInt8>) throws(CryptoError) {
        guard let pointer = BN_secure_new() else { throw OpenSSLError.failure("BN_secure_new") }
        BN_set_flags(pointer, BN_FLG_CONSTTIME)
        guard BN_bin2bn(bytes.baseAddress, Int32(bytes.count), pointer) != nil else {
            BN_clear_free(pointer)
            throw OpenSSLError.failure("BN_bin2bn")
        }
        self.pointer = pointer
    }

    /// Zero, to receive a result.
    init() throws(CryptoError) {
        guard let pointer = BN_secure_new() else { throw OpenSSLError.failure("BN_secure_new") }
        BN_set_flags(pointer, BN_FLG_CONSTTIME)
        self.pointer = pointer
    }

    /// Writes the value big-endian, left-padded with zeros to exactly `output.count` bytes.
    func write(bigEndianPaddedTo output: UnsafeMutableBufferPointer<UInt8>) throws(CryptoError) {
        guard BN_bn2binpad(self.pointer, output.baseAddress, Int32(output.count)) == Int32(output.count) else {
            throw OpenSSLError.failure("BN_bn2binpad")
        }
    }

    deinit { BN_clear_free(self.pointer) }
}

/// Owns a `BN_CTX` (scratch space for big-number arithmetic), secure-heap backed because it holds
/// intermediates of secret scalars.
final class BigNumberContext {
    /// The owned handle.
    let pointer: OpaquePointer

    /// A fresh context.
    init() throws(CryptoError) {
        guard let pointer = BN_CTX_secure_new() else { throw OpenSSLError.failure("BN_CTX_secure_new") }
        self.pointer = pointer
    }

    deinit { BN_CTX_free(self.pointer) }
}

/// Owns an `EC_POINT` on the P-256 group, cleared when freed.
final class ECPoint {
    /// The owned handle.
    let pointer: OpaquePointer

    /// The point at infinity of `group`, to receive a result.
    init(group: OpaquePointer) throws(CryptoError) {
        guard let pointer = EC_POINT_new(group) else { throw OpenSSLError.failure("EC_POINT_new") }
        self.pointer = pointer
    }

    deinit { EC_POINT_clear_free(self.pointer) }
}

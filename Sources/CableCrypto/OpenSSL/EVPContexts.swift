internal import CCableOpenSSL

// Owners of OpenSSL operation contexts, each freed exactly once in `deinit`; OpenSSL's free functions
// cleanse the key schedules and MAC keys they hold. Most are created for one operation on one thread. The
// exception is `AES256GCM.Key`, which keeps two keyed cipher contexts for many messages, each inside a
// `LockedValue`. None is `Sendable`: a context is mutable state that one thread at a time may touch.

/// Owns an `EVP_CIPHER_CTX`.
final class EVPCipherContext {
    /// The owned handle.
    let pointer: OpaquePointer

    /// A fresh, uninitialised cipher context.
    init() throws(CryptoError) {
        guard let pointer = EVP_CIPHER_CTX_new() else { throw OpenSSLError.failure("EVP_CIPHER_CTX_new") }
        self.pointer = pointer
    }

    deinit { EVP_CIPHER_CTX_free(self.pointer) }
}

/// Owns an `EVP_MD_CTX` (message digests and DigestSign/DigestVerify).
final class EVPDigestContext {
    /// The owned handle.
    let pointer: OpaquePointer

    /// A fresh, uninitialised digest context.
    init() throws(CryptoError) {
        guard let pointer = EVP_MD_CTX_new() else { throw OpenSSLError.failure("EVP_MD_CTX_new") }
        self.pointer = pointer
    }

    deinit { EVP_MD_CTX_free(self.pointer) }
}

/// Owns an `EVP_MAC_CTX`.
final class EVPMACContext {
    /// The owned handle.
    let pointer: OpaquePointer

    /// A fresh context of the fetched MAC `algorithm`.
    init(algorithm: OpaquePointer) throws(CryptoError) {
        guard let pointer = EVP_MAC_CTX_new(algorithm) else { throw OpenSSLError.failure("EVP_MAC_CTX_new") }
        self.pointer = pointer
    }

    /// A copy of `template`'s state (algorithm, digest and key), which `template` is not changed by.
    init(duplicating template: EVPMACContext) throws(CryptoError) {
        guard let pointer = EVP_MAC_CTX_dup(template.pointer) else { throw OpenSSLError.failure("EVP_MAC_CTX_dup") }
        self.pointer = pointer
    }

    deinit { EVP_MAC_CTX_free(self.pointer) }
}

/// Owns an `EVP_KDF_CTX`.
final class EVPKDFContext {
    /// The owned handle.
    let pointer: OpaquePointer

    /// A fresh context of the fetched KDF `algorithm`.
    init(algorithm: OpaquePointer) throws(CryptoError) {
        guard let pointer = EVP_KDF_CTX_new(algorithm) else { throw OpenSSLError.failure("EVP_KDF_CTX_new") }
        self.pointer = pointer
    }

    deinit { EVP_KDF_CTX_free(self.pointer) }
}

/// Owns an `EVP_PKEY_CTX` (key import, ECDH).
final class EVPPKeyContext {
    /// The owned handle.
    let pointer: OpaquePointer

    /// A context for the key type `name` (e.g. "EC"), for import with `EVP_PKEY_fromdata`.
    init(keyType name: StaticString) throws(CryptoError) {
        let created = name.withUTF8Buffer { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { EVP_PKEY_CTX_new_from_name(nil, $0.baseAddress, nil) }
        }
        guard let pointer = created else { throw OpenSSLError.failure("EVP_PKEY_CTX_new_from_name") }
        self.pointer = pointer
    }

    /// A context operating with `key` (e.g. as the private side of ECDH).
    init(key: EVPPKey) throws(CryptoError) {
        guard let pointer = EVP_PKEY_CTX_new_from_pkey(nil, key.pointer, nil) else {
            throw OpenSSLError.failure("EVP_PKEY_CTX_new_from_pkey")
        }
        self.pointer = pointer
    }

    deinit { EVP_PKEY_CTX_free(self.pointer) }
}

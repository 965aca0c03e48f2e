internal import CCableOpenSSL

/// Raw AES-256 on single 16-byte blocks (EVP_aes_256_ecb, no padding).
///
/// Chromium encrypts BLE advert EIDs this way. ECB on one block is just the block cipher; never use it
/// on longer messages.
package enum AES256Block {
    /// Block length in bytes.
    package static let blockByteCount = 16
    /// Key length in bytes.
    package static let keyByteCount = 32

    /// Encrypts one block. Throws `.invalidLength` unless `block` is 16 and `key` 32 bytes.
    package static func encrypt(
        block: some Collection<UInt8>,
        key: some Collection<UInt8>
    ) throws(CryptoError) -> [UInt8] {
        try self.transform(block: block, key: key, encrypting: true)
    }

    /// Decrypts one block. Throws `.invalidLength` unless `block` is 16 and `key` 32 bytes.
    package static func decrypt(
        block: some Collection<UInt8>,
        key: some Collection<UInt8>
    ) throws(CryptoError) -> [UInt8] {
        try self.transform(block: block, key: key, encrypting: false)
    }

    private static func transform(
        block: some Collection<UInt8>,
        key: some Collection<UInt8>,
        encrypting: Bool
    ) throws(CryptoError) -> [UInt8] {
        guard key.count == self.keyByteCount else {
            throw .invalidLength("AES-256 key", expected: self.keyByteCount, actual: key.count)
        }
        guard block.count == self.blockByteCount else {
            throw .invalidLength("AES block", expected: self.blockByteCount, actual: block.count)
        }
        let context = try EVPCipherContext()
        try key.withContiguousBytes { (key) throws(CryptoError) in
            guard
                EVP_CipherInit_ex2(
                    context.pointer,
                    FetchedAlgorithms.shared.aes256ECB,
                    key.baseAddress,
                    nil,
                    encrypting ? 1 : 0,
                    nil
                ) == 1
            else {
                throw OpenSSLError.failure("EVP_CipherInit_ex2")
            }
        }
        // With padding off, a whole block comes out of the update call itself (no block is held back).
        guard EVP_CIPHER_CTX_set_padding(context.pointer, 0) == 1 else {
            throw OpenSSLError.failure("EVP_CIPHER_CTX_set_padding")
        }
        return try block.withContiguousBytes { (input) throws(CryptoError) in
            try [UInt8](byteCapacity: self.blockByteCount) { (output) throws(CryptoError) in
                var written: Int32 = 0
                guard
                    EVP_CipherUpdate(
                        context.pointer,
                        output.baseAddress,
                        &written,
                        input.baseAddress,
                        Int32(self.blockByteCount)
                    ) == 1, written == Int32(self.blockByteCount)
                else {
                    throw OpenSSLError.failure("EVP_CipherUpdate")
                }
                return self.blockByteCount
            }
        }
    }
}

internal import CCableOpenSSL

/// HKDF-SHA256 (RFC 5869) via EVP_PKEY_HKDF or EVP_KDF. Empty salt allowed (= 32 zero bytes).
package enum HKDFSHA256 {
    /// The longest output RFC 5869 allows: 255 blocks of the hash length.
    package static let maximumOutputByteCount = 255 * SHA256.byteCount

    /// Extract-then-expand: `outputByteCount` bytes of key material.
    ///
    /// - Precondition: `0 ≤ outputByteCount ≤ 8160` (RFC 5869's limit); the length is always chosen by
    ///   the caller's code, never read from the wire.
    /// Cannot fail otherwise; it traps only if OpenSSL itself fails (allocation failure).
    package static func deriveKey(
        inputKeyMaterial: some Collection<UInt8>,
        salt: some Collection<UInt8>,
        info: some Collection<UInt8>,
        outputByteCount: Int
    ) -> [UInt8] {
        precondition(
            outputByteCount >= 0 && outputByteCount <= self.maximumOutputByteCount,
            "HKDF-SHA256 output must be 0...\(self.maximumOutputByteCount) bytes, got \(outputByteCount)"
        )
        guard outputByteCount > 0 else { return [] }
        do {
            return try [UInt8](byteCapacity: outputByteCount) { (output) throws(CryptoError) in
                try self.derive(
                    inputKeyMaterial: inputKeyMaterial,
                    salt: salt,
                    info: info,
                    into: UnsafeMutableBufferPointer(rebasing: output[0..<outputByteCount])
                )
                return outputByteCount
            }
        } catch {
            preconditionFailure("HKDFSHA256: \(error)")
        }
    }

    /// Extract-then-expand to `count` secrets of 32 bytes each, written straight into their wiped-on-free
    /// storage (Noise's `HKDF` with two or three outputs), with no ordinary array left behind.
    ///
    /// - Precondition: `1 ≤ count ≤ 255`. Traps only if OpenSSL itself fails (allocation failure).
    package static func deriveSecrets(
        inputKeyMaterial: some Collection<UInt8>,
        salt: SecretBytes,
        count: Int
    ) -> [SecretBytes] {
        inputKeyMaterial.withContiguousBytes { ikm in
            self.deriveSecrets(inputKeyMaterial: ikm, salt: salt, count: count)
        }
    }

    /// ``deriveSecrets(inputKeyMaterial:salt:count:)`` with the input key material held as ``SecretBytes``
    /// (an ECDH result), lent in place rather than copied into an ordinary array.
    package static func deriveSecrets(inputKeyMaterial: SecretBytes, salt: SecretBytes, count: Int) -> [SecretBytes] {
        inputKeyMaterial.withBuffer { ikm in self.deriveSecrets(inputKeyMaterial: ikm, salt: salt, count: count) }
    }

    /// ``deriveSecrets(inputKeyMaterial:salt:count:)`` on a borrowed buffer: concrete, so the Noise
    /// handshake in another module runs specialised code.
    package static func deriveSecrets(
        inputKeyMaterial: UnsafeBufferPointer<UInt8>,
        salt: SecretBytes,
        count: Int
    ) -> [SecretBytes] {
        precondition(count >= 1 && count <= 255, "HKDF-SHA256 gives 1...255 blocks")
        let blockCount = SHA256.byteCount
        do {
            let output = try SecretBytes(count: count * blockCount) { (output) throws(CryptoError) in
                try salt.withBuffer { (salt) throws(CryptoError) in
                    try self.derive(
                        inputKeyMaterial: inputKeyMaterial,
                        salt: salt,
                        info: UnsafeBufferPointer(start: nil, count: 0),
                        into: output
                    )
                }
            }
            return output.withBuffer { whole in
                (0..<count).map { index in
                    SecretBytes(count: blockCount) { block in
                        _ = block.update(fromContentsOf: whole[(index * blockCount)..<((index + 1) * blockCount)])
                    }
                }
            }
        } catch {
            preconditionFailure("HKDFSHA256: \(error)")
        }
    }

    /// Writes HKDF output straight into `output` (e.g. into ``SecretBytes`` storage).
    static func derive(
        inputKeyMaterial: some Collection<UInt8>,
        salt: some Collection<UInt8>,
        info: some Collection<UInt8>,
        into output: UnsafeMutableBufferPointer<UInt8>
    ) throws(CryptoError) {
        try inputKeyMaterial.withContiguousBytes { (ikm) throws(CryptoError) in
            try salt.withContiguousBytes { (salt) throws(CryptoError) in
                try info.withContiguousBytes { (info) throws(CryptoError) in
                    try self.derive(inputKeyMaterial: ikm, salt: salt, info: info, into: output)
                }
            }
        }
    }

    /// ``derive(inputKeyMaterial:salt:info:into:)`` on borrowed buffers (no generic entry point).
    static func derive(
        inputKeyMaterial ikm: UnsafeBufferPointer<UInt8>,
        salt: UnsafeBufferPointer<UInt8>,
        info: UnsafeBufferPointer<UInt8>,
        into output: UnsafeMutableBufferPointer<UInt8>
    ) throws(CryptoError) {
        let context = try EVPKDFContext(algorithm: FetchedAlgorithms.shared.hkdf)
        guard
            cable_hkdf_sha256_derive(
                context.pointer,
                ikm.baseAddress,
                ikm.count,
                salt.baseAddress,
                salt.count,
                info.baseAddress,
                info.count,
                output.baseAddress,
                output.count
            ) == 1
        else {
            throw OpenSSLError.failure("EVP_KDF_derive")
        }
    }
}

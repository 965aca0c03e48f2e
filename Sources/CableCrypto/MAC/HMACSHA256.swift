internal import CCableOpenSSL

/// HMAC-SHA256 (EVP_MAC).
package enum HMACSHA256 {
    /// Full tag length in bytes.
    package static let byteCount = 32
    /// Shortest truncated tag ``isValidAuthenticationCode(_:key:data:)`` accepts (RFC 2104 §5 advises
    /// no fewer than half the output; Chromium's advert tag is 4 bytes, hence the floor).
    package static let minimumTruncatedByteCount = 4

    /// The 32-byte HMAC-SHA256 of `data` under `key` (any key length, including empty).
    ///
    /// Cannot fail on any input; it traps only if OpenSSL itself fails (allocation failure).
    package static func authenticationCode(key: some Collection<UInt8>, data: some Collection<UInt8>) -> [UInt8] {
        do {
            return try self.compute(key: key, data: data)
        } catch {
            preconditionFailure("HMACSHA256: \(error)")
        }
    }

    /// Recomputes and compares in constant time; `tag` may be a truncated prefix (≥ 4 bytes).
    ///
    /// Returns false for tags shorter than ``minimumTruncatedByteCount`` or longer than ``byteCount``.
    package static func isValidAuthenticationCode(
        _ tag: some Collection<UInt8>,
        key: some Collection<UInt8>,
        data: some Collection<UInt8>
    ) -> Bool {
        let tagCount = tag.count
        guard tagCount >= self.minimumTruncatedByteCount, tagCount <= self.byteCount else { return false }
        let expected = self.authenticationCode(key: key, data: data)
        return constantTimeEquals(tag, expected[0..<tagCount])
    }

    private static func compute(
        key: some Collection<UInt8>,
        data: some Collection<UInt8>
    ) throws(CryptoError) -> [UInt8] {
        let context = try EVPMACContext(duplicating: FetchedAlgorithms.shared.hmacSHA256Template)
        try key.withContiguousBytes { (key) throws(CryptoError) in
            guard cable_hmac_rekey(context.pointer, key.baseAddress, key.count) == 1 else {
                throw OpenSSLError.failure("EVP_MAC_init")
            }
        }
        try data.withContiguousBytes { (data) throws(CryptoError) in
            guard EVP_MAC_update(context.pointer, data.baseAddress, data.count) == 1 else {
                throw OpenSSLError.failure("EVP_MAC_update")
            }
        }
        return try [UInt8](byteCapacity: self.byteCount) { (output) throws(CryptoError) in
            var written = 0
            guard EVP_MAC_final(context.pointer, output.baseAddress, &written, output.count) == 1,
                written == self.byteCount
            else {
                throw OpenSSLError.failure("EVP_MAC_final")
            }
            return written
        }
    }
}

internal import CCableOpenSSL

/// SHA-256 (EVP_Digest).
package enum SHA256 {
    /// Digest length in bytes.
    package static let byteCount = 32

    /// The SHA-256 digest of `data`.
    ///
    /// Cannot fail on any input; it traps only if OpenSSL itself fails (allocation failure).
    package static func hash(_ data: some Collection<UInt8>) -> [UInt8] {
        data.withContiguousBytes { input in
            [UInt8](byteCapacity: self.byteCount) { output in
                var written: UInt32 = 0
                guard EVP_Digest(
                    input.baseAddress, input.count, output.baseAddress, &written,
                    FetchedAlgorithms.shared.sha256, nil
                ) == 1, written == self.byteCount else {
                    OpenSSLError.unrecoverable("EVP_Digest")
                }
                return self.byteCount
            }
        }
    }
}

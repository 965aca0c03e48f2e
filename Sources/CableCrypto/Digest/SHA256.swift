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
                guard
                    EVP_Digest(
                        input.baseAddress,
                        input.count,
                        output.baseAddress,
                        &written,
                        FetchedAlgorithms.shared.sha256,
                        nil
                    ) == 1, written == self.byteCount
                else {
                    OpenSSLError.unrecoverable("EVP_Digest")
                }
                return self.byteCount
            }
        }
    }

    /// The SHA-256 digest of `first ‖ second`, without joining them (Noise's `MixHash`).
    ///
    /// Cannot fail on any input; it traps only if OpenSSL itself fails (allocation failure).
    package static func hash(_ first: some Collection<UInt8>, _ second: some Collection<UInt8>) -> [UInt8] {
        first.withContiguousBytes { first in second.withContiguousBytes { second in self.hash(first, second) } }
    }

    /// ``hash(_:_:)`` on borrowed buffers: concrete, so a caller in another module (Noise's `MixHash`)
    /// runs specialised code rather than the generic entry point with its metadata look-ups.
    package static func hash(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        do {
            let context = try EVPDigestContext()
            guard EVP_DigestInit_ex2(context.pointer, FetchedAlgorithms.shared.sha256, nil) == 1 else {
                OpenSSLError.unrecoverable("EVP_DigestInit_ex2")
            }
            guard EVP_DigestUpdate(context.pointer, first.baseAddress, first.count) == 1,
                EVP_DigestUpdate(context.pointer, second.baseAddress, second.count) == 1
            else { OpenSSLError.unrecoverable("EVP_DigestUpdate") }
            return [UInt8](byteCapacity: self.byteCount) { output in
                var written: UInt32 = 0
                guard EVP_DigestFinal_ex(context.pointer, output.baseAddress, &written) == 1,
                    written == self.byteCount
                else {
                    OpenSSLError.unrecoverable("EVP_DigestFinal_ex")
                }
                return self.byteCount
            }
        } catch {
            OpenSSLError.unrecoverable("EVP_MD_CTX_new")
        }
    }
}

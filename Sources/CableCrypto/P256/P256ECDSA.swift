internal import CCableOpenSSL

/// ECDSA with SHA-256 (FIPS 186-4 §6.4) on P-256, DER-encoded signatures (X.690 `SEQUENCE { r, s }`).
extension P256 {
    /// The longest DER P-256 signature: a 2-byte SEQUENCE header and two INTEGERs of at most
    /// 2 + 33 bytes (a 32-byte value with a leading 00 pad).
    package static let maximumDERSignatureByteCount = 72
}

extension P256.PublicKey {
    /// Verifies a DER ECDSA signature over SHA-256(message). Malformed DER → false.
    ///
    /// OpenSSL re-encodes the parsed signature and compares, so BER forms, trailing bytes, non-minimal
    /// integers and out-of-range r or s are rejected, not just bad signatures. High-S signatures are
    /// accepted, as in WebAuthn. Any failure clears the OpenSSL error queue.
    package func isValidSignature(_ derSignature: some Collection<UInt8>, for message: some Collection<UInt8>) -> Bool {
        let signatureCount = derSignature.count
        guard signatureCount > 0, signatureCount <= P256.maximumDERSignatureByteCount else { return false }
        defer { OpenSSLError.clearQueue() }
        guard let context = try? EVPDigestContext(),
            EVP_DigestVerifyInit(context.pointer, nil, FetchedAlgorithms.shared.sha256, nil, self.key.pointer) == 1
        else {
            return false
        }
        return derSignature.withContiguousBytes { signature in
            message.withContiguousBytes { message in
                EVP_DigestVerify(
                    context.pointer,
                    signature.baseAddress,
                    signature.count,
                    message.baseAddress,
                    message.count
                ) == 1
            }
        }
    }
}

extension P256.PrivateKey {
    /// ECDSA P-256 / SHA-256 over `message`, DER encoded.
    ///
    /// The per-signature nonce comes from OpenSSL's DRBG, so signing the same message twice gives
    /// different (equally valid) signatures.
    package func signature(for message: some Collection<UInt8>) throws(CryptoError) -> [UInt8] {
        let context = try EVPDigestContext()
        guard
            EVP_DigestSignInit(
                context.pointer,
                nil,
                FetchedAlgorithms.shared.sha256,
                nil,
                self.key.pointer
            ) == 1
        else {
            throw OpenSSLError.failure("EVP_DigestSignInit")
        }
        return try message.withContiguousBytes { (message) throws(CryptoError) in
            try [UInt8](byteCapacity: P256.maximumDERSignatureByteCount) { (output) throws(CryptoError) in
                var written = output.count
                guard
                    EVP_DigestSign(
                        context.pointer,
                        output.baseAddress,
                        &written,
                        message.baseAddress,
                        message.count
                    ) == 1, written <= output.count
                else {
                    throw OpenSSLError.failure("EVP_DigestSign")
                }
                return written
            }
        }
    }
}

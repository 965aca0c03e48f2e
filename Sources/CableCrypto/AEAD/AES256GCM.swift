internal import CCableOpenSSL

/// AES-256-GCM with 12-byte nonces and 16-byte tags (EVP_aes_256_gcm).
///
/// The one-shot ``seal(_:key:nonce:additionalData:)`` and ``open(_:key:nonce:additionalData:)`` build a
/// fresh OpenSSL context and key schedule per call; ``Key`` keeps both for a key used many times (the
/// tunnel crypter), which saves that setup on every message.
package enum AES256GCM {
    /// Tag length in bytes.
    package static let tagByteCount = 16
    /// Nonce length in bytes (the only length accepted: GCM's 96-bit IV fast path, as Chromium uses).
    package static let nonceByteCount = 12
    /// Key length in bytes.
    package static let keyByteCount = 32

    /// `EVP_CipherUpdate` takes an `int` length; longer inputs are fed in chunks of this size.
    private static let maximumUpdateChunk = 1 << 30

    /// Returns ciphertext ‖ tag.
    ///
    /// Throws `.invalidLength` for a key other than 32 bytes or a nonce other than 12 bytes.
    package static func seal(
        _ plaintext: some Collection<UInt8>,
        key: some Collection<UInt8>,
        nonce: some Collection<UInt8>,
        additionalData: some Collection<UInt8>
    ) throws(CryptoError) -> [UInt8] {
        try self.checkNonce(nonce)
        let context = try nonce.withContiguousBytes { (nonce) throws(CryptoError) in
            try self.makeContext(key: key, encrypting: true, nonce: nonce.baseAddress)
        }
        return try self.seal(plaintext, additionalData: additionalData, context: context)
    }

    /// Opens ciphertext ‖ tag; throws `.authenticationFailure` on any mismatch (ERR queue cleared).
    ///
    /// Throws `.invalidLength` for a key other than 32 bytes, a nonce other than 12 bytes, or an input
    /// shorter than the 16-byte tag. On failure no plaintext is returned and the partial plaintext is wiped.
    package static func open(
        _ ciphertextAndTag: some Collection<UInt8>,
        key: some Collection<UInt8>,
        nonce: some Collection<UInt8>,
        additionalData: some Collection<UInt8>
    ) throws(CryptoError) -> [UInt8] {
        try self.checkSealedLength(ciphertextAndTag)
        try self.checkNonce(nonce)
        let context = try nonce.withContiguousBytes { (nonce) throws(CryptoError) in
            try self.makeContext(key: key, encrypting: false, nonce: nonce.baseAddress)
        }
        return try self.open(ciphertextAndTag, additionalData: additionalData, context: context)
    }

    /// ``seal(_:key:nonce:additionalData:)`` with a key held as ``SecretBytes``, lent in place rather
    /// than copied into an ordinary array (the Noise handshake's one-use keys).
    package static func seal(
        _ plaintext: some Collection<UInt8>,
        key: SecretBytes,
        nonce: some Collection<UInt8>,
        additionalData: some Collection<UInt8>
    ) throws(CryptoError) -> [UInt8] {
        try key.withBuffer { (key) throws(CryptoError) in
            try self.seal(plaintext, key: key, nonce: nonce, additionalData: additionalData)
        }
    }

    /// ``open(_:key:nonce:additionalData:)`` with a key held as ``SecretBytes``, lent in place.
    package static func open(
        _ ciphertextAndTag: some Collection<UInt8>,
        key: SecretBytes,
        nonce: some Collection<UInt8>,
        additionalData: some Collection<UInt8>
    ) throws(CryptoError) -> [UInt8] {
        try key.withBuffer { (key) throws(CryptoError) in
            try self.open(ciphertextAndTag, key: key, nonce: nonce, additionalData: additionalData)
        }
    }

    /// ``seal(_:key:nonce:additionalData:)`` on borrowed buffers with a ``SecretBytes`` key: concrete, so
    /// the Noise handshake in another module runs specialised code, not the generic entry point.
    package static func seal(
        _ plaintext: UnsafeBufferPointer<UInt8>,
        key: SecretBytes,
        nonce: UnsafeBufferPointer<UInt8>,
        additionalData: UnsafeBufferPointer<UInt8>
    ) throws(CryptoError) -> [UInt8] {
        guard nonce.count == self.nonceByteCount else {
            throw .invalidLength("AES-GCM nonce", expected: self.nonceByteCount, actual: nonce.count)
        }
        let context = try key.withBuffer { (key) throws(CryptoError) in
            try self.makeContext(key: key, encrypting: true, nonce: nonce.baseAddress)
        }
        return try self.seal(
            plaintext,
            trailer: UnsafeBufferPointer(start: nil, count: 0),
            additionalData: additionalData,
            context: context
        )
    }

    /// ``open(_:key:nonce:additionalData:)`` on borrowed buffers with a ``SecretBytes`` key (concrete).
    package static func open(
        _ ciphertextAndTag: UnsafeBufferPointer<UInt8>,
        key: SecretBytes,
        nonce: UnsafeBufferPointer<UInt8>,
        additionalData: UnsafeBufferPointer<UInt8>
    ) throws(CryptoError) -> [UInt8] {
        guard ciphertextAndTag.count >= self.tagByteCount else {
            throw CryptoError(
                .invalidLength,
                "AES-GCM ciphertext and tag must be at least \(self.tagByteCount) bytes, got \(ciphertextAndTag.count)"
            )
        }
        guard nonce.count == self.nonceByteCount else {
            throw .invalidLength("AES-GCM nonce", expected: self.nonceByteCount, actual: nonce.count)
        }
        let context = try key.withBuffer { (key) throws(CryptoError) in
            try self.makeContext(key: key, encrypting: false, nonce: nonce.baseAddress)
        }
        return try self.open(ciphertextAndTag, additionalData: additionalData, context: context)
    }

    // MARK: - Checks shared with `Key`

    /// Throws `.invalidLength` unless `nonce` has 12 bytes.
    static func checkNonce(_ nonce: some Collection<UInt8>) throws(CryptoError) {
        guard nonce.count == self.nonceByteCount else {
            throw .invalidLength("AES-GCM nonce", expected: self.nonceByteCount, actual: nonce.count)
        }
    }

    /// Throws `.invalidLength` if `ciphertextAndTag` cannot even hold the tag.
    static func checkSealedLength(_ ciphertextAndTag: some Collection<UInt8>) throws(CryptoError) {
        guard ciphertextAndTag.count >= self.tagByteCount else {
            throw CryptoError(
                .invalidLength,
                "AES-GCM ciphertext and tag must be at least \(self.tagByteCount) bytes, got \(ciphertextAndTag.count)"
            )
        }
    }

    // MARK: - Steps shared with `Key`

    /// A fresh context holding `key`'s schedule for one direction, and the 12-byte `nonce` if given (a
    /// ``Key`` leaves it out and sets one per message). The caller has checked the nonce's length.
    static func makeContext(
        key: some Collection<UInt8>,
        encrypting: Bool,
        nonce: UnsafePointer<UInt8>? = nil
    ) throws(CryptoError) -> EVPCipherContext {
        guard key.count == self.keyByteCount else {
            throw .invalidLength("AES-256-GCM key", expected: self.keyByteCount, actual: key.count)
        }
        let context = try EVPCipherContext()
        try key.withContiguousBytes { (key) throws(CryptoError) in
            // The default GCM IV length is 12 bytes, so no EVP_CTRL_GCM_SET_IVLEN is needed.
            guard
                EVP_CipherInit_ex2(
                    context.pointer,
                    FetchedAlgorithms.shared.aes256GCM,
                    key.baseAddress,
                    nonce,
                    encrypting ? 1 : 0,
                    nil
                ) == 1
            else {
                throw OpenSSLError.failure("EVP_CipherInit_ex2")
            }
        }
        return context
    }

    /// Encrypts `plaintext` on a context already holding key and nonce; returns ciphertext ‖ tag.
    static func seal(
        _ plaintext: some Collection<UInt8>,
        additionalData: some Collection<UInt8>,
        context: EVPCipherContext
    ) throws(CryptoError) -> [UInt8] {
        try self.seal(
            plaintext,
            trailer: UnsafeBufferPointer(start: nil, count: 0),
            additionalData: additionalData,
            context: context
        )
    }

    /// Encrypts `plaintext ‖ trailer` on a context already holding key and nonce, without joining the two:
    /// GCM is a stream, so two updates give the bytes one update of the joined input would.
    static func seal(
        _ plaintext: some Collection<UInt8>,
        trailer: UnsafeBufferPointer<UInt8>,
        additionalData: some Collection<UInt8>,
        context: EVPCipherContext
    ) throws(CryptoError) -> [UInt8] {
        try self.authenticate(additionalData, context: context)
        return try plaintext.withContiguousBytes { (plaintext) throws(CryptoError) in
            try [UInt8](byteCapacity: plaintext.count + trailer.count + self.tagByteCount) {
                (output) throws(CryptoError) in
                var written = try self.update(context, input: plaintext, output: output.baseAddress)
                written += try self.update(context, input: trailer, output: output.baseAddress.map { $0 + written })
                try self.finish(context, output: output.baseAddress, at: written)
                guard
                    EVP_CIPHER_CTX_ctrl(
                        context.pointer,
                        EVP_CTRL_GCM_GET_TAG,
                        Int32(self.tagByteCount),
                        output.baseAddress.map { $0 + written }
                    ) == 1
                else {
                    throw OpenSSLError.failure("EVP_CIPHER_CTX_ctrl(GET_TAG)")
                }
                return written + self.tagByteCount
            }
        }
    }

    /// Decrypts and verifies ciphertext ‖ tag (at least 16 bytes, checked by the caller) on a context
    /// already holding key and nonce. On any failure after decryption began, the partial plaintext is
    /// wiped; a tag mismatch is `.authenticationFailure` with the ERR queue cleared.
    static func open(
        _ ciphertextAndTag: some Collection<UInt8>,
        additionalData: some Collection<UInt8>,
        context: EVPCipherContext
    ) throws(CryptoError) -> [UInt8] {
        try self.authenticate(additionalData, context: context)
        return try ciphertextAndTag.withContiguousBytes { (sealed) throws(CryptoError) in
            let ciphertextCount = sealed.count - self.tagByteCount
            let ciphertext = UnsafeBufferPointer(rebasing: sealed[0..<ciphertextCount])
            let tag = UnsafeBufferPointer(rebasing: sealed[ciphertextCount...])
            guard
                EVP_CIPHER_CTX_ctrl(
                    context.pointer,
                    EVP_CTRL_GCM_SET_TAG,
                    Int32(self.tagByteCount),
                    UnsafeMutableRawPointer(mutating: tag.baseAddress)  // read only: OpenSSL copies the tag
                ) == 1
            else {
                throw OpenSSLError.failure("EVP_CIPHER_CTX_ctrl(SET_TAG)")
            }
            return try [UInt8](byteCapacity: ciphertextCount) { (output) throws(CryptoError) in
                do throws(CryptoError) {
                    let written = try self.update(context, input: ciphertext, output: output.baseAddress)
                    do {
                        try self.finish(context, output: output.baseAddress, at: written)
                    } catch {
                        OpenSSLError.clearQueue()
                        throw CryptoError(.authenticationFailure, "AES-GCM tag mismatch")
                    }
                    return written
                } catch {
                    // A forged message's plaintext must not outlive the failure, even in freed memory.
                    if let base = output.baseAddress { OPENSSL_cleanse(base, output.count) }
                    throw error
                }
            }
        }
    }

    // MARK: - Private steps

    /// Feeds additional authenticated data (an update with no output buffer).
    private static func authenticate(
        _ additionalData: some Collection<UInt8>,
        context: EVPCipherContext
    ) throws(CryptoError) {
        guard !additionalData.isEmpty else { return }
        try additionalData.withContiguousBytes { (aad) throws(CryptoError) in
            _ = try self.update(context, input: aad, output: nil)
        }
    }

    /// Encrypts or decrypts `input` into `output` (or authenticates it when `output` is nil), in chunks
    /// that fit OpenSSL's `int` lengths. Returns the number of bytes written, which for GCM is all of them.
    private static func update(
        _ context: EVPCipherContext,
        input: UnsafeBufferPointer<UInt8>,
        output: UnsafeMutablePointer<UInt8>?
    ) throws(CryptoError) -> Int {
        guard let inputBase = input.baseAddress else { return 0 }
        var offset = 0
        while offset < input.count {
            let chunk = min(input.count - offset, self.maximumUpdateChunk)
            var written: Int32 = 0
            guard
                EVP_CipherUpdate(
                    context.pointer,
                    output.map { $0 + offset },
                    &written,
                    inputBase + offset,
                    Int32(chunk)
                ) == 1
            else {
                throw OpenSSLError.failure("EVP_CipherUpdate")
            }
            // GCM is a stream mode: every input byte comes out at once (AAD updates produce no output).
            guard output == nil || Int(written) == chunk else {
                throw CryptoError(.openSSL, "EVP_CipherUpdate: wrote \(written) of \(chunk) bytes")
            }
            offset += chunk
        }
        return output == nil ? 0 : offset
    }

    /// `EVP_CipherFinal_ex`: computes the tag (seal) or checks it (open). GCM emits no bytes here.
    private static func finish(
        _ context: EVPCipherContext,
        output: UnsafeMutablePointer<UInt8>?,
        at offset: Int
    ) throws(CryptoError) {
        var written: Int32 = 0
        guard EVP_CipherFinal_ex(context.pointer, output.map { $0 + offset }, &written) == 1, written == 0 else {
            throw OpenSSLError.failure("EVP_CipherFinal_ex")
        }
    }
}

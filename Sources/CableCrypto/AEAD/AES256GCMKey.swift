internal import CCableOpenSSL
internal import CableLocking

extension AES256GCM {
    /// An AES-256-GCM key whose OpenSSL contexts and key schedule are set up once, for many messages.
    ///
    /// The one-shot ``AES256GCM/seal(_:key:nonce:additionalData:)`` creates an `EVP_CIPHER_CTX` and expands
    /// the key on every call, which dominates the cost of a small message. A `Key` owns one context keyed
    /// for sealing and one keyed for opening; each call only sets the nonce (`EVP_CipherInit_ex2` with no
    /// cipher and no key), which OpenSSL 3's GCM provider (`gcm_init`) applies without touching the key
    /// schedule. Results are byte for byte those of the one-shot functions.
    ///
    /// ### Concurrency
    /// A `Key` is a `Sendable` reference: copies of a value holding it share it (the tunnel `Crypter`,
    /// which is `~Copyable`, is never copied, so it is the only holder of its keys). Each context sits behind its own `LockedValue`, so concurrent calls are serialised per direction and
    /// a seal never waits for an open. Every call sets its own nonce, additional data and tag under the
    /// lock, so nothing carries over from one call to the next: sharing is invisible apart from the
    /// waiting. (Copy-on-write would give each copy a private context, but would have to keep the key
    /// bytes around to re-key, and would still need the lock for copies that run concurrently.)
    ///
    /// The inputs are `Sendable` collections (arrays, slices) because they meet the context inside the
    /// lock: region-based isolation would otherwise tie the context to the caller's values.
    ///
    /// ### Secrets
    /// The key bytes are not kept: they live only in OpenSSL's key schedules, inside the contexts. When the
    /// last reference goes, `EVP_CIPHER_CTX_free` frees each provider context with `OPENSSL_clear_free`,
    /// which wipes the schedule. A failed ``open(_:nonce:additionalData:)`` wipes the partial plaintext.
    /// `description` shows no key material.
    package final class Key: Sendable, CustomStringConvertible {
        /// The context keyed for encryption; each seal sets the nonce, then streams AAD and plaintext.
        private let sealingContext: LockedValue<EVPCipherContext>
        /// The context keyed for decryption; each open sets the nonce and the expected tag.
        private let openingContext: LockedValue<EVPCipherContext>

        /// Expands `key` into a sealing and an opening context.
        ///
        /// - Throws: `.invalidLength` for a key other than 32 bytes; `.openSSL` if OpenSSL cannot create or
        ///   key a context (allocation failure or a missing default provider; no 32-byte key causes it).
        package init(_ key: some Collection<UInt8> & Sendable) throws(CryptoError) {
            self.sealingContext = LockedValue(try AES256GCM.makeContext(key: key, encrypting: true))
            self.openingContext = LockedValue(try AES256GCM.makeContext(key: key, encrypting: false))
        }

        /// Expands a key held as ``SecretBytes``, lent to OpenSSL in place rather than copied into an
        /// ordinary array that could not be wiped.
        ///
        /// - Throws: as ``init(_:)``.
        package init(_ key: SecretBytes) throws(CryptoError) {
            self.sealingContext = LockedValue(try Self.makeContext(key: key, encrypting: true))
            self.openingContext = LockedValue(try Self.makeContext(key: key, encrypting: false))
        }

        /// Returns ciphertext ‖ tag, identical to the one-shot `seal` with this key.
        ///
        /// - Throws: `.invalidLength` for a nonce other than 12 bytes.
        package func seal(
            _ plaintext: some Collection<UInt8> & Sendable,
            nonce: some Collection<UInt8> & Sendable,
            additionalData: some Collection<UInt8> & Sendable
        ) throws(CryptoError) -> [UInt8] {
            try AES256GCM.checkNonce(nonce)
            return try self.sealingContext.withLock { (context) throws(CryptoError) -> [UInt8] in
                try Self.setNonce(nonce, on: context, encrypting: true)
                return try AES256GCM.seal(plaintext, additionalData: additionalData, context: context)
            }
        }

        /// Opens ciphertext ‖ tag, identical to the one-shot `open` with this key. The key stays usable
        /// after any failure.
        ///
        /// - Throws: `.authenticationFailure` on any mismatch (no plaintext returned, the partial plaintext
        ///   wiped, the ERR queue cleared); `.invalidLength` for a nonce other than 12 bytes or an input
        ///   shorter than the 16-byte tag.
        package func open(
            _ ciphertextAndTag: some Collection<UInt8> & Sendable,
            nonce: some Collection<UInt8> & Sendable,
            additionalData: some Collection<UInt8> & Sendable
        ) throws(CryptoError) -> [UInt8] {
            try AES256GCM.checkSealedLength(ciphertextAndTag)
            try AES256GCM.checkNonce(nonce)
            return try self.openingContext.withLock { (context) throws(CryptoError) -> [UInt8] in
                try Self.setNonce(nonce, on: context, encrypting: false)
                return try AES256GCM.open(ciphertextAndTag, additionalData: additionalData, context: context)
            }
        }

        /// Returns the ciphertext of `plaintext ‖ trailer`, then the tag: the bytes ``seal(_:nonce:additionalData:)``
        /// gives for the joined message, without a joined copy (the tunnel crypter's padding is the
        /// trailer). The nonce is inline, so a message costs one allocation: the output.
        package func seal(
            _ plaintext: some Collection<UInt8> & Sendable,
            trailer: Trailer,
            nonce: Nonce,
            additionalData: some Collection<UInt8> & Sendable
        ) throws(CryptoError) -> [UInt8] {
            try self.sealingContext.withLock { (context) throws(CryptoError) -> [UInt8] in
                try nonce.withBytes { (nonce) throws(CryptoError) in
                    try Self.setNonce(nonce, on: context, encrypting: true)
                }
                return try trailer.withBytes { (trailer) throws(CryptoError) in
                    try AES256GCM.seal(plaintext, trailer: trailer, additionalData: additionalData, context: context)
                }
            }
        }

        /// ``open(_:nonce:additionalData:)`` with an inline nonce.
        ///
        /// - Throws: as ``open(_:nonce:additionalData:)``.
        package func open(
            _ ciphertextAndTag: some Collection<UInt8> & Sendable,
            nonce: Nonce,
            additionalData: some Collection<UInt8> & Sendable
        ) throws(CryptoError) -> [UInt8] {
            try AES256GCM.checkSealedLength(ciphertextAndTag)
            return try self.openingContext.withLock { (context) throws(CryptoError) -> [UInt8] in
                try nonce.withBytes { (nonce) throws(CryptoError) in
                    try Self.setNonce(nonce, on: context, encrypting: false)
                }
                return try AES256GCM.open(ciphertextAndTag, additionalData: additionalData, context: context)
            }
        }

        /// Never shows key material.
        package var description: String { "AES256GCM.Key(redacted)" }

        /// A context keyed with a secret's bytes in place. Taking the `Sendable` secret (not its buffer)
        /// keeps the returned context free of the caller's region, so it can be sent into a `LockedValue`.
        private static func makeContext(key: SecretBytes, encrypting: Bool) throws(CryptoError) -> EVPCipherContext {
            try key.withBuffer { (key) throws(CryptoError) in
                try AES256GCM.makeContext(key: key, encrypting: encrypting)
            }
        }

        /// Starts a new message on a keyed context: the IV-only re-initialisation resets GCM's hash and
        /// counter state (and the "IV used" guard that refuses a second message under one IV) and keeps
        /// the key schedule.
        private static func setNonce(
            _ nonce: some Collection<UInt8> & Sendable,
            on context: EVPCipherContext,
            encrypting: Bool
        ) throws(CryptoError) {
            try nonce.withContiguousBytes { (nonce) throws(CryptoError) in
                try Self.setNonce(nonce, on: context, encrypting: encrypting)
            }
        }

        /// The same with the nonce's 12 bytes in place (checked by the caller).
        private static func setNonce(
            _ nonce: UnsafeBufferPointer<UInt8>,
            on context: EVPCipherContext,
            encrypting: Bool
        ) throws(CryptoError) {
            guard EVP_CipherInit_ex2(context.pointer, nil, nil, nonce.baseAddress, encrypting ? 1 : 0, nil) == 1 else {
                throw OpenSSLError.failure("EVP_CipherInit_ex2(nonce)")
            }
        }
    }
}

extension AES256GCM {
    /// A 12-byte nonce held inline: building one per message costs no allocation.
    package struct Nonce: Sendable {
        /// The bytes, in order.
        private var bytes: InlineArray<12, UInt8>

        /// Twelve zero bytes.
        package init() { self.bytes = InlineArray(repeating: 0) }

        /// Byte `index`, 0..<12.
        package subscript(index: Int) -> UInt8 {
            get { self.bytes[index] }
            set { self.bytes[index] = newValue }
        }

        /// Calls `body` with the 12 bytes in place.
        func withBytes<Result, Failure: Error>(
            _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
        ) throws(Failure) -> Result {
            try self.bytes.span.withUnsafeBufferPointer { (buffer) throws(Failure) in try body(buffer) }
        }
    }

    /// Up to 32 bytes appended to a plaintext by ``Key/seal(_:trailer:nonce:additionalData:)``, held
    /// inline (no allocation): the tunnel crypter's padding.
    package struct Trailer: Sendable {
        /// The most bytes a trailer holds.
        package static let capacity = 32
        /// The storage; only the first `count` bytes belong to the trailer.
        private var bytes: InlineArray<32, UInt8>
        /// How many bytes the trailer has.
        package let count: Int

        /// `count` bytes, all `value`.
        ///
        /// - Precondition: `0 <= count <= 32`.
        package init(repeating value: UInt8, count: Int) {
            precondition(count >= 0 && count <= Self.capacity, "a trailer holds 0...\(Self.capacity) bytes")
            self.bytes = InlineArray(repeating: value)
            self.count = count
        }

        /// Byte `index`, 0..<count.
        package subscript(index: Int) -> UInt8 {
            get {
                precondition(index >= 0 && index < self.count, "trailer index out of range")
                return self.bytes[index]
            }
            set {
                precondition(index >= 0 && index < self.count, "trailer index out of range")
                self.bytes[index] = newValue
            }
        }

        /// Calls `body` with the trailer's bytes in place.
        func withBytes<Result, Failure: Error>(
            _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
        ) throws(Failure) -> Result {
            try self.bytes.span.withUnsafeBufferPointer { (buffer) throws(Failure) in
                try body(UnsafeBufferPointer(rebasing: buffer[0..<self.count]))
            }
        }
    }
}

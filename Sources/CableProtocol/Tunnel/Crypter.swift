package import CableCrypto

extension CableProtocolError.Code {
    /// A tunnel message did not authenticate under the read key and the expected sequence number
    /// (tampered, replayed, reordered, or from another session).
    public static let crypterAuthenticationFailed = Self(rawValue: "crypterAuthenticationFailed")
    /// A tunnel ciphertext was shorter than the 16-byte AES-GCM tag.
    public static let crypterCiphertextTooShort = Self(rawValue: "crypterCiphertextTooShort")
    /// A tunnel message (plain or encrypted) was larger than the 1 MiB the tunnel carries.
    public static let crypterMessageTooLarge = Self(rawValue: "crypterMessageTooLarge")
    /// A sequence number passed Chromium's limit of 2^24 − 1; the session must end.
    public static let crypterCounterExhausted = Self(rawValue: "crypterCounterExhausted")
    /// A tunnel key did not have 32 bytes.
    public static let crypterInvalidKeyLength = Self(rawValue: "crypterInvalidKeyLength")
    /// An OpenSSL operation failed for a reason unrelated to the peer's input.
    public static let crypterCryptoFailure = Self(rawValue: "crypterCryptoFailure")
}

/// The post-handshake transport encryption of caBLE v2 (hybrid-protocol.md §7.1–7.2, Chromium `Crypter`).
///
/// AES-256-GCM with the two keys from the handshake's `Split`, a separate 32-bit sequence number per
/// direction starting at zero, and padding applied to every message. ``seal(_:)`` pads and
/// encrypts; ``open(_:)`` decrypts and strips the padding.
///
/// ### Invariants
/// - The read sequence number advances only after a ciphertext authenticates, so a forged or damaged
///   message never desynchronises the stream; the write sequence number advances on every seal.
/// - Sequence numbers above ``maxSequenceNumber`` are refused in both directions (Chromium `kMaxSequence`).
/// - The ``Construction-swift.enum`` is fixed unless the ``ConstructionPolicy-swift.enum`` allows one switch
///   on a failed first read (the desktop's compatibility with older phones).
/// - `description` shows only the construction and counters, never a key.
///
/// ### One owner, one counter
/// A crypter is `~Copyable`: there is exactly one of it per session and direction pair, so its write
/// sequence number can never be forked. (A copyable crypter would let two copies seal different
/// messages under the same key and nonce, which breaks AES-GCM: the keystream and the authentication
/// key leak.) The session state machines that own one are `~Copyable` too and move it from state to
/// state. A value type rather than a shared reference keeps the sans-I/O machines plain values that
/// need no lock and are `Sendable` because every field is.
///
/// ### Keyed contexts
/// Each direction's key is expanded once into an `AES256GCM.Key` (an OpenSSL context with the key
/// schedule), on the first ``seal(_:)`` or ``open(_:)`` of that direction, rather than on every message.
/// Only this crypter holds them.
public struct Crypter: ~Copyable, Sendable {
    /// The largest sequence number Chromium uses; beyond it every operation fails.
    public static let maxSequenceNumber: UInt32 = (1 << 24) - 1
    /// Size of each traffic key.
    public static let keyByteCount = 32

    /// How the AEAD nonce and additional data are formed. Keys, padding and counters are identical.
    public enum Construction: Sendable, Hashable, CustomStringConvertible {
        /// Current Chromium (`ccfdb09e…` and later), libwebauthn, Firefox: nonce = 8 zero bytes ‖ the
        /// counter as a big-endian `UInt32`; no additional data. This is Noise's CipherState.
        case current
        /// Chromium until about 2022 (`0b007350…`): nonce = the counter as a little-endian `UInt32` ‖ 8 zero
        /// bytes; additional data = the single "version" byte `0x02`.
        case legacy

        /// The other construction.
        public var other: Construction {
            switch self {
            case .current: return .legacy
            case .legacy: return .current
            }
        }

        /// `current` or `legacy`.
        public var description: String {
            switch self {
            case .current: return "current"
            case .legacy: return "legacy"
            }
        }
    }

    /// Which construction a crypter uses, and whether it may change its mind.
    public enum ConstructionPolicy: Sendable, Hashable {
        /// Always `construction`. Phones use `.fixed(.current)`, as does current Chromium on both sides.
        case fixed(Construction)
        /// Start with `initial`; if the very first ``open(_:)`` (read sequence number 0) fails to
        /// authenticate, switch both directions to the other construction and retry once. This is the
        /// desktop's fallback for phones of the other generation (Chromium `6767131b…`, webauthn-rs).
        /// After the first successful read the construction is fixed.
        case fallbackOnFirstRead(initial: Construction)
    }

    private let readKey: SecretBytes
    private let writeKey: SecretBytes
    /// `readKey` expanded for opening; created by the first ``open(_:)`` that reaches decryption.
    private var openingKey: AES256GCM.Key?
    /// `writeKey` expanded for sealing; created by the first ``seal(_:)``.
    private var sealingKey: AES256GCM.Key?
    /// The construction currently in use for both directions.
    public private(set) var construction: Construction
    /// Whether a failed first read may still switch ``construction``.
    private var mayFallBack: Bool
    /// The sequence number the next ``open(_:)`` expects.
    public private(set) var readSequenceNumber: UInt32
    /// The sequence number the next ``seal(_:)`` uses.
    public private(set) var writeSequenceNumber: UInt32

    /// A crypter over two 32-byte keys, both sequence numbers at `0` unless given (tests start near
    /// the limit; vectors start mid-session).
    package init(
        readKey: SecretBytes,
        writeKey: SecretBytes,
        policy: ConstructionPolicy = .fixed(.current),
        readSequenceNumber: UInt32 = 0,
        writeSequenceNumber: UInt32 = 0
    ) {
        precondition(readKey.count == Self.keyByteCount && writeKey.count == Self.keyByteCount)
        self.readKey = readKey
        self.writeKey = writeKey
        switch policy {
        case .fixed(let construction):
            self.construction = construction
            self.mayFallBack = false
        case .fallbackOnFirstRead(let initial):
            self.construction = initial
            self.mayFallBack = true
        }
        self.readSequenceNumber = readSequenceNumber
        self.writeSequenceNumber = writeSequenceNumber
    }

    /// A crypter from raw traffic keys (e.g. known-answer tests, or keys from another Noise stack).
    ///
    /// - Throws: ``CableProtocolError/Code/crypterInvalidKeyLength`` unless both keys are 32 bytes.
    public init(
        readKey: [UInt8],
        writeKey: [UInt8],
        policy: ConstructionPolicy = .fixed(.current)
    )
        throws(CableProtocolError)
    {
        guard readKey.count == Self.keyByteCount, writeKey.count == Self.keyByteCount else {
            throw CableProtocolError(
                .crypterInvalidKeyLength,
                "traffic keys must be 32 bytes, got \(readKey.count) and \(writeKey.count)"
            )
        }
        self.init(readKey: SecretBytes(readKey), writeKey: SecretBytes(writeKey), policy: policy)
    }

    /// Pads and encrypts one message under the write key and the next write sequence number.
    ///
    /// - Returns: the ciphertext and tag, `MessagePadding.paddedCount(for: message.count) + 16` bytes.
    /// - Throws: ``CableProtocolError/Code/crypterCounterExhausted`` past the sequence limit,
    ///   ``CableProtocolError/Code/crypterMessageTooLarge`` if the result would exceed 1 MiB.
    public mutating func seal(_ message: [UInt8]) throws(CableProtocolError) -> [UInt8] {
        guard
            MessagePadding.paddedCount(for: message.count) + AES256GCM.tagByteCount
                <= TunnelServiceProtocol.maxMessageSize
        else {
            throw CableProtocolError(.crypterMessageTooLarge, "a \(message.count)-byte message does not fit the tunnel")
        }
        guard self.writeSequenceNumber <= Self.maxSequenceNumber else {
            throw CableProtocolError(.crypterCounterExhausted, "write sequence number passed 2^24 - 1")
        }
        let (nonce, additionalData) = Self.nonceAndAdditionalData(self.writeSequenceNumber, self.construction)
        let ciphertext: [UInt8]
        do throws(CryptoError) {
            let key: AES256GCM.Key
            if let sealingKey = self.sealingKey {
                key = sealingKey
            } else {
                key = try AES256GCM.Key(self.writeKey)
                self.sealingKey = key
            }
            // The padding goes in as the seal's trailer: the message is encrypted from where it lies.
            ciphertext = try key.seal(
                message,
                trailer: MessagePadding.trailer(for: message.count),
                nonce: nonce,
                additionalData: additionalData
            )
        } catch {
            throw CableProtocolError(.crypterCryptoFailure, "AES-GCM seal failed: \(error.code.rawValue)")
        }
        self.writeSequenceNumber += 1
        return ciphertext
    }

    /// Decrypts one message under the read key and the expected read sequence number, then strips the
    /// padding.
    ///
    /// - Throws: ``CableProtocolError/Code/crypterAuthenticationFailed`` if it does not authenticate
    ///   (the read sequence number is unchanged); ``CableProtocolError/Code/crypterCiphertextTooShort``,
    ///   ``CableProtocolError/Code/crypterMessageTooLarge``, ``CableProtocolError/Code/crypterCounterExhausted``,
    ///   ``CableProtocolError/Code/crypterEmptyPlaintext`` or ``CableProtocolError/Code/crypterInvalidPadding``.
    public mutating func open(_ ciphertext: [UInt8]) throws(CableProtocolError) -> [UInt8] {
        guard ciphertext.count <= TunnelServiceProtocol.maxMessageSize else {
            throw CableProtocolError(.crypterMessageTooLarge, "a \(ciphertext.count)-byte ciphertext exceeds 1 MiB")
        }
        guard ciphertext.count >= AES256GCM.tagByteCount else {
            throw CableProtocolError(.crypterCiphertextTooShort, "\(ciphertext.count) bytes cannot hold a tag")
        }
        guard self.readSequenceNumber <= Self.maxSequenceNumber else {
            throw CableProtocolError(.crypterCounterExhausted, "read sequence number passed 2^24 - 1")
        }
        let key: AES256GCM.Key
        if let openingKey = self.openingKey {
            key = openingKey
        } else {
            do throws(CryptoError) {
                key = try AES256GCM.Key(self.readKey)
            } catch {
                throw CableProtocolError(.crypterCryptoFailure, "AES-GCM key setup failed: \(error.code.rawValue)")
            }
            self.openingKey = key
        }
        var padded: [UInt8]
        if let plaintext = self.authenticate(ciphertext, self.construction, key: key) {
            padded = plaintext
        } else if self.mayFallBack, self.readSequenceNumber == 0 {
            // Chromium 6767131b: a failed first read may mean the phone speaks the other construction.
            // Switch both directions, once, and retry.
            self.mayFallBack = false
            self.construction = self.construction.other
            guard let plaintext = self.authenticate(ciphertext, self.construction, key: key) else {
                throw CableProtocolError(.crypterAuthenticationFailed, "message did not authenticate")
            }
            padded = plaintext
        } else {
            throw CableProtocolError(.crypterAuthenticationFailed, "message did not authenticate")
        }
        self.mayFallBack = false
        self.readSequenceNumber += 1
        try MessagePadding.unpad(&padded)
        return padded
    }

    /// The construction and both sequence numbers; never a key. (A `~Copyable` type cannot conform to
    /// `CustomStringConvertible`, so this is a plain property.)
    public var description: String {
        "Crypter(\(self.construction), read: \(self.readSequenceNumber), write: \(self.writeSequenceNumber))"
    }

    // MARK: - Private

    /// Opens under the read `key` and sequence number with `construction`; `nil` on any AEAD failure.
    private func authenticate(_ ciphertext: [UInt8], _ construction: Construction, key: AES256GCM.Key) -> [UInt8]? {
        let (nonce, additionalData) = Self.nonceAndAdditionalData(self.readSequenceNumber, construction)
        return try? key.open(ciphertext, nonce: nonce, additionalData: additionalData)
    }

    /// The 12-byte nonce and the additional data for `sequenceNumber` under `construction`, with no
    /// allocation (the nonce is inline, the additional data empty or shared) since this runs for every
    /// message.
    private static func nonceAndAdditionalData(
        _ sequenceNumber: UInt32,
        _ construction: Construction
    ) -> (nonce: AES256GCM.Nonce, additionalData: [UInt8]) {
        var nonce = AES256GCM.Nonce()
        switch construction {
        case .current:
            // 8 zero bytes ‖ big-endian counter.
            for index in 0..<4 { nonce[8 + index] = UInt8(truncatingIfNeeded: sequenceNumber >> (24 - 8 * index)) }
            return (nonce, [])
        case .legacy:
            // Little-endian counter ‖ 8 zero bytes.
            for index in 0..<4 { nonce[index] = UInt8(truncatingIfNeeded: sequenceNumber >> (8 * index)) }
            return (nonce, Self.legacyAdditionalData)
        }
    }

    /// The legacy construction's additional data: the single "version" byte (Chromium
    /// `kAdditionalDataBytes = {/*version=*/2}`).
    private static let legacyAdditionalData: [UInt8] = [2]
}

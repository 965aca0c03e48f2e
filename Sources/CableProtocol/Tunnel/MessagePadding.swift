package import CableCrypto

extension CableProtocolError.Code {
    /// A decrypted tunnel message was empty, so it has no padding-count byte.
    public static let crypterEmptyPlaintext = Self(rawValue: "crypterEmptyPlaintext")
    /// A decrypted tunnel message's padding count (last byte) plus one exceeds its length.
    public static let crypterInvalidPadding = Self(rawValue: "crypterInvalidPadding")
}

/// The padding the crypter applies to every tunnel message before encryption (hybrid-protocol.md §7.2,
/// Chromium `Crypter::Encrypt` / `Crypter::Decrypt`).
///
/// A message of `n` bytes becomes the smallest multiple of ``granularity`` that is at least `n + 1`
/// bytes: the message, `z` zero bytes, then one byte holding `z` (so `z` is 0…31). This hides message
/// lengths to within 32 bytes.
///
/// Removing it follows Chromium exactly: the plaintext must be non-empty and `z + 1` must not exceed its
/// length. The zeros themselves are **not** checked, and `z` may exceed 31 (libwebauthn's stricter
/// `z < 32` check is not applied), so anything Chromium accepts is accepted.
@_spi(Fuzzing) public enum MessagePadding {
    /// Padded lengths are multiples of this (Chromium `kPaddingGranularity`).
    public static let granularity = 32

    /// The padded length for a message of `count` bytes.
    public static func paddedCount(for count: Int) -> Int {
        // Round count + 1 up to the granularity (a power of two).
        (count + 1 + Self.granularity - 1) & ~(Self.granularity - 1)
    }

    /// Pads `message`: zeros, then the number of zeros in the last byte. One allocation of the final size
    /// and one copy of the message, whatever its size.
    public static func pad(_ message: some Collection<UInt8>) -> [UInt8] {
        let paddedCount = Self.paddedCount(for: message.count)
        let zeroCount = paddedCount - message.count - 1
        return [UInt8](unsafeUninitializedCapacity: paddedCount) { buffer, initializedCount in
            let copied: Int
            if let done = message.withContiguousStorageIfAvailable({ source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(source))
                return source.count
            }) {
                copied = done
            } else {
                copied = buffer.initialize(from: message).1
            }
            buffer[copied..<(paddedCount - 1)].initialize(repeating: 0)
            buffer[paddedCount - 1] = UInt8(zeroCount)
            initializedCount = paddedCount
        }
    }

    /// The bytes ``pad(_:)`` appends to a message of `count` bytes (zeros, then their number), inline,
    /// for the crypter to encrypt after the message without building the padded copy.
    package static func trailer(for count: Int) -> AES256GCM.Trailer {
        let trailerCount = Self.paddedCount(for: count) - count
        var trailer = AES256GCM.Trailer(repeating: 0, count: trailerCount)
        trailer[trailerCount - 1] = UInt8(trailerCount - 1)
        return trailer
    }

    /// Strips the padding from a decrypted plaintext.
    ///
    /// - Throws: ``CableProtocolError/Code/crypterEmptyPlaintext`` for an empty input,
    ///   ``CableProtocolError/Code/crypterInvalidPadding`` when the count byte claims more bytes than exist.
    public static func unpad(_ padded: [UInt8]) throws(CableProtocolError) -> [UInt8] {
        var message = padded
        try Self.unpad(&message)
        return message
    }

    /// Strips the padding in place: the plaintext's storage becomes the message's, with no copy.
    ///
    /// - Throws: as ``unpad(_:)``; `padded` is unchanged on error.
    public static func unpad(_ padded: inout [UInt8]) throws(CableProtocolError) {
        guard let last = padded.last else {
            throw CableProtocolError(.crypterEmptyPlaintext, "decrypted message is empty")
        }
        let removed = Int(last) + 1
        guard removed <= padded.count else {
            // The count byte is plaintext: only the length goes into the reason.
            throw CableProtocolError(
                .crypterInvalidPadding,
                "padding count does not fit in a \(padded.count)-byte message"
            )
        }
        padded.removeLast(removed)
    }
}

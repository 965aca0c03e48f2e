internal import CCableOpenSSL

extension P256 {
    /// A validated public point.
    package struct PublicKey: Sendable, Hashable {
        /// 04 ‖ X ‖ Y: the identity of the key for `==` and hashing.
        private let encoded: [UInt8]
        /// The point as an OpenSSL key, for ECDH and ECDSA verification.
        let key: EVPPKey

        /// Parses X9.62 compressed (33) or uncompressed (65) bytes; rejects other lengths, bad prefixes,
        /// points not on the curve and the point at infinity.
        ///
        /// Throws `.invalidLength` for lengths other than 33 and 65 (the one-byte infinity encoding `00`
        /// is `.invalidPublicKey`), `.invalidPublicKey` for everything else that is not a P-256 point.
        package init(x962Representation bytes: some Collection<UInt8>) throws(CryptoError) {
            let uncompressed = try bytes.withContiguousBytes { (encoded) throws(CryptoError) in
                try P256Group.shared.uncompressedPoint(decoding: encoded)
            }
            try self.init(validatedUncompressed: uncompressed)
        }

        /// A key from 65 bytes that `P256Group` produced or validated.
        init(validatedUncompressed uncompressed: [UInt8]) throws(CryptoError) {
            self.key = try uncompressed.withContiguousBytes { (point) throws(CryptoError) in
                try P256Group.shared.publicKey(validatedUncompressed: point)
            }
            self.encoded = uncompressed
        }

        /// 65 bytes, 04 ‖ X ‖ Y.
        package var uncompressedRepresentation: [UInt8] { self.encoded }

        /// 33 bytes, 02/03 ‖ X.
        package var compressedRepresentation: [UInt8] {
            var compressed = [UInt8](self.encoded[0..<P256Group.compressedByteCount])
            compressed[0] = 0x02 | (self.encoded[P256Group.uncompressedByteCount - 1] & 1)
            return compressed
        }

        /// X coordinate, 32 bytes (for COSE keys).
        package var x: [UInt8] { Array(self.encoded[1..<33]) }

        /// Y coordinate, 32 bytes (for COSE keys).
        package var y: [UInt8] { Array(self.encoded[33..<65]) }

        /// Same point. Public keys are not secret, so an ordinary comparison is fine.
        package static func == (lhs: PublicKey, rhs: PublicKey) -> Bool { lhs.encoded == rhs.encoded }

        /// Hashes the uncompressed encoding, consistent with `==`.
        package func hash(into hasher: inout Hasher) { hasher.combine(self.encoded) }
    }
}

extension P256.PublicKey: CustomStringConvertible {
    /// The compressed encoding in hex (public data).
    package var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in self.compressedRepresentation {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return "P256.PublicKey(\(String(decoding: text, as: UTF8.self)))"
    }
}

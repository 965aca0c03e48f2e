/// Errors from the crypto layer. Equality compares ``code`` only.
///
/// ``diagnostics`` carries only non-secret text (the failing OpenSSL function and its error queue, or the
/// length that was wrong), so the error can be logged; it never holds key material or plaintext.
package struct CryptoError: Error, Hashable, CustomStringConvertible, Sendable {
    /// Which rule was broken.
    package enum Code: String, Hashable, Sendable {
        /// An OpenSSL call failed (function name and drained error queue are in the diagnostics).
        case openSSL
        /// A key, nonce, tag or block had the wrong length.
        case invalidLength
        /// A public key's encoding was malformed or the point is not on P-256.
        case invalidPublicKey
        /// A private scalar was zero or ≥ the group order.
        case invalidPrivateKey
        /// AES-GCM authentication failed.
        case authenticationFailure
        /// ECDSA signature malformed (for DER parsing helpers).
        case invalidSignature
        /// A certificate (DER or PEM) that does not parse, or a field of it that cannot be read.
        case invalidCertificate
    }

    /// Which rule was broken.
    package let code: Code
    /// Non-secret diagnostics (OpenSSL function name, error queue text). Never key material.
    package let diagnostics: String

    /// Creates an error with a code and optional non-secret diagnostics.
    package init(_ code: Code, _ diagnostics: String = "") {
        self.code = code
        self.diagnostics = diagnostics
    }

    /// `CryptoError.<code>` followed by the diagnostics, if any.
    package var description: String {
        self.diagnostics.isEmpty
            ? "CryptoError.\(self.code.rawValue)"
            : "CryptoError.\(self.code.rawValue): \(self.diagnostics)"
    }

    /// Compares codes only, so tests and callers match on the rule, not on OpenSSL's wording.
    package static func == (a: CryptoError, b: CryptoError) -> Bool { a.code == b.code }

    /// Hashes the code only, consistent with `==`.
    package func hash(into h: inout Hasher) { h.combine(self.code) }
}

extension CryptoError {
    /// `.invalidLength` naming the parameter and the lengths involved (lengths are never secret).
    static func invalidLength(_ what: String, expected: Int, actual: Int) -> CryptoError {
        CryptoError(.invalidLength, "\(what) must be \(expected) bytes, got \(actual)")
    }
}

internal import CCableOpenSSL

/// Certificate path validation by OpenSSL (`X509_verify_cert`): from a leaf, through untrusted
/// intermediates, to one of the given trust anchors, at a time the caller chooses.
///
/// The anchors need not be self-signed (`X509_V_FLAG_PARTIAL_CHAIN`): FIDO metadata lists intermediate
/// certificates as attestation roots too. Revocation is not checked (attestation has no CRLs to fetch
/// here; MDS status reports stand in for it). No purpose or policy is required, because attestation
/// certificates carry none; intermediates must still be CAs, as RFC 5280 requires.
package enum X509PathVerifier {
    /// Why a path did not verify.
    package enum Failure: Sendable, Equatable {
        /// No path to any anchor (unknown issuer, or a self-signed certificate that is not an anchor).
        case untrusted
        /// A certificate on the path has expired at the given time.
        case expired
        /// A certificate on the path is not yet valid at the given time.
        case notYetValid
        /// A signature on the path does not verify.
        case badSignature
        /// The path needs more certificates than allowed.
        case tooLong
        /// An issuer is not a CA, or another RFC 5280 rule failed.
        case invalid
    }

    /// A refusal: the kind, OpenSSL's reason text and the depth of the certificate at fault (0 = leaf).
    package struct VerificationError: Error, Sendable, CustomStringConvertible {
        /// What went wrong.
        package let failure: Failure
        /// OpenSSL's reason (`X509_verify_cert_error_string`).
        package let reason: String
        /// Depth of the certificate at fault (0 is the leaf).
        package let depth: Int

        /// `reason (depth N)`.
        package var description: String { "\(self.reason) (certificate at depth \(self.depth))" }
    }

    /// Verifies `leaf` up to one of `anchors` at `time` (seconds since 1970, UTC).
    /// - Parameters:
    ///   - maximumDepth: the most certificates between the leaf and the anchor (OpenSSL's verify depth).
    /// - Returns: the validated path, leaf first, ending with the anchor.
    package static func verify(
        leaf: X509Certificate,
        intermediates: [X509Certificate],
        anchors: [X509Certificate],
        at time: Int64,
        maximumDepth: Int
    ) throws(VerificationError) -> [X509Certificate] {
        defer { OpenSSLError.clearQueue() }
        guard !anchors.isEmpty else {
            throw VerificationError(failure: .untrusted, reason: "no trust anchor configured", depth: 0)
        }
        guard let store = X509_STORE_new() else { OpenSSLError.unrecoverable("X509_STORE_new") }
        defer { X509_STORE_free(store) }
        for anchor in anchors {
            // Adding a duplicate anchor is not an error in OpenSSL 3.
            _ = X509_STORE_add_cert(store, anchor.pointer)
        }
        guard let untrusted = OPENSSL_sk_new_null() else { OpenSSLError.unrecoverable("OPENSSL_sk_new_null") }
        defer { OPENSSL_sk_free(untrusted) }
        for certificate in intermediates {
            guard OPENSSL_sk_push(untrusted, UnsafeRawPointer(certificate.pointer)) > 0 else {
                OpenSSLError.unrecoverable("OPENSSL_sk_push")
            }
        }
        guard let context = X509_STORE_CTX_new() else { OpenSSLError.unrecoverable("X509_STORE_CTX_new") }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, leaf.pointer, untrusted) == 1 else {
            OpenSSLError.unrecoverable("X509_STORE_CTX_init")
        }
        guard let parameters = X509_STORE_CTX_get0_param(context) else {
            OpenSSLError.unrecoverable("X509_STORE_CTX_get0_param")
        }
        X509_VERIFY_PARAM_set_time(parameters, time_t(time))
        X509_VERIFY_PARAM_set_depth(parameters, Int32(max(0, maximumDepth)))
        _ = X509_VERIFY_PARAM_set_flags(parameters, UInt(X509_V_FLAG_PARTIAL_CHAIN))

        guard X509_verify_cert(context) == 1 else {
            let code = X509_STORE_CTX_get_error(context)
            let depth = Int(X509_STORE_CTX_get_error_depth(context))
            let reason = X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "error \(code)"
            throw VerificationError(failure: Self.failure(code), reason: reason, depth: depth)
        }
        guard let chain = X509_STORE_CTX_get0_chain(context) else {
            throw VerificationError(failure: .invalid, reason: "no chain after verification", depth: 0)
        }
        var path: [X509Certificate] = []
        for index in 0..<OPENSSL_sk_num(chain) {
            guard let raw = OPENSSL_sk_value(chain, index) else { continue }
            let pointer = OpaquePointer(raw)
            if let known = ([leaf] + intermediates + anchors).first(where: { $0.pointer == pointer }) {
                path.append(known)
            } else if X509_up_ref(pointer) == 1, let copy = try? X509Certificate(taking: pointer) {
                path.append(copy)
            }
        }
        return path
    }

    private static func failure(_ code: Int32) -> Failure {
        switch code {
        case X509_V_ERR_CERT_HAS_EXPIRED: return .expired
        case X509_V_ERR_CERT_NOT_YET_VALID: return .notYetValid
        case X509_V_ERR_CERT_SIGNATURE_FAILURE, X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE,
            X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
            return .badSignature
        case X509_V_ERR_CERT_CHAIN_TOO_LONG, X509_V_ERR_PATH_LENGTH_EXCEEDED: return .tooLong
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
            X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
            X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_UNTRUSTED:
            return .untrusted
        default: return .invalid
        }
    }
}

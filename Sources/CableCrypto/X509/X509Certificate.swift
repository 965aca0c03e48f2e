internal import CCableOpenSSL

/// An X.509 certificate parsed by OpenSSL (`d2i_X509`), with the few reads attestation needs.
///
/// Parsing and every field read go through OpenSSL's X.509 code; nothing here walks ASN.1 by hand.
/// Callers that must read the *content* of an extension (the AAGUID, Android's key description) get the
/// extension's value bytes and decode them with swift-asn1.
///
/// `@unchecked Sendable`: the `X509` object is complete when `init` returns and is only read afterwards.
/// OpenSSL caches decoded extensions on first read (`x509v3_cache_extensions`) under the object's own
/// lock, so concurrent reads are safe; the cache is filled once in `init` anyway.
package final class X509Certificate: @unchecked Sendable, Hashable, CustomStringConvertible {
    /// The longest certificate accepted (real attestation certificates are 0.5–2 KiB; the MDS root 0.9 KiB).
    package static let maximumDERByteCount = 16 * 1024

    /// The owned `X509`.
    let pointer: OpaquePointer
    /// The DER encoding exactly as given.
    package let derEncoded: [UInt8]

    /// Parses one DER certificate; trailing bytes are refused.
    package init(derEncoded bytes: [UInt8]) throws(CryptoError) {
        guard !bytes.isEmpty, bytes.count <= Self.maximumDERByteCount else {
            throw CryptoError(.invalidCertificate, "\(bytes.count) bytes, 1…\(Self.maximumDERByteCount) accepted")
        }
        let parsed: (OpaquePointer?, Int) = bytes.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let certificate = d2i_X509(nil, &cursor, buffer.count)
            let consumed = cursor.map { $0 - buffer.baseAddress! } ?? 0
            return (certificate, consumed)
        }
        guard let certificate = parsed.0 else {
            throw CryptoError(.invalidCertificate, "not a DER certificate: \(OpenSSLError.drainQueue())")
        }
        guard parsed.1 == bytes.count else {
            X509_free(certificate)
            throw CryptoError(.invalidCertificate, "\(bytes.count - parsed.1) bytes follow the certificate")
        }
        // Decodes and caches the extensions now; a malformed one marks the certificate invalid.
        let flags = X509_get_extension_flags(certificate)
        guard flags & UInt32(EXFLAG_INVALID) == 0 else {
            X509_free(certificate)
            OpenSSLError.clearQueue()
            throw CryptoError(.invalidCertificate, "an extension is malformed or repeated")
        }
        self.pointer = certificate
        self.derEncoded = bytes
    }

    /// Takes ownership of an `X509` built in this module, encoding it once.
    init(taking certificate: OpaquePointer) throws(CryptoError) {
        var output: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_X509(certificate, &output)
        guard length > 0, let output else {
            X509_free(certificate)
            throw OpenSSLError.failure("i2d_X509")
        }
        self.derEncoded = Array(UnsafeBufferPointer(start: output, count: Int(length)))
        CRYPTO_free(output, #fileID, #line)
        self.pointer = certificate
        _ = X509_get_extension_flags(certificate)
    }

    deinit { X509_free(self.pointer) }

    /// Every certificate in a PEM text, in order (`-----BEGIN CERTIFICATE-----` blocks; other blocks are skipped).
    /// - Throws: `.invalidCertificate` when a certificate block does not parse or none is found.
    package static func certificates(pem: [UInt8], maximumCount: Int = 16) throws(CryptoError) -> [X509Certificate] {
        guard pem.count <= 1 << 20 else { throw CryptoError(.invalidCertificate, "PEM text over 1 MiB") }
        var result: [X509Certificate] = []
        try pem.withContiguousBytes { (raw: UnsafeBufferPointer<UInt8>) throws(CryptoError) in
            guard let bio = BIO_new_mem_buf(UnsafeRawPointer(raw.baseAddress), Int32(raw.count)) else {
                throw OpenSSLError.failure("BIO_new_mem_buf")
            }
            defer { BIO_free(bio) }
            while true {
                guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else { break }
                let wrapped = try X509Certificate(taking: certificate)
                guard result.count < maximumCount else {
                    throw CryptoError(.invalidCertificate, "more than \(maximumCount) certificates")
                }
                result.append(try X509Certificate(derEncoded: wrapped.derEncoded))
            }
        }
        // The loop ends on "no start line" at the end of input; anything else is a broken block.
        let reason = ERR_peek_last_error()
        OpenSSLError.clearQueue()
        if reason != 0, ERR_GET_REASON(reason) != PEM_R_NO_START_LINE {
            throw CryptoError(.invalidCertificate, "a PEM certificate block does not parse")
        }
        guard !result.isEmpty else { throw CryptoError(.invalidCertificate, "no PEM certificate found") }
        return result
    }

    /// The PEM encoding (one `CERTIFICATE` block).
    package var pemEncoded: String {
        let base64 = X509Certificate.base64(self.derEncoded)
        var lines = ["-----BEGIN CERTIFICATE-----"]
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        lines.append("-----END CERTIFICATE-----")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Standard base64 with padding (OpenSSL's `EVP_EncodeBlock`).
    static func base64(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "" }
        var output = [UInt8](repeating: 0, count: (bytes.count + 2) / 3 * 4 + 1)
        let length = bytes.withUnsafeBufferPointer { input in
            EVP_EncodeBlock(&output, input.baseAddress, Int32(input.count))
        }
        return String(decoding: output.prefix(Int(length)), as: UTF8.self)
    }

    /// The X.509 version as written (1, 2 or 3).
    package var version: Int { Int(X509_get_version(self.pointer)) + 1 }

    /// A subject attribute's values as UTF-8 (e.g. ``SubjectAttribute/commonName``); empty when absent.
    package func subjectValues(_ attribute: SubjectAttribute) -> [String] {
        self.nameValues(X509_get_subject_name(self.pointer), attribute)
    }

    /// An issuer attribute's values as UTF-8.
    package func issuerValues(_ attribute: SubjectAttribute) -> [String] {
        self.nameValues(X509_get_issuer_name(self.pointer), attribute)
    }

    /// The subject as one line (OpenSSL's RFC 2253 form), for messages.
    package var subjectSummary: String {
        let parts: [(SubjectAttribute, String)] = [
            (.commonName, "CN"), (.organizationalUnit, "OU"), (.organization, "O"), (.country, "C"),
        ]
        return parts.compactMap { attribute, label in
            let values = self.subjectValues(attribute)
            return values.isEmpty ? nil : "\(label)=\(values.joined(separator: "+"))"
        }.joined(separator: ", ")
    }

    /// Whether the subject equals the issuer and the signature verifies with the certificate's own key.
    package var isSelfSigned: Bool {
        defer { OpenSSLError.clearQueue() }
        return X509_check_issued(self.pointer, self.pointer) == X509_V_OK
            && X509_get_extension_flags(self.pointer) & UInt32(EXFLAG_SS) != 0
    }

    /// Basic constraints: `nil` when the extension is absent, else whether `cA` is true.
    package var basicConstraintsCA: Bool? {
        let flags = X509_get_extension_flags(self.pointer)
        guard flags & UInt32(EXFLAG_BCONS) != 0 else { return nil }
        return flags & UInt32(EXFLAG_CA) != 0
    }

    /// An extension found by its dotted OID: whether it is critical and its `extnValue` bytes (the DER
    /// of the extension's own structure). `nil` when absent.
    /// - Throws: `.invalidCertificate` when the extension occurs more than once (RFC 5280 §4.2).
    package func extensionValue(oid: String) throws(CryptoError) -> (critical: Bool, value: [UInt8])? {
        guard let object = OBJ_txt2obj(oid, 1) else {
            OpenSSLError.clearQueue()
            throw CryptoError(.invalidCertificate, "not a dotted OID: \(oid.prefix(40))")
        }
        defer { ASN1_OBJECT_free(object) }
        let index = X509_get_ext_by_OBJ(self.pointer, object, -1)
        guard index >= 0 else { return nil }
        guard X509_get_ext_by_OBJ(self.pointer, object, index) < 0 else {
            throw CryptoError(.invalidCertificate, "extension \(oid) occurs more than once")
        }
        guard let ext = X509_get_ext(self.pointer, index), let data = X509_EXTENSION_get_data(ext) else {
            throw CryptoError(.invalidCertificate, "extension \(oid) cannot be read")
        }
        let length = Int(ASN1_STRING_length(data))
        let bytes = length > 0 ? Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(data), count: length)) : []
        return (X509_EXTENSION_get_critical(ext) == 1, bytes)
    }

    /// The subject public key.
    package var publicKey: X509PublicKey {
        // X509_get0_pubkey borrows; take a reference of our own so the key may outlive this certificate.
        guard let key = X509_get0_pubkey(self.pointer), EVP_PKEY_up_ref(key) == 1 else {
            OpenSSLError.clearQueue()
            return X509PublicKey(key: nil)
        }
        return X509PublicKey(key: EVPPKey(taking: key))
    }

    /// Whether `time` (seconds since 1970, UTC) lies within notBefore…notAfter.
    package func isValid(at time: Int64) -> Bool {
        var seconds = time_t(time)
        guard let notBefore = X509_get0_notBefore(self.pointer), let notAfter = X509_get0_notAfter(self.pointer) else {
            return false
        }
        return X509_cmp_time(notBefore, &seconds) < 0 && X509_cmp_time(notAfter, &seconds) > 0
    }

    /// Compares the DER encodings.
    package static func == (a: X509Certificate, b: X509Certificate) -> Bool { a.derEncoded == b.derEncoded }

    /// Hashes the DER encoding.
    package func hash(into hasher: inout Hasher) { hasher.combine(self.derEncoded) }

    /// The subject, for logs and errors (certificates are public).
    package var description: String { "X509Certificate(\(self.subjectSummary))" }

    private func nameValues(_ name: OpaquePointer?, _ attribute: SubjectAttribute) -> [String] {
        guard let name else { return [] }
        var values: [String] = []
        var position: Int32 = -1
        while values.count < 16 {
            position = X509_NAME_get_index_by_NID(name, attribute.nid, position)
            guard position >= 0, let entry = X509_NAME_get_entry(name, position),
                let data = X509_NAME_ENTRY_get_data(entry)
            else { break }
            var utf8: UnsafeMutablePointer<UInt8>? = nil
            let length = ASN1_STRING_to_UTF8(&utf8, data)
            if length >= 0, let utf8 {
                values.append(String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self))
                CRYPTO_free(utf8, #fileID, #line)
            }
        }
        OpenSSLError.clearQueue()
        return values
    }
}

/// The name attributes that WebAuthn's certificate requirements mention.
package enum SubjectAttribute: Sendable {
    /// C (2.5.4.6).
    case country
    /// O (2.5.4.10).
    case organization
    /// OU (2.5.4.11).
    case organizationalUnit
    /// CN (2.5.4.3).
    case commonName

    var nid: Int32 {
        switch self {
        case .country: return NID_countryName
        case .organization: return NID_organizationName
        case .organizationalUnit: return NID_organizationalUnitName
        case .commonName: return NID_commonName
        }
    }
}

/// A certificate's subject public key, for signature checks and key comparison.
package struct X509PublicKey: Sendable {
    let key: EVPPKey?

    /// The signature schemes attestation and MDS use.
    package enum SignatureScheme: Sendable, CaseIterable {
        /// ECDSA P-256 with SHA-256 (COSE ES256, JWS ES256).
        case ecdsaP256SHA256
        /// ECDSA P-384 with SHA-384 (COSE ES384).
        case ecdsaP384SHA384
        /// ECDSA P-521 with SHA-512 (COSE ES512).
        case ecdsaP521SHA512
        /// RSASSA-PKCS1-v1_5 with SHA-256 (COSE RS256, JWS RS256).
        case rsaPKCS1SHA256
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        case rsaPKCS1SHA384
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        case rsaPKCS1SHA512
        /// Ed25519 (COSE EdDSA).
        case ed25519

        var digestName: String? {
            switch self {
            case .ecdsaP256SHA256, .rsaPKCS1SHA256: return "SHA256"
            case .ecdsaP384SHA384, .rsaPKCS1SHA384: return "SHA384"
            case .ecdsaP521SHA512, .rsaPKCS1SHA512: return "SHA512"
            case .ed25519: return nil
            }
        }
    }

    /// Whether the key's type (and curve) is the one `scheme` needs.
    package func matches(_ scheme: SignatureScheme) -> Bool {
        guard let key = self.key?.pointer else { return false }
        switch scheme {
        case .ecdsaP256SHA256: return EVP_PKEY_is_a(key, "EC") == 1 && self.groupName == "prime256v1"
        case .ecdsaP384SHA384: return EVP_PKEY_is_a(key, "EC") == 1 && self.groupName == "secp384r1"
        case .ecdsaP521SHA512: return EVP_PKEY_is_a(key, "EC") == 1 && self.groupName == "secp521r1"
        case .rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512:
            return EVP_PKEY_is_a(key, "RSA") == 1 && EVP_PKEY_get_bits(key) >= 2048
        case .ed25519: return EVP_PKEY_is_a(key, "ED25519") == 1
        }
    }

    /// The curve's OpenSSL name for an EC key (`prime256v1`, …), else `nil`.
    package var groupName: String? {
        guard let key = self.key?.pointer, EVP_PKEY_is_a(key, "EC") == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: 64)
        var length = 0
        guard EVP_PKEY_get_utf8_string_param(key, "group", &buffer, buffer.count, &length) == 1 else {
            OpenSSLError.clearQueue()
            return nil
        }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The uncompressed point `04 ‖ X ‖ Y` of a P-256 key, else `nil`.
    package var p256UncompressedPoint: [UInt8]? {
        guard let key = self.key?.pointer, self.groupName == "prime256v1" else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65)
        var length = 0
        guard EVP_PKEY_get_octet_string_param(key, "encoded-pub-key", &buffer, buffer.count, &length) == 1,
            length == 65, buffer[0] == 0x04
        else {
            OpenSSLError.clearQueue()
            return nil
        }
        return buffer
    }

    /// Verifies `signature` over `message` with this key under `scheme`; a key of another type, malformed
    /// signature or any OpenSSL failure is `false`.
    package func isValidSignature(
        _ signature: [UInt8],
        for message: [UInt8],
        scheme: SignatureScheme
    ) -> Bool {
        guard let key = self.key, self.matches(scheme), !signature.isEmpty, signature.count <= 1024 else {
            return false
        }
        defer { OpenSSLError.clearQueue() }
        guard let context = try? EVPDigestContext() else { return false }
        let initialised: Int32
        if let digest = scheme.digestName {
            initialised = EVP_DigestVerifyInit_ex(context.pointer, nil, digest, nil, nil, key.pointer, nil)
        } else {
            initialised = EVP_DigestVerifyInit_ex(context.pointer, nil, nil, nil, nil, key.pointer, nil)
        }
        guard initialised == 1 else { return false }
        return signature.withUnsafeBufferPointer { signature in
            message.withUnsafeBufferPointer { message in
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

extension X509PublicKey {
    /// Converts a JWS / COSE raw ECDSA signature (`r ‖ s`, each `coordinateByteCount` bytes) to DER with
    /// OpenSSL's `ECDSA_SIG`; `nil` for a wrong length.
    package static func derECDSASignature(raw: [UInt8], coordinateByteCount: Int) -> [UInt8]? {
        guard raw.count == 2 * coordinateByteCount, coordinateByteCount > 0, coordinateByteCount <= 66 else {
            return nil
        }
        defer { OpenSSLError.clearQueue() }
        guard let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let r = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(coordinateByteCount), nil) }
        let s = raw.withUnsafeBufferPointer {
            BN_bin2bn($0.baseAddress! + coordinateByteCount, Int32(coordinateByteCount), nil)
        }
        guard let r, let s else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        guard ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        var output: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_ECDSA_SIG(signature, &output)
        guard length > 0, let output else { return nil }
        defer { CRYPTO_free(output, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }
}

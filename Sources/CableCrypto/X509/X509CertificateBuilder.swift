internal import CCableOpenSSL

/// Issues X.509 v3 certificates with P-256 keys through OpenSSL (`X509_new` … `X509_sign`, ECDSA with
/// SHA-256): what a demo attestation CA, a demo MDS signer and tests need. Not a general CA.
package enum X509CertificateBuilder {
    /// A subject or issuer name.
    package struct Name: Sendable {
        /// C, O, OU, CN; empty values are left out.
        package var country = "", organization = "", organizationalUnit = "", commonName = ""
        /// A name.
        package init(
            country: String = "",
            organization: String = "",
            organizationalUnit: String = "",
            commonName: String
        ) {
            self.country = country
            self.organization = organization
            self.organizationalUnit = organizationalUnit
            self.commonName = commonName
        }
    }

    /// An extension given by its dotted OID and the DER of its value (what `extnValue` wraps).
    package struct Extension: Sendable {
        package var oid: String
        package var critical: Bool
        package var value: [UInt8]
        /// An extension.
        package init(oid: String, critical: Bool, value: [UInt8]) {
            self.oid = oid
            self.critical = critical
            self.value = value
        }
    }

    /// Issues a certificate for `subjectKey`, signed by `issuerKey` (the same key for a self-signed root).
    /// - Parameters:
    ///   - issuer: the issuer certificate; `nil` for a self-signed one (the issuer name is then `subject`).
    ///   - isCA: basic constraints (critical) CA true, with key usage keyCertSign and cRLSign; else CA false.
    ///   - validity: notBefore…notAfter in seconds since 1970.
    package static func issue(
        subject: Name,
        subjectKey: P256.PublicKey,
        issuer: X509Certificate?,
        issuerKey: P256.PrivateKey,
        serial: UInt64,
        validity: ClosedRange<Int64>,
        isCA: Bool,
        extensions: [Extension] = []
    ) throws(CryptoError) -> X509Certificate {
        defer { OpenSSLError.clearQueue() }
        guard let certificate = X509_new() else { throw OpenSSLError.failure("X509_new") }
        var owned: OpaquePointer? = certificate
        defer { if let owned { X509_free(owned) } }
        guard X509_set_version(certificate, 2) == 1,
            ASN1_INTEGER_set_uint64(X509_get_serialNumber(certificate), serial) == 1,
            ASN1_TIME_set(X509_getm_notBefore(certificate), time_t(validity.lowerBound)) != nil,
            ASN1_TIME_set(X509_getm_notAfter(certificate), time_t(validity.upperBound)) != nil,
            X509_set_pubkey(certificate, subjectKey.key.pointer) == 1
        else { throw OpenSSLError.failure("X509_set_*") }
        guard let name = X509_get_subject_name(certificate) else { throw OpenSSLError.failure("X509_get_subject_name") }
        for (field, value) in [
            ("C", subject.country), ("O", subject.organization), ("OU", subject.organizationalUnit),
            ("CN", subject.commonName),
        ]
        where !value.isEmpty {
            guard X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, value, -1, -1, 0) == 1 else {
                throw OpenSSLError.failure("X509_NAME_add_entry_by_txt")
            }
        }
        let issuerName = issuer.map { X509_get_subject_name($0.pointer) } ?? name
        guard X509_set_issuer_name(certificate, issuerName) == 1 else {
            throw OpenSSLError.failure("X509_set_issuer_name")
        }

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.pointer ?? certificate, certificate, nil, nil, 0)
        var standard: [(Int32, String)] = [
            (NID_basic_constraints, isCA ? "critical,CA:TRUE" : "critical,CA:FALSE"),
            (NID_subject_key_identifier, "hash"),
        ]
        if issuer != nil { standard.append((NID_authority_key_identifier, "keyid:always")) }
        if isCA { standard.append((NID_key_usage, "critical,keyCertSign,cRLSign")) }
        for (nid, value) in standard {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw OpenSSLError.failure("X509V3_EXT_conf_nid")
            }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(certificate, ext, -1) == 1 else { throw OpenSSLError.failure("X509_add_ext") }
        }
        for custom in extensions {
            guard let object = OBJ_txt2obj(custom.oid, 1) else {
                throw CryptoError(.invalidCertificate, "not a dotted OID")
            }
            defer { ASN1_OBJECT_free(object) }
            guard let data = ASN1_OCTET_STRING_new() else { throw OpenSSLError.failure("ASN1_OCTET_STRING_new") }
            defer { ASN1_OCTET_STRING_free(data) }
            guard ASN1_OCTET_STRING_set(data, custom.value, Int32(custom.value.count)) == 1,
                let ext = X509_EXTENSION_create_by_OBJ(nil, object, custom.critical ? 1 : 0, data)
            else { throw OpenSSLError.failure("X509_EXTENSION_create_by_OBJ") }
            defer { X509_EXTENSION_free(ext) }
            guard X509_add_ext(certificate, ext, -1) == 1 else { throw OpenSSLError.failure("X509_add_ext") }
        }
        guard X509_sign(certificate, issuerKey.key.pointer, FetchedAlgorithms.shared.sha256) > 0 else {
            throw OpenSSLError.failure("X509_sign")
        }
        owned = nil
        let built = try X509Certificate(taking: certificate)
        return try X509Certificate(derEncoded: built.derEncoded)
    }
}

extension P256.PrivateKey {
    /// Reads a P-256 private key from PEM (`EC PRIVATE KEY` or PKCS #8 `PRIVATE KEY`, unencrypted).
    /// - Throws: `.invalidPrivateKey` for text without such a key, another key type or curve, or an encrypted key.
    package convenience init(pem: [UInt8]) throws(CryptoError) {
        guard pem.count <= 64 * 1024 else { throw CryptoError(.invalidPrivateKey, "PEM text over 64 KiB") }
        defer { OpenSSLError.clearQueue() }
        let scalar: [UInt8] = try pem.withContiguousBytes {
            (raw: UnsafeBufferPointer<UInt8>) throws(CryptoError) -> [UInt8] in
            guard let bio = BIO_new_mem_buf(UnsafeRawPointer(raw.baseAddress), Int32(raw.count)) else {
                throw OpenSSLError.failure("BIO_new_mem_buf")
            }
            defer { BIO_free(bio) }
            // A passphrase callback that always fails, so an encrypted key is refused instead of prompting.
            guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
                throw CryptoError(.invalidPrivateKey, "no unencrypted private key in the PEM text")
            }
            defer { EVP_PKEY_free(key) }
            let wrapped = X509PublicKey(key: EVPPKey(taking: key))
            _ = EVP_PKEY_up_ref(key)  // `wrapped` frees one reference, the defer above the other
            guard wrapped.groupName == "prime256v1" else {
                throw CryptoError(.invalidPrivateKey, "the private key is not a P-256 (prime256v1) EC key")
            }
            var number: OpaquePointer? = nil
            guard EVP_PKEY_get_bn_param(key, "priv", &number) == 1, let number else {
                throw CryptoError(.invalidPrivateKey, "the private scalar cannot be read")
            }
            defer { BN_clear_free(number) }
            var bytes = [UInt8](repeating: 0, count: 32)
            guard BN_bn2binpad(number, &bytes, 32) == 32 else {
                throw CryptoError(.invalidPrivateKey, "the scalar is over 32 bytes")
            }
            return bytes
        }
        try self.init(rawScalar: scalar)
    }
}

extension X509PublicKey {
    /// Converts a DER ECDSA signature to JWS's raw `r ‖ s` (each `coordinateByteCount` bytes).
    package static func rawECDSASignature(der: [UInt8], coordinateByteCount: Int) -> [UInt8]? {
        defer { OpenSSLError.clearQueue() }
        var cursor: UnsafePointer<UInt8>? = nil
        let signature: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            cursor = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }
        guard let signature else { return nil }
        defer { ECDSA_SIG_free(signature) }
        var raw = [UInt8](repeating: 0, count: 2 * coordinateByteCount)
        guard let r = ECDSA_SIG_get0_r(signature), let s = ECDSA_SIG_get0_s(signature),
            BN_bn2binpad(r, &raw, Int32(coordinateByteCount)) == coordinateByteCount
        else { return nil }
        let wroteS = raw.withUnsafeMutableBufferPointer { buffer in
            BN_bn2binpad(s, buffer.baseAddress! + coordinateByteCount, Int32(coordinateByteCount))
        }
        return wroteS == coordinateByteCount ? raw : nil
    }

    /// The public key of a P-256 key pair, as a certificate key.
    package init(_ key: P256.PublicKey) {
        self.key = key.key
    }
}

extension P256.PrivateKey {
    /// The key as unencrypted PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`). Secret: for demo keys that a
    /// process hands to itself, never for logs.
    package var pkcs8PEM: [UInt8] {
        get throws(CryptoError) {
            guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSLError.failure("BIO_new") }
            defer { BIO_free(bio) }
            guard PEM_write_bio_PrivateKey(bio, self.key.pointer, nil, nil, 0, nil, nil) == 1 else {
                throw OpenSSLError.failure("PEM_write_bio_PrivateKey")
            }
            // BIO_get_mem_data is a macro over BIO_ctrl(BIO_CTRL_INFO).
            var pointer: UnsafeMutablePointer<CChar>? = nil
            let length = withUnsafeMutablePointer(to: &pointer) {
                BIO_ctrl(bio, BIO_CTRL_INFO, 0, UnsafeMutableRawPointer($0))
            }
            guard length > 0, let pointer else { throw OpenSSLError.failure("BIO_ctrl") }
            return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                Array(UnsafeBufferPointer(start: $0, count: length))
            }
        }
    }
}

import CableProtocol

/// Fuzzes advert decryption (`AdvertCrypter.decrypt` with a fixed key) and the EID checks behind it
/// (`AdvertPlaintext(bytes:)`).
///
/// Random bytes almost never carry a valid tag, so the harness also encrypts the input's first 16 bytes
/// under the same key and decrypts the result: that reaches the reserved-byte and domain checks through
/// the real decryption path.
public enum AdvertHarness {
    /// The EID key derived from the QR secret of `eid-advert.json` `eid_decrypt_known`, so the captured
    /// advert of that vector (a seed) decrypts.
    static let key: EIDKey = {
        guard let secret = try? QRSecret(bytes: FuzzFixtures.advert.bytes("qrSecret")) else {
            preconditionFailure("eid_decrypt_known: qrSecret is not 16 bytes")
        }
        return secret.eidKey
    }()

    /// Runs every advert parser over `input`.
    ///
    /// Invariants: decrypting an advert we sealed succeeds exactly when its plaintext passes
    /// `AdvertPlaintext(bytes:)`, and yields the same plaintext; an accepted EID names a domain that resolves.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        if let plaintext = report.attempt(
            "AdvertCrypter.decrypt",
            { () throws(CableProtocolError) in
                try AdvertCrypter.decrypt(input, key: Self.key)
            }
        ) {
            Self.checkDomain(plaintext)
        }
        if let plaintext = report.attempt(
            "AdvertPlaintext(bytes:)",
            { () throws(CableProtocolError) in
                try AdvertPlaintext(bytes: input)
            }
        ) {
            Self.checkDomain(plaintext)
        }
        guard input.count >= AdvertPlaintext.byteCount else { return report }
        let raw = Array(input.prefix(AdvertPlaintext.byteCount))
        guard
            let advert = report.attempt(
                "AdvertCrypter.encrypt(rawPlaintext:)",
                { () throws(CableProtocolError) in
                    try AdvertCrypter.encrypt(rawPlaintext: raw, key: Self.key)
                }
            )
        else {
            return report
        }
        let decrypted = report.attempt("AdvertCrypter.decrypt(sealed)") { () throws(CableProtocolError) in
            try AdvertCrypter.decrypt(advert, key: Self.key)
        }
        let direct = try? AdvertPlaintext(bytes: raw)
        fuzzInvariant(decrypted == direct, "a sealed advert decrypts exactly when its plaintext is a valid EID")
        if let decrypted {
            fuzzInvariant(decrypted.bytes == raw, "a sealed advert decrypts to the plaintext that was sealed")
        }
        return report
    }

    private static func checkDomain(_ plaintext: AdvertPlaintext) {
        fuzzInvariant((try? plaintext.domainID.resolvedDomain()) != nil, "an accepted EID names a resolvable domain")
    }
}

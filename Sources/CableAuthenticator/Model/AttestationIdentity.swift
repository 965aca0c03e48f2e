internal import CableCrypto

/// What a certified authenticator holds to make full (basic) attestation: an attestation private key and
/// the certificate chain that certifies it for the model's AAGUID (`cable phone --attestation-key FILE
/// --attestation-chain FILE`).
///
/// With one, `packed` attestation is signed by this key and carries the chain in `x5c` (WebAuthn §8.2,
/// full attestation) instead of being self attestation.
public struct AttestationIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The attestation key (secret).
    let privateKey: P256.PrivateKey
    /// The certificate chain, leaf first (DER), as it goes into `x5c`.
    public let certificateChain: [[UInt8]]

    /// Reads a PEM P-256 private key and a PEM chain (leaf first) whose leaf certifies that key.
    /// - Throws: ``AttestationIdentityError`` naming which file is wrong.
    public init(privateKeyPEM: [UInt8], certificateChainPEM: [UInt8]) throws(AttestationIdentityError) {
        let key: P256.PrivateKey
        do {
            key = try P256.PrivateKey(pem: privateKeyPEM)
        } catch {
            throw AttestationIdentityError("the attestation key is not a PEM P-256 private key (\(error.diagnostics))")
        }
        let chain: [X509Certificate]
        do {
            chain = try X509Certificate.certificates(pem: certificateChainPEM, maximumCount: 8)
        } catch {
            throw AttestationIdentityError("the attestation chain is not PEM certificates (\(error.diagnostics))")
        }
        guard chain[0].publicKey.p256UncompressedPoint == key.publicKey.uncompressedRepresentation else {
            throw AttestationIdentityError(
                "the first certificate of the attestation chain does not certify the attestation key"
            )
        }
        self.privateKey = key
        self.certificateChain = chain.map(\.derEncoded)
    }

    /// Signs `data` (ECDSA P-256, SHA-256, DER).
    func signature(for data: [UInt8]) throws(CryptoError) -> [UInt8] {
        try self.privateKey.signature(for: data)
    }

    /// Compares the chains and the keys' public halves.
    public static func == (a: Self, b: Self) -> Bool {
        a.certificateChain == b.certificateChain && a.privateKey.publicKey == b.privateKey.publicKey
    }

    /// Hashes the chain.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.certificateChain) }

    /// The chain length only; the key is never shown.
    public var description: String { "AttestationIdentity(\(self.certificateChain.count) certificates, key redacted)" }
}

/// An attestation key or chain that cannot be used.
public struct AttestationIdentityError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    /// The reason.
    public var description: String { self.reason }
}

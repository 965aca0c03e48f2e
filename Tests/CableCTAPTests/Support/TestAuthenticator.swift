import CableCBOR
import CableCTAP
import CableCrypto
import CableRelyingParty
import CableTestSupport

/// A minimal authenticator with a real P-256 key, for building registrations and assertions that the
/// relying party must accept or refuse. Deterministic: the key and credential ID come from `seed`.
struct TestAuthenticator {
    let privateKey: P256.PrivateKey
    let credentialID: [UInt8]
    let aaguid: AAGUID

    init(seed: UInt64, aaguid: AAGUID = .microsoftAuthenticatorAndroid) throws {
        var rng = DeterministicRNG(seed: seed)
        self.privateKey = try P256.PrivateKey(derivedFromSeed: rng.bytes(count: 32))
        self.credentialID = rng.bytes(count: 32)
        self.aaguid = aaguid
    }

    var coseKey: COSEKey { COSEKey(publicKey: self.privateKey.publicKey) }

    /// What the statement should be.
    enum Attestation {
        case none
        case packedSelf
        /// Packed self attestation signed with another key.
        case packedSelfWrongKey
        /// Packed self attestation claiming another algorithm.
        case packedSelfAlgorithm(COSEAlgorithm)
    }

    /// A registration for `rpID` over `clientDataHash`.
    func register(
        rpID: String,
        clientDataHash: [UInt8],
        flags: AuthenticatorData.Flags = [.userPresent, .userVerified],
        signCount: UInt32 = 0,
        attestation: Attestation = .none,
        rpIDHash: [UInt8]? = nil
    ) throws -> MakeCredentialResponse {
        let credential = try AttestedCredentialData(
            aaguid: self.aaguid,
            credentialID: self.credentialID,
            publicKey: self.coseKey
        )
        let authenticatorData = AuthenticatorData(
            rpIDHash: rpIDHash ?? SHA256.hash(Array(rpID.utf8)),
            flags: flags,
            signCount: signCount,
            attestedCredentialData: credential
        )
        let signedData = authenticatorData.bytes + clientDataHash
        let statement: AttestationStatement
        switch attestation {
        case .none:
            statement = .none
        case .packedSelf:
            statement = .packed(
                PackedAttestationStatement(algorithm: .es256, signature: try self.privateKey.signature(for: signedData))
            )
        case .packedSelfWrongKey:
            let other = try P256.PrivateKey()
            statement = .packed(
                PackedAttestationStatement(algorithm: .es256, signature: try other.signature(for: signedData))
            )
        case .packedSelfAlgorithm(let algorithm):
            statement = .packed(
                PackedAttestationStatement(
                    algorithm: algorithm,
                    signature: try self.privateKey.signature(for: signedData)
                )
            )
        }
        return MakeCredentialResponse(attestationStatement: statement, authenticatorData: authenticatorData)
    }

    /// An assertion for `rpID` over `clientDataHash`.
    func assert(
        rpID: String,
        clientDataHash: [UInt8],
        flags: AuthenticatorData.Flags = [.userPresent, .userVerified],
        signCount: UInt32,
        userHandle: [UInt8]? = nil,
        signer: P256.PrivateKey? = nil
    ) throws -> AssertionResponse {
        let authenticatorData = AuthenticatorData(
            rpIDHash: SHA256.hash(Array(rpID.utf8)),
            flags: flags,
            signCount: signCount
        )
        let signature = try (signer ?? self.privateKey).signature(for: authenticatorData.bytes + clientDataHash)
        return AssertionResponse(
            credentialID: self.credentialID,
            authenticatorData: authenticatorData.bytes,
            signature: signature,
            userHandle: userHandle
        )
    }
}

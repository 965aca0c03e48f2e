import CableCBOR

/// The `authenticatorMakeCredential` response (CTAP 2.1 §6.1.2): the phone's answer to a registration.
///
/// | Key | Member | Required |
/// |---|---|---|
/// | 0x01 | fmt (tstr) | yes |
/// | 0x02 | authData (bstr) | yes |
/// | 0x03 | attStmt (map) | yes |
/// | 0x04 | epAtt (bool) | no |
/// | 0x05 | largeBlobKey (bstr) | no |
///
/// Decoding is the desktop's defence against a malformed phone: the authenticator data is parsed strictly
/// and must carry attested credential data, and the statement must match its format. Later CTAP members
/// (0x06 onward) are ignored.
public struct MakeCredentialResponse: Hashable, Sendable {
    /// The attestation statement and its format.
    public var attestationStatement: AttestationStatement
    /// The parsed authenticator data (always with attested credential data).
    public var authenticatorData: AuthenticatorData
    /// The authenticator data exactly as received (what the attestation signature covers).
    public var rawAuthenticatorData: [UInt8]
    /// Whether enterprise attestation was returned.
    public var enterpriseAttestation: Bool?
    /// The large-blob key (secret; never printed).
    public var largeBlobKey: [UInt8]?

    /// Creates a response.
    /// - Precondition: `authenticatorData` carries attested credential data (the authenticator builds it).
    public init(
        attestationStatement: AttestationStatement,
        authenticatorData: AuthenticatorData,
        enterpriseAttestation: Bool? = nil,
        largeBlobKey: [UInt8]? = nil
    ) {
        precondition(authenticatorData.attestedCredentialData != nil, "a registration needs attested credential data")
        self.attestationStatement = attestationStatement
        self.authenticatorData = authenticatorData
        self.rawAuthenticatorData = authenticatorData.bytes
        self.enterpriseAttestation = enterpriseAttestation
        self.largeBlobKey = largeBlobKey
    }

    /// Decodes the response map.
    public init(cbor: CBORValue) throws(CTAPError) {
        let members = try CTAPParameters(cbor, path: "makeCredentialResponse")
        let format = try members.required(1, "fmt", CTAPRead.text)
        let raw = try members.required(2, "authData", CTAPRead.bytes)
        let statement = try members.required(3, "attStmt", CTAPRead.textKeyedMap)
        let authenticatorData = try AuthenticatorData(bytes: raw, field: members.field("authData"))
        guard authenticatorData.attestedCredentialData != nil else {
            throw CTAPError(
                .attestedCredentialDataMissing,
                field: members.field("authData"),
                "a makeCredential response must carry attested credential data (AT flag clear)"
            )
        }
        self.attestationStatement = try AttestationStatement(
            format: format,
            statement: statement,
            field: members.field("attStmt")
        )
        self.authenticatorData = authenticatorData
        self.rawAuthenticatorData = raw
        self.enterpriseAttestation = try members.optional(4, "epAtt", CTAPRead.bool)
        self.largeBlobKey = try members.optional(5, "largeBlobKey", CTAPRead.bytes)
    }

    /// Decodes the CBOR that follows a `CTAP2_OK` status byte.
    public init(encoded bytes: some Collection<UInt8>) throws(CTAPError) {
        try self.init(cbor: try CTAPCBOR.decode(bytes, field: "makeCredentialResponse"))
    }

    /// The canonical response map.
    public var cbor: CBORValue {
        var map = CBORMap()
        map[1] = .textString(self.attestationStatement.format)
        map[2] = .byteString(self.rawAuthenticatorData)
        map[3] = .map(self.attestationStatement.statement)
        map[4] = self.enterpriseAttestation.map(CBORValue.bool)
        map[5] = self.largeBlobKey.map(CBORValue.byteString)
        return .map(map)
    }

    /// The canonical CBOR encoding (without the status byte).
    public var encoded: [UInt8] { self.cbor.encoded }

    /// The same result as a WebAuthn attestation object, as a browser would give it to the relying party.
    public var attestationObject: AttestationObject { AttestationObject(self) }
}

extension MakeCredentialResponse: CustomStringConvertible {
    /// Format, flags and AAGUID; never the large-blob key.
    public var description: String {
        let aaguid = self.authenticatorData.attestedCredentialData?.aaguid.uuidString ?? "-"
        return
            "MakeCredentialResponse(fmt: \(self.attestationStatement.format), flags: \(self.authenticatorData.flags), aaguid: \(aaguid))"
    }
}

import CableCBOR

/// The WebAuthn attestation object (WebAuthn §6.5.4): the text-keyed map
/// `{"fmt": tstr, "attStmt": map, "authData": bstr}` that a browser hands to the relying party.
///
/// It carries the same three things as a CTAP2 ``MakeCredentialResponse`` (keys 1, 3, 2); the browser
/// only renames the keys. The raw authenticator data bytes are kept, because signatures cover those
/// exact bytes.
public struct AttestationObject: Hashable, Sendable {
    /// The attestation statement and its format.
    public var attestationStatement: AttestationStatement
    /// The parsed authenticator data.
    public var authenticatorData: AuthenticatorData
    /// The authenticator data exactly as received (what the attestation signature covers).
    public var rawAuthenticatorData: [UInt8]

    /// Wraps parts; the raw authenticator data is the encoding of `authenticatorData`.
    public init(attestationStatement: AttestationStatement, authenticatorData: AuthenticatorData) {
        self.attestationStatement = attestationStatement
        self.authenticatorData = authenticatorData
        self.rawAuthenticatorData = authenticatorData.bytes
    }

    /// Converts a CTAP2 makeCredential response, as a browser does.
    public init(_ response: MakeCredentialResponse) {
        self.attestationStatement = response.attestationStatement
        self.authenticatorData = response.authenticatorData
        self.rawAuthenticatorData = response.rawAuthenticatorData
    }

    /// Parses the CBOR encoding strictly: exactly the three members, authenticator data with attested
    /// credential data.
    public init(encoded bytes: some Collection<UInt8>) throws(CTAPError) {
        let field = "attestationObject"
        let value = try CTAPCBOR.decode(bytes, field: field)
        let members = try CTAPParameters(value, path: field)
        for entry in members.map {
            guard let name = entry.key.textValue, ["fmt", "attStmt", "authData"].contains(name) else {
                throw CTAPError(
                    .unexpectedParameter,
                    field: field,
                    "member \(entry.key.labelDescription) is not defined"
                )
            }
        }
        let format = try members.required("fmt", "fmt", CTAPRead.text)
        let statement = try members.required("attStmt", "attStmt", CTAPRead.textKeyedMap)
        let raw = try members.required("authData", "authData", CTAPRead.bytes)
        let authenticatorData = try AuthenticatorData(bytes: raw, field: members.field("authData"))
        guard authenticatorData.attestedCredentialData != nil else {
            throw CTAPError(
                .attestedCredentialDataMissing,
                field: members.field("authData"),
                "a registration must carry attested credential data (AT flag clear)"
            )
        }
        self.attestationStatement = try AttestationStatement(
            format: format,
            statement: statement,
            field: members.field("attStmt")
        )
        self.authenticatorData = authenticatorData
        self.rawAuthenticatorData = raw
    }

    /// The canonical CBOR encoding.
    public var encoded: [UInt8] {
        var map = CBORMap()
        map["fmt"] = .textString(self.attestationStatement.format)
        map["attStmt"] = .map(self.attestationStatement.statement)
        map["authData"] = .byteString(self.rawAuthenticatorData)
        return CBORValue.map(map).encoded
    }
}

extension CTAPError.Code {
    /// Registration authenticator data without attested credential data (AT flag clear).
    public static let attestedCredentialDataMissing = Self("attestedCredentialDataMissing", status: .invalidParameter)
    /// Assertion authenticator data that carries attested credential data (AT flag set).
    public static let unexpectedAttestedCredentialData = Self(
        "unexpectedAttestedCredentialData",
        status: .invalidParameter
    )
}

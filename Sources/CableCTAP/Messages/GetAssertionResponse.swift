import CableCBOR

/// The `authenticatorGetAssertion` response (CTAP 2.1 §6.2.2): the phone's answer to a sign-in.
///
/// | Key | Member | Required |
/// |---|---|---|
/// | 0x01 | credential (descriptor) | no (may be omitted when the allow list had exactly one entry) |
/// | 0x02 | authData (bstr) | yes |
/// | 0x03 | signature (bstr) | yes |
/// | 0x04 | user (map) | no (present for discoverable credentials) |
/// | 0x05 | numberOfCredentials | no |
/// | 0x06 | userSelected (bool) | no |
/// | 0x07 | largeBlobKey (bstr) | no |
///
/// Decoding is strict: the authenticator data must not carry attested credential data.
public struct GetAssertionResponse: Hashable, Sendable {
    /// The credential that signed.
    public var credential: PublicKeyCredentialDescriptor?
    /// The parsed authenticator data.
    public var authenticatorData: AuthenticatorData
    /// The authenticator data exactly as received (what the signature covers).
    public var rawAuthenticatorData: [UInt8]
    /// The ECDSA signature (DER) over `authenticatorData ‖ clientDataHash`.
    public var signature: [UInt8]
    /// The account, for discoverable credentials.
    public var user: PublicKeyCredentialUserEntity?
    /// How many credentials matched (first response only).
    public var numberOfCredentials: UInt64?
    /// Whether the user picked this credential on the authenticator.
    public var userSelected: Bool?
    /// The large-blob key (secret; never printed).
    public var largeBlobKey: [UInt8]?

    /// Most signature bytes accepted (a DER ECDSA P-256 signature is at most 72 bytes; RSA-4096 is 512).
    public static let maxSignatureLength = 1024

    /// Creates a response.
    /// - Precondition: `authenticatorData` has no attested credential data.
    public init(
        credential: PublicKeyCredentialDescriptor?,
        authenticatorData: AuthenticatorData,
        signature: [UInt8],
        user: PublicKeyCredentialUserEntity? = nil,
        numberOfCredentials: UInt64? = nil,
        userSelected: Bool? = nil,
        largeBlobKey: [UInt8]? = nil
    ) {
        precondition(authenticatorData.attestedCredentialData == nil, "assertions carry no attested credential data")
        self.credential = credential
        self.authenticatorData = authenticatorData
        self.rawAuthenticatorData = authenticatorData.bytes
        self.signature = signature
        self.user = user
        self.numberOfCredentials = numberOfCredentials
        self.userSelected = userSelected
        self.largeBlobKey = largeBlobKey
    }

    /// Decodes the response map.
    public init(cbor: CBORValue) throws(CTAPError) {
        let members = try CTAPParameters(cbor, path: "getAssertionResponse")
        self.credential = try members.optional(1, "credential") { (value, field) throws(CTAPError) in
            try PublicKeyCredentialDescriptor(cbor: value, field: field)
        }
        let raw = try members.required(2, "authData", CTAPRead.bytes)
        let authenticatorData = try AuthenticatorData(bytes: raw, field: members.field("authData"))
        guard authenticatorData.attestedCredentialData == nil else {
            throw CTAPError(
                .unexpectedAttestedCredentialData,
                field: members.field("authData"),
                "assertion authenticator data must not set the AT flag"
            )
        }
        self.authenticatorData = authenticatorData
        self.rawAuthenticatorData = raw
        self.signature = try members.required(3, "signature", CTAPRead.bytes(maxCount: Self.maxSignatureLength))
        self.user = try members.optional(4, "user") { (value, field) throws(CTAPError) in
            try PublicKeyCredentialUserEntity(cbor: value, field: field)
        }
        self.numberOfCredentials = try members.optional(5, "numberOfCredentials", CTAPRead.unsigned)
        self.userSelected = try members.optional(6, "userSelected", CTAPRead.bool)
        self.largeBlobKey = try members.optional(7, "largeBlobKey", CTAPRead.bytes)
    }

    /// Decodes the CBOR that follows a `CTAP2_OK` status byte.
    public init(encoded bytes: some Collection<UInt8>) throws(CTAPError) {
        try self.init(cbor: try CTAPCBOR.decode(bytes, field: "getAssertionResponse"))
    }

    /// The canonical response map.
    public var cbor: CBORValue {
        var map = CBORMap()
        map[1] = self.credential.map(\.cbor)
        map[2] = .byteString(self.rawAuthenticatorData)
        map[3] = .byteString(self.signature)
        map[4] = self.user.map(\.cbor)
        map[5] = self.numberOfCredentials.map { .integer(Int64(clamping: $0)) }
        map[6] = self.userSelected.map(CBORValue.bool)
        map[7] = self.largeBlobKey.map(CBORValue.byteString)
        return .map(map)
    }

    /// The canonical CBOR encoding (without the status byte).
    public var encoded: [UInt8] { self.cbor.encoded }
}

extension GetAssertionResponse: CustomStringConvertible {
    /// Flags and counter; never the large-blob key.
    public var description: String {
        "GetAssertionResponse(flags: \(self.authenticatorData.flags), signCount: \(self.authenticatorData.signCount))"
    }
}

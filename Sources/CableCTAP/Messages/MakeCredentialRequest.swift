import CableCBOR

/// The parameters of `authenticatorMakeCredential` (CTAP 2.1 §6.1), sent by the desktop and decoded by
/// the phone.
///
/// | Key | Parameter | Required |
/// |---|---|---|
/// | 0x01 | clientDataHash (32-byte bstr) | yes |
/// | 0x02 | rp | yes |
/// | 0x03 | user | yes |
/// | 0x04 | pubKeyCredParams | yes |
/// | 0x05 | excludeList | no |
/// | 0x06 | extensions | no |
/// | 0x07 | options | no |
/// | 0x08 | pinUvAuthParam | no |
/// | 0x09 | pinUvAuthProtocol | no |
/// | 0x0A | enterpriseAttestation | no |
///
/// Decoding applies the CTAP2 error mapping: a missing required parameter is
/// `CTAP2_ERR_MISSING_PARAMETER`, a wrong type `CTAP2_ERR_CBOR_UNEXPECTED_TYPE`, bad CBOR
/// `CTAP2_ERR_INVALID_CBOR` (see ``CTAPError/status``). Whether the algorithms and options can be honoured
/// is the authenticator's decision, not the decoder's.
public struct MakeCredentialRequest: Hashable, Sendable {
    /// SHA-256 of the client data JSON.
    public var clientDataHash: [UInt8]
    /// The relying party.
    public var rp: PublicKeyCredentialRPEntity
    /// The account.
    public var user: PublicKeyCredentialUserEntity
    /// Acceptable algorithms, most preferred first.
    public var publicKeyCredentialParameters: [PublicKeyCredentialParameters]
    /// Credentials that must not be created again on this authenticator.
    public var excludeList: [PublicKeyCredentialDescriptor]?
    /// Extension inputs, keyed by extension identifier.
    public var extensions: CBORMap?
    /// `rk`, `up`, `uv`.
    public var options: AuthenticatorOptions?
    /// PIN/UV auth parameter (unused over hybrid; carried for completeness).
    public var pinUvAuthParam: [UInt8]?
    /// PIN/UV auth protocol version.
    public var pinUvAuthProtocol: UInt64?
    /// Enterprise attestation request (1 or 2).
    public var enterpriseAttestation: UInt64?

    /// Length of ``clientDataHash``.
    public static let clientDataHashByteCount = 32

    /// Creates a request.
    public init(
        clientDataHash: [UInt8],
        rp: PublicKeyCredentialRPEntity,
        user: PublicKeyCredentialUserEntity,
        publicKeyCredentialParameters: [PublicKeyCredentialParameters] = [
            PublicKeyCredentialParameters(algorithm: .es256)
        ],
        excludeList: [PublicKeyCredentialDescriptor]? = nil,
        extensions: CBORMap? = nil,
        options: AuthenticatorOptions? = nil,
        pinUvAuthParam: [UInt8]? = nil,
        pinUvAuthProtocol: UInt64? = nil,
        enterpriseAttestation: UInt64? = nil
    ) {
        self.clientDataHash = clientDataHash
        self.rp = rp
        self.user = user
        self.publicKeyCredentialParameters = publicKeyCredentialParameters
        self.excludeList = excludeList
        self.extensions = extensions
        self.options = options
        self.pinUvAuthParam = pinUvAuthParam
        self.pinUvAuthProtocol = pinUvAuthProtocol
        self.enterpriseAttestation = enterpriseAttestation
    }

    /// Decodes the parameter map.
    public init(cbor: CBORValue) throws(CTAPError) {
        let parameters = try CTAPParameters(cbor, path: "makeCredential")
        self.clientDataHash = try parameters.required(
            1,
            "clientDataHash",
            CTAPRead.bytes(count: Self.clientDataHashByteCount)
        )
        self.rp = try parameters.required(2, "rp") { (value, field) throws(CTAPError) in
            try PublicKeyCredentialRPEntity(cbor: value, field: field)
        }
        self.user = try parameters.required(3, "user") { (value, field) throws(CTAPError) in
            try PublicKeyCredentialUserEntity(cbor: value, field: field)
        }
        self.publicKeyCredentialParameters = try parameters.required(
            4,
            "pubKeyCredParams",
            CTAPRead.array(of: PublicKeyCredentialParameters.init(cbor:field:))
        )
        self.excludeList = try parameters.optional(
            5,
            "excludeList",
            CTAPRead.array(of: PublicKeyCredentialDescriptor.init(cbor:field:))
        )
        self.extensions = try parameters.optional(6, "extensions", CTAPRead.textKeyedMap)
        self.options = try parameters.optional(7, "options") { (value, field) throws(CTAPError) in
            try AuthenticatorOptions(cbor: value, field: field)
        }
        self.pinUvAuthParam = try parameters.optional(8, "pinUvAuthParam", CTAPRead.bytes)
        self.pinUvAuthProtocol = try parameters.optional(9, "pinUvAuthProtocol", CTAPRead.unsigned)
        self.enterpriseAttestation = try parameters.optional(10, "enterpriseAttestation", CTAPRead.unsigned)
    }

    /// Decodes the CBOR bytes that follow the command byte.
    public init(encoded bytes: some Collection<UInt8>) throws(CTAPError) {
        try self.init(cbor: try CTAPCBOR.decode(bytes, field: "makeCredential"))
    }

    /// The canonical parameter map.
    public var cbor: CBORValue {
        var map = CBORMap()
        map[1] = .byteString(self.clientDataHash)
        map[2] = self.rp.cbor
        map[3] = self.user.cbor
        map[4] = .array(self.publicKeyCredentialParameters.map(\.cbor))
        map[5] = self.excludeList.map { .array($0.map(\.cbor)) }
        map[6] = self.extensions.map(CBORValue.map)
        map[7] = self.options.map(\.cbor)
        map[8] = self.pinUvAuthParam.map(CBORValue.byteString)
        map[9] = self.pinUvAuthProtocol.map { .integer(Int64(clamping: $0)) }
        map[10] = self.enterpriseAttestation.map { .integer(Int64(clamping: $0)) }
        return .map(map)
    }

    /// The canonical CBOR encoding (without the command byte).
    public var encoded: [UInt8] { self.cbor.encoded }
}

extension MakeCredentialRequest: CustomStringConvertible {
    /// RP, algorithms and options; never the PIN/UV auth parameter.
    public var description: String {
        let algorithms = self.publicKeyCredentialParameters.map(\.algorithm.description).joined(separator: ", ")
        return
            "MakeCredentialRequest(rp: \(self.rp.id), algorithms: [\(algorithms)], excludeList: \(self.excludeList?.count ?? 0))"
    }
}

import CableCBOR

/// The parameters of `authenticatorGetAssertion` (CTAP 2.1 §6.2), sent by the desktop and decoded by the
/// phone.
///
/// | Key | Parameter | Required |
/// |---|---|---|
/// | 0x01 | rpId (tstr) | yes |
/// | 0x02 | clientDataHash (32-byte bstr) | yes |
/// | 0x03 | allowList | no |
/// | 0x04 | extensions | no |
/// | 0x05 | options | no |
/// | 0x06 | pinUvAuthParam | no |
/// | 0x07 | pinUvAuthProtocol | no |
///
/// Decoding errors carry the status a CTAP2 authenticator answers with (see ``CTAPError/status``).
public struct GetAssertionRequest: Hashable, Sendable {
    /// The RP ID.
    public var rpID: String
    /// SHA-256 of the client data JSON.
    public var clientDataHash: [UInt8]
    /// Acceptable credentials; absent or empty means "any discoverable credential for this RP".
    public var allowList: [PublicKeyCredentialDescriptor]?
    /// Extension inputs, keyed by extension identifier.
    public var extensions: CBORMap?
    /// `up`, `uv` (`rk` is not valid here; the authenticator rejects it).
    public var options: AuthenticatorOptions?
    /// PIN/UV auth parameter (unused over hybrid).
    public var pinUvAuthParam: [UInt8]?
    /// PIN/UV auth protocol version.
    public var pinUvAuthProtocol: UInt64?

    /// Creates a request.
    public init(
        rpID: String,
        clientDataHash: [UInt8],
        allowList: [PublicKeyCredentialDescriptor]? = nil,
        extensions: CBORMap? = nil,
        options: AuthenticatorOptions? = nil,
        pinUvAuthParam: [UInt8]? = nil,
        pinUvAuthProtocol: UInt64? = nil
    ) {
        self.rpID = rpID
        self.clientDataHash = clientDataHash
        self.allowList = allowList
        self.extensions = extensions
        self.options = options
        self.pinUvAuthParam = pinUvAuthParam
        self.pinUvAuthProtocol = pinUvAuthProtocol
    }

    /// Decodes the parameter map.
    public init(cbor: CBORValue) throws(CTAPError) {
        let parameters = try CTAPParameters(cbor, path: "getAssertion")
        self.rpID = try parameters.required(1, "rpId", CTAPRead.text)
        self.clientDataHash = try parameters.required(
            2,
            "clientDataHash",
            CTAPRead.bytes(count: MakeCredentialRequest.clientDataHashByteCount)
        )
        self.allowList = try parameters.optional(
            3,
            "allowList",
            CTAPRead.array(of: PublicKeyCredentialDescriptor.init(cbor:field:))
        )
        self.extensions = try parameters.optional(4, "extensions", CTAPRead.textKeyedMap)
        self.options = try parameters.optional(5, "options") { (value, field) throws(CTAPError) in
            try AuthenticatorOptions(cbor: value, field: field)
        }
        self.pinUvAuthParam = try parameters.optional(6, "pinUvAuthParam", CTAPRead.bytes)
        self.pinUvAuthProtocol = try parameters.optional(7, "pinUvAuthProtocol", CTAPRead.unsigned)
    }

    /// Decodes the CBOR bytes that follow the command byte.
    public init(encoded bytes: some Collection<UInt8>) throws(CTAPError) {
        try self.init(cbor: try CTAPCBOR.decode(bytes, field: "getAssertion"))
    }

    /// The canonical parameter map.
    public var cbor: CBORValue {
        var map = CBORMap()
        map[1] = .textString(self.rpID)
        map[2] = .byteString(self.clientDataHash)
        map[3] = self.allowList.map { .array($0.map(\.cbor)) }
        map[4] = self.extensions.map(CBORValue.map)
        map[5] = self.options.map(\.cbor)
        map[6] = self.pinUvAuthParam.map(CBORValue.byteString)
        map[7] = self.pinUvAuthProtocol.map { .integer(Int64(clamping: $0)) }
        return .map(map)
    }

    /// The canonical CBOR encoding (without the command byte).
    public var encoded: [UInt8] { self.cbor.encoded }
}

extension GetAssertionRequest: CustomStringConvertible {
    /// RP and allow-list size; never the PIN/UV auth parameter.
    public var description: String {
        "GetAssertionRequest(rp: \(self.rpID), allowList: \(self.allowList?.count ?? 0))"
    }
}

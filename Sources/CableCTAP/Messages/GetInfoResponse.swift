import CableCBOR

/// The `authenticatorGetInfo` response (CTAP 2.1 §6.4).
///
/// Over hybrid the phone sends these bytes inside its post-handshake message (key 1), and the desktop
/// answers getInfo locally from them (hybrid-protocol.md §7.3, §8.2). Members this model names are typed;
/// any other member (CTAP 2.1 defines up to 0x18) is kept in ``additionalMembers`` so that a decoded
/// response re-encodes byte for byte.
///
/// | Key | Member | Required |
/// |---|---|---|
/// | 0x01 | versions | yes |
/// | 0x02 | extensions | no |
/// | 0x03 | aaguid | yes |
/// | 0x04 | options | no |
/// | 0x05 | maxMsgSize | no |
/// | 0x06 | pinUvAuthProtocols | no |
/// | 0x07 | maxCredentialCountInList | no |
/// | 0x08 | maxCredentialIdLength | no |
/// | 0x09 | transports | no |
/// | 0x0A | algorithms | no |
public struct GetInfoResponse: Hashable, Sendable {
    /// Supported protocol versions, e.g. `FIDO_2_0`, `FIDO_2_1`.
    public var versions: [String]
    /// Supported extension identifiers, e.g. `prf`.
    public var extensions: [String]?
    /// The authenticator model (all zero for Chrome on Android).
    public var aaguid: AAGUID
    /// Supported options and their state, e.g. `rk: true`, `uv: true`.
    public var options: [String: Bool]?
    /// Largest message the authenticator accepts.
    public var maxMessageSize: UInt64?
    /// Supported PIN/UV auth protocol versions.
    public var pinUvAuthProtocols: [UInt64]?
    /// Most credentials accepted in one allow/exclude list.
    public var maxCredentialCountInList: UInt64?
    /// Longest credential ID accepted.
    public var maxCredentialIDLength: UInt64?
    /// Supported transports, e.g. `internal`, `hybrid`, `cable`.
    public var transports: [String]?
    /// Supported algorithms, most preferred first.
    public var algorithms: [PublicKeyCredentialParameters]?
    /// Members with keys this model does not name, kept verbatim.
    public var additionalMembers: CBORMap

    /// Creates a response.
    public init(
        versions: [String],
        extensions: [String]? = nil,
        aaguid: AAGUID,
        options: [String: Bool]? = nil,
        maxMessageSize: UInt64? = nil,
        pinUvAuthProtocols: [UInt64]? = nil,
        maxCredentialCountInList: UInt64? = nil,
        maxCredentialIDLength: UInt64? = nil,
        transports: [String]? = nil,
        algorithms: [PublicKeyCredentialParameters]? = nil,
        additionalMembers: CBORMap = CBORMap()
    ) {
        self.versions = versions
        self.extensions = extensions
        self.aaguid = aaguid
        self.options = options
        self.maxMessageSize = maxMessageSize
        self.pinUvAuthProtocols = pinUvAuthProtocols
        self.maxCredentialCountInList = maxCredentialCountInList
        self.maxCredentialIDLength = maxCredentialIDLength
        self.transports = transports
        self.algorithms = algorithms
        self.additionalMembers = additionalMembers
    }

    /// Decodes the response map.
    public init(cbor: CBORValue) throws(CTAPError) {
        let members = try CTAPParameters(cbor, path: "getInfo")
        self.versions = try members.required(1, "versions", CTAPRead.array(of: CTAPRead.text))
        self.extensions = try members.optional(2, "extensions", CTAPRead.array(of: CTAPRead.text))
        self.aaguid = try members.required(3, "aaguid") { (value, field) throws(CTAPError) in
            try AAGUID(bytes: try CTAPRead.bytes(value, field), field: field)
        }
        self.options = try members.optional(4, "options") { (value, field) throws(CTAPError) in
            var options: [String: Bool] = [:]
            for entry in try CTAPRead.map(value, field) {
                let name = try CTAPRead.text(entry.key, "\(field) key")
                options[name] = try CTAPRead.bool(entry.value, "\(field).\(name)")
            }
            return options
        }
        self.maxMessageSize = try members.optional(5, "maxMsgSize", CTAPRead.unsigned)
        self.pinUvAuthProtocols = try members.optional(6, "pinUvAuthProtocols", CTAPRead.array(of: CTAPRead.unsigned))
        self.maxCredentialCountInList = try members.optional(7, "maxCredentialCountInList", CTAPRead.unsigned)
        self.maxCredentialIDLength = try members.optional(8, "maxCredentialIdLength", CTAPRead.unsigned)
        self.transports = try members.optional(9, "transports", CTAPRead.array(of: CTAPRead.text))
        self.algorithms = try members.optional(
            10,
            "algorithms",
            CTAPRead.array(of: PublicKeyCredentialParameters.init(cbor:field:))
        )
        var additional = members.map
        for key: Int64 in 1...10 { additional[.integer(key)] = nil }
        self.additionalMembers = additional
    }

    /// Decodes the response bytes (the CBOR after the status byte, or key 1 of the post-handshake message).
    public init(encoded bytes: some Collection<UInt8>) throws(CTAPError) {
        try self.init(cbor: try CTAPCBOR.decode(bytes, field: "getInfo"))
    }

    /// The canonical response map.
    public var cbor: CBORValue {
        var map = self.additionalMembers
        map[1] = .array(self.versions.map(CBORValue.textString))
        map[2] = self.extensions.map { .array($0.map(CBORValue.textString)) }
        map[3] = .byteString(self.aaguid.bytes)
        map[4] = self.options.map { options in
            .map(
                CBORMap(uniqueKeysWithValues: options.map { (CBORValue.textString($0.key), CBORValue.bool($0.value)) })
            )
        }
        map[5] = self.maxMessageSize.map { .integer(Int64(clamping: $0)) }
        map[6] = self.pinUvAuthProtocols.map { .array($0.map { .integer(Int64(clamping: $0)) }) }
        map[7] = self.maxCredentialCountInList.map { .integer(Int64(clamping: $0)) }
        map[8] = self.maxCredentialIDLength.map { .integer(Int64(clamping: $0)) }
        map[9] = self.transports.map { .array($0.map(CBORValue.textString)) }
        map[10] = self.algorithms.map { .array($0.map(\.cbor)) }
        return .map(map)
    }

    /// The canonical CBOR encoding.
    public var encoded: [UInt8] { self.cbor.encoded }
}

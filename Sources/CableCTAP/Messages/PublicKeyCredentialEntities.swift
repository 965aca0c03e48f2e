import CableCBOR

/// The relying party a credential is for (`PublicKeyCredentialRpEntity`, CTAP 2.1 §6.1 parameter 0x02).
public struct PublicKeyCredentialRPEntity: Hashable, Sendable {
    /// The RP ID, a registrable domain such as `example.com`.
    public var id: String
    /// A human-palatable name; optional in CTAP 2.1.
    public var name: String?

    /// Creates an RP entity.
    public init(id: String, name: String? = nil) {
        self.id = id
        self.name = name
    }

    /// Reads the `{"id", "name"}` map; `id` is required.
    public init(cbor: CBORValue, field: String = "rp") throws(CTAPError) {
        let parameters = try CTAPParameters(cbor, path: field)
        self.id = try parameters.required("id", "id", CTAPRead.text)
        self.name = try parameters.optional("name", "name", CTAPRead.text)
    }

    /// The canonical map.
    public var cbor: CBORValue {
        var map = CBORMap()
        map["id"] = .textString(self.id)
        map["name"] = self.name.map(CBORValue.textString)
        return .map(map)
    }
}

/// The account a credential is for (`PublicKeyCredentialUserEntity`, CTAP 2.1 §6.1 parameter 0x03,
/// and getAssertion response member 0x04).
public struct PublicKeyCredentialUserEntity: Hashable, Sendable {
    /// The user handle (1…64 bytes, opaque to the authenticator).
    public var id: [UInt8]
    /// The account name, e.g. `alice@example.com`.
    public var name: String?
    /// A display name, e.g. `Alice`.
    public var displayName: String?

    /// Creates a user entity.
    public init(id: [UInt8], name: String? = nil, displayName: String? = nil) {
        self.id = id
        self.name = name
        self.displayName = displayName
    }

    /// Reads the `{"id", "name", "displayName"}` map; `id` is required and at most 64 bytes.
    public init(cbor: CBORValue, field: String = "user") throws(CTAPError) {
        let parameters = try CTAPParameters(cbor, path: field)
        self.id = try parameters.required("id", "id", CTAPRead.bytes(maxCount: CTAPLimits.maxUserIDLength))
        self.name = try parameters.optional("name", "name", CTAPRead.text)
        self.displayName = try parameters.optional("displayName", "displayName", CTAPRead.text)
    }

    /// The canonical map.
    public var cbor: CBORValue {
        var map = CBORMap()
        map["id"] = .byteString(self.id)
        map["name"] = self.name.map(CBORValue.textString)
        map["displayName"] = self.displayName.map(CBORValue.textString)
        return .map(map)
    }
}

/// One entry of an allow or exclude list, or the credential of an assertion
/// (`PublicKeyCredentialDescriptor`, WebAuthn §5.8.3).
public struct PublicKeyCredentialDescriptor: Hashable, Sendable {
    /// The credential type; `public-key` is the only one defined. Other types are kept, not rejected,
    /// because the specification tells authenticators to skip descriptors of unknown type.
    public var type: String
    /// The credential ID (at most 1023 bytes).
    public var id: [UInt8]
    /// Transport hints such as `internal`, `hybrid`, `cable`.
    public var transports: [String]?

    /// The `public-key` credential type.
    public static let publicKeyType = "public-key"

    /// Creates a descriptor.
    public init(id: [UInt8], type: String = Self.publicKeyType, transports: [String]? = nil) {
        self.type = type
        self.id = id
        self.transports = transports
    }

    /// Reads the `{"id", "type", "transports"}` map; `id` and `type` are required.
    public init(cbor: CBORValue, field: String = "credential") throws(CTAPError) {
        let parameters = try CTAPParameters(cbor, path: field)
        self.id = try parameters.required("id", "id", CTAPRead.bytes(maxCount: CTAPLimits.maxCredentialIDLength))
        self.type = try parameters.required("type", "type", CTAPRead.text)
        self.transports = try parameters.optional("transports", "transports", CTAPRead.array(of: CTAPRead.text))
    }

    /// The canonical map.
    public var cbor: CBORValue {
        var map = CBORMap()
        map["id"] = .byteString(self.id)
        map["type"] = .textString(self.type)
        map["transports"] = self.transports.map { .array($0.map(CBORValue.textString)) }
        return .map(map)
    }
}

/// One acceptable credential algorithm (`PublicKeyCredentialParameters`, CTAP 2.1 §6.1 parameter 0x04 and
/// getInfo member 0x0A).
public struct PublicKeyCredentialParameters: Hashable, Sendable {
    /// The credential type (`public-key`).
    public var type: String
    /// The COSE algorithm.
    public var algorithm: COSEAlgorithm

    /// Creates a parameter entry.
    public init(algorithm: COSEAlgorithm, type: String = PublicKeyCredentialDescriptor.publicKeyType) {
        self.type = type
        self.algorithm = algorithm
    }

    /// Reads the `{"alg", "type"}` map; both are required.
    public init(cbor: CBORValue, field: String = "pubKeyCredParams") throws(CTAPError) {
        let parameters = try CTAPParameters(cbor, path: field)
        self.algorithm = COSEAlgorithm(rawValue: try parameters.required("alg", "alg", CTAPRead.integer))
        self.type = try parameters.required("type", "type", CTAPRead.text)
    }

    /// The canonical map.
    public var cbor: CBORValue {
        var map = CBORMap()
        map["alg"] = .integer(self.algorithm.rawValue)
        map["type"] = .textString(self.type)
        return .map(map)
    }
}

/// The `options` parameter of makeCredential (0x07) and getAssertion (0x05): `rk`, `up`, `uv`.
///
/// Each is `nil` when the platform did not send it, which is not the same as `false` (CTAP 2.1 gives
/// absent options their defaults). Keys this model does not know are ignored, as CTAP 2.1 §6.1.2 asks.
public struct AuthenticatorOptions: Hashable, Sendable {
    /// `rk`: create a discoverable (resident) credential.
    public var residentKey: Bool?
    /// `up`: test for user presence.
    public var userPresence: Bool?
    /// `uv`: verify the user.
    public var userVerification: Bool?

    /// Creates options.
    public init(residentKey: Bool? = nil, userPresence: Bool? = nil, userVerification: Bool? = nil) {
        self.residentKey = residentKey
        self.userPresence = userPresence
        self.userVerification = userVerification
    }

    /// Reads the options map; each present value must be a boolean.
    public init(cbor: CBORValue, field: String = "options") throws(CTAPError) {
        let parameters = try CTAPParameters(cbor, path: field)
        self.residentKey = try parameters.optional("rk", "rk", CTAPRead.bool)
        self.userPresence = try parameters.optional("up", "up", CTAPRead.bool)
        self.userVerification = try parameters.optional("uv", "uv", CTAPRead.bool)
    }

    /// The canonical map (only the options that are set).
    public var cbor: CBORValue {
        var map = CBORMap()
        map["rk"] = self.residentKey.map(CBORValue.bool)
        map["up"] = self.userPresence.map(CBORValue.bool)
        map["uv"] = self.userVerification.map(CBORValue.bool)
        return .map(map)
    }
}

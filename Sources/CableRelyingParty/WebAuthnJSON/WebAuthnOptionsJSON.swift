/// `PublicKeyCredentialCreationOptionsJSON` (WebAuthn Level 3 §5.1.7): registration options as a server
/// sends them to `PublicKeyCredential.parseCreationOptionsFromJSON()`.
public struct PublicKeyCredentialCreationOptionsJSON: Hashable, Sendable, Codable {
    /// The relying party.
    public var rp: PublicKeyCredentialRpEntityJSON
    /// The account.
    public var user: PublicKeyCredentialUserEntityJSON
    /// The challenge.
    public var challenge: Base64URLBytes
    /// Acceptable credential types and algorithms, most preferred first.
    public var pubKeyCredParams: [PublicKeyCredentialParametersJSON]
    /// Milliseconds the client should wait.
    public var timeout: UInt32?
    /// Credentials the authenticator must not already hold.
    public var excludeCredentials: [PublicKeyCredentialDescriptorJSON]?
    /// Authenticator requirements (resident key, user verification).
    public var authenticatorSelection: AuthenticatorSelectionCriteriaJSON?
    /// Hints for the client's UI (`hybrid`, `security-key`, `client-device`).
    public var hints: [String]?
    /// `none`, `indirect`, `direct` or `enterprise`.
    public var attestation: String?
    /// Preferred attestation statement formats.
    public var attestationFormats: [String]?
    /// Extension inputs (not interpreted).
    public var extensions: UninterpretedJSONObject?

    /// Creates options.
    public init(
        rp: PublicKeyCredentialRpEntityJSON,
        user: PublicKeyCredentialUserEntityJSON,
        challenge: Base64URLBytes,
        pubKeyCredParams: [PublicKeyCredentialParametersJSON],
        timeout: UInt32? = nil,
        excludeCredentials: [PublicKeyCredentialDescriptorJSON]? = nil,
        authenticatorSelection: AuthenticatorSelectionCriteriaJSON? = nil,
        hints: [String]? = nil,
        attestation: String? = nil,
        attestationFormats: [String]? = nil
    ) {
        self.rp = rp
        self.user = user
        self.challenge = challenge
        self.pubKeyCredParams = pubKeyCredParams
        self.timeout = timeout
        self.excludeCredentials = excludeCredentials
        self.authenticatorSelection = authenticatorSelection
        self.hints = hints
        self.attestation = attestation
        self.attestationFormats = attestationFormats
    }

    /// Parses options (bounded; see ``WebAuthnJSON``).
    public init(json: [UInt8]) throws(RelyingPartyError) {
        self = try WebAuthnJSON.decode(Self.self, from: json, what: "creationOptions")
    }

    /// The JSON bytes.
    public var json: [UInt8] { WebAuthnJSON.encode(self) }
}

/// `PublicKeyCredentialRequestOptionsJSON` (WebAuthn Level 3 §5.1.7): authentication options.
public struct PublicKeyCredentialRequestOptionsJSON: Hashable, Sendable, Codable {
    /// The challenge.
    public var challenge: Base64URLBytes
    /// Milliseconds the client should wait.
    public var timeout: UInt32?
    /// The RP ID.
    public var rpId: String?
    /// Credentials that may answer; empty or absent asks for a discoverable credential.
    public var allowCredentials: [PublicKeyCredentialDescriptorJSON]?
    /// `required`, `preferred` or `discouraged`.
    public var userVerification: String?
    /// Hints for the client's UI.
    public var hints: [String]?
    /// Extension inputs (not interpreted).
    public var extensions: UninterpretedJSONObject?

    /// Creates options.
    public init(
        challenge: Base64URLBytes,
        timeout: UInt32? = nil,
        rpId: String? = nil,
        allowCredentials: [PublicKeyCredentialDescriptorJSON]? = nil,
        userVerification: String? = nil,
        hints: [String]? = nil
    ) {
        self.challenge = challenge
        self.timeout = timeout
        self.rpId = rpId
        self.allowCredentials = allowCredentials
        self.userVerification = userVerification
        self.hints = hints
    }

    /// Parses options (bounded; see ``WebAuthnJSON``).
    public init(json: [UInt8]) throws(RelyingPartyError) {
        self = try WebAuthnJSON.decode(Self.self, from: json, what: "requestOptions")
    }

    /// The JSON bytes.
    public var json: [UInt8] { WebAuthnJSON.encode(self) }
}

/// `PublicKeyCredentialRpEntity` in JSON.
public struct PublicKeyCredentialRpEntityJSON: Hashable, Sendable, Codable {
    /// The RP ID (the client uses the caller's effective domain when absent).
    public var id: String?
    /// A human-palatable name.
    public var name: String

    /// Creates the entity.
    public init(id: String?, name: String) {
        self.id = id
        self.name = name
    }
}

/// `PublicKeyCredentialUserEntityJSON`.
public struct PublicKeyCredentialUserEntityJSON: Hashable, Sendable, Codable {
    /// The user handle (at most 64 bytes, no personal information).
    public var id: Base64URLBytes
    /// The account name.
    public var name: String
    /// The name shown to people.
    public var displayName: String

    /// Creates the entity.
    public init(id: Base64URLBytes, name: String, displayName: String) {
        self.id = id
        self.name = name
        self.displayName = displayName
    }
}

/// `PublicKeyCredentialParameters`: a credential type and a COSE algorithm.
public struct PublicKeyCredentialParametersJSON: Hashable, Sendable, Codable {
    /// `public-key`.
    public var type: String
    /// The COSE algorithm identifier (`-7` for ES256).
    public var alg: Int64

    /// Creates parameters.
    public init(type: String = "public-key", alg: Int64) {
        self.type = type
        self.alg = alg
    }
}

/// `PublicKeyCredentialDescriptorJSON`.
public struct PublicKeyCredentialDescriptorJSON: Hashable, Sendable, Codable {
    /// The credential ID.
    public var id: Base64URLBytes
    /// `public-key`.
    public var type: String
    /// Transports the credential was seen on (`hybrid`, `internal`, …).
    public var transports: [String]?

    /// Creates a descriptor.
    public init(id: Base64URLBytes, type: String = "public-key", transports: [String]? = nil) {
        self.id = id
        self.type = type
        self.transports = transports
    }
}

/// `AuthenticatorSelectionCriteria`.
public struct AuthenticatorSelectionCriteriaJSON: Hashable, Sendable, Codable {
    /// `platform` or `cross-platform`.
    public var authenticatorAttachment: String?
    /// `discouraged`, `preferred` or `required`.
    public var residentKey: String?
    /// Level 1 spelling of `residentKey: required`.
    public var requireResidentKey: Bool?
    /// `required`, `preferred` or `discouraged`.
    public var userVerification: String?

    /// Creates criteria.
    public init(
        authenticatorAttachment: String? = nil,
        residentKey: String? = nil,
        requireResidentKey: Bool? = nil,
        userVerification: String? = nil
    ) {
        self.authenticatorAttachment = authenticatorAttachment
        self.residentKey = residentKey
        self.requireResidentKey = requireResidentKey
        self.userVerification = userVerification
    }
}

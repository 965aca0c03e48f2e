/// `RegistrationResponseJSON` (WebAuthn Level 3 §5.1): what `navigator.credentials.create()` returns,
/// serialized by `PublicKeyCredential.toJSON()`.
public struct RegistrationResponseJSON: Hashable, Sendable, Codable {
    /// The credential ID, base64url (must equal ``rawId``).
    public var id: String
    /// The credential ID.
    public var rawId: Base64URLBytes
    /// The authenticator's response.
    public var response: AuthenticatorAttestationResponseJSON
    /// `platform` or `cross-platform`.
    public var authenticatorAttachment: String?
    /// Extension outputs (not interpreted).
    public var clientExtensionResults: UninterpretedJSONObject
    /// `public-key`.
    public var type: String

    /// Creates a response.
    public init(
        rawId: [UInt8],
        response: AuthenticatorAttestationResponseJSON,
        authenticatorAttachment: String? = nil
    ) {
        self.id = Base64URLBytes(rawId).base64URL
        self.rawId = Base64URLBytes(rawId)
        self.response = response
        self.authenticatorAttachment = authenticatorAttachment
        self.clientExtensionResults = UninterpretedJSONObject()
        self.type = "public-key"
    }

    /// Parses a response (bounded; see ``WebAuthnJSON``).
    public init(json: [UInt8]) throws(RelyingPartyError) {
        self = try WebAuthnJSON.decode(Self.self, from: json, what: "registrationResponse")
    }

    /// The JSON bytes.
    public var json: [UInt8] { WebAuthnJSON.encode(self) }
}

/// `AuthenticatorAttestationResponseJSON`.
public struct AuthenticatorAttestationResponseJSON: Hashable, Sendable, Codable {
    /// The client data JSON bytes exactly as the client serialized them.
    public var clientDataJSON: Base64URLBytes
    /// The CBOR attestation object.
    public var attestationObject: Base64URLBytes
    /// The authenticator data (a convenience copy; the relying party reads the attestation object's).
    public var authenticatorData: Base64URLBytes?
    /// Transports the authenticator supports.
    public var transports: [String]?
    /// The credential public key as DER SubjectPublicKeyInfo (convenience; not read).
    public var publicKey: Base64URLBytes?
    /// The credential's COSE algorithm (convenience; not read).
    public var publicKeyAlgorithm: Int64?

    /// Creates a response.
    public init(
        clientDataJSON: [UInt8],
        attestationObject: [UInt8],
        authenticatorData: [UInt8]? = nil,
        transports: [String]? = nil,
        publicKeyAlgorithm: Int64? = nil
    ) {
        self.clientDataJSON = Base64URLBytes(clientDataJSON)
        self.attestationObject = Base64URLBytes(attestationObject)
        self.authenticatorData = authenticatorData.map(Base64URLBytes.init)
        self.transports = transports
        self.publicKeyAlgorithm = publicKeyAlgorithm
    }
}

/// `AuthenticationResponseJSON` (WebAuthn Level 3 §5.1): what `navigator.credentials.get()` returns,
/// serialized by `PublicKeyCredential.toJSON()`.
public struct AuthenticationResponseJSON: Hashable, Sendable, Codable {
    /// The credential ID, base64url (must equal ``rawId``).
    public var id: String
    /// The credential ID.
    public var rawId: Base64URLBytes
    /// The authenticator's response.
    public var response: AuthenticatorAssertionResponseJSON
    /// `platform` or `cross-platform`.
    public var authenticatorAttachment: String?
    /// Extension outputs (not interpreted).
    public var clientExtensionResults: UninterpretedJSONObject
    /// `public-key`.
    public var type: String

    /// Creates a response.
    public init(rawId: [UInt8], response: AuthenticatorAssertionResponseJSON, authenticatorAttachment: String? = nil) {
        self.id = Base64URLBytes(rawId).base64URL
        self.rawId = Base64URLBytes(rawId)
        self.response = response
        self.authenticatorAttachment = authenticatorAttachment
        self.clientExtensionResults = UninterpretedJSONObject()
        self.type = "public-key"
    }

    /// Parses a response (bounded; see ``WebAuthnJSON``).
    public init(json: [UInt8]) throws(RelyingPartyError) {
        self = try WebAuthnJSON.decode(Self.self, from: json, what: "authenticationResponse")
    }

    /// The JSON bytes.
    public var json: [UInt8] { WebAuthnJSON.encode(self) }
}

/// `AuthenticatorAssertionResponseJSON`.
public struct AuthenticatorAssertionResponseJSON: Hashable, Sendable, Codable {
    /// The client data JSON bytes exactly as the client serialized them.
    public var clientDataJSON: Base64URLBytes
    /// The authenticator data exactly as signed.
    public var authenticatorData: Base64URLBytes
    /// The signature over `authenticatorData ‖ SHA-256(clientDataJSON)`.
    public var signature: Base64URLBytes
    /// The user handle, for discoverable credentials.
    public var userHandle: Base64URLBytes?

    /// Creates a response.
    public init(clientDataJSON: [UInt8], authenticatorData: [UInt8], signature: [UInt8], userHandle: [UInt8]? = nil) {
        self.clientDataJSON = Base64URLBytes(clientDataJSON)
        self.authenticatorData = Base64URLBytes(authenticatorData)
        self.signature = Base64URLBytes(signature)
        self.userHandle = userHandle.map(Base64URLBytes.init)
    }
}

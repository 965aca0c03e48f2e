import CableCTAP
import CableProtocol  // Base64URL: the strict, canonical decoder
import Foundation

/// What a relying party remembers about one registered credential (WebAuthn §7.1 step 27,
/// "credential record"), plus the friendly name a user gives a passkey ("Work phone").
///
/// Stored as JSON by ``CredentialRecordStore``: byte fields are unpadded base64url, the public key is its
/// canonical COSE encoding in base64url, dates are ISO 8601.
public struct CredentialRecord: Hashable, Sendable {
    /// The credential ID.
    public var credentialID: [UInt8]
    /// The name the user gave the passkey.
    public var friendlyName: String
    /// The authenticator model that created it (all zero when undisclosed).
    public var aaguid: AAGUID
    /// The credential public key.
    public var publicKey: COSEKey
    /// The last signature counter seen.
    public var signCount: UInt32
    /// The account name.
    public var userName: String
    /// The user handle (`user.id`) the credential was created for.
    public var userHandle: [UInt8]
    /// The attestation format accepted at registration (`none`, `packed`).
    public var attestationFormat: String
    /// Whether the credential may be synced (BE flag at registration).
    public var backupEligible: Bool
    /// Whether the credential was backed up at its last use (BS flag).
    public var backedUp: Bool
    /// When it was registered.
    public var createdAt: Date
    /// When it was last used to sign in.
    public var lastUsedAt: Date?

    /// Creates a record.
    public init(
        credentialID: [UInt8],
        friendlyName: String,
        aaguid: AAGUID,
        publicKey: COSEKey,
        signCount: UInt32,
        userName: String,
        userHandle: [UInt8],
        attestationFormat: String,
        backupEligible: Bool = false,
        backedUp: Bool = false,
        createdAt: Date,
        lastUsedAt: Date? = nil
    ) {
        self.credentialID = credentialID
        self.friendlyName = friendlyName
        self.aaguid = aaguid
        self.publicKey = publicKey
        self.signCount = signCount
        self.userName = userName
        self.userHandle = userHandle
        self.attestationFormat = attestationFormat
        self.backupEligible = backupEligible
        self.backedUp = backedUp
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }

    /// The credential ID in unpadded base64url (how WebAuthn JSON and this store name it).
    public var credentialIDBase64URL: String { Base64URL.encode(self.credentialID) }
}

// MARK: - Codable

extension CredentialRecord: Codable {
    private enum CodingKeys: String, CodingKey {
        case credentialID = "credentialId"
        case friendlyName, aaguid, publicKey, signCount, userName, userHandle
        case attestationFormat, backupEligible, backedUp, createdAt, lastUsedAt
    }

    /// Decodes a stored record; a malformed ID, handle or key is a decoding error (the store reports it as
    /// corruption).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.credentialID = try Self.decodeBytes(container, .credentialID)
        self.friendlyName = try container.decode(String.self, forKey: .friendlyName)
        self.aaguid = try container.decode(AAGUID.self, forKey: .aaguid)
        let keyBytes = try Self.decodeBytes(container, .publicKey)
        do {
            self.publicKey = try COSEKey(encoded: keyBytes, field: "publicKey")
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: .publicKey,
                in: container,
                debugDescription: "not an ES256 COSE key (\(error.code))"
            )
        }
        self.signCount = try container.decode(UInt32.self, forKey: .signCount)
        self.userName = try container.decode(String.self, forKey: .userName)
        self.userHandle = try Self.decodeBytes(container, .userHandle)
        self.attestationFormat = try container.decode(String.self, forKey: .attestationFormat)
        self.backupEligible = try container.decode(Bool.self, forKey: .backupEligible)
        self.backedUp = try container.decode(Bool.self, forKey: .backedUp)
        self.createdAt = try container.decode(Date.self, forKey: .createdAt)
        self.lastUsedAt = try container.decodeIfPresent(Date.self, forKey: .lastUsedAt)
    }

    /// Encodes the record with base64url byte fields.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Base64URL.encode(self.credentialID), forKey: .credentialID)
        try container.encode(self.friendlyName, forKey: .friendlyName)
        try container.encode(self.aaguid, forKey: .aaguid)
        try container.encode(Base64URL.encode(self.publicKey.encoded), forKey: .publicKey)
        try container.encode(self.signCount, forKey: .signCount)
        try container.encode(self.userName, forKey: .userName)
        try container.encode(Base64URL.encode(self.userHandle), forKey: .userHandle)
        try container.encode(self.attestationFormat, forKey: .attestationFormat)
        try container.encode(self.backupEligible, forKey: .backupEligible)
        try container.encode(self.backedUp, forKey: .backedUp)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encodeIfPresent(self.lastUsedAt, forKey: .lastUsedAt)
    }

    private static func decodeBytes(
        _ container: KeyedDecodingContainer<CodingKeys>,
        _ key: CodingKeys
    ) throws -> [UInt8] {
        let text = try container.decode(String.self, forKey: key)
        guard let bytes = Base64URL.decode(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: container,
                debugDescription: "not unpadded base64url"
            )
        }
        return bytes
    }
}

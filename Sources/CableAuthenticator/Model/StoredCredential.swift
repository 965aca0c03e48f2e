public import CableCTAP
package import CableCrypto
internal import CableProtocol
public import Foundation

/// One passkey held by the phone model: the credential's identity, its account, its counter and its
/// private key.
///
/// Every credential is discoverable (resident): phones always store the account with the key, even when
/// the platform asked for `rk: false`, so a later sign-in without an allow list finds it.
///
/// Credentials are device-bound: the model never syncs them, so authenticator data carries BE = 0 and
/// BS = 0 (WebAuthn §6.1.3). That is the enterprise case the Microsoft Authenticator personas stand for.
///
/// ### The private key
/// A real phone keeps the key in secure hardware (Secure Enclave, StrongBox) and never lets it out. This
/// model keeps it in memory and in the ``CredentialStore`` file, which is why that file is created with
/// mode 0600 and must be protected like any other private key file. The key is reachable only inside the
/// package (`privateKey` is `package`): no public property, description, mirror or error shows it, and the
/// type is deliberately not `Codable`, so that a `--json` listing cannot serialise it by accident.
public struct StoredCredential: Sendable, Equatable, CustomStringConvertible {
    /// The credential ID (random, ``PhoneAuthenticator/credentialIDByteCount`` bytes when created here).
    public let id: [UInt8]
    /// The RP ID the credential is scoped to.
    public let rpID: String
    /// The relying party's display name at registration.
    public let rpName: String?
    /// The user handle (`user.id`), returned in discoverable sign-ins.
    public let userHandle: [UInt8]
    /// The account name at registration.
    public let userName: String?
    /// The account display name at registration.
    public let userDisplayName: String?
    /// The signature counter: 0 at creation, incremented before each assertion, so the first assertion
    /// reports 1.
    public internal(set) var signCount: UInt32
    /// When the credential was created, to the millisecond as the store file keeps it (discoverable
    /// sign-in picks the most recent).
    public let createdAt: Date
    /// The AAGUID of the persona that created it.
    public let aaguid: AAGUID
    /// The credential private key (secret).
    package let privateKey: P256.PrivateKey

    /// Creates a credential record.
    package init(
        id: [UInt8],
        rpID: String,
        rpName: String? = nil,
        userHandle: [UInt8],
        userName: String? = nil,
        userDisplayName: String? = nil,
        signCount: UInt32 = 0,
        createdAt: Date,
        aaguid: AAGUID,
        privateKey: P256.PrivateKey
    ) {
        self.id = id
        self.rpID = rpID
        self.rpName = rpName
        self.userHandle = userHandle
        self.userName = userName
        self.userDisplayName = userDisplayName
        self.signCount = signCount
        self.createdAt = StoreTimestamp.normalized(createdAt)
        self.aaguid = aaguid
        self.privateKey = privateKey
    }

    /// The credential ID in unpadded base64url, how WebAuthn JSON, the store file and `cable passkeys`
    /// name it.
    public var idBase64URL: String { Base64URL.encode(self.id) }

    /// The credential public key, as registered with the relying party.
    public var publicKey: COSEKey { COSEKey(publicKey: self.privateKey.publicKey) }

    /// Compares every field; the private keys are compared in constant time.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.id == rhs.id && lhs.rpID == rhs.rpID && lhs.rpName == rhs.rpName && lhs.userHandle == rhs.userHandle
            && lhs.userName == rhs.userName && lhs.userDisplayName == rhs.userDisplayName
            && lhs.signCount == rhs.signCount && lhs.createdAt == rhs.createdAt && lhs.aaguid == rhs.aaguid
            && lhs.privateKey.rawScalar == rhs.privateKey.rawScalar
    }

    /// The ID prefix, RP, account and counter; never the key.
    public var description: String {
        "StoredCredential(id: \(self.idBase64URL.prefix(8))…, rp: \(self.rpID), user: \(self.userName ?? "-"), "
            + "signCount: \(self.signCount))"
    }
}

extension StoredCredential: CustomReflectable {
    /// The public fields only, so `dump` and debuggers cannot reach the private key.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "id": self.idBase64URL, "rpID": self.rpID, "userName": self.userName as Any,
                "signCount": self.signCount, "createdAt": self.createdAt, "aaguid": self.aaguid,
            ],
            displayStyle: .struct
        )
    }
}
